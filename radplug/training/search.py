"""SEARCH and SELECT: the paper's CV protocol, split into jobs (unit x family x grid chunk) for fan-out.

A unit is ``group:<G>`` (one multilabel network for all kept radiomic features of group G, used by
multilabel families such as mlp to choose hyperparameters per group), ``each:<G>`` (every feature of
group G, each cross-validated on its own: comparators, one task per group) or ``target:<T>`` (one
target: clinical targets). Rows of ``each:`` tasks carry the unit ``target:<T>`` of their feature.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from radplug.data.binarize import encode_target
from radplug.io import RadplugInputError, safe_id
from radplug.metrics import task_scores
from radplug.plugins import get_family
from radplug.reporting.progress import Progress
from radplug.training.cv import cv_splits, family_device, make_pipeline

log = logging.getLogger(__name__)


def grid(family: str, preset: str) -> list[dict[str, Any]]:
    """The hyperparameter grid of ``family`` for ``preset``; a clear error lists the presets."""
    fam = get_family(family)
    if preset not in fam.grids:
        raise ValueError(f"model family '{family}' has no grid preset '{preset}'; use one of its "
                         f"presets: {', '.join(fam.grids)}")
    return fam.grids[preset]


def fit_groups(family: str, preset: str) -> list[list[int]]:
    """The grid's configuration indices grouped by the fit that serves them. A staged family
    (:class:`radplug.hookspecs.Staged`) fits once for all configurations that differ only in the staged
    parameter (trees, boosting iterations); every other configuration is its own fit. Groups keep the grid's
    order; ``--grid_chunk`` counts groups."""
    fam = get_family(family)
    configs = grid(family, preset)
    if fam.staged is None:
        return [[i] for i in range(len(configs))]
    groups: dict[str, list[int]] = {}
    for i, params in enumerate(configs):
        rest = {k: v for k, v in params.items() if k != fam.staged.param}
        groups.setdefault(json.dumps(rest, sort_keys=True), []).append(i)
    return list(groups.values())


def chunk_configs(family: str, preset: str, chunk: int, n_chunks: int) -> list[list[int]]:
    """The fit groups (:func:`fit_groups`) of SEARCH chunk ``chunk`` of ``n_chunks``."""
    groups = fit_groups(family, preset)
    size = math.ceil(len(groups) / n_chunks)
    return groups[chunk * size:(chunk + 1) * size]


def resolve_preset(preset: str, user_input: bool) -> str:
    """``auto`` -> ``standard`` on user data (``--input``), ``fast`` on the embedded synthetic cohort.

    Logs a warning when user data is searched with ``fast`` (a smoke-test grid, no real search)."""
    resolved = ("standard" if user_input else "fast") if preset == "auto" else preset
    if user_input and resolved == "fast":
        log.warning("grid 'fast' on user data (--input) is a smoke test, not a hyperparameter search: "
                    "use --grid standard (the default) or --grid paper for results")
    return resolved


def config_id(family: str, preset: str, i: int) -> str:
    return f"{family}.{preset}.{i:03d}"


def plan_jobs(tasks: pd.DataFrame, families: list[str], preset: str, chunk_size: int,
              n_outer: int = 0) -> pd.DataFrame:
    """Jobs for SEARCH: one row per (unit, family, grid chunk), ``outer`` -1. With ``n_outer`` (nested CV,
    :mod:`radplug.training.nested`) the same jobs again once per outer fold, ``outer`` 0..n_outer-1, ids
    ``o<k>__...``."""
    rows = []
    radiomic = tasks[tasks["source"] == "radiomic"]
    for fam_name in families:
        fam = get_family(fam_name)
        n_fits = len(fit_groups(fam_name, preset))
        n_chunks = max(1, math.ceil(n_fits / max(1, chunk_size)))
        units = []
        if fam.multilabel:
            units += [f"group:{g}" for g in sorted(radiomic["group"].unique())]
            units += [f"target:{t}" for t in tasks.loc[tasks["source"] != "radiomic", "target"]]
        else:   # one task per radiomic group, each feature cross-validated on its own
            units += [f"each:{g}" for g in sorted(radiomic["group"].unique())]
            units += [f"target:{t}" for t in tasks.loc[tasks["source"] != "radiomic", "target"]]
        for unit in units:
            for c in range(n_chunks):
                rows.append({"unit": unit, "family": fam_name, "preset": preset, "chunk": c,
                             "n_chunks": n_chunks})
    jobs = pd.DataFrame(rows)
    jobs.insert(0, "job_id", [f"{safe_id(r.family)}__{safe_id(r.unit.replace(':', '-', 1))}__c{r.chunk}"
                              for r in jobs.itertuples()])
    jobs["outer"] = -1
    outer = [jobs.assign(outer=k, job_id=f"o{k}__" + jobs["job_id"]) for k in range(n_outer)]
    return pd.concat([jobs, *outer], ignore_index=True)


def unit_targets(unit: str, tasks: pd.DataFrame) -> list[str]:
    kind, name = unit.split(":", 1)
    if kind in ("group", "each"):
        return list(tasks.loc[(tasks["source"] == "radiomic") & (tasks["group"] == name), "target"])
    return [name]


def final_units(tasks: pd.DataFrame) -> dict[str, list[str]]:
    """The units of FIT_FINAL and MASK, each with its targets in tasks order: ``group:<G>`` (every kept radiomic
    feature of group G, the unit a group network is searched on) and ``target:<T>`` (a clinical target). The
    pipeline runs one FIT_FINAL task per unit and one MASK task per (unit, gene-set source), so that the number
    of processes grows with the groups, not with the targets."""
    units: dict[str, list[str]] = {}
    for t in tasks.itertuples():
        unit = f"group:{t.group}" if t.source == "radiomic" else f"target:{t.target}"
        units.setdefault(unit, []).append(t.target)
    return units


def _encode_unit(names: list[str], tgt: pd.DataFrame, train_ids: pd.Index,
                 task_by_name: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(keep mask over training samples, code matrix samples x targets; -1 where unlabelled)."""
    masks, codes = [], []
    for t in names:
        m, c = encode_target(tgt.loc[train_ids, t], json.loads(task_by_name.loc[t, "classes"]))
        masks.append(m)
        full = np.full(len(train_ids), -1)
        full[m] = c
        codes.append(full)
    return np.logical_and.reduce(masks), np.stack(codes, axis=1)


