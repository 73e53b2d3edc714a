"""Model families: paper grids, the PyTorch network (architecture, losses, seeding, early stopping, learning),
and stacked fold training. Real PyTorch and scikit-learn fits on small data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from radplug.metrics import safe_auc
from radplug.models.builtin import MLP_FAST
from radplug.training.cv import cv_splits, make_pipeline
from radplug.training.search import grid

PAPER_SIZES = {"enet": 100, "svm": 400, "rf": 120, "gbt": 150, "mlp": 48}
# fixed-length training (no validation split): early stopping on ~20 validation samples is too noisy for
# tests that assert learning; test_mlp_early_stopping_keeps_best_epoch covers early stopping itself
SMALL = {**MLP_FAST[0], "first_layer": 32, "epochs": 60, "patience": 60, "validation_fraction": 0.0}


def _planted(n: int = 160, p: int = 40, seed: int = 0, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    score = X[:, :3].sum(axis=1) + 0.3 * rng.normal(size=n)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, y


def test_paper_grids_follow_table_2() -> None:
    """`--grid paper` is Table 2 of Smedley et al. 2021, value by value (deviations: docs/models.md)."""
    def axis(cfgs: list[dict], key: str) -> list:
        return sorted({c[key] for c in cfgs})

    mlp = grid("mlp", "paper")
    assert axis(mlp, "first_layer") == [2000, 4000, 6000]
    assert axis(mlp, "n_layers") == [3, 4]
    assert axis(mlp, "optimizer") == ["adadelta", "nadam"]
    assert axis(mlp, "activation") == ["relu", "sigmoid"]
    assert axis(mlp, "dropout") == [0.4, 0.6]
    assert all(c["epochs"] == 500 and c["patience"] == 200 and c["batch_size"] == 10 for c in mlp)
    assert all("learning_rate" not in c for c in mlp)   # the optimisers' defaults (Keras: Nadam 2e-3, Adadelta 1)
    assert len({tuple(sorted(c.items())) for c in mlp}) == 48
    # elastic net: 100 models, L1 ratio over [0, 1] (both ends), solver SAGA; Table 2 searches no C (default 1)
    enet = grid("enet", "paper")
    assert len(enet) == 100 and axis(enet, "C") == [1.0]
    assert np.allclose(axis(enet, "l1_ratio"), np.linspace(0, 1, 100))
    assert make_pipeline("enet", enet[0], 0).named_steps["model"].solver == "saga"
    # svm: 4 kernels x C 1e-6..1e6, 100 values evenly spaced on a log scale
    svm = grid("svm", "paper")
    assert axis(svm, "kernel") == ["linear", "poly", "rbf", "sigmoid"]
    assert np.allclose(axis(svm, "C"), np.logspace(-6, 6, 100))
    assert len(svm) == 400
    # random forest: trees [50:100:3050] (end excluded: 30 values, 120 models), gini/entropy, sqrt/log2, no depth
    rf = grid("rf", "paper")
    assert axis(rf, "n_estimators") == [50, 150, 250, 350, 450, 550, 650, 750, 850, 950, 1050, 1150, 1250, 1350,
                                        1450, 1550, 1650, 1750, 1850, 1950, 2050, 2150, 2250, 2350, 2450, 2550,
                                        2650, 2750, 2850, 2950]
    assert axis(rf, "criterion") == ["entropy", "gini"] and axis(rf, "max_features") == ["log2", "sqrt"]
    assert make_pipeline("rf", rf[0], 0).named_steps["model"].max_depth is None and len(rf) == 120
    # gradient boosting: trees [50:100:1000], depth 1-3, learning rate [0.01:0.1:0.50]
    gbt = grid("gbt", "paper")
    assert axis(gbt, "max_iter") == [50, 150, 250, 350, 450, 550, 650, 750, 850, 950]
    assert axis(gbt, "max_depth") == [1, 2, 3]
    assert axis(gbt, "learning_rate") == [0.01, 0.11, 0.21, 0.31, 0.41]
    assert make_pipeline("gbt", gbt[0], 0).named_steps["model"].min_samples_leaf == 1 and len(gbt) == 150


def test_standard_preset_is_a_real_search() -> None:
    """`standard` searches every family on more than one axis value, and is far smaller than `paper`."""
    for fam, n_paper in PAPER_SIZES.items():
        std = grid(fam, "standard")
        varied = [k for k in std[0] if len({json.dumps(c[k]) for c in std}) > 1]
        assert len(std) >= 2 and varied, (fam, len(std))
        assert len(std) <= n_paper // 5, (fam, len(std))
    assert max(c["first_layer"] for c in grid("mlp", "standard")) <= 256


@pytest.mark.parametrize(("n", "class_weight"), [(200, "balanced"), (400, "none"), (160, "none")])
def test_gbt_is_scikit_learns_booster_on_unweighted_bins(n: int, class_weight: str) -> None:
    """radplug's gbt equals HistGradientBoostingClassifier wherever scikit-learn bins without weights: up to
    255 patients (edges between distinct values, weighted or not) and unweighted at any size; above 255
    patients with class weights it bins as unweighted (radplug.models.gbt says why)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from radplug.models.gbt import GBTClassifier

    X, y = _planted(n, 30, classes=3 if n == 160 else 2)
    X_new = _planted(40, 30, seed=1)[0]
    ours = GBTClassifier(max_iter=40, max_depth=2, learning_rate=0.1, class_weight=class_weight, random_state=0)
    theirs = HistGradientBoostingClassifier(max_iter=40, max_depth=2, learning_rate=0.1, min_samples_leaf=1,
                                            early_stopping=False, random_state=0,
                                            class_weight=None if class_weight == "none" else class_weight)
    p_ours, p_theirs = ours.fit(X, y).predict_proba(X_new), theirs.fit(X, y).predict_proba(X_new)
    assert np.array_equal(p_ours, p_theirs)
    assert np.array_equal(ours.predict(X_new), theirs.predict(X_new))
    assert ours.n_iter_ == 40 and list(ours.classes_) == list(theirs.classes_)


