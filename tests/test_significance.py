"""Significance of masking scores: the p/q arithmetic on hand-made tables, and a real end-to-end check on
the simulated cohort (trained networks, real masking, size-matched random-set nulls)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from radplug.cv import make_pipeline
from radplug.final import FinalModel
from radplug.genesets import prepare_gene_sets
from radplug.masking import mask_model, null_sizes, random_sets, significance
from radplug.metrics import benjamini_hochberg
from radplug.simulate import simulate_cohort


def _group(real_auc, sizes, null_by_size):
    real = pd.DataFrame({"source": "s", "target": "t", "cohort": "test", "class": "c",
                         "gene_set": [f"S{i}" for i in range(len(real_auc))], "auc": real_auc,
                         "n_present": sizes, "null_size": sizes})
    null = pd.concat([pd.DataFrame({"source": "s", "target": "t", "cohort": "test", "class": "c",
                                    "null_size": sz, "auc": vals}) for sz, vals in null_by_size.items()])
    return real, null


def test_p_values_by_hand():
    null10 = np.array([0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.50, 0.52])
    real, null = _group([0.70, 0.99, 0.10], [10, 10, 10], {10: null10})
    res = significance(real, null).set_index("gene_set")
    n = len(null10)
    # p_size: (1 + #null >= observed) / (1 + #null), ties count as "as extreme"
    assert res.loc["S0", "p_size"] == pytest.approx((1 + 1) / (1 + n))
    assert res.loc["S1", "p_size"] == pytest.approx(1 / (1 + n))        # never zero: +1 correction
    assert res.loc["S2", "p_size"] == pytest.approx(1.0)
    # one bin and set sizes equal to it: the pooled p equals p_size
    assert np.allclose(res["p_value"], res["p_size"])
    assert np.allclose(res["q_value"], benjamini_hochberg(res["p_value"].to_numpy()))
    assert res.loc[["S0", "S1", "S2"], "rank"].tolist() == [2, 1, 3] and (res["n_null"] == n).all()


def test_pooled_p_standardizes_each_size():
    """Two sizes whose nulls differ in location and spread: an AUC at the same null quantile of its own size
    gets the same pooled p-value, and the pooled p has the resolution of both bins together."""
    rng = np.random.default_rng(0)
    small, large = rng.normal(0.5, 0.08, 400), rng.normal(0.6, 0.03, 400)
    q = 0.99
    real, null = _group([np.quantile(small, q), np.quantile(large, q), 0.99], [5, 200, 200],
                        {5: small, 200: large})
    res = significance(real, null).set_index("gene_set")
    assert res.loc["S0", "p_value"] == pytest.approx(res.loc["S1", "p_value"], abs=0.01)
    assert res.loc["S0", "p_value"] == pytest.approx(1 - q, abs=0.01)
    assert res.loc["S2", "p_value"] == pytest.approx(1 / 801)
    assert res.loc["S2", "p_size"] == pytest.approx(1 / 401)


def test_no_null_gives_nan_p_but_rank():
    real, _ = _group([0.6, 0.7], [10, 10], {10: [0.5, 0.5]})
    empty = pd.DataFrame(columns=["source", "target", "cohort", "class", "null_size", "auc"])
    res = significance(real, empty)
    assert res["p_value"].isna().all() and res["rank"].tolist() == [1, 2]


def test_null_size_bins_and_random_sets():
    sizes = np.array([5, 6, 7, 50, 51, 400, 420, 480])
    reps, bins = null_sizes(sizes, 3)
    assert len(reps) == 3 and bins.min() == 0 and bins.max() == 2
    assert all(reps[bins[i]] <= 2 * sizes[i] and reps[bins[i]] >= sizes[i] / 10 for i in range(len(sizes)))
    reps_all, bins_all = null_sizes(sizes, 25)                     # few sizes: every size is its own bin
    assert np.array_equal(reps_all[bins_all], sizes)
    sets = random_sets(100, np.array([3, 40]), 50, np.random.default_rng(0))
    assert len(sets) == 100 and {len(s) for s in sets[:50]} == {3} and {len(s) for s in sets[50:]} == {40}
    assert all(len(np.unique(s)) == len(s) and s.max() < 100 for s in sets)


# --------------------------------------------------------------------------- end to end, simulated cohort
@pytest.fixture(scope="module")
def simulated_significance():
    """Histology (3 classes, softmax) and one radiomic feature (binary) networks trained on the simulated
    training cohort; every set masked on the test cohort against 1000 random sets per size bin."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    sim = simulate_cohort(n_genes=5000, n_sets=40, signal=1.5, seed=7)
    lab = sim.clinical.set_index("sample_id")
    genes = list(sim.expression.columns)
    truth = sim.ground_truth
    feat = truth[truth["target"] != "histology"].iloc[0]
    rad = sim.radiomics.set_index("sample_id")[feat["target"]]
    high = (rad > rad[lab["cohort"] == "train"].median()).map({True: "high", False: "low"})
    targets = pd.DataFrame({"sample_id": lab.index, "cohort": lab["cohort"].to_numpy(),
                            "histology": lab["histology"].to_numpy(),
                            feat["target"]: high.loc[lab.index].to_numpy()})
    params = {"first_layer": 128, "n_layers": 3, "activation": "relu", "dropout": 0.4, "epochs": 60,
              "patience": 15, "batch_size": 16}
    prep = prepare_gene_sets(sim.gene_sets, genes)
    tables = []
    for target, classes in (("histology", ["ADC", "SCC", "other"]), (feat["target"], ["low", "high"])):
        t = targets.set_index("sample_id")[target]
        train = t.index[(lab["cohort"] == "train") & t.notna()]
        y = t.loc[train].map({c: i for i, c in enumerate(classes)}).to_numpy()
        pipe = make_pipeline("mlp", params, seed=1)
        pipe.fit(sim.expression.loc[train].to_numpy(np.float32), y)
        model = FinalModel(target, "mlp", "x", params, classes, genes, pipe, 1, math.nan)
        real, null = mask_model(model, sim.expression, targets, prep.members, prep.coverage, "custom",
                                n_random=1000, max_null_sizes=5, seed=3)
        tables.append(significance(real, null))
    torch.set_num_threads(before)
    return pd.concat(tables, ignore_index=True), truth