def _cv_rows(family: str, params: dict[str, Any], cid: str, unit: str, names: list[str], X: np.ndarray,
             Y: np.ndarray, splits: list, seed: int, device: str, n_classes: list[int], cv_kind: str,
             stack_folds: bool, class_weight: str = "balanced") -> list[dict[str, Any]]:
    """Cross-validate one configuration; one row per (target, fold). ``Y`` is 1 column unless multilabel."""
    multilabel = Y.shape[1] > 1
    fam = get_family(family)
    if stack_folds and fam.fold_stacked is not None:
        probas = fam.fold_stacked(params, X, Y if multilabel else Y[:, 0], splits, seed,
                                  family_device(fam, device), class_weight=class_weight)
    else:
        probas = []
        for fold, (tr, va) in enumerate(splits):
            pipe = make_pipeline(family, params, seed + fold, device, class_weight)
            pipe.fit(X[tr], Y[tr] if multilabel else Y[tr, 0])
            proba = pipe.predict_proba(X[va])
            probas.append(proba if multilabel else _align_proba(pipe, proba, n_classes[0]))
    return _score_rows(family, params, cid, unit, names, Y, splits, probas, cv_kind)


def _staged_cv_rows(family: str, configs: list[tuple[str, dict[str, Any]]], unit: str, names: list[str],
                    X: np.ndarray, Y: np.ndarray, splits: list, seed: int, device: str, n_classes: list[int],
                    cv_kind: str, class_weight: str = "balanced") -> list[dict[str, Any]]:
    """Cross-validate configurations of a staged family that differ only in its staged parameter: one fit per
    fold at the largest value, every configuration scored from it (exactly as its own fit would be)."""
    staged = get_family(family).staged
    values = [int(p[staged.param]) for _, p in configs]
    largest = configs[int(np.argmax(values))][1]
    per_config: list[list[np.ndarray]] = [[] for _ in configs]
    for fold, (tr, va) in enumerate(splits):
        pipe = make_pipeline(family, largest, seed + fold, device, class_weight)
        pipe.fit(X[tr], Y[tr, 0])
        for j, proba in enumerate(staged.proba(pipe[-1], pipe[:-1].transform(X[va]), values)):
            per_config[j].append(_align_proba(pipe, proba, n_classes[0]))
    rows: list[dict[str, Any]] = []
    for (cid, params), probas in zip(configs, per_config, strict=True):
        rows += _score_rows(family, params, cid, unit, names, Y, splits, probas, cv_kind)
    return rows


