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
from radplug.metrics import benjamini_hochberg, upper_tail_p_values
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


def test_p_value_adjusts_for_size_and_fits_the_tail():
    """Two sizes whose nulls differ in location and spread: an AUC at the same null quantile of its own size
    gets the same p-value; an AUC beyond every random set gets a tail-fitted p below the empirical floor."""
    rng = np.random.default_rng(0)
    small, large = rng.normal(0.5, 0.08, 400), rng.normal(0.6, 0.03, 400)
    q = 0.95                                      # 20 random sets above: the empirical p-value
    real, null = _group([np.quantile(small, q), np.quantile(large, q), 0.75], [5, 200, 200],
                        {5: small, 200: large})
    res = significance(real, null).set_index("gene_set")
    assert res.loc["S0", "p_value"] == pytest.approx(res.loc["S1", "p_value"], abs=0.005)
    assert res.loc["S0", "p_value"] == pytest.approx(1 - q, abs=0.005)
    assert not res.loc[["S0", "S1"], "p_tail"].any()
    assert res.loc["S2", "p_size"] == pytest.approx(1 / 401)                 # beyond all 400 random sets
    assert res.loc["S2", "p_tail"] and 0 < res.loc["S2", "p_value"] < 1 / 401
    # a size between the bins: standardized by the interpolated null, not by its bin's
    mid = real.iloc[:1].assign(gene_set="M", auc=0.70, n_present=30, null_size=5)
    between = significance(mid, null).iloc[0]
    assert between["p_value"] < significance(mid.assign(n_present=5), null).iloc[0]["p_value"]


def test_upper_tail_p_values_are_calibrated():
    """The tail fit against a known distribution: p-values of fresh draws are uniform down to 1e-3, where the
    empirical p-value alone could not go below 1/(1 + #null); far observations get about the true tail."""
    from scipy.stats import norm

    rng = np.random.default_rng(1)
    null = rng.normal(size=2000)
    fresh = rng.normal(size=200_000)
    p, tail = upper_tail_p_values(null, fresh)
    for alpha in (0.05, 0.01, 0.002, 0.0005):
        assert (p < alpha).mean() == pytest.approx(alpha, rel=0.35), alpha
    assert tail.any() and not tail[fresh < np.sort(null)[-10]].any()
    far = np.array([3.5, 4.0])
    p_far, tail_far = upper_tail_p_values(null, far)
    assert tail_far.all() and np.all(p_far > 0)
    assert np.all((p_far > norm.sf(far) / 5) & (p_far < norm.sf(far) * 5)), (p_far, norm.sf(far))
    small, small_tail = upper_tail_p_values(null[:50], far)                 # too few for a fit: empirical
    assert not small_tail.any() and np.allclose(small, 1 / 51)


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
    tables, fresh_tables = [], []
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
        # fresh random sets with the real sets' sizes, scored against the same null (same seed): exchangeable
        # with the null, so their p-values must be uniform, including the size adjustment and the tail fit
        fresh = random_sets(len(genes), prep.coverage["n_present"].to_numpy(), 50, np.random.default_rng(11))
        members = {f"RANDOM_{i:04d}": s for i, s in enumerate(fresh)}
        coverage = pd.DataFrame({"gene_set": list(members), "n_genes": [len(s) for s in fresh],
                                 "n_present": [len(s) for s in fresh], "coverage": 1.0})
        fresh_real, fresh_null = mask_model(model, sim.expression, targets, members, coverage, "custom",
                                            n_random=1000, max_null_sizes=5, seed=3, cohorts=("test",))
        fresh_tables.append(significance(fresh_real, fresh_null))
    torch.set_num_threads(before)
    return pd.concat(tables, ignore_index=True), truth, pd.concat(fresh_tables, ignore_index=True)


def test_planted_sets_are_significant(simulated_significance):
    res, truth, _ = simulated_significance
    test = res[res["cohort"] == "test"]
    checked = 0
    for row in truth.itertuples():
        hit = test[(test["target"] == row.target) & (test["class"] == row._2)
                   & (test["gene_set"] == row.gene_set)]
        if hit.empty:
            continue                                   # a radiomic target not trained in this test
        checked += 1
        print(f"planted {row.gene_set} for {row.target}/{row._2}: AUC {hit['auc'].iloc[0]:.3f}, "
              f"p {hit['p_value'].iloc[0]:.2g}, q {hit['q_value'].iloc[0]:.2g}, rank {hit['rank'].iloc[0]}")
        assert hit["rank"].iloc[0] == 1
        assert hit["q_value"].iloc[0] < 0.05, hit.to_dict("records")
    assert checked == 4
    # the training cohort is scored and ranked, without a null
    assert res.loc[res["cohort"] == "train", "p_value"].isna().all()
    assert (res["n_null"].loc[res["cohort"] == "test"] == 1000).all()


def test_decoys_called_at_about_the_nominal_rate(simulated_significance):
    """Module decoys (co-expressed sets with no planted association): p < 0.05 at most at about the nominal
    5 % (the competitive null is conservative when random sets pick up planted genes), none at q < 0.05."""
    res, truth, _ = simulated_significance
    dec = res[(res["cohort"] == "test") & ~res["gene_set"].isin(set(truth["gene_set"]))]
    assert len(dec) == 30 * 5                               # 30 decoys x (3 classes + micro + 1 binary)
    fpr = float((dec["p_value"] < 0.05).mean())
    print(f"decoy false-positive rate at p < 0.05: {fpr:.3f} over {len(dec)} tests; "
          f"p_size: {(dec['p_size'] < 0.05).mean():.3f}")
    assert fpr <= 0.10                                    # binomial(150, 0.05): P(> 15) < 0.01
    assert (dec["q_value"] >= 0.05).mean() > 0.95


def test_random_sets_of_matched_size_are_called_at_the_nominal_rate(simulated_significance):
    """2,000 fresh random sets (50 per real set size, so most sizes sit between null bins) per class: the
    size-adjusted, tail-fitted p-value is uniform; below 0.05 at 5 %, below 0.005 at 0.5 %."""
    _, _, fresh = simulated_significance
    for (target, cls), g in fresh.groupby(["target", "class"]):
        p = g["p_value"].to_numpy()
        assert len(p) == 2000
        rates = {a: float((p < a).mean()) for a in (0.05, 0.01, 0.005)}
        print(f"{target}/{cls}: fraction below", rates)
        assert 0.025 <= rates[0.05] <= 0.075, rates      # binomial(2000, 0.05): +-5 SD
        assert rates[0.005] <= 0.015, rates               # the tail of a 1000-set null is an estimate
    assert (fresh["q_value"] < 0.05).mean() < 0.01