def test_gbt_balanced_weights_above_255_patients() -> None:
    """Above 255 patients the class weights still weight the boosting (not the bin edges): the balanced
    model's mean minority probability is higher, and its edges are the unweighted ones."""
    from radplug.models.gbt import GBTClassifier, bin_edges

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 10))
    y = (X[:, 0] + rng.normal(size=300) > 1.6).astype(int)
    fitted = {cw: GBTClassifier(max_iter=30, max_depth=2, class_weight=cw, random_state=0).fit(X, y)
              for cw in ("balanced", "none")}
    assert fitted["balanced"].predict_proba(X)[:, 1].mean() > fitted["none"].predict_proba(X)[:, 1].mean() + 0.05
    for a, b in zip(fitted["balanced"].bin_edges_, bin_edges(X, 255), strict=True):
        assert np.array_equal(a, b) and len(a) <= 254


@pytest.mark.parametrize("family", ["rf", "gbt"])
def test_staged_configurations_equal_their_own_fits(family: str) -> None:
    """A staged family's smaller configurations scored from one larger fit give exactly the probabilities of
    their own fits (the first k trees or boosting iterations, same seed)."""
    from radplug.plugins import get_family

    X, y = _planted(120, 30, classes=3 if family == "gbt" else 2)
    staged = get_family(family).staged
    base = grid(family, "standard")[0]
    values = [5, 12, 20]
    big = make_pipeline(family, {**base, staged.param: 20}, 3).fit(X[:90], y[:90])
    for v, p in zip(values, staged.proba(big[-1], big[:-1].transform(X[90:]), values), strict=True):
        own = make_pipeline(family, {**base, staged.param: v}, 3).fit(X[:90], y[:90]).predict_proba(X[90:])
        np.testing.assert_allclose(p, own, rtol=0, atol=1e-12)