def _score_rows(family: str, params: dict[str, Any], cid: str, unit: str, names: list[str], Y: np.ndarray,
                splits: list, probas: list[np.ndarray], cv_kind: str) -> list[dict[str, Any]]:
    """One row per (target, fold) with the fold's validation scores."""
    multilabel = Y.shape[1] > 1
    rows = []
    for fold, ((_, va), proba) in enumerate(zip(splits, probas, strict=True)):
        for j, t in enumerate(names):
            p = np.stack([1 - proba[:, j], proba[:, j]], axis=1) if multilabel else proba
            s = task_scores(Y[va, j], p)
            rows.append({"unit": unit, "family": family, "config_id": cid, "params": json.dumps(params),
                         "target": t, "cv_kind": cv_kind, "fold": fold, "n_val": len(va), **s})
    return rows


def _best_config(rows: list[dict[str, Any]]) -> str:
    """The configuration with the highest mean (over targets) of mean CV AUC, as :func:`select` chooses."""
    df = pd.DataFrame(rows)
    per = df.groupby(["config_id", "target"], sort=True)["auc"].mean().groupby("config_id").mean()
    return str(per.fillna(-np.inf).idxmax())


def run_job(unit: str, family: str, preset: str, chunk: int, n_chunks: int, expression: pd.DataFrame,
            targets: pd.DataFrame, tasks: pd.DataFrame, folds: int, seed: int, device: str = "cpu",
            feature_cv: bool = True, stack_folds: bool = False, class_weight: str = "balanced") -> pd.DataFrame:
    """Cross-validate one chunk of a family's grid on one unit; one row per (config, target, fold).

    ``group:`` units (multilabel families): every configuration of the chunk is cross-validated as one
    multilabel network for the group (``cv_kind='group'``); with ``feature_cv`` the chunk's best
    configuration is then cross-validated as one network per feature (``cv_kind='feature'``), which is
    how the final per-feature model is trained, so its CV AUC is the estimate compared across families.
    ``target:`` units give ``cv_kind='target'`` rows. ``stack_folds`` trains the mlp's CV folds at once
    (:mod:`radplug.models.stacked`). ``class_weight``: ``balanced`` or ``none``
    (:func:`radplug.training.cv.make_estimator`)."""
    if unit.startswith("each:"):   # several single-target units in one task (fewer, longer tasks)
        names = unit_targets(unit, tasks)
        progress = Progress(f"{unit} {family} features", len(names), log, every=0)
        parts = []
        for t in names:
            parts.append(run_job(f"target:{t}", family, preset, chunk, n_chunks, expression, targets, tasks, folds,
                                 seed, device, feature_cv, stack_folds, class_weight))
            progress.step(t)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    configs = grid(family, preset)
    fits = chunk_configs(family, preset, chunk, n_chunks)
    tgt = targets.set_index("sample_id")
    train_ids = tgt.index[tgt["cohort"] == "train"]
    names = unit_targets(unit, tasks)
    if not names:
        raise ValueError(f"unit {unit} has no targets")
    task_by_name = tasks.set_index("target")
    n_classes = [len(json.loads(task_by_name.loc[t, "classes"])) for t in names]
    keep, codes = _encode_unit(names, tgt, train_ids, task_by_name)
    Y = codes[keep]
    X_train = expression.loc[train_ids].to_numpy(dtype=np.float32)
    X = X_train[keep]
    multilabel = unit.startswith("group:")
    # stratify a group by its most imbalanced feature
    strat = Y[:, int(np.argmin([min(np.mean(c), 1 - np.mean(c)) for c in Y.T]))] if multilabel else Y[:, 0]
    splits = cv_splits(strat, folds, seed)
    rows: list[dict[str, Any]] = []
    kind = "group" if multilabel else "target"
    staged = get_family(family).staged is not None and not multilabel
    progress = Progress(f"{unit} {family} configurations ({len(splits)}-fold CV)", sum(map(len, fits)), log,
                        every=0)
    for group in fits:
        if staged:
            rows += _staged_cv_rows(family, [(config_id(family, preset, ci), configs[ci]) for ci in group], unit,
                                    names, X, Y, splits, seed, device, n_classes, kind, class_weight)
            for ci in group:
                progress.step(config_id(family, preset, ci))
            continue
        for ci in group:
            cid = config_id(family, preset, ci)
            rows += _cv_rows(family, configs[ci], cid, unit, names, X, Y, splits,
                             seed, device, n_classes, kind, stack_folds, class_weight)
            progress.step(cid)
    if multilabel and feature_cv and rows:
        best = _best_config(rows)
        rows += _feature_cv_rows(unit, family, configs[int(best.rsplit(".", 1)[1])], best, names, codes, X_train,
                                 n_classes, folds, seed, device, stack_folds, class_weight)
    return pd.DataFrame(rows)


