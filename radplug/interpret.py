"""Built-in interpreters: gene-set masking (the paper's method) and gene-set permutation importance."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from radplug.binarize import encode_target
from radplug.final import FinalModel, class_note
from radplug.hookspecs import Interpreter, hookimpl
from radplug.masking import MaskingEngine, class_columns, mask_model, score_sets
from radplug.progress import Progress

log = logging.getLogger(__name__)


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
                    score=mask_model,
                    reference="Smedley, El-Saden & Hsu, Bioinformatics 36(11):3537 (2020)"),
        Interpreter("permutation", "Gene-set permutation importance: shuffle a set's genes jointly, AUC drop",
                    score=permutation_importance,
                    reference="Breiman, Machine Learning 45:5 (2001), applied to gene sets"),
    ]