def test_search_scores_staged_configurations_from_one_fit_per_fold() -> None:
    """SEARCH's CV rows of a staged family equal those of every configuration cross-validated on its own, and
    ``--grid_chunk`` counts fits: the paper's 120 forests are 4 fits per fold, its 150 boosters 15."""
    from radplug.training.search import _cv_rows, config_id, fit_groups, plan_jobs, run_job

    assert [len(g) for g in fit_groups("rf", "paper")] == [30] * 4
    assert [len(g) for g in fit_groups("gbt", "paper")] == [10] * 15
    assert fit_groups("enet", "standard") == [[0], [1], [2]]
    X, y = _planted(80, 20)
    ids = [f"P{i}" for i in range(len(y))]
    expression = pd.DataFrame(X, index=pd.Index(ids, name="sample_id"), columns=[f"g{j}" for j in range(20)])
    targets = pd.DataFrame({"sample_id": ids, "cohort": "train", "t": np.where(y == 1, "high", "low")})
    tasks = pd.DataFrame({"target": ["t"], "source": ["clinical"], "group": [""], "classes": ['["low", "high"]']})
    jobs = plan_jobs(tasks, ["rf", "gbt"], "standard", chunk_size=1)
    assert jobs.groupby("family")["n_chunks"].first().to_dict() == {"gbt": 2, "rf": 2}
    for family in ("rf", "gbt"):
        got = pd.concat([run_job("target:t", family, "standard", c, 2, expression, targets, tasks, 4, 7)
                         for c in range(2)], ignore_index=True)
        splits = cv_splits((y == 1).astype(int), 4, 7)
        want = pd.DataFrame([r for i, params in enumerate(grid(family, "standard"))
                             for r in _cv_rows(family, params, config_id(family, "standard", i), "target:t", ["t"],
                                               X, (y == 1).astype(int)[:, None], splits, 7, "cpu", [2], "target",
                                               False)])
        key = ["config_id", "fold"]
        got, want = got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True)
        assert len(got) == len(grid(family, "standard")) * 4
        pd.testing.assert_frame_equal(got, want, check_exact=False, atol=1e-12, rtol=0)


@pytest.mark.parametrize("kernel", ["linear", "rbf", "poly"])
def test_svm_decision_function_is_libsvms(kernel: str) -> None:
    """The SVM's own decision function (matrix products, binary linear/rbf) equals libsvm's, on masked-like
    inputs (most genes zero) too; other kernels and multiclass go through SVC itself."""
    from radplug.models.svm import SVMClassifier

    X, y = _planted(150, 60)
    X_new = _planted(30, 60, seed=2)[0]
    X_new[:, 10:] = 0.0
    for classes in (2, 3):
        yk = y if classes == 2 else _planted(150, 60, classes=3)[1]
        m = SVMClassifier(kernel=kernel, C=0.5).fit(X, yk)
        np.testing.assert_allclose(m.decision_function(X_new), m.svc_.decision_function(X_new), rtol=0, atol=1e-10)
        assert np.array_equal(m.predict(X_new), m.svc_.predict(X_new)) or classes == 3


def test_auto_preset_and_fast_warning(caplog: pytest.LogCaptureFixture) -> None:
    from radplug.training.search import resolve_preset

    assert resolve_preset("auto", user_input=True) == "standard"
    assert resolve_preset("auto", user_input=False) == "fast"
    assert resolve_preset("paper", user_input=True) == "paper"
    with caplog.at_level("WARNING"):
        assert resolve_preset("fast", user_input=False) == "fast"
        assert not caplog.records
        assert resolve_preset("fast", user_input=True) == "fast"
    assert "smoke test" in caplog.text and "--grid standard" in caplog.text


@pytest.mark.parametrize("n_layers,widths", [(3, [2000, 1000, 500]), (4, [2000, 1000, 500, 250])])
def test_network_architecture(n_layers: int, widths: list[int]) -> None:
    import torch.nn as nn

    from radplug.models.mlp import build_network

    net = build_network(100, 3, 2000, n_layers, "sigmoid", 0.6)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linears] == [*widths, 3]
    assert [m.num_features for m in net if isinstance(m, nn.BatchNorm1d)] == widths
    assert all(m.p == 0.6 for m in net if isinstance(m, nn.Dropout))
    assert sum(isinstance(m, nn.Sigmoid) for m in net) == n_layers


def test_mlp_output_layouts_and_losses() -> None:
    from radplug.models.mlp import MLPClassifier

    X, y3 = _planted(classes=3)
    m = MLPClassifier(**SMALL, device="cpu").fit(X[:120], y3[:120])
    assert m.task_ == "multiclass"
    p = m.predict_proba(X[120:])
    assert p.shape == (40, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5)  # softmax
    Y = np.stack([(y3 == 2), (y3 == 0)], axis=1).astype(int)
    ml = MLPClassifier(**SMALL, device="cpu").fit(X[:120], Y[:120])
    pm = ml.predict_proba(X[120:])
    assert ml.task_ == "multilabel" and pm.shape == (40, 2)
    assert not np.allclose(pm.sum(axis=1), 1, atol=1e-3)  # independent sigmoids, not a softmax
    assert safe_auc(Y[120:, 0], pm[:, 0]) > 0.8 and safe_auc(Y[120:, 1], pm[:, 1]) > 0.8


