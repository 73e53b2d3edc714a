"""SEARCH and SELECT: the paper's CV protocol, split into jobs (unit x family x grid chunk) for fan-out.

A unit is either ``group:<G>`` (one multilabel network for all kept radiomic features of group G,
used by multilabel families such as mlp to choose hyperparameters per group) or ``target:<T>``
(one target; comparators on every target, every family on clinical targets).
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

import numpy as np
import pandas as pd

from radplug.binarize import encode_target
from radplug.cv import cv_splits, make_pipeline
from radplug.metrics import task_scores
from radplug.plugins import get_family

log = logging.getLogger(__name__)


def grid(family: str, preset: str) -> list[dict[str, Any]]:
    """The hyperparameter grid of ``family`` for ``preset``; a clear error lists the presets."""
    fam = get_family(family)
    if preset not in fam.grids:
        raise ValueError(f"model family '{family}' has no grid preset '{preset}'; presets: {', '.join(fam.grids)}")
    return fam.grids[preset]


def config_id(family: str, preset: str, i: int) -> str:
    return f"{family}.{preset}.{i:03d}"


def plan_jobs(tasks: pd.DataFrame, families: list[str], preset: str, chunk_size: int) -> pd.DataFrame:
    """Jobs for SEARCH: one row per (unit, family, grid chunk)."""
    rows = []
    radiomic = tasks[tasks["source"] == "radiomic"]
    for fam_name in families:
        fam = get_family(fam_name)
        n_cfg = len(grid(fam_name, preset))
        n_chunks = max(1, math.ceil(n_cfg / max(1, chunk_size)))
        units = []
        if fam.multilabel:
            units += [f"group:{g}" for g in sorted(radiomic["group"].unique())]
            units += [f"target:{t}" for t in tasks.loc[tasks["source"] != "radiomic", "target"]]
        else:
            units += [f"target:{t}" for t in tasks["target"]]
        for unit in units:
            for c in range(n_chunks):
                rows.append({"unit": unit, "family": fam_name, "preset": preset, "chunk": c, "n_chunks": n_chunks})
    jobs = pd.DataFrame(rows)
    jobs.insert(0, "job_id", [f"{r.family}__{r.unit.replace(':', '-')}__c{r.chunk}" for r in jobs.itertuples()])
    return jobs


def unit_targets(unit: str, tasks: pd.DataFrame) -> list[str]:
    kind, name = unit.split(":", 1)
    if kind == "group":
        return list(tasks.loc[(tasks["source"] == "radiomic") & (tasks["group"] == name), "target"])
    return [name]


def run_job(unit: str, family: str, preset: str, chunk: int, n_chunks: int, expression: pd.DataFrame,
            targets: pd.DataFrame, tasks: pd.DataFrame, folds: int, seed: int, device: str = "cpu") -> pd.DataFrame:
    """Cross-validate one chunk of a family's grid on one unit; one row per (config, target, fold)."""
    configs = grid(family, preset)
    size = math.ceil(len(configs) / n_chunks)
    chosen = list(range(chunk * size, min(len(configs), (chunk + 1) * size)))
    tgt = targets.set_index("sample_id")
    train_ids = tgt.index[tgt["cohort"] == "train"]
    names = unit_targets(unit, tasks)
    if not names:
        raise ValueError(f"unit {unit} has no targets")
    task_by_name = tasks.set_index("target")
    masks, codes = [], []
    for t in names:
        m, c = encode_target(tgt.loc[train_ids, t], json.loads(task_by_name.loc[t, "classes"]))
        masks.append(m)
        full = np.full(len(train_ids), -1)
        full[m] = c
        codes.append(full)
    keep = np.logical_and.reduce(masks)
    Y = np.stack(codes, axis=1)[keep]
    X = expression.loc[train_ids[keep]].to_numpy(dtype=np.float32)
    multilabel = unit.startswith("group:")
    # stratify a group by its most imbalanced feature
    strat = Y[:, int(np.argmin([min(np.mean(c), 1 - np.mean(c)) for c in Y.T]))] if multilabel else Y[:, 0]
    splits = cv_splits(strat, folds, seed)
    rows = []
    start = time.time()
    for ci in chosen:
        params = configs[ci]
        cid = config_id(family, preset, ci)
        for fold, (tr, va) in enumerate(splits):
            pipe = make_pipeline(family, params, seed + fold, device)
            y_fit = Y[tr] if multilabel else Y[tr, 0]
            pipe.fit(X[tr], y_fit)
            proba = pipe.predict_proba(X[va])
            for j, t in enumerate(names):
                if multilabel:
                    p = np.stack([1 - proba[:, j], proba[:, j]], axis=1)
                    yv = Y[va, j]
                else:
                    p = _align_proba(pipe, proba, len(json.loads(task_by_name.loc[t, "classes"])))
                    yv = Y[va, 0]
                s = task_scores(yv, p)
                rows.append({"unit": unit, "family": family, "config_id": cid, "params": json.dumps(params),
                             "target": t, "fold": fold, "n_val": len(va), **s})
            log.info("%s %s %s fold %d/%d done (%.0fs)", unit, family, cid, fold + 1, len(splits),
                     time.time() - start)
    return pd.DataFrame(rows)


def _align_proba(pipe, proba: np.ndarray, n_classes: int) -> np.ndarray:
    """Expand predict_proba columns to all classes 0..K-1 (a fold may miss a rare class)."""
    classes = np.asarray(pipe.classes_)
    if proba.shape[1] == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return proba
    out = np.zeros((proba.shape[0], n_classes))
    out[:, classes.astype(int)] = proba
    return out


def select(cv: pd.DataFrame, families: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summarise CV and pick, per target, the family and configuration with the highest mean CV AUC.

    Group units choose one configuration per group (mean AUC over the group's features), which every
    feature of the group then uses. Returns (cv_summary, selection)."""
    summ = (cv.groupby(["unit", "family", "config_id", "params", "target"], sort=True)
            .agg(auc_mean=("auc", "mean"), auc_sd=("auc", "std"), ap_mean=("ap", "mean"),
                 accuracy_mean=("accuracy", "mean"), n_folds=("fold", "nunique")).reset_index())
    cands = []
    for (unit, _family), g in summ.groupby(["unit", "family"], sort=True):
        per_cfg = g.groupby("config_id")["auc_mean"].mean().fillna(-np.inf)
        best = per_cfg.idxmax()
        if unit.startswith("group:"):
            cands.append(g[g["config_id"] == best])
        else:
            idx = g["auc_mean"].fillna(-np.inf).groupby(g["target"]).idxmax()
            cands.append(g.loc[idx.to_numpy()])
    sel = pd.concat(cands, ignore_index=True)
    order = {f: i for i, f in enumerate(families)}
    sel["family_order"] = sel["family"].map(order).fillna(len(order))
    sel = sel.sort_values(["target", "auc_mean", "family_order"], ascending=[True, False, True],
                          na_position="last")
    sel["selected"] = ~sel.duplicated("target")
    return summ, sel.drop(columns="family_order").reset_index(drop=True)
