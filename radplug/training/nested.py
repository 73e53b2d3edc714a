"""Nested cross-validation (``--nested_cv K``): an unbiased estimate of the whole selection protocol.

The CV AUC in ``selection.parquet`` is the best of many configurations (and families) on the folds that chose
it, so it is optimistic. Nested CV wraps the *whole* search + selection in K outer folds of the training
cohort: for outer fold k, SEARCH runs every job on the other K-1 parts (inner CV with ``--cv_folds`` folds, as
usual), SELECT's rule picks family and configuration per target from those inner rows alone, the chosen model
is refitted on the K-1 parts and scored once on part k, which took no part in any choice. The mean over the K
outer folds of that AUC estimates what the protocol delivers on new patients of the same population.

Outer folds are shared by all units that train on the same targets, so the families compete on the same
patients: one split per radiomic group (every feature of the group, every family), stratified by the group's
most imbalanced feature, and one per clinical target, stratified by its classes. Unlabelled training patients
are spread over the folds too (they never train or score a model of that target).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from radplug.data.binarize import encode_target
from radplug.metrics import task_scores
from radplug.training.final import fit_final
from radplug.training.search import run_job, select, unit_targets

log = logging.getLogger(__name__)

OUTER_TEST = "test"   # outer-test patients take the cohort name that fit_final / scoring read as held out


def split_key(target: str, tasks: pd.DataFrame) -> str:
    """The outer split a target uses: ``group:<G>`` for a radiomic feature, ``target:<T>`` for the others."""
    row = tasks.set_index("target").loc[target]
    return f"group:{row['group']}" if row["source"] == "radiomic" else f"target:{target}"


def unit_key(unit: str, tasks: pd.DataFrame) -> str:
    """The outer split of a SEARCH unit (``group:``/``each:`` units share their group's split)."""
    kind, name = unit.split(":", 1)
    if kind in ("group", "each"):
        return f"group:{name}"
    return split_key(name, tasks)


def outer_assignment(targets: pd.DataFrame, tasks: pd.DataFrame, key: str, n_outer: int, seed: int) -> pd.Series:
    """Outer fold (0..K-1) of every training patient for split ``key``, stratified by the key's target (a
    group: its most imbalanced feature; unlabelled patients form their own stratum)."""
    tgt = targets.set_index("sample_id")
    train_ids = tgt.index[tgt["cohort"] == "train"]
    names = unit_targets(key.replace("group:", "each:", 1), tasks)
    task_by_name = tasks.set_index("target")
    codes = []
    for t in names:
        m, c = encode_target(tgt.loc[train_ids, t], json.loads(task_by_name.loc[t, "classes"]))
        full = np.full(len(train_ids), -1)
        full[m] = c
        codes.append(full)

    def minority(c: np.ndarray) -> float:
        lab = c[c >= 0]
        return np.bincount(lab).min() / len(lab) if len(lab) and len(np.unique(lab)) > 1 else 1.0

    strat = codes[int(np.argmin([minority(c) for c in codes]))]
    # a stratum smaller than K (a few unlabelled patients) is merged into the largest one
    vals, counts = np.unique(strat, return_counts=True)
    small = vals[counts < n_outer]
    if len(small) and len(small) < len(vals):
        strat = np.where(np.isin(strat, small), vals[np.argmax(counts)], strat)
    skf = StratifiedKFold(n_splits=n_outer, shuffle=True, random_state=seed)
    fold = np.empty(len(train_ids), dtype=int)
    for k, (_, te) in enumerate(skf.split(np.zeros(len(strat)), strat)):
        fold[te] = k
    return pd.Series(fold, index=train_ids, name="outer_fold")


def outer_targets(targets: pd.DataFrame, tasks: pd.DataFrame, key: str, k: int, n_outer: int,
                  seed: int) -> pd.DataFrame:
    """``targets`` as outer fold ``k`` sees it: the test cohort left out, the training patients of outer part
    ``k`` renamed to cohort ``test`` (held out), the other parts stay ``train``."""
    fold = outer_assignment(targets, tasks, key, n_outer, seed)
    out = targets[targets["cohort"] == "train"].copy()
    held = out["sample_id"].map(fold).to_numpy() == k
    out.loc[held, "cohort"] = OUTER_TEST
    return out.reset_index(drop=True)


def run_outer_job(unit: str, family: str, preset: str, chunk: int, n_chunks: int, expression: pd.DataFrame,
                  targets: pd.DataFrame, tasks: pd.DataFrame, folds: int, seed: int, outer_fold: int,
                  n_outer: int, device: str = "cpu", stack_folds: bool = False,
                  class_weight: str = "balanced") -> pd.DataFrame:
    """One SEARCH job inside outer fold ``outer_fold``: :func:`radplug.training.search.run_job` on the other outer
    parts only; rows carry ``outer_fold``."""
    if not 0 <= outer_fold < n_outer:
        raise ValueError(f"outer fold {outer_fold} is not in 0..{n_outer - 1}")
    inner = outer_targets(targets, tasks, unit_key(unit, tasks), outer_fold, n_outer, seed)
    res = run_job(unit, family, preset, chunk, n_chunks, expression, inner, tasks, folds, seed, device,
                  stack_folds=stack_folds, class_weight=class_weight)
    res["outer_fold"] = outer_fold
    return res


def nested_fold(cv: pd.DataFrame, families: list[str], expression: pd.DataFrame, targets: pd.DataFrame,
                tasks: pd.DataFrame, outer_fold: int, n_outer: int, seed: int, device: str = "cpu",
                class_weight: str = "balanced") -> pd.DataFrame:
    """Outer fold ``outer_fold``: select per target from its inner CV rows (``cv``) as SELECT does, refit the
    chosen model on the fold's training parts and score it on the held-out part. One row per target."""
    cv = cv[cv["outer_fold"] == outer_fold] if "outer_fold" in cv else cv
    if cv.empty:
        raise ValueError(f"outer fold {outer_fold}: no inner CV rows")
    _, sel = select(cv.drop(columns="outer_fold", errors="ignore"), families)
    rows = []
    for r in sel[sel["selected"]].itertuples():
        inner = outer_targets(targets, tasks, split_key(r.target, tasks), outer_fold, n_outer, seed)
        model = fit_final(r.target, sel, expression, inner, tasks, seed, device, class_weight)
        tgt = inner.set_index("sample_id")
        held = tgt.index[tgt["cohort"] == OUTER_TEST]
        mask, y = encode_target(tgt.loc[held, r.target], model.classes)
        n_train = int(encode_target(tgt.loc[tgt["cohort"] == "train", r.target], model.classes)[0].sum())
        base = {"target": r.target, "outer_fold": outer_fold, "family": r.family, "config_id": r.config_id,
                "params": r.params, "inner_cv_auc": float(r.auc_mean), "n_train": n_train, "n_test": int(mask.sum())}
        if mask.sum() == 0:
            rows.append({**base, "auc": np.nan, "ap": np.nan, "accuracy": np.nan})
            continue
        proba = model.proba(expression.loc[held[mask], model.genes].to_numpy(dtype=np.float32))
        rows.append({**base, **task_scores(y, proba)})
        log.info("outer fold %d, %s: %s %s, inner CV AUC %.3f, outer AUC %.3f (%d patients)", outer_fold,
                 r.target, r.family, r.config_id, r.auc_mean, rows[-1]["auc"], len(y))
    return pd.DataFrame(rows)


def _family_counts(families: Iterable[str]) -> str:
    vc = pd.Series(list(families)).value_counts()
    return ", ".join(f"{f} {n}" for f, n in vc.items())


def nested_summary(nested: pd.DataFrame, selection: pd.DataFrame | None = None,
                   metrics: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per target, side by side: the selected configuration's CV AUC (``cv_auc``: optimistic, the best of
    the grid on the folds that chose it), the nested-CV AUC (``nested_auc``: mean over outer folds, each scored
    on patients outside every choice), ``optimism = cv_auc - nested_auc``, the families the outer folds chose,
    and the test-cohort AUC (with the multiclass prior-only baseline ``auc_prior``) when ``metrics`` is given."""
    g = nested.groupby("target", sort=True)
    out = pd.DataFrame({
        "nested_auc": g["auc"].mean(),
        "nested_auc_sd": g["auc"].std(),
        "n_outer": g["outer_fold"].nunique(),
        "n_outer_scored": g["auc"].count(),
        "inner_cv_auc": g["inner_cv_auc"].mean(),
        "nested_families": g["family"].agg(_family_counts),
    }).reset_index()
    if selection is not None and len(selection):
        sel = selection[selection["selected"]].set_index("target")
        out.insert(1, "family", out["target"].map(sel["family"]))
        out.insert(2, "cv_auc", out["target"].map(sel["auc_mean"]))
        out["optimism"] = out["cv_auc"] - out["nested_auc"]
    if metrics is not None and len(metrics):
        overall = metrics[metrics["averaging"] != "one-vs-rest"].drop_duplicates("target").set_index("target")
        out["test_auc"] = out["target"].map(overall["auc"])
        if "auc_prior" in overall:
            out["auc_prior"] = out["target"].map(overall["auc_prior"])
    first = [c for c in ("target", "family", "cv_auc", "nested_auc", "optimism", "test_auc", "auc_prior")
             if c in out]
    return out[first + [c for c in out.columns if c not in first]]


def nested_cost(n_outer: int, folds: int, n_jobs: int) -> str:
    """A sentence on what ``--nested_cv`` costs, for the log."""
    share = (n_outer - 1) / n_outer
    return (f"nested CV: {n_outer} outer folds x the whole search ({n_jobs} SEARCH jobs each, {folds}-fold inner "
            f"CV on {share:.0%} of the training cohort) = {n_outer * n_jobs} extra SEARCH jobs, about "
            f"{n_outer * share:.1f} x the search's cost, plus {n_outer} refits per target")


def check_nested(counts: pd.DataFrame, n_outer: int, folds: int) -> list[str]:
    """Problems with ``--nested_cv n_outer`` for the training class counts (``target``, ``cohort``, ``class``,
    ``n`` rows, as PREFLIGHT tabulates them): every class must keep at least ``folds`` patients in each
    outer training part (n - ceil(n / K) >= folds), so that every inner fold can hold one of them."""
    if n_outer == 0:
        return []
    if n_outer < 2:
        return [f"--nested_cv {n_outer}: give 0 (off) or the number of outer folds, at least 2 (5 is usual)"]
    problems = []
    train = counts[counts["cohort"] == "train"]
    short: list[tuple[str, str, int, int]] = []
    for t, g in train.groupby("target", sort=True):
        for cls, n in zip(g["class"], g["n"], strict=True):
            kept = int(n) - math.ceil(int(n) / n_outer)
            if kept < folds:
                short.append((str(t), str(cls), int(n), kept))
    if short:
        t, c, n, kept = min(short, key=lambda s: s[3])
        need = next(m for m in range(folds, 2 * folds + n_outer + 2) if m - math.ceil(m / n_outer) >= folds)
        rest = [s for s in short if s != (t, c, n, kept)]
        others = "" if not rest else (f" ({len(rest)} more class(es) also short, e.g. "
                                      + ", ".join(f"'{s[0]}' class '{s[1]}' ({s[2]})" for s in rest[:3]) + ")")
        problems.append(
            f"--nested_cv {n_outer} with --cv_folds {folds}: target '{t}', class '{c}' has {n} training patients; "
            f"an outer training part keeps {kept} of them, fewer than the {folds} inner folds (each class needs "
            f"at least {need} training patients){others}. Lower --nested_cv or --cv_folds, or turn nested CV off "
            "(--nested_cv 0)")
    return problems