def test_mlp_learns_planted_signal_and_is_seeded() -> None:
    X, y = _planted()
    a = make_pipeline("mlp", SMALL, 7).fit(X[:120], y[:120])
    b = make_pipeline("mlp", SMALL, 7).fit(X[:120], y[:120])
    c = make_pipeline("mlp", SMALL, 8).fit(X[:120], y[:120])
    pa, pb, pc = (m.predict_proba(X[120:]) for m in (a, b, c))
    assert pa.shape == (40, 2)
    assert np.array_equal(pa, pb)
    assert not np.allclose(pa, pc)
    assert safe_auc(y[120:], pa[:, 1]) > 0.8


def test_mlp_early_stopping_keeps_best_epoch() -> None:
    from radplug.models.mlp import MLPClassifier

    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 40)).astype(np.float32)
    y = rng.integers(0, 2, 80)  # pure noise: validation loss stops improving early
    params = {**SMALL, "epochs": 200, "patience": 5, "validation_fraction": 0.2}
    m = MLPClassifier(**params, device="cpu").fit(X, y)
    assert m.n_epochs_ < 200
    best = int(np.argmin(m.loss_curve_))
    assert m.n_epochs_ == best + 1 + 5


def test_stacked_folds_predict_like_separate_networks() -> None:
    from radplug.models.stacked import stacked_fold_proba

    X, y = _planted()
    splits = cv_splits(y, 3, 0)
    probas, epochs = stacked_fold_proba(SMALL, X, y, splits, 0, return_epochs=True)
    assert [p.shape for p in probas] == [(len(va), 2) for _, va in splits]
    assert epochs == [SMALL["epochs"]] * 3   # no validation split: every member trains all epochs
    stacked = [safe_auc(y[va], p[:, 1]) for p, (_, va) in zip(probas, splits, strict=True)]
    assert np.mean(stacked) > 0.75
    again = stacked_fold_proba(SMALL, X, y, splits, 0)
    assert all(np.array_equal(a, b) for a, b in zip(probas, again, strict=True))
    X3, y3 = _planted(classes=3)
    p3 = stacked_fold_proba(SMALL, X3, y3, cv_splits(y3, 3, 0), 0)
    assert all(p.shape[1] == 3 and np.allclose(p.sum(axis=1), 1, atol=1e-5) for p in p3)