def test_planted_sets_are_significant(simulated_significance):
    res, truth = simulated_significance
    test = res[res["cohort"] == "test"]
    checked = significant = 0
    for row in truth.itertuples():
        hit = test[(test["target"] == row.target) & (test["class"] == row._2)
                   & (test["gene_set"] == row.gene_set)]
        if hit.empty:
            continue                                   # a radiomic target not trained in this test
        checked += 1
        print(f"planted {row.gene_set} for {row.target}/{row._2}: AUC {hit['auc'].iloc[0]:.3f}, "
              f"p {hit['p_value'].iloc[0]:.2g}, q {hit['q_value'].iloc[0]:.2g}, rank {hit['rank'].iloc[0]}")
        assert hit["rank"].iloc[0] == 1
        assert hit["p_size"].iloc[0] < 0.01, hit.to_dict("records")
        significant += bool(hit["q_value"].iloc[0] < 0.05)
    assert checked == 4
    # ADC is the softmax's residual class: sets carrying SCC/other signal also raise its AUC, so its planted
    # set beats nearly every random set (p_size < 0.01) yet may miss q < 0.05 among 40 sets
    assert significant >= 3
    # the training cohort is scored and ranked, without a null
    assert res.loc[res["cohort"] == "train", "p_value"].isna().all()
    assert (res["n_null"].loc[res["cohort"] == "test"] == 5000).all()


def test_decoys_called_at_about_the_nominal_rate(simulated_significance):
    """Sets with no planted association: p < 0.05 at about 5 % (the competitive null is conservative when
    random sets pick up planted genes), and no decoy reaches q < 0.05."""
    res, truth = simulated_significance
    dec = res[(res["cohort"] == "test") & ~res["gene_set"].isin(set(truth["gene_set"]))]
    assert len(dec) == 30 * 5                               # 30 decoys x (3 classes + micro + 1 binary)
    fpr = float((dec["p_value"] < 0.05).mean())
    print(f"decoy false-positive rate at p < 0.05: {fpr:.3f} over {len(dec)} tests; "
          f"p_size: {(dec['p_size'] < 0.05).mean():.3f}")
    assert fpr <= 0.10                                    # binomial(150, 0.05): P(> 15) < 0.01
    assert (dec["q_value"] >= 0.05).mean() > 0.95
