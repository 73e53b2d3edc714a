"""Nested cross-validation (``--nested_cv``, radplug.training.nested): outer folds around the whole search + selection.

Unit tests with real fits on the -profile test cohort (simulate -> ingest -> validate -> binarize), then one
small real ``nextflow run -profile test --nested_cv 3`` and the bad-input runs (nothing published)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radplug.training.nested import (
    check_nested,
    nested_cost,
    nested_fold,
    nested_summary,
    outer_assignment,
    outer_targets,
    run_outer_job,
    split_key,
)
from radplug.training.search import plan_jobs, run_job, select

K = 3       # outer folds
FOLDS = 3   # inner folds


def _codes(targets: pd.DataFrame, target: str) -> pd.Series:
    tr = targets[targets["cohort"] == "train"].set_index("sample_id")[target]
    return tr.dropna()


def test_outer_folds_partition_the_training_cohort_and_stratify(cohort: dict) -> None:
    t, k = cohort["targets"], cohort["tasks"]
    train_ids = set(t.loc[t["cohort"] == "train", "sample_id"])
    for key in ("group:GLCM", "target:histology"):
        fold = outer_assignment(t, k, key, K, 42)
        assert set(fold.index) == train_ids and sorted(fold.unique()) == list(range(K))
        assert fold.value_counts().max() - fold.value_counts().min() <= 2
        again = outer_assignment(t, k, key, K, 42)
        assert fold.equals(again)                                      # deterministic: every task agrees
    # histology: each class spread evenly over the outer folds (stratified)
    fold = outer_assignment(t, k, "target:histology", K, 42)
    h = _codes(t, "histology")
    per = pd.crosstab(h, fold.loc[h.index])
    assert (per.max(axis=1) - per.min(axis=1) <= 1).all(), per
    # a group's features share one split; outer_targets holds fold k out and drops the test cohort
    assert split_key("GLCM_entrop2", k) == split_key("GLCM_diffEntro", k) == "group:GLCM"
    assert split_key("stage", k) == "target:stage"
    fold = outer_assignment(t, k, "group:GLCM", K, 42)
    for i in range(K):
        inner = outer_targets(t, k, "group:GLCM", i, K, 42)
        assert set(inner["cohort"]) == {"train", "test"} and set(inner["sample_id"]) == train_ids
        held = set(inner.loc[inner["cohort"] == "test", "sample_id"])
        assert held == set(fold.index[fold == i])


def test_outer_search_trains_only_on_the_other_outer_parts(cohort: dict) -> None:
    e, t, k = cohort["expression"], cohort["targets"], cohort["tasks"]
    full = run_job("target:GLCM_entrop2", "enet", "fast", 0, 1, e, t, k, FOLDS, 42)
    n_labelled = len(_codes(t, "GLCM_entrop2"))
    assert full.groupby("config_id")["n_val"].sum().iloc[0] == n_labelled
    fold = outer_assignment(t, k, "group:GLCM", K, 42)
    lab = _codes(t, "GLCM_entrop2")
    for i in range(K):
        res = run_outer_job("each:GLCM", "enet", "fast", 0, 1, e, t, k, FOLDS, 42, i, K)
        assert (res["outer_fold"] == i).all()
        one = res[res["target"] == "GLCM_entrop2"]
        # the inner folds' validation patients are exactly the labelled patients outside outer fold i
        assert one.groupby("config_id")["n_val"].sum().iloc[0] == int((fold.loc[lab.index] != i).sum())
    with pytest.raises(ValueError, match="outer fold 3 is not in 0..2"):
        run_outer_job("each:GLCM", "enet", "fast", 0, 1, e, t, k, FOLDS, 42, 3, K)


@pytest.fixture(scope="module")
def noise_cohort(cohort: dict) -> dict:
    """The cohort with four clinical targets of random labels (no signal): the true AUC of any model is 0.5."""
    t, k = cohort["targets"].copy(), cohort["tasks"].copy()
    rng = np.random.default_rng(7)
    rows = []
    for i in range(4):
        name = f"noise{i}"
        t[name] = np.where(rng.random(len(t)) < 0.5, "a", "b")
        rows.append({"target": name, "kind": "binary", "group": name, "source": "clinical",
                     "classes": json.dumps(["a", "b"]), "id": name})
    k = pd.concat([k, pd.DataFrame(rows)], ignore_index=True)
    return {**cohort, "targets": t, "tasks": k}


@pytest.fixture(scope="module")
def nested_run(noise_cohort: dict) -> dict:
    """The search (3-fold CV) and nested CV (3 outer x 3 inner) for GLCM and the noise targets, enet (fast)
    and svm (standard: 14 configurations, so the best of them is optimistic on noise)."""
    e, t, k = noise_cohort["expression"], noise_cohort["targets"], noise_cohort["tasks"]
    units = ["each:GLCM"] + [f"target:noise{i}" for i in range(4)]
    jobs = [(u, "enet", "fast") for u in units] + [(u, "svm", "standard") for u in units]
    cv = pd.concat([run_job(u, f, g, 0, 1, e, t, k, FOLDS, 42) for u, f, g in jobs], ignore_index=True)
    _, sel = select(cv, ["enet", "svm"])
    inner = pd.concat([run_outer_job(u, f, g, 0, 1, e, t, k, FOLDS, 42, i, K) for i in range(K)
                       for u, f, g in jobs], ignore_index=True)
    nested = pd.concat([nested_fold(inner, ["enet", "svm"], e, t, k, i, K, 42) for i in range(K)],
                       ignore_index=True)
    return {"cv": cv, "selection": sel, "inner": inner, "nested": nested}


def test_nested_fold_selects_from_inner_cv_and_scores_held_out_patients(noise_cohort: dict,
                                                                         nested_run: dict) -> None:
    t, k = noise_cohort["targets"], noise_cohort["tasks"]
    nested, inner = nested_run["nested"], nested_run["inner"]
    targets = {"GLCM_entrop2", "GLCM_diffEntro", "noise0", "noise1", "noise2", "noise3"}
    assert set(nested["target"]) == targets and len(nested) == len(targets) * K
    for i in range(K):
        _, sel = select(inner[inner["outer_fold"] == i].drop(columns="outer_fold"), ["enet", "svm"])
        chosen = sel[sel["selected"]].set_index("target")
        got = nested[nested["outer_fold"] == i].set_index("target")
        assert (got["config_id"] == chosen.loc[got.index, "config_id"]).all()      # SELECT's rule, inner rows only
        assert np.allclose(got["inner_cv_auc"], chosen.loc[got.index, "auc_mean"])
    for target, g in nested.groupby("target"):
        fold = outer_assignment(t, k, split_key(target, k), K, 42)
        lab = _codes(t, target)
        assert sorted(g["n_test"]) == sorted(int((fold.loc[lab.index] == i).sum()) for i in range(K))
        assert (g["n_train"] + g["n_test"] == len(lab)).all()
    assert nested["auc"].between(0, 1).all()


def test_nested_estimate_is_unbiased_where_the_selected_cv_auc_is_optimistic(nested_run: dict) -> None:
    est = nested_summary(nested_run["nested"], nested_run["selection"])
    assert {"target", "family", "cv_auc", "nested_auc", "nested_auc_sd", "n_outer", "optimism",
            "nested_families"} <= set(est.columns)
    est = est.set_index("target")
    assert (est["n_outer"] == K).all()
    assert np.allclose(est["optimism"], est["cv_auc"] - est["nested_auc"])
    noise = est.loc[[f"noise{i}" for i in range(4)]]
    # random labels: in every outer fold the selected configuration (the best of 15 on the inner folds that
    # chose it) looks better than it does on the held-out part, which took no part in the choice
    rows = nested_run["nested"]
    rows = rows[rows["target"].str.startswith("noise")]
    assert (rows["inner_cv_auc"] - rows["auc"]).mean() > 0.05, rows
    # and the nested estimate of the protocol stays near chance (small-sample CV on noise runs a little low)
    assert abs(noise["nested_auc"].mean() - 0.5) < 0.1, noise
    # the planted feature: a real signal, found again by the nested estimate
    assert est.loc["GLCM_entrop2", "nested_auc"] > 0.75


def test_nested_summary_adds_the_test_auc_and_prior(nested_run: dict) -> None:
    nested = nested_run["nested"]
    metrics = pd.DataFrame({"target": ["GLCM_entrop2", "GLCM_entrop2"], "class": ["high", "x"],
                            "averaging": ["binary", "one-vs-rest"], "auc": [0.81, 0.2], "auc_prior": [0.5, 0.5]})
    est = nested_summary(nested, nested_run["selection"], metrics).set_index("target")
    assert est.loc["GLCM_entrop2", "test_auc"] == 0.81 and np.isnan(est.loc["noise0", "test_auc"])


def test_check_nested_names_the_class_and_counts() -> None:
    counts = pd.DataFrame({"target": ["stage", "stage", "stage", "stage"], "cohort": ["train"] * 3 + ["test"],
                           "class": ["I", "II", "III", "III"], "n": [30, 12, 7, 1]})
    assert check_nested(counts, 0, 10) == []
    assert check_nested(counts, 3, 3) == []                    # 7 - ceil(7/3) = 4 >= 3
    (msg,) = check_nested(counts, 3, 5)
    assert ("--nested_cv 3 with --cv_folds 5: target 'stage', class 'III' has 7 training patients; an outer "
            "training part keeps 4 of them, fewer than the 5 inner folds (each class needs at least 8") in msg
    assert "Lower --nested_cv or --cv_folds" in msg
    (msg,) = check_nested(counts, 5, 10)
    assert "class 'III' has 7" in msg and "1 more class(es) also short, e.g. 'stage' class 'II' (12)" in msg
    assert "--nested_cv 1" in check_nested(counts, 1, 3)[0]


def test_plan_repeats_the_jobs_per_outer_fold(cohort: dict) -> None:
    k = cohort["tasks"]
    base = plan_jobs(k, ["mlp", "enet"], "fast", 8)
    assert (base["outer"] == -1).all()
    jobs = plan_jobs(k, ["mlp", "enet"], "fast", 8, n_outer=K)
    assert len(jobs) == (K + 1) * len(base) and jobs["job_id"].is_unique
    for i in range(K):
        part = jobs[jobs["outer"] == i]
        assert list(part["job_id"]) == [f"o{i}__{j}" for j in base["job_id"]]
        assert part[["unit", "family", "chunk"]].reset_index(drop=True).equals(base[["unit", "family", "chunk"]])
    assert "5 outer folds x the whole search (12 SEARCH jobs each" in nested_cost(5, 10, 12)


def test_plan_cli_states_the_nested_cost(cohort: dict, tmp_path: Path, capsys, caplog) -> None:
    import logging

    from radplug.cli import main
    from radplug.io import write_parquet

    write_parquet(cohort["tasks"], tmp_path / "tasks.parquet", "test")
    with caplog.at_level(logging.INFO):
        code = main(["plan", "--tasks", str(tmp_path / "tasks.parquet"), "--models", "enet,svm", "--grid", "fast",
                     "--estimate", "--n-genes", "400", "--cv-folds", "3", "--nested-cv", "3",
                     "--out", str(tmp_path / "jobs.csv")])
    assert code == 0
    jobs = pd.read_csv(tmp_path / "jobs.csv")
    n = int((jobs["outer"] == -1).sum())
    assert len(jobs) == 4 * n and sorted(jobs["outer"].unique()) == [-1, 0, 1, 2]
    out = capsys.readouterr().out
    assert re.search(rf"with --nested_cv 3: 3 x {n} more SEARCH tasks \(\d+ CV fits, about [\d.]+ more CPU hours\) "
                     r"and 3 NESTED tasks", out), out
    assert (f"nested CV: 3 outer folds x the whole search ({n} SEARCH jobs each, 3-fold inner CV on 67% of the "
            f"training cohort) = {3 * n} extra SEARCH jobs") in caplog.text
