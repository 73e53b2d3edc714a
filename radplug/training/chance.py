"""How far test-cohort AUCs stand above chance: a label-permutation null per target, q-values over the run's
targets, and the number of targets expected to pass the masking threshold by chance alone.

Masking runs on targets whose test AUC passes a threshold chosen on the same small test cohort. With 18 test
patients and hundreds of targets, many pass by chance; these figures say how many.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from radplug.metrics import benjamini_hochberg

#: Label permutations per target (the smallest test-AUC p-value is 1 / (1 + this)).
AUC_PERMUTATIONS = 9_999


def permutation_auc_null(labels: np.ndarray, scores: np.ndarray, n_permutations: int,
                         rng: np.random.Generator) -> np.ndarray:
    """AUCs of ``scores`` against ``n_permutations`` random permutations of the patients' labels.

    ``labels`` and ``scores`` are (n,) 0/1 labels and scores for a binary target, or (n, K) one-hot labels and
    class probabilities for a micro-averaged AUC (a patient's classes move together). Rank-sum formula,
    ties averaged, so each permutation costs one gather."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    n = labels.shape[0]
    if labels.ndim == 1:
        labels, scores = labels[:, None], scores[:, None]
    ranks = rankdata(scores.ravel()).reshape(scores.shape)
    n_pos = labels.sum()
    n_neg = labels.size - n_pos
    out = np.empty(n_permutations)
    step = max(1, 2**22 // max(n, 1))
    for lo in range(0, n_permutations, step):
        k = min(step, n_permutations - lo)
        perm = np.argsort(rng.random((k, n)), axis=1)
        rank_sum = np.einsum("bij,bij->b", labels[perm], np.broadcast_to(ranks, (k,) + ranks.shape))
        out[lo:lo + k] = (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return out


def target_chance(metrics: pd.DataFrame, predictions: pd.DataFrame, threshold: float,
                  n_permutations: int = AUC_PERMUTATIONS, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Add ``auc_p`` (label-permutation p-value of the test AUC), ``auc_q`` (BH over the run's targets) and
    ``p_pass_by_chance`` (null probability of reaching ``threshold``) to the overall rows of ``metrics``;
    return it with a summary: targets passing the threshold and the number expected by chance."""
    met = metrics.copy()
    for col in ("auc_p", "auc_q", "p_pass_by_chance"):
        met[col] = np.nan
    rng = np.random.default_rng(seed)
    overall = met.index[met["averaging"] != "one-vs-rest"]
    for i in overall:
        row = met.loc[i]
        pred = predictions[predictions["target"] == row["target"]]
        if not np.isfinite(row["auc"]) or pred.empty:
            continue
        prob = pred.pivot(index="sample_id", columns="class", values="probability")
        lab = pred.pivot(index="sample_id", columns="class", values="label")
        if row["averaging"] == "binary":
            y, s = lab[row["class"]].to_numpy(), prob[row["class"]].to_numpy()
        else:
            y, s = lab.to_numpy(), prob.to_numpy()
        null = permutation_auc_null(y, s, n_permutations, rng)
        met.loc[i, "auc_p"] = (1 + np.sum(null >= row["auc"] - 1e-12)) / (1 + n_permutations)
        met.loc[i, "p_pass_by_chance"] = (1 + np.sum(null >= threshold)) / (1 + n_permutations)
    met.loc[overall, "auc_q"] = benjamini_hochberg(met.loc[overall, "auc_p"].to_numpy(dtype=float))
    ov = met.loc[overall]
    summary = {"threshold": threshold, "targets": int(len(ov)), "passing": int((ov["auc"] >= threshold).sum()),
               "expected_by_chance": float(np.nansum(ov["p_pass_by_chance"])),
               "significant_q05": int((ov["auc_q"] < 0.05).sum()), "permutations": n_permutations}
    return met, summary
