"""Unit tests of the core steps: binarization, metrics, simulation, validation, the MLP contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from radplug.data.binarize import binarize, encode_target, two_means_1d
from radplug.data.simulate import simulate_cohort
from radplug.data.validate import validate
from radplug.io import RadplugInputError, read_provenance, write_parquet
from radplug.metrics import benjamini_hochberg, bootstrap_auc_ci, multiclass_scores


def _brute_two_means(v):
    v = np.sort(v)
    best = None
    for i in range(1, len(v)):
        if v[i] == v[i - 1]:
            continue
        cost = ((v[:i] - v[:i].mean()) ** 2).sum() + ((v[i:] - v[i:].mean()) ** 2).sum()
        if best is None or cost < best[0]:
            best = (cost, v[:i].mean(), v[i:].mean())
    return best[1], best[2]


@pytest.mark.parametrize("seed", range(5))
def test_two_means_is_the_exact_optimum(seed):
    rng = np.random.default_rng(seed)
    v = np.concatenate([rng.normal(0, 1, 40), rng.normal(3, 0.5, rng.integers(3, 30))])
    np.testing.assert_allclose(two_means_1d(v), _brute_two_means(v))


def test_binarize_fits_on_training_only_and_drops_rare_minorities():
    rng = np.random.default_rng(0)
    n_tr, n_te = 100, 40
    balanced = np.concatenate([rng.normal(0, 1, n_tr), rng.normal(0, 1, n_te)])
    rare = np.concatenate([np.r_[rng.normal(0, 1, 95), rng.normal(10, 1, 5)], rng.normal(10, 1, n_te)])
    labels = pd.DataFrame({"sample_id": [f"s{i}" for i in range(n_tr + n_te)],
                           "cohort": ["train"] * n_tr + ["test"] * n_te,
                           "GLCM_entrop2": balanced, "stats_Kurtosis": rare})
    feats = pd.DataFrame({"name": ["GLCM_entrop2", "stats_Kurtosis"], "kind": "radiomic"})
    targets, tasks, table = binarize(labels, feats, min_minority=0.10)
    assert list(tasks["target"]) == ["GLCM_entrop2"]
    assert tasks.iloc[0]["group"] == "GLCM"
    row = table.set_index("feature").loc["stats_Kurtosis"]
    assert not row["kept"] and row["minority_fraction"] == pytest.approx(0.05)
    # the test cohort only all-high rare feature must not move the training centres
    lo, hi = two_means_1d(rare[:n_tr])
    assert row["centre_low"] == pytest.approx(lo) and row["centre_high"] == pytest.approx(hi)
    thr = table.set_index("feature").loc["GLCM_entrop2", "threshold"]
    expected = np.where(balanced > thr, "high", "low")
    assert (targets["GLCM_entrop2"].to_numpy() == expected).all()


def test_encode_target_treats_unseen_and_missing_as_unlabelled():
    mask, codes = encode_target(pd.Series(["ADC", None, "SCC", "weird", "other"]), ["ADC", "SCC", "other"])
    assert mask.tolist() == [True, False, True, False, True]
    assert codes.tolist() == [0, 1, 2]


def test_benjamini_hochberg_matches_the_definition():
    p = np.array([0.01, 0.04, 0.03, 0.5, np.nan, 0.002])
    q = benjamini_hochberg(p)
    ok = p[~np.isnan(p)]
    m = len(ok)
    order = np.argsort(ok)
    expect = np.empty(m)
    running = 1.0
    for r in range(m - 1, -1, -1):
        running = min(running, ok[order[r]] * m / (r + 1))
        expect[order[r]] = running
    np.testing.assert_allclose(q[~np.isnan(p)], expect)
    assert np.isnan(q[4])


def test_micro_auc_and_bootstrap_ci():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 120)
    proba = rng.dirichlet([1, 1, 1], 120)
    proba[np.arange(120), y] += 0.5
    proba /= proba.sum(1, keepdims=True)
    s = multiclass_scores(y, proba)
    onehot = np.eye(3)[y]
    assert s["auc"] == pytest.approx(roc_auc_score(onehot.ravel(), proba.ravel()))
    lo, hi = bootstrap_auc_ci(onehot.ravel(), proba.ravel(), 300, seed=0)
    assert lo < s["auc"] < hi


def test_simulation_is_seeded_and_plants_what_it_says():
    a = simulate_cohort(60, 30, n_genes=300, n_sets=20, features_per_group=2, seed=7)
    b = simulate_cohort(60, 30, n_genes=300, n_sets=20, features_per_group=2, seed=7)
    pd.testing.assert_frame_equal(a.expression, b.expression)
    pd.testing.assert_frame_equal(a.ground_truth, b.ground_truth)
    assert a.expression.shape == (90, 300)
    assert set(a.ground_truth["target"]) >= {"histology"}
    assert len(a.ground_truth) == 3 + 7
    # the planted set's mean expression tracks the feature it drives
    row = a.ground_truth[a.ground_truth["target"] != "histology"].iloc[0]
    genes = a.gene_sets.loc[a.gene_sets["gene_set"] == row["gene_set"], "gene"]
    score = a.expression[genes].mean(axis=1).to_numpy()
    feature = a.radiomics.set_index("sample_id").loc[a.expression.index, row["target"]].to_numpy()
    assert np.corrcoef(score, feature)[0, 1] > 0.5


def test_validate_imputes_drops_and_rejects_infinite_values():
    rng = np.random.default_rng(0)
    ids = [f"s{i}" for i in range(30)]
    expr = pd.DataFrame(rng.normal(5, 1, (30, 6)), index=ids, columns=list("ABCDEF"))
    expr["E"] = 1.0                                   # constant
    expr.loc[ids[:20], "F"] = np.nan                  # missing in most training samples
    expr.loc["s3", "A"] = np.nan                      # one gap
    expr.loc[ids[25:], "B"] = np.nan                  # absent from the test cohort
    labels = pd.DataFrame({"sample_id": ids, "cohort": ["train"] * 25 + ["test"] * 5,
                           "source_cohort": ["tr"] * 25 + ["te"] * 5,
                           "histology": (["ADC", "SCC"] * 15)})
    feats = pd.DataFrame({"name": ["histology"], "kind": "clinical"})
    res = validate(expr, labels, feats)
    assert list(res.expression.columns) == ["A", "B", "C", "D"]
    assert not res.expression.isna().any().any()
    train_mean_b = expr.loc[ids[:25], "B"].mean()
    assert res.expression.loc[ids[25:], "B"].eq(np.float32(train_mean_b)).all()
    assert {"missing_values", "constant_genes", "test_genes_missing"} <= set(res.report["check"])
    expr.loc["s1", "C"] = np.inf
    with pytest.raises(RadplugInputError, match="infinite expression value at sample 's1', gene 'C'"):
        validate(expr, labels, feats)


def test_parquet_files_carry_schema_version_and_provenance(tmp_path):
    path = write_parquet(pd.DataFrame({"a": [1, 2]}), tmp_path / "x.parquet", "unit", seed=3)
    prov = read_provenance(path)
    assert prov["schema_version"] == "1" and prov["step"] == "unit" and prov["seed"] == 3


def test_mlp_follows_the_estimator_contract_and_is_seeded():
    from sklearn.base import clone

    from radplug.models.mlp import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 20)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.normal(size=80) > 0).astype(int)
    m = MLPClassifier(first_layer=64, n_layers=3, epochs=60, patience=60, batch_size=16, random_state=3)
    assert m.fit(X, y) is m
    p1 = m.predict_proba(X)
    p2 = clone(m).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    assert p1.shape == (80, 2) and np.allclose(p1.sum(1), 1)
    assert roc_auc_score(y, p1[:, 1]) > 0.8
    Y = np.stack([y, 1 - y, (X[:, 1] > 0).astype(int)], axis=1)
    assert MLPClassifier(first_layer=16, epochs=5, random_state=0).fit(X, Y).predict_proba(X).shape == (80, 3)
