"""Masking engine: exactness against literal zeroing on real trained networks, batching, fallbacks,
permutation importance, and the Verhaak GBM subtype check on real data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import SHARED_DATA

from radplug.data.simulate import simulate_cohort
from radplug.explain.interpret import permutation_importance
from radplug.explain.masking import MaskingEngine, mask_model, padded_index
from radplug.genesets import prepare_gene_sets, read_gene_sets
from radplug.training.cv import cv_splits, make_pipeline
from radplug.training.final import FinalModel

VERHAAK = SHARED_DATA / "verhaak_gbm" / "TCGA_unified_CORE_ClaNC840.txt"
HALLMARK = SHARED_DATA / "msigdb" / "h.all.v7.0.symbols.gmt"
MLP = {"first_layer": 64, "n_layers": 3, "activation": "relu", "dropout": 0.4, "epochs": 25, "patience": 10,
       "batch_size": 16}


def _fit(X: np.ndarray, y: np.ndarray, classes: list[str], genes: list[str], params: dict,
         target: str = "t") -> FinalModel:
    pipe = make_pipeline("mlp", params, seed=3, device="cpu")
    pipe.fit(X, y)
    return FinalModel(target, "mlp", "test", params, classes, genes, pipe, 3, math.nan)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One PyTorch thread: the test machine's cores are shared, and oversubscribed threads spin."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def sim():
    return simulate_cohort(n_train=120, n_test=60, n_genes=600, n_sets=20, signal=1.5, seed=1)


@pytest.fixture(scope="module")
def models(sim):
    """Three real trained networks on the simulated cohort: binary, multiclass (softmax) and multilabel."""
    hist = sim.clinical.set_index("sample_id")["histology"]
    ids = hist.index[(sim.clinical.set_index("sample_id")["cohort"] == "train") & hist.notna()]
    X = sim.expression.loc[ids].to_numpy(np.float32)
    genes = list(sim.expression.columns)
    codes = hist.loc[ids].map({"ADC": 0, "SCC": 1, "other": 2}).to_numpy()
    binary = _fit(X, (codes == 0).astype(int), ["no", "yes"], genes, MLP)
    multiclass = _fit(X, codes, ["ADC", "SCC", "other"], genes, {**MLP, "activation": "sigmoid"})
    onehot = np.eye(3, dtype=int)[codes]
    multilabel = _fit(X, onehot, ["ADC", "SCC", "other"], genes, {**MLP, "n_layers": 4})
    return {"binary": binary, "multiclass": multiclass, "multilabel": multilabel}


def _test_sets(n_genes: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.array([7]), rng.choice(n_genes, 5, replace=False), rng.choice(n_genes, 37, replace=False),
            rng.choice(n_genes, 150, replace=False), np.arange(n_genes), np.arange(0, n_genes, 2)]


def _literal(model: FinalModel, X: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Zero every other standardized gene and run the whole trained network through its sklearn API."""
    Z = model.pipeline.named_steps["scale"].transform(X)
    Zm = np.zeros_like(Z)
    Zm[:, s] = Z[:, s]
    return model.pipeline.named_steps["model"].predict_proba(Zm.astype(np.float32))


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_engine_matches_literal_zeroing(models, sim, kind):
    model = models[kind]
    X = sim.expression.to_numpy(np.float32)          # training and test patients
    sets = _test_sets(X.shape[1])
    engine = MaskingEngine(model)
    assert engine.fast
    fast = engine.probabilities(X, sets)
    expect_k = 2 if kind == "binary" else 3
    assert fast.shape == (len(sets), X.shape[0], expect_k)
    diffs = [np.abs(fast[i] - _literal(model, X, s)).max() for i, s in enumerate(sets)]
    assert max(diffs) < 1e-5, diffs
    # masking changes predictions (the check is not vacuous) and the full set equals the unmasked model
    assert np.abs(fast[0] - fast[4]).max() > 1e-3
    full = model.pipeline.named_steps["model"].predict_proba(
        model.pipeline.named_steps["scale"].transform(X).astype(np.float32))
    assert np.abs(fast[4] - full).max() < 1e-5