def test_stacked_folds_within_a_memory_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget too small for all folds at once trains them in groups, with the same predictions; a budget too
    small for one network is refused before training, saying what to do."""
    from radplug.models.stacked import MEMORY_SHARE, fold_groups, member_bytes, stacked_fold_proba

    X, y = _planted()
    splits = cv_splits(y, 3, 0)
    together = stacked_fold_proba(SMALL, X, y, splits, 0)
    need = member_bytes(len(X), X.shape[1], 1, SMALL["first_layer"], SMALL["n_layers"])
    assert fold_groups(3, need, 3 * need) == [[0, 1, 2]]
    assert fold_groups(10, need, 4 * need) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    monkeypatch.setenv("RADPLUG_MEMORY_GB", str(1.5 * need / MEMORY_SHARE / 2**30))   # one member per group
    grouped = stacked_fold_proba(SMALL, X, y, splits, 0)
    # the same members, trained in smaller stacks: equal up to the rounding of the batched products
    assert all(np.allclose(a, b, atol=1e-3) for a, b in zip(together, grouped, strict=True))
    monkeypatch.setenv("RADPLUG_MEMORY_GB", str(0.5 * need / MEMORY_SHARE / 2**30))
    with pytest.raises(ValueError, match="give the SEARCH tasks more memory"):
        stacked_fold_proba(SMALL, X, y, splits, 0)
    # the paper's widest network on the paper's genes: about 3.7 GB per fold while training (measured by
    # benchmarks/bench_wide_network.py: 24 bytes per parameter)
    wide = member_bytes(262, 21_766, 3, 6000, 4)
    assert 3.4e9 < wide < 4.2e9


@pytest.mark.parametrize("optimizer,classes", [("nadam", 2), ("adadelta", 3)])
def test_stacked_members_stop_like_unstacked_estimator(optimizer: str, classes: int) -> None:
    """Same configuration and seed: each stacked fold stops at the unstacked estimator's epoch, keeps the
    same best epoch, and scores the same AUC (within 0.01); folds stop at different epochs."""
    from radplug.models.stacked import stacked_fold_proba

    X, y = _planted(n=150, seed=3, classes=classes)
    params = {**SMALL, "optimizer": optimizer, "learning_rate": None, "epochs": 80, "patience": 6,
              "validation_fraction": 0.2}
    splits = cv_splits(y, 4, 0)
    probas, epochs = stacked_fold_proba(params, X, y, splits, 11, return_epochs=True)
    single_epochs, auc_single, auc_stacked = [], [], []
    for fold, ((tr, va), p) in enumerate(zip(splits, probas, strict=True)):
        pipe = make_pipeline("mlp", params, 11 + fold).fit(X[tr], y[tr])   # as the unstacked search does
        net = pipe.named_steps["model"]
        single_epochs.append(net.n_epochs_)
        assert net.best_epoch_ == net.n_epochs_ - params["patience"] or net.n_epochs_ == params["epochs"]
        q = pipe.predict_proba(X[va])
        if classes == 2:
            auc_single.append(safe_auc(y[va], q[:, 1]))
            auc_stacked.append(safe_auc(y[va], p[:, 1]))
        else:
            from sklearn.metrics import roc_auc_score
            auc_single.append(roc_auc_score(y[va], q, multi_class="ovr"))
            auc_stacked.append(roc_auc_score(y[va], p, multi_class="ovr"))
    assert epochs == single_epochs
    assert len(set(epochs)) > 1 and min(epochs) < params["epochs"]   # early stopping acted, per member
    assert np.max(np.abs(np.subtract(auc_single, auc_stacked))) < 0.01, (auc_single, auc_stacked)


def test_early_stopping_split_is_stratified() -> None:
    from radplug.models.stacked import stratified_holdout

    strat = np.array([1] * 21 + [0] * 191)   # a 10 %-minority feature, as in a CV training fold
    for seed in range(200):
        fit, val = stratified_holdout(strat, 0.1, np.random.default_rng(seed))
        assert len(val) == 21 and strat[val].sum() == 2 and len(np.intersect1d(fit, val)) == 0
        assert len(fit) + len(val) == len(strat)
    tiny = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
    _, val = stratified_holdout(tiny, 0.1, np.random.default_rng(0))
    assert len(val) == 1


def test_class_weight_balanced_and_none() -> None:
    """Balanced weights lift the minority class's predicted probability in every family; bad values refused."""
    from radplug.models.stacked import class_weights

    assert np.allclose(class_weights(np.array([0] * 9 + [1]), "binary", 1, "balanced")[:, 0], [10 / 18, 5])
    assert np.allclose(class_weights(np.array([0, 0, 1, 2]), "multiclass", 3, "balanced"), [2 / 3, 4 / 3, 4 / 3])
    assert np.allclose(class_weights(np.array([0, 1]), "binary", 1, "none"), 1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 20)).astype(np.float32)
    y = (X[:, 0] + 1.5 * rng.normal(size=200) > 1.6).astype(int)   # about 10 % positives
    assert 0.05 < y.mean() < 0.2
    for fam, params in [("mlp", {**SMALL, "epochs": 30}), ("enet", grid("enet", "fast")[0]),
                        ("svm", grid("svm", "fast")[1]), ("rf", grid("rf", "fast")[0]),
                        ("gbt", grid("gbt", "fast")[0])]:
        mean_p = {}
        for cw in ("balanced", "none"):
            est = make_pipeline(fam, params, 0, class_weight=cw)
            assert est.named_steps["model"].get_params()["class_weight"] in (cw, None)
            mean_p[cw] = est.fit(X, y).predict_proba(X)[:, 1].mean()
        assert mean_p["balanced"] > mean_p["none"], (fam, mean_p)
        with pytest.raises(ValueError, match="class_weight"):
            make_pipeline(fam, params, 0, class_weight="foo")
