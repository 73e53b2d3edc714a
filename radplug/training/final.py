"""FIT_FINAL and EVALUATE: retrain the selected model per target on the training cohort, score the test
cohort once."""

from __future__ import annotations

import json
import logging
import pickle
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radplug.data.binarize import encode_target
from radplug.metrics import bootstrap_auc_ci, one_hot, per_class_scores, safe_auc, task_scores
from radplug.reporting.progress import format_seconds
from radplug.training.cv import make_pipeline

log = logging.getLogger(__name__)


@dataclass
class FinalModel:
    """A trained model with everything needed to apply and mask it."""

    target: str
    family: str
    config_id: str
    params: dict[str, Any]
    classes: list[str]
    genes: list[str]
    pipeline: Any           # sklearn Pipeline: StandardScaler -> estimator
    seed: int
    cv_auc: float

    def proba(self, X: np.ndarray) -> np.ndarray:
        """(n, K) class probabilities in the order of ``classes``."""
        p = self.pipeline.predict_proba(X)
        est_classes = np.asarray(self.pipeline.classes_).astype(int)
        if p.shape[1] == len(self.classes) and np.array_equal(est_classes, np.arange(len(self.classes))):
            return p
        out = np.zeros((p.shape[0], len(self.classes)))
        out[:, est_classes] = p
        return out


def class_note(y_codes: np.ndarray, k: int | None, classes: list[str], cohort: str = "test") -> str:
    """Why the AUC/AP of class index ``k`` (None: the micro-average) cannot be estimated on a cohort whose
    labelled patients have class codes ``y_codes``; empty when it can. A class present in training and absent
    from the test cohort is ordinary in real data: its metrics are NaN and this text says why."""
    y = np.asarray(y_codes)
    if len(y) == 0:
        return f"no labelled {cohort} patient: AUC and AP undefined"
    if k is None:
        present = np.unique(y)
        if len(present) < 2:
            return (f"every labelled {cohort} patient is class '{classes[int(present[0])]}': "
                    "AUC undefined")
        return ""
    n_pos = int((y == k).sum())
    if n_pos == 0:
        return (f"no {cohort} patient of class '{classes[k]}' (the model knows it from training): "
                "AUC and AP undefined")
    if n_pos == len(y):
        return f"every labelled {cohort} patient is class '{classes[k]}': AUC undefined"
    return ""