def test_memory_bound_batches_give_same_result(models, sim):
    model = models["multiclass"]
    X = sim.expression.to_numpy(np.float32)[:50]
    rng = np.random.default_rng(5)
    sets = [rng.choice(X.shape[1], int(k), replace=False) for k in rng.integers(1, 120, size=40)]
    big = MaskingEngine(model, memory_mb=512)
    small = MaskingEngine(model, memory_mb=0.2)
    n_batches = len(list(small._batches(np.array([len(s) for s in sets]), X.shape[0])))
    assert n_batches > 5
    assert len(list(big._batches(np.array([len(s) for s in sets]), X.shape[0]))) == 1
    a, b = big.probabilities(X, sets), small.probabilities(X, sets)
    assert np.abs(a - b).max() < 1e-5
    lit = big.literal_probabilities(X, sets)
    assert np.abs(a - lit).max() < 1e-5


def test_padded_index():
    sets = [np.array([4, 2]), np.array([9]), np.array([1, 2, 3])]
    idx = padded_index(sets, pad=99)
    assert idx.tolist() == [[4, 2, 99], [9, 99, 99], [1, 2, 3]]


def test_non_network_model_falls_back_to_literal(sim):
    hist = sim.clinical.set_index("sample_id")["histology"]
    ids = hist.index[(sim.clinical.set_index("sample_id")["cohort"] == "train") & hist.notna()]
    X = sim.expression.loc[ids].to_numpy(np.float32)
    y = (hist.loc[ids] == "SCC").astype(int).to_numpy()
    pipe = make_pipeline("enet", {"C": 0.5, "l1_ratio": 0.5}, seed=0)
    pipe.fit(X, y)
    model = FinalModel("t", "enet", "x", {}, ["no", "yes"], list(sim.expression.columns), pipe, 0, math.nan)
    engine = MaskingEngine(model)
    assert not engine.fast
    sets = _test_sets(X.shape[1])[:3]
    got = engine.probabilities(X, sets)
    for i, s in enumerate(sets):
        assert np.abs(got[i] - _literal(model, X, s)).max() < 1e-6   # float32: stacked sets round differently


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_matches_cpu(models, sim):
    model = models["multiclass"]
    X = sim.expression.to_numpy(np.float32)
    sets = _test_sets(X.shape[1])
    cpu = MaskingEngine(model).probabilities(X, sets)
    gpu = MaskingEngine(model, device="cuda").probabilities(X, sets)
    assert np.abs(cpu - gpu).max() < 1e-4


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_permuted_probabilities_exact(models, sim, kind):
    """The fast permutation path equals shuffling the set's columns and running the network."""
    model = models[kind]
    X = sim.expression.to_numpy(np.float32)[:60]
    sets = _test_sets(X.shape[1])[:4]
    engine = MaskingEngine(model)
    fast = engine.permuted_probabilities(X, sets, seed=11)
    Z = engine.standardize(X)
    perm = np.random.default_rng(11).permutation(len(Z))
    for i, s in enumerate(sets):
        Zp = Z.copy()
        Zp[:, s] = Z[perm][:, s]
        lit = model.pipeline.named_steps["model"].predict_proba(Zp)
        assert np.abs(fast[i] - lit).max() < 1e-5


def test_permutation_importance_finds_planted_set(sim):
    """Shuffling the planted histology set costs much more AUC than shuffling a decoy of similar size."""
    truth = sim.ground_truth[sim.ground_truth["target"] == "histology"].set_index("class")["gene_set"]
    lab = sim.clinical.set_index("sample_id")
    ids = lab.index[(lab["cohort"] == "train") & lab["histology"].notna()]
    X = sim.expression.loc[ids].to_numpy(np.float32)
    codes = lab.loc[ids, "histology"].map({"ADC": 0, "SCC": 1, "other": 2}).to_numpy()
    model = _fit(X, codes, ["ADC", "SCC", "other"], list(sim.expression.columns), {**MLP, "epochs": 60},
                 target="histology")
    prep = prepare_gene_sets(sim.gene_sets, model.genes, min_present=5, max_size=500)
    res = permutation_importance(model, sim.expression, lab.reset_index(), prep.members, "custom", seed=0,
                                 n_repeats=3, cohort="test")
    assert set(res.columns) >= {"target", "source", "cohort", "class", "gene_set", "auc_drop", "rank"}
    for cls in ("ADC", "SCC", "other"):
        r = res[res["class"] == cls].set_index("gene_set")
        decoys = r.drop(index=list(truth))
        assert r.loc[truth[cls], "auc_drop"] > decoys["auc_drop"].median() + 0.05, cls
        # ADC is the softmax's residual class: shuffling the SCC or other set also costs it AUC, so its own
        # set ranks in the top 5 (of 20) behind them rather than first
        assert r.loc[truth[cls], "rank"] <= (5 if cls == "ADC" else 2), (cls, r.loc[list(truth), "rank"])