def _feature_cv_rows(unit: str, family: str, params: dict[str, Any], cid: str, names: list[str], codes: np.ndarray,
                     X_train: np.ndarray, n_classes: list[int], folds: int, seed: int, device: str,
                     stack_folds: bool, class_weight: str) -> list[dict[str, Any]]:
    """Cross-validate configuration ``cid`` as one network per feature of a group (``cv_kind='feature'``)."""
    rows: list[dict[str, Any]] = []
    progress = Progress(f"{unit} {family} per-feature CV of {cid}", len(names), log, every=0)
    for j, t in enumerate(names):
        m = codes[:, j] >= 0
        yj = codes[m, j][:, None]
        rows += _cv_rows(family, params, cid, unit, [t], X_train[m], yj, cv_splits(yj[:, 0], folds, seed), seed,
                         device, [n_classes[j]], "feature", stack_folds, class_weight)
        progress.step(t)
    return rows


def feature_cv_job(unit: str, family: str, cv: pd.DataFrame, expression: pd.DataFrame, targets: pd.DataFrame,
                   tasks: pd.DataFrame, folds: int, seed: int, device: str = "cpu", stack_folds: bool = False,
                   class_weight: str = "balanced") -> pd.DataFrame:
    """The per-feature CV of a ``group:`` unit, run once after the group configuration is chosen.

    ``cv`` holds the group-network rows of every SEARCH chunk of (``unit``, ``family``) (run with
    ``feature_cv=False``); the configuration chosen over all of them, as :func:`select` chooses, is
    cross-validated as one network per feature. Returns those ``cv_kind='feature'`` rows."""
    if not unit.startswith("group:"):
        raise ValueError(f"per-feature CV is for group units (group:<G>), got {unit}")
    own = cv[(cv["unit"] == unit) & (cv["family"] == family) & (cv["cv_kind"] == "group")]
    if own.empty:
        raise ValueError(f"no group-network CV rows for {unit} / {family} among the SEARCH results given")
    best = _best_config(own.to_dict("records"))
    params = json.loads(own.loc[own["config_id"] == best, "params"].iloc[0])
    tgt = targets.set_index("sample_id")
    train_ids = tgt.index[tgt["cohort"] == "train"]
    names = unit_targets(unit, tasks)
    task_by_name = tasks.set_index("target")
    n_classes = [len(json.loads(task_by_name.loc[t, "classes"])) for t in names]
    _, codes = _encode_unit(names, tgt, train_ids, task_by_name)
    X_train = expression.loc[train_ids].to_numpy(dtype=np.float32)
    log.info("%s %s: configuration %s chosen over %d group-network configurations", unit, family, best,
             own["config_id"].nunique())
    return pd.DataFrame(_feature_cv_rows(unit, family, params, best, names, codes, X_train, n_classes, folds, seed,
                                         device, stack_folds, class_weight))


