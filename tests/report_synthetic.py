"""A synthetic results folder with many targets, written with radplug's own writers and metric functions (no
pipeline run): for the report's scaling tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata

from radplug.data.radiomics import GROUPS
from radplug.explain.masking import significance
from radplug.io import safe_id, write_parquet
from radplug.metrics import benjamini_hochberg, bootstrap_auc_ci, task_scores


def _binary_metrics(Y: np.ndarray, S: np.ndarray, threshold: float) -> dict[str, np.ndarray]:
    """Per row (target) of 0/1 labels ``Y`` and scores ``S``: AUC (rank sum), Hanley-McNeil 95% interval, AP,
    accuracy at 0.5, and normal-approximation p-values of the AUC and of reaching ``threshold`` under the null."""
    n_pos = Y.sum(axis=1)
    n_neg = Y.shape[1] - n_pos
    ranks = rankdata(S, axis=1)
    auc = ((ranks * Y).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    se = np.sqrt((auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg))
    se0 = np.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg))
    order = np.argsort(-S, axis=1)
    ys = np.take_along_axis(Y, order, axis=1)
    precision = np.cumsum(ys, axis=1) / np.arange(1, Y.shape[1] + 1)
    return {"auc": auc, "auc_ci_low": np.clip(auc - 1.96 * se, 0, 1), "auc_ci_high": np.clip(auc + 1.96 * se, 0, 1),
            "ap": (precision * ys).sum(axis=1) / n_pos, "accuracy": ((S >= 0.5) == Y).mean(axis=1),
            "auc_p": norm.sf((auc - 0.5) / se0), "p_pass_by_chance": norm.sf((threshold - 0.5) / se0),
            "n_pos": n_pos}


def synthetic_results(root: Path, n_targets: int = 1500, n_train: int = 120, n_test: int = 60, n_sets: int = 40,
                      seed: int = 0, threshold: float = 0.7) -> Path:
    """``root`` as a finished run's results folder: ``n_targets`` - 1 binary radiomic-like targets plus histology
    (ADC/SCC/other), test predictions whose signal varies by target (every 20th strong), CV results, test
    metrics with chance, and masking with q-values (radplug's ``significance``) for the targets at test AUC >=
    ``threshold``. Metrics of the many binary targets are computed at once (rank-sum AUC, Hanley-McNeil
    interval), histology's with radplug's own metric functions."""
    rng = np.random.default_rng(seed)
    names = ["histology"] + [f"{GROUPS[i % len(GROUPS)]}_feature{i:04d}" for i in range(n_targets - 1)]
    ids = [f"TRAIN{i:04d}" for i in range(n_train)] + [f"TEST{i:04d}" for i in range(n_test)]
    test_ids = np.array(ids[n_train:])
    cohort = ["train"] * n_train + ["test"] * n_test
    # histology: 3 classes, scored with radplug's functions
    hist_classes = ["ADC", "SCC", "other"]
    yh = rng.integers(0, 3, n_train + n_test)
    yt = yh[n_train:]
    logits = rng.normal(size=(n_test, 3)) + 2.5 * np.eye(3)[yt]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    base = {"target": "histology", "family": "mlp", "config_id": "mlp.fast.000", "cv_auc": 0.8, "n": n_test}
    lo, hi = bootstrap_auc_ci(np.eye(3)[yt], proba, 200, seed)
    metrics = [{**base, "class": "micro", "averaging": "micro", **task_scores(yt, proba), "auc_prior": 0.5,
                "auc_ci_low": lo, "auc_ci_high": hi, "n_pos": n_test, "note": ""}]
    for i, c in enumerate(hist_classes):
        y = (yt == i).astype(int)
        lo, hi = bootstrap_auc_ci(y, proba[:, i], 200, seed)
        metrics.append({**base, "class": c, "averaging": "one-vs-rest",
                        **task_scores(y, np.column_stack([1 - proba[:, i], proba[:, i]])), "auc_prior": 0.5,
                        "auc_ci_low": lo, "auc_ci_high": hi, "n_pos": int(y.sum()), "note": ""})
    preds = [pd.DataFrame({"sample_id": np.repeat(test_ids, 3), "target": "histology",
                           "class": np.tile(hist_classes, n_test), "probability": proba.ravel(),
                           "label": np.eye(3, dtype=int)[yt].ravel()})]
    # binary targets, all at once
    binary = names[1:]
    Yall = rng.integers(0, 2, (len(binary), n_train + n_test))
    Y = Yall[:, n_train:]
    signal = np.where(np.arange(len(binary)) % 20 == 0, 2.5, rng.uniform(0, 0.3, len(binary)))[:, None]
    S = 1 / (1 + np.exp(-(rng.normal(size=Y.shape) + signal * (2 * Y - 1))))
    bm = _binary_metrics(Y, S, threshold)
    families = np.where(np.arange(len(binary)) % 3 == 0, "enet", "mlp")
    metrics_bin = pd.DataFrame({"target": binary, "family": families, "config_id": [f"{f}.fast.000" for f in families],
                                "cv_auc": rng.uniform(0.5, 0.9, len(binary)), "class": "high", "averaging": "binary",
                                "n": n_test, **{k: v for k, v in bm.items() if k not in ("auc_p", "p_pass_by_chance")},
                                "auc_prior": 0.5, "note": ""})
    metrics_bin["auc_p"], metrics_bin["p_pass_by_chance"] = bm["auc_p"], bm["p_pass_by_chance"]
    preds.append(pd.DataFrame({"sample_id": np.tile(np.repeat(test_ids, 2), len(binary)),
                               "target": np.repeat(binary, 2 * n_test), "class": np.tile(["low", "high"],
                                                                                        n_test * len(binary)),
                               "probability": np.stack([1 - S, S], axis=2).ravel(),
                               "label": np.stack([1 - Y, Y], axis=2).ravel()}))
    met = pd.concat([pd.DataFrame(metrics), metrics_bin], ignore_index=True)
    overall = met["averaging"] != "one-vs-rest"
    met.loc[overall & (met["target"] == "histology"), ["auc_p", "p_pass_by_chance"]] = [1e-4, 1e-4]
    met.loc[overall, "auc_q"] = benjamini_hochberg(met.loc[overall, "auc_p"].to_numpy(dtype=float))
    ov = met[overall]
    chance = {"threshold": threshold, "targets": len(ov), "passing": int((ov["auc"] >= threshold).sum()),
              "expected_by_chance": float(ov["p_pass_by_chance"].sum()),
              "significant_q05": int((ov["auc_q"] < 0.05).sum()), "permutations": 0}
    pred = pd.concat(preds, ignore_index=True)
    tasks = [{"target": "histology", "kind": "multiclass", "group": "histology", "source": "clinical",
              "classes": json.dumps(hist_classes), "id": "histology"}]
    tasks += [{"target": t, "kind": "binary", "group": GROUPS[i % len(GROUPS)], "source": "radiomic",
               "classes": json.dumps(["low", "high"]), "id": safe_id(t)} for i, t in enumerate(binary)]
    cols = {"histology": [hist_classes[i] for i in yh],
            **{t: np.where(Yall[i] == 1, "high", "low") for i, t in enumerate(binary)}}
    data, ev = root / "data", root / "evaluation"
    # written as step "synthetic": hand-made stand-ins for the steps' tables, not held to radplug.results
    write_parquet(pd.DataFrame(tasks), data / "tasks.parquet", "synthetic")
    write_parquet(pd.concat([pd.DataFrame({"sample_id": ids, "cohort": cohort}), pd.DataFrame(cols)], axis=1),
                  data / "targets.parquet", "synthetic")
    write_parquet(met, ev / "test_metrics.parquet", "synthetic")
    write_parquet(pred, ev / "predictions.parquet", "synthetic")
    write_parquet(pd.DataFrame([chance]), ev / "target_chance.parquet", "synthetic")

    cv = [{"unit": f"target:{t}", "family": fam, "config_id": f"{fam}.fast.000", "params": "{}", "target": t,
           "cv_kind": "target", "fold": f, "n_val": n_train // 3, "auc": float(rng.uniform(0.4, 0.9)),
           "ap": 0.5, "accuracy": 0.5} for t in names for fam in ("mlp", "enet") for f in range(3)]
    cv = pd.DataFrame(cv)
    sel = (cv.groupby(["unit", "family", "config_id", "params", "target", "cv_kind"])
           .agg(auc_mean=("auc", "mean"), auc_sd=("auc", "std"), ap_mean=("ap", "mean"),
                accuracy_mean=("accuracy", "mean"), n_folds=("fold", "nunique")).reset_index()
           .sort_values(["target", "auc_mean"], ascending=[True, False]))
    sel["selected"] = ~sel.duplicated("target")
    write_parquet(cv, root / "cv" / "cv_results.parquet", "synthetic")
    write_parquet(sel.reset_index(drop=True), root / "cv" / "selection.parquet", "synthetic")

    overall = met[met["averaging"] != "one-vs-rest"]
    masked = overall.loc[overall["auc"] >= threshold, "target"]
    real, null = [], []
    for t in masked:
        auc_full = float(overall.loc[overall["target"] == t, "auc"].iloc[0])
        cls = "micro" if t == "histology" else "high"
        nul = rng.normal(0.55, 0.06, 200)
        auc = np.clip(rng.normal(0.56, 0.08, n_sets), 0, 1)
        auc[:2] = auc_full - 0.02
        real.append(pd.DataFrame({"source": "msigdb_hallmark", "target": t, "cohort": "test", "class": cls,
                                  "gene_set": [f"HALLMARK_SET_{i:02d}" for i in range(n_sets)], "auc": auc,
                                  "ap": auc / 2, "auc_full": auc_full, "n_genes": 50, "n_present": 45,
                                  "coverage": 0.9, "null_bin": 0, "null_drawn": len(nul),
                                  "p_value": [(1 + (nul >= a).sum()) / (1 + len(nul)) for a in auc],
                                  "n_random": len(nul)}))
        null.append(pd.DataFrame({"source": "msigdb_hallmark", "target": t, "cohort": "test", "class": cls,
                                  "null_bin": 0, "size": 50, "draw": np.arange(len(nul)), "auc": nul}))
    if real:
        write_parquet(significance(pd.concat(real, ignore_index=True)), root / "masking" / "masking.parquet",
                      "synthetic", fdr_family="source,target,cohort,class", random_sets_drawn=200 * len(real))
        write_parquet(pd.concat(null, ignore_index=True), root / "masking" / "masking_null.parquet", "synthetic")
    (root / "pipeline_info").mkdir(parents=True, exist_ok=True)
    (root / "pipeline_info" / "params.json").write_text(json.dumps({"input": "synthetic.csv", "mask_min_auc": 0.7}))
    return root