# --------------------------------------------------------------------------- real data: Verhaak GBM
def _read_verhaak() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """(expression samples x genes, subtype per sample, long table of the four subtype gene lists)."""
    from radplug.data.ingest import read_table

    raw = read_table(VERHAAK)
    gene_col, sig_col = raw.columns[0], raw.columns[1]
    subtype = raw.iloc[0, 2:].str.strip()
    body = raw.iloc[1:]
    expr = body.set_index(gene_col).iloc[:, 1:].apply(pd.to_numeric, errors="coerce").T
    expr.index.name = "sample_id"
    sig = body[[sig_col, gene_col]].rename(columns={sig_col: "gene_set", gene_col: "gene"})
    sig = sig[sig["gene_set"].str.strip() != ""]
    sig = sig.assign(gene_set="VERHAAK_" + sig["gene_set"].str.strip())
    return expr.astype(np.float32), subtype, sig


@pytest.mark.skipif(not VERHAAK.exists(), reason="needs ../shared/data/verhaak_gbm (real TCGA GBM data)")
def test_verhaak_subtype_lists_rank_first():
    expr, subtype, sig = _read_verhaak()
    assert expr.shape == (173, 840)
    code = {"Proneural": "PN", "Neural": "NL", "Classical": "CL", "Mesenchymal": "MES"}
    classes = ["PN", "NL", "CL", "MES"]
    y_lab = subtype.map(code)
    assert y_lab.notna().all()
    y = y_lab.map({c: i for i, c in enumerate(classes)}).to_numpy()
    train_idx, test_idx = cv_splits(y, 3, seed=0)[0][0], cv_splits(y, 3, seed=0)[0][1]
    targets = pd.DataFrame({"sample_id": expr.index, "cohort": "train", "subtype": y_lab.to_numpy()})
    targets.loc[test_idx, "cohort"] = "test"
    params = {"first_layer": 256, "n_layers": 3, "activation": "relu", "dropout": 0.4, "epochs": 100,
              "patience": 20, "batch_size": 16}
    X = expr.to_numpy()
    model = _fit(X[train_idx], y[train_idx], classes, list(expr.columns), params, target="subtype")

    prep = prepare_gene_sets(sig, model.genes, min_present=5, max_size=500)
    assert set(prep.members) == {f"VERHAAK_{c}" for c in classes}
    real, null = mask_model(model, expr, targets, prep.members, prep.coverage, "custom", null_cohorts=())
    for c in classes:
        # held-out patients: the subtype's own list ranks first among the four lists
        g = real[(real["cohort"] == "test") & (real["class"] == c)].set_index("gene_set")
        assert g.loc[f"VERHAAK_{c}", "rank"] == g["rank"].min(), (c, g[["auc", "rank"]])   # first (ties allowed)
        assert g.loc[f"VERHAAK_{c}", "auc"] > 0.9
        # training patients (the network fits them almost perfectly, so lists are near-saturated there)
        t = real[(real["cohort"] == "train") & (real["class"] == c)].set_index("gene_set")
        assert t.loc[f"VERHAAK_{c}", "auc"] > 0.95
    # Hallmark sets run alongside on the same network (840 genes: few sets keep 5 genes)
    hall = read_gene_sets(str(HALLMARK))
    hprep = prepare_gene_sets(hall, model.genes, min_present=5, max_size=500)
    assert len(hprep.members) + len(hprep.dropped) == 50
    assert len(hprep.members) >= 10
    hreal, hnull = mask_model(model, expr, targets, hprep.members, hprep.coverage, "msigdb_hallmark",
                              n_random=20, max_null_sizes=4)
    assert set(hreal["class"]) == set(classes) | {"micro"}
    assert hreal["auc"].between(0, 1).all()
    per_bin = hnull.groupby(["class", "null_bin"]).size()
    assert len(per_bin) == 5 * hreal["null_bin"].nunique() and per_bin.min() >= 20        # 20 first, more if needed
    tested = hreal[hreal["cohort"] == "test"]
    assert tested["p_value"].between(0, 1).all() and (tested["n_random"] >= 1).all()
