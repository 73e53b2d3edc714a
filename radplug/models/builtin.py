"""Built-in model families, registered through the ``radplug`` entry point like any plugin.

Grids: ``paper`` is Table 2 of Smedley et al. 2021 value by value (enet 100, svm 400, rf 120, gbt 150,
mlp 48; deviations in docs/models.md); ``standard`` is a real but affordable search (2-core machines, real
data; the pipeline's default with ``--input``); ``fast`` is a few configurations for smoke tests.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from radplug.hookspecs import ModelFamily, Staged, hookimpl


def _product(**axes: list[Any]) -> list[dict[str, Any]]:
    keys = list(axes)
    return [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*(axes[k] for k in keys))]


def make_mlp(**params: Any):
    from radplug.models.mlp import MLPClassifier

    return MLPClassifier(**params)


def _mlp_fold_stacked(*args: Any, **kwargs: Any) -> list[Any]:
    """All CV folds of one network configuration trained at once (radplug.models.stacked; torch imported
    only when used)."""
    from radplug.models.stacked import stacked_fold_proba

    return stacked_fold_proba(*args, **kwargs)


def make_enet(**params: Any):
    import sklearn
    from sklearn.linear_model import LogisticRegression

    base = {"solver": "saga", "max_iter": 200, "tol": 1e-3}
    if tuple(int(x) for x in sklearn.__version__.split(".")[:2]) < (1, 8):
        base["penalty"] = "elasticnet"   # newer scikit-learn infers the penalty from l1_ratio
    return LogisticRegression(**{**base, **params})


def make_svm(**params: Any):
    from radplug.models.svm import SVMClassifier

    return SVMClassifier(**params)


def make_rf(**params: Any):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_jobs=1, **params)


def _forest_staged_proba(forest: Any, X: Any, sizes: list[int]) -> list[np.ndarray]:
    """The probabilities of the forests of the first k trees, for each k in ``sizes``: they are the forests
    RandomForestClassifier(n_estimators=k) grows with the same random_state (it draws each tree's seed in turn),
    and a forest's probability is the mean of its trees' (summed in the same order)."""
    X = np.asarray(X, dtype=np.float32)   # the forest's own input type
    wanted = set(sizes)
    total = np.zeros((X.shape[0], forest.n_classes_))
    out: dict[int, np.ndarray] = {}
    for k, tree in enumerate(forest.estimators_[:max(sizes)], start=1):
        total += tree.predict_proba(X)
        if k in wanted:
            out[k] = total / k
    return [out[k] for k in sizes]


def _boosting_staged_proba(model: Any, X: Any, sizes: list[int]) -> list[np.ndarray]:
    """The probabilities after the first k boosting iterations, for each k in ``sizes``: boosting is
    sequential, so they are those of the model fitted with ``max_iter=k``."""
    wanted = set(sizes)
    out = {k: p for k, p in enumerate(model.staged_predict_proba(X), start=1) if k in wanted}
    return [out[k] for k in sizes]


def make_gbt(**params: Any):
    from radplug.models.gbt import GBTClassifier

    return GBTClassifier(**params)


MLP_PAPER = _product(first_layer=[2000, 4000, 6000], n_layers=[3, 4], optimizer=["nadam", "adadelta"],
                     activation=["sigmoid", "relu"], dropout=[0.4, 0.6])
for _cfg in MLP_PAPER:
    _cfg.update(epochs=500, patience=200, batch_size=10)
# Tuned on the simulated cohort (docs/models.md): a larger validation split (20-25 %) and patience 20 make
# early stopping less noisy on ~100 training samples; mild weight decay; batch 16.
MLP_FAST = [
    {"first_layer": 128, "n_layers": 3, "optimizer": "nadam", "activation": "relu", "dropout": 0.4,
     "learning_rate": 1e-3, "weight_decay": 1e-3, "epochs": 60, "patience": 10, "batch_size": 16,
     "validation_fraction": 0.2},
    {"first_layer": 128, "n_layers": 3, "optimizer": "nadam", "activation": "relu", "dropout": 0.6,
     "learning_rate": 1e-3, "weight_decay": 1e-3, "epochs": 60, "patience": 10, "batch_size": 16,
     "validation_fraction": 0.25},
]
# standard: the paper's network at widths a 2-core machine can train (first layer 128/256, halving), both
# paper dropouts, Nadam, early stopping with patience 15 on a stratified 20 % split.
MLP_STANDARD = _product(first_layer=[128, 256], n_layers=[3], optimizer=["nadam"], activation=["relu"],
                        dropout=[0.4, 0.6])
for _cfg in MLP_STANDARD:
    _cfg.update(learning_rate=1e-3, weight_decay=1e-3, epochs=100, patience=15, batch_size=16,
                validation_fraction=0.2)

# Table 2 of the paper, value by value (tests/unit/test_models.py lists them).
PAPER_ENET_L1_RATIO = [i / 99 for i in range(100)]          # 100 models, L1 ratio in [0, 1]; C is not searched
PAPER_SVM_C = [float(v) for v in np.logspace(-6, 6, 100)]   # 4 kernels x 100 = 400
PAPER_RF_TREES = list(range(50, 3050, 100))                 # [50:100:3050], end excluded: 30 x 2 x 2 = 120
PAPER_GBT_TREES = list(range(50, 1000, 100))                # [50:100:1000]: 10 x 3 depths x 5 rates = 150
PAPER_GBT_LEARNING_RATE = [0.01, 0.11, 0.21, 0.31, 0.41]    # [0.01:0.1:0.50]

FAMILIES = [
    ModelFamily(
        name="mlp",
        summary="Dense feed-forward network (PyTorch): batch norm, dropout, early stopping",
        reference="Smedley, Aberle & Hsu, J. Med. Imaging 8(3):031906 (2021)",
        factory=make_mlp,
        grids={"paper": MLP_PAPER, "standard": MLP_STANDARD, "fast": MLP_FAST},
        multilabel=True,
        devices=("cpu", "cuda"),
        maskable_fast=True,
        fold_stacked=_mlp_fold_stacked,
    ),
    ModelFamily(
        name="enet",
        summary="Elastic-net logistic regression (SAGA)",
        reference="scikit-learn LogisticRegression(penalty='elasticnet', solver='saga')",
        factory=make_enet,
        grids={
            "paper": _product(l1_ratio=PAPER_ENET_L1_RATIO, C=[1.0]),
            "standard": _product(l1_ratio=[0.5], C=[0.01, 0.05, 0.25]),
            "fast": _product(l1_ratio=[0.5], C=[0.05]),
        },
    ),
    ModelFamily(
        name="svm",
        summary="Support vector machine (linear, poly, rbf, sigmoid kernels)",
        reference="scikit-learn SVC",
        factory=make_svm,
        grids={
            "paper": _product(kernel=["linear", "poly", "rbf", "sigmoid"], C=PAPER_SVM_C),
            "standard": _product(kernel=["linear", "rbf"], C=[float(v) for v in np.logspace(-3, 3, 7)]),
            "fast": _product(kernel=["linear", "rbf"], C=[1.0]),
        },
    ),
    ModelFamily(
        name="rf",
        summary="Random forest, no depth limit",
        reference="scikit-learn RandomForestClassifier",
        factory=make_rf,
        staged=Staged("n_estimators", _forest_staged_proba),
        grids={
            "paper": _product(n_estimators=PAPER_RF_TREES, criterion=["gini", "entropy"],
                              max_features=["sqrt", "log2"]),
            # n_estimators is staged: the 50-tree forest is the first half of the 100-tree one (one fit per fold)
            "standard": _product(n_estimators=[50, 100], criterion=["gini"], max_features=["sqrt", "log2"]),
            "fast": _product(n_estimators=[100], criterion=["gini"], max_features=["sqrt"]),
        },
    ),
    ModelFamily(
        name="gbt",
        summary="Gradient-boosted trees (histogram-based)",
        reference="scikit-learn HistGradientBoostingClassifier (radplug.models.gbt: unweighted bin edges)",
        factory=make_gbt,
        staged=Staged("max_iter", _boosting_staged_proba),
        grids={
            "paper": _product(max_iter=PAPER_GBT_TREES, max_depth=[1, 2, 3],
                              learning_rate=PAPER_GBT_LEARNING_RATE),
            # max_iter is staged: 25 and 50 iterations come from one 50-iteration fit per fold and depth
            "standard": _product(max_iter=[25, 50], max_depth=[1, 2], learning_rate=[0.11]),
            "fast": _product(max_iter=[40], max_depth=[2], learning_rate=[0.15]),
        },
    ),
]


@hookimpl
def radplug_model_families() -> list[ModelFamily]:
    return list(FAMILIES)
