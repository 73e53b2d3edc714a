"""Metrics shared by CV, evaluation and masking: AUC, average precision, accuracy, micro-averages, bootstrap CI."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def one_hot(y_codes: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((len(y_codes), n_classes), dtype=np.int8)
    out[np.arange(len(y_codes)), y_codes] = 1
    return out


def safe_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC; NaN when only one class is present."""
    y_true = np.asarray(y_true)
    if y_true.min() == y_true.max():
        return float("nan")
    return float(roc_auc_score(y_true, score))


def safe_ap(y_true: np.ndarray, score: np.ndarray) -> float:
    y_true = np.asarray(y_true)
    if y_true.max() == 0:
        return float("nan")
    return float(average_precision_score(y_true, score))


def binary_scores(y01: np.ndarray, p1: np.ndarray) -> dict[str, float]:
    """AUC, AP and accuracy at 0.5 for a binary target with positive-class probabilities."""
    return {"auc": safe_auc(y01, p1), "ap": safe_ap(y01, p1),
            "accuracy": float(np.mean((p1 >= 0.5).astype(int) == y01))}


def multiclass_scores(y_codes: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Micro-averaged one-vs-rest AUC/AP over classes, and accuracy of the arg-max class."""
    Y = one_hot(y_codes, proba.shape[1])
    return {"auc": safe_auc(Y.ravel(), proba.ravel()), "ap": safe_ap(Y.ravel(), proba.ravel()),
            "accuracy": float(np.mean(proba.argmax(1) == y_codes))}


def task_scores(y_codes: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Scores for a target whose classes are coded 0..K-1 and ``proba`` is (n, K)."""
    if proba.shape[1] == 2:
        return binary_scores(y_codes, proba[:, 1])
    return multiclass_scores(y_codes, proba)


def per_class_scores(y_codes: np.ndarray, proba: np.ndarray) -> list[dict[str, float]]:
    """One-vs-rest AUC/AP per class (index k), for multiclass targets."""
    out = []
    for k in range(proba.shape[1]):
        yk = (y_codes == k).astype(int)
        out.append({"class_index": k, **binary_scores(yk, proba[:, k])})
    return out


def bootstrap_auc_ci(y_true: np.ndarray, score: np.ndarray, n_boot: int = 1000, seed: int = 0,
                     level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the ROC AUC, resampling patients (the first axis). ``y_true`` and ``score``
    are (n,) for a binary target, or (n, K) one-hot labels and class probabilities for a micro-averaged AUC
    (all classes of a resampled patient go together). Resamples with a single class are skipped; NaN when
    the AUC is undefined. Vectorised: all resamples are ranked at once."""
    from scipy.stats import rankdata

    y_true, score = np.asarray(y_true), np.asarray(score, dtype=np.float64)
    if n_boot <= 0 or y_true.min() == y_true.max():
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    n = len(y_true)
    idx = rng.integers(0, n, (n_boot, n))
    ys = y_true[idx].reshape(n_boot, -1).astype(np.float64)
    ss = score[idx].reshape(n_boot, -1)
    n_pos = ys.sum(axis=1)
    n_neg = ys.shape[1] - n_pos
    ok = (n_pos > 0) & (n_neg > 0)
    if not ok.any():
        return float("nan"), float("nan")
    ranks = rankdata(ss[ok], axis=1)
    vals = ((ranks * ys[ok]).sum(axis=1) - n_pos[ok] * (n_pos[ok] + 1) / 2) / (n_pos[ok] * n_neg[ok])
    a = (1 - level) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values (scipy.stats.false_discovery_control); NaN p-values stay NaN and are not
    counted among the tests."""
    from scipy.stats import false_discovery_control

    p = np.asarray(p, dtype=float)
    q = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = false_discovery_control(p[ok], method="bh")
    return q
