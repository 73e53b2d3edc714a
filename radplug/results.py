"""The results contract: every table the pipeline publishes, declared once.

``TABLES`` lists each published table with the folder it is published in (relative to ``--outdir``), the radplug
step that writes it, the columns it always has and the columns that identify a row. ``radplug.io.write_parquet``
checks a step's table against its entry before writing (a missing column or a duplicated key is a radplug bug,
refused before anything is published); tests/unit/test_results.py checks that docs/output.md describes every entry,
and the pipeline tests check a real run's published tables against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

import pandas as pd


@dataclass(frozen=True)
class PublishedTable:
    """One published table: ``path`` under ``--outdir``, the ``step`` that writes it, its required ``columns``
    and its ``keys`` (unique together; empty when rows have no identity, e.g. messages)."""

    path: str
    step: str
    columns: tuple[str, ...]
    keys: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


_CV = ("unit", "family", "config_id", "params", "target", "cv_kind")
_MASK = ("target", "source", "cohort", "class", "gene_set")

TABLES: tuple[PublishedTable, ...] = (
    PublishedTable("data/expression.parquet", "validate", ("sample_id",), ("sample_id",)),
    PublishedTable("data/labels.parquet", "validate", ("sample_id", "cohort"), ("sample_id",)),
    PublishedTable("data/features.parquet", "validate", ("name", "kind"), ("name",)),
    PublishedTable("data/validation.parquet", "validate", ("level", "check", "message")),
    PublishedTable("data/targets.parquet", "binarize", ("sample_id", "cohort"), ("sample_id",)),
    PublishedTable("data/tasks.parquet", "binarize", ("target", "kind", "group", "source", "classes", "n_train"),
                   ("target",)),
    PublishedTable("data/binarization.parquet", "binarize",
                   ("feature", "group", "threshold", "minority_fraction", "kept", "reason"), ("feature",)),
    PublishedTable("cv/cv_results.parquet", "select", (*_CV, "fold", "auc", "ap", "accuracy"),
                   ("unit", "family", "config_id", "target", "cv_kind", "fold")),
    PublishedTable("cv/cv_summary.parquet", "select", (*_CV, "auc_mean", "auc_sd", "n_folds"),
                   ("unit", "family", "config_id", "target", "cv_kind")),
    PublishedTable("cv/selection.parquet", "select", (*_CV, "auc_mean", "selected"),
                   ("unit", "family", "config_id", "target", "cv_kind")),
    PublishedTable("evaluation/test_metrics.parquet", "evaluate",
                   ("target", "family", "class", "averaging", "n", "auc", "auc_ci_low", "auc_ci_high", "ap",
                    "accuracy", "auc_prior", "auc_p", "auc_q"), ("target", "class", "averaging")),
    PublishedTable("evaluation/predictions.parquet", "evaluate", ("sample_id", "target", "class", "probability",
                                                                 "label"), ("sample_id", "target", "class")),
    PublishedTable("evaluation/target_chance.parquet", "evaluate", ("threshold", "targets", "passing",
                                                                   "expected_by_chance", "permutations")),
    PublishedTable("masking/masking.parquet", "significance",
                   (*_MASK, "family", "auc", "auc_full", "n_genes", "n_present", "p_value", "q_value", "call",
                    "saturated", "interpreter"), _MASK),
    PublishedTable("masking/masking_null.parquet", "significance",
                   ("target", "source", "cohort", "class", "null_bin", "null_size", "draw", "auc"),
                   ("target", "source", "cohort", "class", "null_bin", "draw")),
    PublishedTable("masking/geneset_coverage.parquet", "significance",
                   ("source", "gene_set", "n_genes", "n_present", "coverage"), ("source", "gene_set")),
    PublishedTable("masking/geneset_dropped.parquet", "significance",
                   ("source", "gene_set", "n_genes", "n_present", "reason"), ("source", "gene_set")),
    PublishedTable("masking/permutation.parquet", "significance", (*_MASK, "auc_drop", "rank", "interpreter"),
                   _MASK),
)

_BY_STEP_AND_NAME = {(t.step, t.name): t for t in TABLES}


def published_table(step: str, name: str) -> PublishedTable | None:
    """The entry of the table ``name`` (a file name) written by ``step``, or None when it is not published."""
    return _BY_STEP_AND_NAME.get((step, name))


def table_problems(df: pd.DataFrame, table: PublishedTable) -> list[str]:
    """What ``df`` lacks to be ``table``: missing columns, duplicated keys (empty when it conforms)."""
    missing = [c for c in table.columns if c not in df.columns]
    problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
    if table.keys and not missing and len(df):
        dups = int(df.duplicated(list(table.keys)).sum())
        if dups:
            problems.append(f"{dups} row(s) repeat a key ({', '.join(table.keys)})")
    return problems