def save_model(model: FinalModel, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(model, fh)
    return path


def load_model(path: str | Path) -> FinalModel:
    with open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - models are written by radplug itself


def fit_final(target: str, selection: pd.DataFrame, expression: pd.DataFrame, targets: pd.DataFrame,
              tasks: pd.DataFrame, seed: int, device: str = "cpu", class_weight: str = "balanced") -> FinalModel:
    """Retrain the selected family/configuration of ``target`` on every labelled training sample."""
    row = selection[(selection["target"] == target) & selection["selected"]]
    if row.empty:
        raise ValueError(f"no selected model for target '{target}'")
    row = row.iloc[0]
    classes = json.loads(tasks.set_index("target").loc[target, "classes"])
    tgt = targets.set_index("sample_id")
    train_ids = tgt.index[tgt["cohort"] == "train"]
    mask, y = encode_target(tgt.loc[train_ids, target], classes)
    X = expression.loc[train_ids[mask]].to_numpy(dtype=np.float32)
    params = json.loads(row["params"])
    pipe = make_pipeline(row["family"], params, seed, device, class_weight)
    start = time.monotonic()
    log.info("FIT %s: training the final %s model (%s) on %d samples", target, row["family"], row["config_id"],
             len(y))
    pipe.fit(X, y)
    log.info("FIT %s: final %s model trained on %d samples in %s", target, row["family"], len(y),
             format_seconds(time.monotonic() - start))
    return FinalModel(target, row["family"], row["config_id"], params, classes, list(expression.columns),
                      pipe, seed, float(row["auc_mean"]))


def micro_auc_ci(y_codes: np.ndarray, proba: np.ndarray, n_boot: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the micro-averaged AUC, resampling patients (all classes of a patient
    together), with :func:`radplug.metrics.bootstrap_auc_ci`."""
    return bootstrap_auc_ci(one_hot(np.asarray(y_codes), proba.shape[1]), proba, n_boot, seed, level)


def prior_micro_auc(y_test: np.ndarray, y_train: np.ndarray, n_classes: int) -> float:
    """Micro-averaged AUC of the prior-only model: every test patient gets the training class frequencies.

    The no-information baseline of a multiclass micro AUC: with unequal classes it is above 0.5 (about 0.65
    for 3 classes of 50/35/15 %), because the flattened labels of a frequent class carry higher scores."""
    prior = np.bincount(np.asarray(y_train, dtype=int), minlength=n_classes) / max(1, len(y_train))
    proba = np.tile(prior, (len(y_test), 1))
    return safe_auc(one_hot(np.asarray(y_test, dtype=int), n_classes).ravel(), proba.ravel())


def evaluate(models: Iterable[FinalModel], expression: pd.DataFrame, targets: pd.DataFrame, n_boot: int = 1000,
             seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Test-cohort metrics (AUC with bootstrap CI, AP, accuracy; per class for multiclass) and predictions."""
    tgt = targets.set_index("sample_id")
    test_ids = tgt.index[tgt["cohort"] == "test"]
    train_ids = tgt.index[tgt["cohort"] == "train"]
    metrics, preds = [], []
    for m in models:
        mask, y = encode_target(tgt.loc[test_ids, m.target], m.classes)
        ids = test_ids[mask]
        if len(ids) == 0:
            log.warning("no labelled test samples for %s", m.target)
            continue
        X = expression.loc[ids, m.genes].to_numpy(dtype=np.float32)
        proba = m.proba(X)
        base = {"target": m.target, "family": m.family, "config_id": m.config_id, "cv_auc": m.cv_auc,
                "n": len(y)}
        overall = task_scores(y, proba)
        if len(m.classes) == 2:
            lo, hi = bootstrap_auc_ci(y, proba[:, 1], n_boot, seed)
            metrics.append({**base, "class": m.classes[1], "averaging": "binary", **overall, "auc_ci_low": lo,
                            "auc_ci_high": hi, "n_pos": int(y.sum()), "note": class_note(y, 1, m.classes)})
        else:
            note = class_note(y, None, m.classes)
            lo, hi = micro_auc_ci(y, proba, n_boot, seed)
            tmask, ytr = encode_target(tgt.loc[train_ids, m.target], m.classes)
            if note:    # one test class: the micro-average would only rank the class columns, not patients
                overall = {**overall, "auc": float("nan"), "ap": float("nan")}
                lo = hi = float("nan")
                log.warning("%s: %s", m.target, note)
            metrics.append({**base, "class": "micro", "averaging": "micro", **overall, "auc_ci_low": lo,
                            "auc_ci_high": hi, "n_pos": len(y), "note": note,
                            "auc_prior": prior_micro_auc(y, ytr, len(m.classes))})
            for pc in per_class_scores(y, proba):
                k = pc.pop("class_index")
                note = class_note(y, k, m.classes)
                if note:
                    log.warning("%s, class %s: %s", m.target, m.classes[k], note)
                lo, hi = bootstrap_auc_ci((y == k).astype(int), proba[:, k], n_boot, seed)
                metrics.append({**base, "class": m.classes[k], "averaging": "one-vs-rest", **pc,
                                "auc_ci_low": lo, "auc_ci_high": hi, "n_pos": int((y == k).sum()), "note": note})
        for k, c in enumerate(m.classes):
            preds.append(pd.DataFrame({"sample_id": ids, "target": m.target, "class": c,
                                       "probability": proba[:, k], "label": (y == k).astype(int)}))
    cols = ["target", "family", "config_id", "cv_auc", "class", "averaging", "n", "n_pos", "auc", "auc_prior",
            "auc_ci_low", "auc_ci_high", "ap", "accuracy", "note"]
    met = pd.DataFrame(metrics)
    if len(met):   # binary and one-vs-rest AUCs: a constant score has AUC 0.5
        met["auc_prior"] = met["auc_prior"].fillna(0.5) if "auc_prior" in met else 0.5
    met = met[cols] if len(met) else pd.DataFrame(columns=cols)
    pr = pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(
        columns=["sample_id", "target", "class", "probability", "label"])
    return met, pr
