"""Model families: paper grids, the PyTorch network (architecture, losses, seeding, early stopping, learning),
and stacked fold training. Real PyTorch and scikit-learn fits on small data."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from radplug.cv import cv_splits, make_pipeline
from radplug.metrics import safe_auc
from radplug.models.builtin import MLP_FAST
from radplug.search import grid

PAPER_SIZES = {"enet": 100, "svm": 400, "rf": 120, "gbt": 150, "mlp": 48}
# fixed-length training (no validation split): early stopping on ~20 validation samples is too noisy for
# tests that assert learning; test_mlp_early_stopping_keeps_best_epoch covers early stopping itself
SMALL = {**MLP_FAST[0], "first_layer": 32, "epochs": 60, "patience": 60, "validation_fraction": 0.0}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "radplug.cli", *args], capture_output=True, text=True,
                          cwd=str(REPO), env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)


def _planted(n: int = 160, p: int = 40, seed: int = 0, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    score = X[:, :3].sum(axis=1) + 0.3 * rng.normal(size=n)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, y


def test_grid_count_paper_sizes_cli() -> None:
    res = _cli("grid", "--preset", "paper", "--count")
    assert res.returncode == 0, res.stderr
    counts = {line.split("\t")[0]: int(line.split("\t")[1]) for line in res.stdout.strip().splitlines()}
    assert {f: counts[f] for f in PAPER_SIZES} == PAPER_SIZES
    one = _cli("grid", "--family", "svm", "--preset", "paper", "--count")
    assert one.stdout.strip() == "svm\t400"
    bad = _cli("grid", "--family", "svm", "--preset", "huge", "--count")
    assert bad.returncode == 2 and "no grid preset 'huge'" in bad.stderr and "paper" in bad.stderr


def test_paper_grids_follow_table_2() -> None:
    mlp = grid("mlp", "paper")
    assert {c["first_layer"] for c in mlp} == {2000, 4000, 6000}
    assert {c["n_layers"] for c in mlp} == {3, 4}
    assert {c["optimizer"] for c in mlp} == {"nadam", "adadelta"}
    assert {c["activation"] for c in mlp} == {"sigmoid", "relu"}
    assert {c["dropout"] for c in mlp} == {0.4, 0.6}
    assert all(c["epochs"] == 500 and c["patience"] == 200 and c["batch_size"] == 10 for c in mlp)
    assert len({tuple(sorted(c.items())) for c in mlp}) == 48
    enet = grid("enet", "paper")
    assert min(c["l1_ratio"] for c in enet) == 0 and max(c["l1_ratio"] for c in enet) == 1
    assert make_pipeline("enet", enet[0], 0).named_steps["model"].solver == "saga"
    svm = grid("svm", "paper")
    assert {c["kernel"] for c in svm} == {"linear", "poly", "rbf", "sigmoid"}
    assert np.isclose(min(c["C"] for c in svm), 1e-6) and np.isclose(max(c["C"] for c in svm), 1e6)
    rf = grid("rf", "paper")
    assert sorted({c["n_estimators"] for c in rf}) == list(range(50, 3000, 100))
    assert {c["criterion"] for c in rf} == {"gini", "entropy"}
    assert {c["max_features"] for c in rf} == {"sqrt", "log2"}
    gbt = grid("gbt", "paper")
    assert {c["max_depth"] for c in gbt} == {1, 2, 3}
    assert min(c["learning_rate"] for c in gbt) == 0.01 and max(c["learning_rate"] for c in gbt) == 0.5


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
    assert 1 <= epochs <= SMALL["epochs"]
    stacked = [safe_auc(y[va], p[:, 1]) for p, (_, va) in zip(probas, splits, strict=True)]
    separate = [safe_auc(y[va], make_pipeline("mlp", SMALL, 0).fit(X[tr], y[tr]).predict_proba(X[va])[:, 1])
                for tr, va in splits]
    assert np.mean(stacked) > 0.75
    assert abs(np.mean(stacked) - np.mean(separate)) < 0.1
    again = stacked_fold_proba(SMALL, X, y, splits, 0)
    assert all(np.array_equal(a, b) for a, b in zip(probas, again, strict=True))
    X3, y3 = _planted(classes=3)
    p3 = stacked_fold_proba(SMALL, X3, y3, cv_splits(y3, 3, 0), 0)
    assert all(p.shape[1] == 3 and np.allclose(p.sum(axis=1), 1, atol=1e-5) for p in p3)
