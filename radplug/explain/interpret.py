"""Interpreters: the one runner every interpreter goes through (``run_interpreter``), and the built-ins, gene-set
masking (the paper's method) and gene-set permutation importance."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from radplug.data.binarize import encode_target
from radplug.explain.masking import MaskingEngine, class_columns, mask_model, saturation, score_sets
from radplug.hookspecs import Interpreter, InterpretRequest, InterpretResult, hookimpl
from radplug.plugins import PluginError, get_interpreter, provided
from radplug.reporting.progress import Progress
from radplug.training.final import FinalModel, class_note

log = logging.getLogger(__name__)

#: Columns every interpreter's table must have (one row per gene set, class and cohort).
REQUIRED_COLUMNS = ("target", "cohort", "class", "gene_set", "auc")


def interpreter_names(requested: str | list[str]) -> list[str]:
    """The interpreters a MASK task runs: masking first (it feeds the significance step), then the others named
    in ``--interpreters`` (comma-separated), each once; an unknown name raises a PluginError listing the
    available ones."""
    names = [n.strip() for n in requested.split(",")] if isinstance(requested, str) else list(requested)
    out = ["masking"]
    for n in names:
        if not n:
            continue
        get_interpreter(n)
        if n not in out:
            out.append(n)
    return out


def run_interpreter(name: str, request: InterpretRequest) -> InterpretResult:
    """Run one interpreter through its plugin and check what it returns: an ``InterpretResult`` whose table has
    the ``REQUIRED_COLUMNS``; ``interpreter``, ``source`` and ``family`` columns are added. A broken plugin gets
    a PluginError naming it and what is wrong."""
    interp = get_interpreter(name)
    plugin = next((f"plugin '{p.plugin}' ({p.package})" for p in provided("interpreter") if p.record.name == name),
                  "its plugin")
    try:
        result = interp.score(request)
    except PluginError:
        raise
    except Exception as exc:
        if interp.score.__module__.startswith("radplug."):
            raise
        raise PluginError(f"interpreter '{name}' from {plugin} failed on {request.model.target} x {request.source}: "
                          f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(result, InterpretResult) or not isinstance(result.table, pd.DataFrame):
        raise PluginError(f"interpreter '{name}' from {plugin} returned {type(result).__name__}; expected "
                          "radplug.hookspecs.InterpretResult with a pandas DataFrame in .table")
    table = result.table
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if len(table) and missing:
        raise PluginError(f"interpreter '{name}' from {plugin} returned a table without column(s) "
                          f"{', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
    table = table.copy()
    for col, value in (("interpreter", name), ("source", request.source), ("family", request.model.family)):
        if col not in table.columns:
            table[col] = value
    return InterpretResult(table, dict(result.extra), dict(result.metadata))


def _masking(request: InterpretRequest) -> InterpretResult:
    """The masking interpreter: ``mask_model`` with the MASK step's options (sequential null, p-values)."""
    o = request.options
    real, null = mask_model(request.model, request.expression, request.targets, request.members,
                            request.coverage, request.source, o.get("n_random", 200), o.get("null_bins", 10),
                            request.seed, request.device, max_random=o.get("max_random", 10_000),
                            fdr_scope=o.get("fdr_scope", "target"))
    meta = {k: o[k] for k in ("n_random", "max_random", "null_bins", "fdr_scope") if k in o}
    return InterpretResult(real, {"null": null}, meta)


def _permutation(request: InterpretRequest) -> InterpretResult:
    """The permutation-importance interpreter (``permutation_importance``, ``n_repeats`` option, default 5)."""
    table = permutation_importance(request.model, request.expression, request.targets, request.members,
                                   request.source, request.seed, n_repeats=request.options.get("n_repeats", 5),
                                   device=request.device)
    return InterpretResult(table)


def saturated_classes(masking_table: pd.DataFrame) -> list[str]:
    """Classes whose test-cohort masking is saturated (see ``radplug.explain.masking.saturation``)."""
    test = masking_table[masking_table["cohort"] == "test"] if len(masking_table) else masking_table
    return [str(c) for c, g in test.groupby("class") if saturation(g)[0]]


def permutation_importance(model: FinalModel, expression: pd.DataFrame, targets: pd.DataFrame,
                           members: dict[str, np.ndarray], source: str, seed: int = 0, n_repeats: int = 5,
                           device: str = "cpu", cohort: str = "test") -> pd.DataFrame:
    """Gene-set permutation importance: the AUC lost when a set's genes are shuffled jointly across the
    cohort's patients (one permutation of patients per repeat, shared by all sets, so the set's internal
    correlation is kept and its link to the label is broken), averaged over ``n_repeats``.

    Columns: target, family, source, cohort, class, gene_set, auc (mean permuted AUC), ap (mean permuted
    AP), auc_full (unpermuted), auc_drop (mean), auc_drop_sd, rank (1 = largest drop; missing where the
    drop is undefined), note (why, e.g. a class with no patient in the cohort: its AUCs are NaN). Exact and
    batched for networks (see ``MaskingEngine.permuted_probabilities``).
    """
    engine = MaskingEngine(model, device=device)
    tgt = targets.set_index("sample_id")
    ids = tgt.index[tgt["cohort"] == cohort]
    mask, y = encode_target(tgt.loc[ids, model.target], model.classes)
    ids = ids[mask]
    if len(ids) < 4 or len(np.unique(y)) < 2:
        return pd.DataFrame()
    X = expression.loc[ids, model.genes].to_numpy(dtype=np.float32)
    names = list(members)
    sets = [members[s] for s in names]
    full = engine.probabilities(X, [np.arange(len(model.genes))])
    base = {r["class"]: r["auc"][0] for r in score_sets(full, y, model)}
    aucs: dict[str, list[np.ndarray]] = {}
    aps: dict[str, list[np.ndarray]] = {}
    progress = Progress(f"permutation importance {model.target} x {source} ({len(sets)} sets): repeats",
                        n_repeats, log, every=10)
    for rep in range(n_repeats):
        proba = engine.permuted_probabilities(X, sets, seed=seed + rep)
        progress.step()
        for r in score_sets(proba, y, model):
            aucs.setdefault(r["class"], []).append(r["auc"])
            aps.setdefault(r["class"], []).append(r["ap"])
    notes = {label: class_note(y, k, model.classes, cohort) for label, k in class_columns(model)}
    rows = [pd.DataFrame({"target": model.target, "family": model.family, "source": source, "cohort": cohort,
                          "class": c, "gene_set": names, "auc": np.mean(a, axis=0),
                          "ap": np.mean(aps[c], axis=0), "auc_full": base[c],
                          "auc_drop": base[c] - np.mean(a, axis=0), "auc_drop_sd": np.std(a, axis=0),
                          "note": notes[c]})
            for c, a in aucs.items()]
    out = pd.concat(rows, ignore_index=True)
    out["rank"] = out.groupby("class")["auc_drop"].rank(ascending=False, method="min").astype("Int64")
    return out


@hookimpl
def radplug_interpreters() -> list[Interpreter]:
    return [
        Interpreter("masking", "Gene-set masking: keep one set's genes, zero the rest, score AUC/AP",
                    score=_masking,
                    reference="Smedley, El-Saden & Hsu, Bioinformatics 36(11):3537 (2020)"),
        Interpreter("permutation", "Gene-set permutation importance: shuffle a set's genes jointly, AUC drop",
                    score=_permutation, options={"n_repeats": 5},
                    reference="Breiman, Machine Learning 45:5 (2001), applied to gene sets"),
    ]