def _align_proba(pipe, proba: np.ndarray, n_classes: int) -> np.ndarray:
    """Expand predict_proba columns to all classes 0..K-1 (a fold may miss a rare class)."""
    classes = np.asarray(pipe.classes_)
    if proba.shape[1] == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return proba
    out = np.zeros((proba.shape[0], n_classes))
    out[:, classes.astype(int)] = proba
    return out


def check_cv_complete(cv: pd.DataFrame, tasks: pd.DataFrame, families: list[str]) -> None:
    """Every target of the tasks table has CV results and every family produced some: otherwise a SEARCH task's
    results never reached SELECT (a wiring or resume problem), and selecting from what is there would drop
    targets or families silently. RadplugInputError naming what is missing."""
    missing = sorted(set(tasks["target"]) - set(cv["target"]))
    if missing:
        rows = tasks[tasks["target"].isin(missing)]
        groups = sorted(rows.loc[rows["source"] == "radiomic", "group"].unique())
        where = f" (radiomic group(s) {', '.join(map(str, groups[:10]))})" if groups else ""
        raise RadplugInputError(
            f"{len(missing)} of {len(tasks)} targets have no CV results ({', '.join(missing[:10])}"
            f"{', ...' if len(missing) > 10 else ''}){where}: their SEARCH tasks' results did not reach SELECT. "
            "Check those tasks in the run's trace and log, then re-run with -resume")
    absent = [f for f in families if f not in set(cv["family"])]
    if absent:
        raise RadplugInputError(f"model famil{'ies' if len(absent) > 1 else 'y'} {', '.join(absent)} produced no CV "
                                "results: check its SEARCH tasks in the run's trace and log, then re-run with -resume")


def select(cv: pd.DataFrame, families: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summarise CV and pick, per target, the family and configuration with the highest mean CV AUC.

    Group units choose one configuration per group (mean over the group's features of the multilabel
    network's CV AUC), which every feature of the group then uses; the estimate compared across families
    is that configuration's per-feature CV AUC (``cv_kind='feature'`` rows) when present, otherwise the
    multilabel network's. Returns (cv_summary, selection)."""
    cv = cv.copy()
    if "cv_kind" not in cv:
        cv["cv_kind"] = np.where(cv["unit"].str.startswith("group:"), "group", "target")
    summ = (cv.groupby(["unit", "family", "config_id", "params", "target", "cv_kind"], sort=True)
            .agg(auc_mean=("auc", "mean"), auc_sd=("auc", "std"), ap_mean=("ap", "mean"),
                 accuracy_mean=("accuracy", "mean"), n_folds=("fold", "nunique")).reset_index())
    cands = []
    for (unit, _family), g in summ.groupby(["unit", "family"], sort=True):
        if unit.startswith("group:"):
            grp = g[g["cv_kind"] == "group"]
            best = grp.groupby("config_id")["auc_mean"].mean().fillna(-np.inf).idxmax()
            feat = g[(g["cv_kind"] == "feature") & (g["config_id"] == best)]
            chosen = grp[grp["config_id"] == best]
            if len(feat):
                chosen = pd.concat([feat, chosen[~chosen["target"].isin(feat["target"])]])
            cands.append(chosen)
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
