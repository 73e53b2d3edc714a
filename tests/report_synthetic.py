"""A synthetic results folder with many targets, written with radplug's own writers and metric functions (no
pipeline run): for the report's scaling tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from radplug.chance import target_chance
from radplug.io import safe_id, write_parquet
from radplug.masking import significance
from radplug.metrics import bootstrap_auc_ci, task_scores
from radplug.radiomics import GROUPS


def synthetic_results(root: Path, n_targets: int = 1500, n_train: int = 120, n_test: int = 60, n_sets: int = 40,
                      seed: int = 0) -> Path:
    """``root`` as a finished run's results folder: ``n_targets`` binary radiomic-like targets plus histology
    (ADC/SCC/other), predictions whose signal varies by target, CV results, test metrics with chance and
    masking with q-values for the targets at test AUC >= 0.70."""
    rng = np.random.default_rng(seed)
    names = ["histology"] + [f"{GROUPS[i % len(GROUPS)]}_feature{i:04d}" for i in range(n_targets - 1)]
    ids = [f"TRAIN{i:04d}" for i in range(n_train)] + [f"TEST{i:04d}" for i in range(n_test)]
    cohort = ["train"] * n_train + ["test"] * n_test
    cols, tasks, preds, metrics = {}, [], [], []
    for k, t in enumerate(names):
        classes = ["ADC", "SCC", "other"] if t == "histology" else ["low", "high"]
        y = rng.integers(0, len(classes), n_train + n_test)
        cols[t] = [classes[i] for i in y]
        tasks.append({"target": t, "kind": "multiclass" if len(classes) > 2 else "binary",
                      "group": "histology" if k == 0 else GROUPS[(k - 1) % len(GROUPS)],
                      "source": "clinical" if k == 0 else "radiomic", "classes": json.dumps(classes),
                      "n_train": json.dumps({c: int((y[:n_train] == i).sum()) for i, c in enumerate(classes)}),
                      "id": safe_id(t)})
        yt = y[n_train:]
        signal = 2.5 if k % 20 == 0 else rng.uniform(0, 1.0)
        logits = rng.normal(size=(n_test, len(classes))) + signal * np.eye(len(classes))[yt]
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        for i, c in enumerate(classes):
            preds.append(pd.DataFrame({"sample_id": ids[n_train:], "target": t, "class": c,
                                       "probability": proba[:, i], "label": (yt == i).astype(int)}))
        base = {"target": t, "family": "mlp" if k % 3 else "enet", "config_id": f"mlp.fast.{k % 4:03d}",
                "cv_auc": float(rng.uniform(0.5, 0.9)), "n": n_test}
        s = task_scores(yt, proba)
        if len(classes) == 2:
            lo, hi = bootstrap_auc_ci(yt, proba[:, 1], 100, seed)
            metrics.append({**base, "class": "high", "averaging": "binary", **s, "auc_prior": 0.5,
                            "auc_ci_low": lo, "auc_ci_high": hi, "n_pos": int(yt.sum()), "note": ""})
        else:
            onehot = np.eye(len(classes))[yt]
            lo, hi = bootstrap_auc_ci(onehot, proba, 100, seed)
            metrics.append({**base, "class": "micro", "averaging": "micro", **s, "auc_prior": 0.5,
                            "auc_ci_low": lo, "auc_ci_high": hi, "n_pos": n_test, "note": ""})
            for i, c in enumerate(classes):
                ts = task_scores((yt == i).astype(int), np.column_stack([1 - proba[:, i], proba[:, i]]))
                lo, hi = bootstrap_auc_ci((yt == i).astype(int), proba[:, i], 100, seed)
                metrics.append({**base, "class": c, "averaging": "one-vs-rest", **ts, "auc_prior": 0.5,
                                "auc_ci_low": lo, "auc_ci_high": hi, "n_pos": int((yt == i).sum()), "note": ""})
    pred = pd.concat(preds, ignore_index=True)
    met = pd.DataFrame(metrics)
    met, chance = target_chance(met, pred, 0.7, n_permutations=99, seed=seed)
    data, ev = root / "data", root / "evaluation"
    write_parquet(pd.DataFrame(tasks), data / "tasks.parquet", "binarize")
    write_parquet(pd.DataFrame({"sample_id": ids, "cohort": cohort, **cols}), data / "targets.parquet", "binarize")
    write_parquet(met, ev / "test_metrics.parquet", "evaluate")
    write_parquet(pred, ev / "predictions.parquet", "evaluate")
    write_parquet(pd.DataFrame([chance]), ev / "target_chance.parquet", "evaluate")

    cv = [{"unit": f"target:{t}", "family": fam, "config_id": f"{fam}.fast.000", "params": "{}", "target": t,
           "cv_kind": "target", "fold": f, "n_val": n_train // 3, "auc": float(rng.uniform(0.4, 0.9)),
           "ap": 0.5, "accuracy": 0.5} for t in names for fam in ("mlp", "enet") for f in range(3)]
    cv = pd.DataFrame(cv)
    sel = (cv.groupby(["unit", "family", "config_id", "params", "target", "cv_kind"])
           .agg(auc_mean=("auc", "mean"), auc_sd=("auc", "std"), ap_mean=("ap", "mean"),
                accuracy_mean=("accuracy", "mean"), n_folds=("fold", "nunique")).reset_index()
           .sort_values(["target", "auc_mean"], ascending=[True, False]))
    sel["selected"] = ~sel.duplicated("target")
    write_parquet(cv, root / "cv" / "cv_results.parquet", "select")
    write_parquet(sel.reset_index(drop=True), root / "cv" / "selection.parquet", "select")

    overall = met[met["averaging"] != "one-vs-rest"]
    masked = overall.loc[overall["auc"] >= 0.7, "target"]
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
                      "significance", fdr_family="source,target,cohort,class", random_sets_drawn=200 * len(real))
        write_parquet(pd.concat(null, ignore_index=True), root / "masking" / "masking_null.parquet", "significance")
    (root / "pipeline_info").mkdir(parents=True, exist_ok=True)
    (root / "pipeline_info" / "params.json").write_text(json.dumps({"input": "synthetic.csv", "mask_min_auc": 0.7}))
    return root
