"""Example third-party radplug plugin with two kinds of records.

- Interpreter ``ablation``: leave-set-out ablation. Each gene set's genes are set to their training mean (zero
  after the model's own standardization) and the model is scored again; ``auc_drop`` is the AUC lost.
- Gene-set source ``gene_blocks``: sets of consecutive genes, from a spec ``PREFIX:N_GENES:BLOCK`` (e.g.
  ``SG:2000:100`` gives SG00001-SG00100, SG00101-SG00200, ...). It shows a source that resolves its own spec: the
  pipeline passes ``--genesets gene_blocks=SG:2000:100`` through unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from radplug.hookspecs import GeneSetSource, Interpreter, InterpretRequest, InterpretResult, hookimpl
from radplug.io import RadplugInputError


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan")


def ablation(request: InterpretRequest) -> InterpretResult:
    model = request.model
    tgt = request.targets.set_index("sample_id")
    rows = []
    scaler = model.pipeline.named_steps["scale"]
    for cohort in ("test",):
        ids = tgt.index[(tgt["cohort"] == cohort) & tgt[model.target].notna()]
        labels = tgt.loc[ids, model.target].astype(str)
        keep = labels.isin(model.classes).to_numpy()
        ids, labels = ids[keep], labels[keep]
        codes = np.array([model.classes.index(v) for v in labels])
        X = request.expression.loc[ids, model.genes].to_numpy(dtype=float)
        full = model.proba(X)
        for name, idx in request.members.items():
            Xa = X.copy()
            Xa[:, idx] = scaler.mean_[idx]
            proba = model.proba(Xa)
            for k, cls in enumerate(model.classes):
                if len(model.classes) == 2 and k == 0:
                    continue
                y = (codes == k).astype(int)
                base, auc = _auc(y, full[:, k]), _auc(y, proba[:, k])
                rows.append({"target": model.target, "cohort": cohort, "class": cls, "gene_set": name,
                             "auc": auc, "auc_full": base, "auc_drop": base - auc})
    table = pd.DataFrame(rows)
    if len(table):
        table["rank"] = table.groupby(["cohort", "class"])["auc_drop"].rank(ascending=False, method="min")
    return InterpretResult(table, metadata={"method": "leave-set-out ablation (training mean)"})


def gene_blocks(spec: str | None) -> pd.DataFrame:
    try:
        prefix, n_genes, block = (spec or "").split(":")
        n, b = int(n_genes), int(block)
    except ValueError as exc:
        raise RadplugInputError(f"gene_blocks: spec '{spec}' is not PREFIX:N_GENES:BLOCK (e.g. SG:2000:100)") from exc
    if n < 1 or b < 1:
        raise RadplugInputError(f"gene_blocks: spec '{spec}': N_GENES and BLOCK must be positive")
    genes = [f"{prefix}{i:05d}" for i in range(1, n + 1)]
    rows = [(f"BLOCK_{s // b + 1:03d}", g) for s in range(0, n, b) for g in genes[s:s + b]]
    return pd.DataFrame(rows, columns=["gene_set", "gene"])


@hookimpl
def radplug_interpreters() -> list[Interpreter]:
    return [Interpreter("ablation", "Leave-set-out ablation: a set's genes at their training mean, AUC drop",
                        score=ablation, reference="radplug-extras example plugin")]


@hookimpl
def radplug_geneset_sources() -> list[GeneSetSource]:
    return [GeneSetSource("gene_blocks", "0.1.0", "CC0", "radplug-extras example plugin", gene_blocks,
                          description="Blocks of consecutive genes from a spec PREFIX:N_GENES:BLOCK")]
