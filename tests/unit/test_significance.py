"""Significance of masking scores: the sequential Monte Carlo p-value (exact law, validity), calibration
under the global null at m = 50 / 700 / 7,647 sets, BH families, ties and saturation, a real-data negative
control (Leukemia, permuted labels, Hallmark) and power on the simulated cohort (trained networks, real
masking, size-matched random sets)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import SHARED_DATA

from radplug.data.simulate import simulate_cohort
from radplug.explain.masking import mask_model, null_sizes, random_sets, random_sets_of_sizes, significance
from radplug.explain.sequential import (
    DEFAULT_HITS,
    global_null_error_rates,
    sequential_design,
    sequential_p_values,
    stop_hits,
)
from radplug.genesets import prepare_gene_sets, read_gene_sets
from radplug.metrics import benjamini_hochberg
from radplug.training.cv import make_pipeline
from radplug.training.final import FinalModel

# --------------------------------------------------------------------------- the sequential p-value


def test_design_law_matches_simulation():
    """The dynamic-programming law of the stopping rule equals the stopping times of simulated null paths
    (hit probability u ~ Uniform(0, 1), as for an observation exchangeable with its random sets)."""
    design = sequential_design(hits=4, n_initial=20, n_max=300)
    rng = np.random.default_rng(0)
    n_paths = 40_000
    u = rng.random(n_paths)
    need = stop_hits(np.arange(1, 301), 4, 20)
    hits = np.cumsum(rng.random((n_paths, 300)) < u[:, None], axis=1)
    crossed = hits >= need[None, :]
    stopped = crossed.any(axis=1)
    stop_at = np.where(stopped, crossed.argmax(axis=1) + 1, 0)
    p = design.p_value(stop_at, np.where(stopped, 0, hits[:, -1]))
    attainable = np.unique(np.concatenate([design.p_stop_at[1:], design.p_censored]))
    for t in (0.5, 0.1, 0.05, 0.01, 0.005):
        v = attainable[attainable <= t].max()                  # the law is discrete: P(p <= v) = v exactly
        assert (p <= t).mean() == pytest.approx(v, abs=4 * math.sqrt(v / n_paths)), (t, v)
    assert design.p_censored[0] == pytest.approx(1 / 301)          # no hit in n_max draws: 1 / (1 + n_max)
    assert design.p_stop_at[1] == pytest.approx(1.0)


def test_boundary_and_p_values_by_hand():
    assert stop_hits(np.array([1, 200, 400, 632, 2000]), 10, 200).tolist() == [10, 10, 3, 2, 1]
    # one bin, one column; the null is the integers 0..n in draw order, so hits are predictable
    obs = np.array([[0.5], [np.nan], [1e9]])
    res = sequential_p_values(obs, np.zeros(3, dtype=int), lambda b, n, a: np.ones((n, 1)), n_initial=50,
                              n_max=400, hits=5, fdr=None)
    design = sequential_design(5, 50, 400)
    assert res.stop[0, 0] == "hits" and res.n_random[0, 0] == 5 and res.p_value[0, 0] == design.p_stop_at[5]
    assert np.isnan(res.p_value[1, 0]) and res.n_random[1, 0] == 0
    assert res.stop[2, 0] == "max" and res.p_value[2, 0] == pytest.approx(1 / 401) and res.hits[2, 0] == 0
    assert res.drawn_per_bin.tolist() == [400]
    with pytest.raises(ValueError, match="must be >= 1"):
        sequential_design(0, 10, 100)


@pytest.mark.parametrize("m, reps", [(50, 400), (700, 400), (7647, 40)])
def test_global_null_calibration(m, reps):
    """P(any q < 0.05) <= 0.05 within Monte Carlo error and p < 0.05 at 3-7 % under the global null.
    m = 7,647 runs 40 repetitions here; benchmarks/bench_significance_null.py runs 400."""
    rates = global_null_error_rates(m, reps, seed=m)
    print(f"m={m}, {reps} repetitions: {rates}")
    assert rates["any_q"] <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / reps), rates
    assert 0.03 <= rates["below_05"] <= 0.07, rates


def test_ties_get_equal_p_values_and_saturation_is_flagged():
    """40 of 50 sets tie at the model's own AUC of 1.0 (a saturated easy task): the tied sets of one size bin
    share one p-value, the target is marked saturated, and nothing is called significant."""
    rng = np.random.default_rng(2)
    sizes = np.array([10] * 25 + [40] * 25)
    auc = np.where(np.arange(50) % 5 == 0, rng.uniform(0.6, 0.9, 50), 1.0)
    size_of_bin, bin_of_set = null_sizes(sizes, 10)
    res = sequential_p_values(auc[:, None], bin_of_set,
                              lambda b, n, a: np.where(rng.random(n) < 0.7, 1.0, rng.uniform(0.5, 1, n))[:, None])
    p = res.p_value[:, 0]
    for b in range(len(size_of_bin)):
        tied = (bin_of_set == b) & (auc == 1.0)
        assert len(np.unique(p[tied])) == 1
    real = pd.DataFrame({"source": "h", "target": "t", "cohort": "test", "class": "c", "auc": auc,
                         "gene_set": [f"S{i}" for i in range(50)], "auc_full": 1.0, "p_value": p})
    out = significance(real)
    assert out["saturated"].all() and out["q_value"].isna().all()
    assert (out["call"] == "saturated").all() and out["note"].str.startswith("saturated").all()


def test_significance_families_flags_and_calls():
    rows = []
    for target in ("a", "b"):
        for i, pv in enumerate([0.0004, 0.01, 0.2, 0.6]):
            rows.append({"source": "h", "target": target, "cohort": "test", "class": "c", "gene_set": f"S{i}",
                         "auc": [0.95, 0.8, 0.7, 0.6][i], "auc_full": 0.85, "p_value": pv})
    rows.append({"source": "h", "target": "a", "cohort": "train", "class": "c", "gene_set": "S0", "auc": 0.9,
                 "auc_full": 0.95, "p_value": np.nan})
    real = pd.DataFrame(rows)
    per_target = significance(real).set_index(["target", "cohort", "gene_set"])
    exp = benjamini_hochberg(np.array([0.0004, 0.01, 0.2, 0.6]))
    assert np.allclose(per_target.loc[("a", "test"), "q_value"].sort_index(), exp)
    run = significance(real, fdr_scope="run").set_index(["target", "cohort", "gene_set"])
    exp_run = benjamini_hochberg(np.array([0.0004, 0.01, 0.2, 0.6] * 2))[:4]
    assert np.allclose(run.loc[("a", "test"), "q_value"].sort_index(), exp_run)
    # S0 scores 0.95 against a full model of 0.85: flagged implausible beside its call
    assert per_target.loc[("a", "test", "S0"), "implausible"]
    assert per_target.loc[("a", "test", "S0"), "note"].startswith("implausible")
    assert not per_target.loc[("a", "test", "S1"), "implausible"]
    assert per_target.loc[("a", "test", "S1"), "call"] == "significant"
    assert per_target.loc[("a", "train", "S0"), "call"] == "untested"
    with pytest.raises(ValueError, match="fdr_scope"):
        significance(real, fdr_scope="everything")


def test_null_size_bins_and_random_sets():
    sizes = np.array([5, 6, 7, 50, 51, 400, 420, 480])
    reps, bins = null_sizes(sizes, 3)
    assert len(reps) == 3 and bins.min() == 0 and bins.max() == 2
    reps_all, bins_all = null_sizes(sizes, 25)                     # few sizes: every size is its own bin
    assert np.array_equal(reps_all[bins_all], sizes)
    sets = random_sets(100, np.array([3, 40]), 50, np.random.default_rng(0))
    assert len(sets) == 100 and {len(s) for s in sets[:50]} == {3} and {len(s) for s in sets[50:]} == {40}
    assert all(len(np.unique(s)) == len(s) and s.max() < 100 for s in sets)
    mixed = random_sets_of_sizes(30, np.array([4, 2, 4, 7]), np.random.default_rng(1), chunk_elements=30)
    assert [len(s) for s in mixed] == [4, 2, 4, 7]


# --------------------------------------------------------------------------- real-data negative control
LEUKEMIA = SHARED_DATA / "gsea_leukemia" / "Leukemia_collapsed_symbols.gct"
HALLMARK = SHARED_DATA / "msigdb" / "h.all.v7.0.symbols.gmt"


@pytest.mark.skipif(not (LEUKEMIA.exists() and HALLMARK.exists()), reason="needs ../shared/data (Leukemia, MSigDB)")
def test_leukemia_permuted_labels_give_no_discovery():
    """The GSEA Leukemia set (24 ALL / 24 AML, its .cls labels) with labels permuted: an elastic net trained on
    30 patients, masked on 18 with every Hallmark set, three permutations. No set may reach
    q < 0.05."""
    from radplug.data.ingest import read_expression_file

    expr = read_expression_file(LEUKEMIA).astype(np.float32)
    expr = expr.loc[:, expr.var().sort_values().index[-3000:]]           # the 3,000 most variable genes
    genes = list(expr.columns)
    prep = prepare_gene_sets(read_gene_sets(str(HALLMARK)), genes)
    ids = expr.index.to_numpy()
    truth = np.array((LEUKEMIA.parent / "Leukemia.cls").read_text().split("\n")[2].split())
    assert len(truth) == len(ids)
    for perm_seed in (1, 2, 3):
        rng = np.random.default_rng(perm_seed)
        labels = rng.permutation(truth)
        cohort = np.where(np.arange(len(ids)) % 5 < 3, "train", "test")
        targets = pd.DataFrame({"sample_id": ids, "cohort": cohort, "label": labels})
        train = cohort == "train"
        pipe = make_pipeline("enet", {"C": 1.0, "l1_ratio": 0.5}, seed=perm_seed)
        pipe.fit(expr.to_numpy()[train], (labels[train] == "AML").astype(int))
        model = FinalModel("label", "enet", "x", {}, ["ALL", "AML"], genes, pipe, perm_seed, math.nan)
        real, null = mask_model(model, expr, targets, prep.members, prep.coverage, "msigdb_hallmark",
                                seed=perm_seed, cohorts=("test",))
        res = significance(real)
        print(f"permutation {perm_seed}: full AUC {res['auc_full'].iloc[0]:.2f}, best masked AUC "
              f"{res['auc'].max():.2f}, min p {res['p_value'].min():.4f}, min q {res['q_value'].min():.3f}, "
              f"{len(null)} random sets drawn")
        assert len(res) == len(prep.members) and res["q_value"].notna().all() and not res["saturated"].any()
        assert not (res["q_value"] < 0.05).any(), res.nsmallest(3, "p_value").to_dict("records")


# --------------------------------------------------------------------------- end to end, simulated cohort
@pytest.fixture(scope="module")
def simulated_significance():
    """Histology (3 classes, softmax) and one radiomic feature (binary) networks trained on the simulated
    training cohort; every set masked on the test cohort with sequential random-set nulls (defaults)."""
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
        real, _ = mask_model(model, sim.expression, targets, prep.members, prep.coverage, "custom",
                             max_null_sizes=5, seed=3)
        tables.append(significance(real))
        # fresh random sets with the real sets' sizes: exchangeable with the null, so their p-values must be
        # calibrated (BH-aware early stopping off: they are not one BH family of interest)
        fresh = random_sets(len(genes), prep.coverage["n_present"].to_numpy(), 50, np.random.default_rng(11))
        members = {f"RANDOM_{i:04d}": s for i, s in enumerate(fresh)}
        coverage = pd.DataFrame({"gene_set": list(members), "n_genes": [len(s) for s in fresh],
                                 "n_present": [len(s) for s in fresh], "coverage": 1.0})
        fresh_real, _ = mask_model(model, sim.expression, targets, members, coverage, "custom",
                                   max_null_sizes=5, seed=3, cohorts=("test",), max_random=1000)
        fresh_tables.append(significance(fresh_real))
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
              f"p {hit['p_value'].iloc[0]:.2g} after {hit['n_random'].iloc[0]} random sets, "
              f"q {hit['q_value'].iloc[0]:.2g}, rank {hit['rank'].iloc[0]}")
        assert hit["rank"].iloc[0] == 1
        assert hit["q_value"].iloc[0] < 0.05, hit.to_dict("records")
        assert hit["call"].iloc[0] == "significant"
    assert checked == 4
    # the training cohort is scored and ranked, without a null; the full model's AUC rides along
    assert res.loc[res["cohort"] == "train", "p_value"].isna().all()
    assert (res.loc[res["cohort"] == "train", "call"] == "untested").all()
    assert res["auc_full"].between(0, 1).all()
    tested = res[res["cohort"] == "test"]
    assert (tested["n_random"] >= DEFAULT_HITS).all() and (tested["null_drawn"] >= 200).all()
    assert set(tested["stop"]) <= {"hits", "max", "futile", "decided"}


def test_decoys_called_at_about_the_nominal_rate(simulated_significance):
    """Module decoys (co-expressed sets with no planted association): p < 0.05 at most at about the nominal
    5 % (the competitive null is conservative when random sets pick up planted genes), none at q < 0.05."""
    res, truth, _ = simulated_significance
    dec = res[(res["cohort"] == "test") & ~res["gene_set"].isin(set(truth["gene_set"]))]
    assert len(dec) == 30 * 5                               # 30 decoys x (3 classes + micro + 1 binary)
    fpr = float((dec["p_value"] < 0.05).mean())
    print(f"decoy false-positive rate at p < 0.05: {fpr:.3f} over {len(dec)} tests")
    assert fpr <= 0.10                                    # binomial(150, 0.05): P(> 15) < 0.01
    assert (dec["q_value"] >= 0.05).mean() > 0.95


def test_random_sets_of_matched_size_are_called_at_the_nominal_rate(simulated_significance):
    """2,000 fresh random sets (50 per real set size; the null bins mix sizes) per class: p < 0.05 at about
    5 %, p < 0.005 at most about 0.5 %, and hardly any q < 0.05."""
    _, _, fresh = simulated_significance
    for (target, cls), g in fresh.groupby(["target", "class"]):
        p = g["p_value"].to_numpy()
        assert len(p) == 2000
        rates = {a: float((p < a).mean()) for a in (0.05, 0.01, 0.005)}
        print(f"{target}/{cls}: fraction below", rates)
        assert 0.025 <= rates[0.05] <= 0.075, rates      # binomial(2000, 0.05): +-5 SD
        assert rates[0.005] <= 0.012, rates
    assert (fresh["q_value"] < 0.05).mean() < 0.01


def test_bad_masking_options_are_refused():
    sim = simulate_cohort(n_genes=1000, n_sets=12, signal=1.5, seed=1, n_train=40, n_test=20)
    genes = list(sim.expression.columns)
    prep = prepare_gene_sets(sim.gene_sets, genes)
    lab = sim.clinical
    targets = pd.DataFrame({"sample_id": lab["sample_id"], "cohort": lab["cohort"], "t": "a"})
    targets.loc[targets.index[::2], "t"] = "b"
    pipe = make_pipeline("enet", {"C": 1.0, "l1_ratio": 0.5}, seed=0)
    tr = (targets["cohort"] == "train").to_numpy()
    pipe.fit(sim.expression.to_numpy(np.float32)[tr], (targets["t"] == "b").to_numpy()[tr].astype(int))
    model = FinalModel("t", "enet", "x", {}, ["a", "b"], genes, pipe, 0, math.nan)
    for kwargs in ({"n_random": 0}, {"n_random": -5}, {"n_random": 500, "max_random": 100}):
        with pytest.raises(ValueError, match="mask_n_random"):
            mask_model(model, sim.expression, targets, prep.members, prep.coverage, "custom", **kwargs)
    one_class = targets.assign(t=np.where(targets["cohort"] == "test", "a", targets["t"]))
    with pytest.raises(ValueError, match="two classes"):
        mask_model(model, sim.expression, one_class, prep.members, prep.coverage, "custom")
