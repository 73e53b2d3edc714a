"""The CV splitter and the model pipeline (in-fold standardization): used by SEARCH, FIT_FINAL and tests."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from radplug.plugins import get_family

log = logging.getLogger(__name__)


def cv_splits(y_strat: np.ndarray, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold splits; k is reduced to the smallest class size (the caller reports why)."""
    _, counts = np.unique(y_strat, return_counts=True)
    k = int(min(n_splits, counts.min()))
    if k < 2:
        raise ValueError("a class has fewer than 2 samples: cross-validation is impossible")
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(skf.split(np.zeros(len(y_strat)), y_strat))


def family_device(fam: Any, device: str) -> str:
    """``device`` when the family declares it (``ModelFamily.devices``), otherwise ``cpu``."""
    kind = device.split(":")[0]
    if kind in fam.devices:
        return device
    if fam.name not in _DEVICE_FALLBACK_LOGGED:
        _DEVICE_FALLBACK_LOGGED.add(fam.name)
        log.info("model family %s declares devices %s: running on cpu instead of %s", fam.name,
                 ", ".join(fam.devices), device)
    return "cpu"


_DEVICE_FALLBACK_LOGGED: set[str] = set()


def make_estimator(family: str, params: dict[str, Any], seed: int, device: str = "cpu",
                   class_weight: str = "balanced") -> Any:
    """The family's estimator with ``params``; ``random_state``, ``device`` and ``class_weight`` set when it
    has them. ``class_weight`` is ``balanced`` (n / (classes x count) per class, as the authors' code) or
    ``none``; a family without the parameter (a plugin) trains unweighted."""
    from radplug.models.mlp import CLASS_WEIGHTS

    if class_weight not in CLASS_WEIGHTS:
        raise ValueError(f"--class_weight must be one of {', '.join(CLASS_WEIGHTS)}, got {class_weight!r}")
    fam = get_family(family)
    est = fam.factory(**dict(params))
    est_params = est.get_params()
    extra: dict[str, Any] = {}
    if "random_state" in est_params:
        extra["random_state"] = seed
    if "device" in est_params:
        extra["device"] = family_device(fam, device)
    if "class_weight" in est_params and "class_weight" not in params:
        # scikit-learn spells "no weights" None; radplug's own estimators take the string
        native = class_weight == "none" and est.__class__.__module__.startswith("sklearn")
        extra["class_weight"] = None if native else class_weight
    return est.set_params(**extra) if extra else est


def make_pipeline(family: str, params: dict[str, Any], seed: int, device: str = "cpu",
                  class_weight: str = "balanced") -> Pipeline:
    """Per-gene standardization followed by the family's estimator; the scaler is refitted on every fit."""
    return Pipeline([("scale", StandardScaler()),
                     ("model", make_estimator(family, params, seed, device, class_weight))])
