"""VALIDATE: check the ingested tables and clean them (missing values, constant genes, test genes)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radplug.io import RadplugInputError

log = logging.getLogger(__name__)


def _check_scale(values: np.ndarray, cohorts: np.ndarray, note) -> None:
    """Warn when expression looks raw, or when one cohort is raw-scale and another log-scale. Raw (unlogged)
    intensities or counts have a long right tail far above log2 range: a 99th percentile above 100."""
    kinds = {}
    for name in pd.unique(cohorts):
        v = values[cohorts == name]
        q99 = float(np.quantile(v, 0.99))
        kinds[name] = ("raw" if q99 > 100 else "log", q99, float(np.median(v)))
    raw = [n for n, k in kinds.items() if k[0] == "raw"]
    logged = [n for n, k in kinds.items() if k[0] == "log"]
    detail = "; ".join(f"{n}: median {k[2]:.3g}, 99th percentile {k[1]:.3g}" for n, k in kinds.items())
    if raw and logged:
        note(
            "warning",
            "scale",
            f"cohorts mix scales: {', '.join(map(str, raw))} look raw (unlogged) and "
            f"{', '.join(map(str, logged))} look log-scale ({detail}); log2-transform the raw cohort(s) "
            "so all "
            "cohorts share one scale",
        )
    elif raw:
        note(
            "warning",
            "scale",
            f"expression looks raw, not log-scale ({detail}); log2-transform it first for "
            "models and masking to behave",
        )
    if values.min() < 0 and raw:
        note("warning", "scale", "expression mixes negative values with raw-scale values: check the units")


@dataclass
class Validated:
    expression: pd.DataFrame
    labels: pd.DataFrame
    features: pd.DataFrame
    report: pd.DataFrame  # level, check, message


def validate(
    expression: pd.DataFrame,
    labels: pd.DataFrame,
    features: pd.DataFrame,
    max_missing: float = 0.2,
    origin: str = "expression",
) -> Validated:
    """Check and clean: non-finite values are errors; genes missing in more than ``max_missing`` of the
    training samples are dropped, other gaps (and genes a test cohort lacks) are filled with the
    training mean; constant training genes and radiomic features are dropped; raw-scale data warn."""
    notes: list[dict[str, str]] = []

    def note(level: str, check: str, message: str) -> None:
        notes.append({"level": level, "check": check, "message": message})
        (log.warning if level == "warning" else log.info)("%s: %s", check, message)

    lab = labels.set_index("sample_id")
    expr = expression.loc[lab.index]
    values = expr.to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        r, c = np.argwhere(np.isinf(values))[0]
        raise RadplugInputError(
            f"{origin}: infinite expression value at sample '{expr.index[r]}', gene "
            f"'{expr.columns[c]}'; replace it with a finite value or leave it empty"
        )
    train = (lab["cohort"] == "train").to_numpy()
    if train.sum() < 10:
        raise RadplugInputError(
            f"only {int(train.sum())} training sample(s) (role 'train' in the samplesheet) "
            "after ingestion: at least 10 are needed; add samples or check the sample ids"
        )
    miss_frac = np.isnan(values[train]).mean(axis=0)
    drop = miss_frac > max_missing
    if drop.any():
        note(
            "warning",
            "missing_values",
            f"{int(drop.sum())} gene(s) missing in more than {max_missing:.0%} of "
            f"training samples dropped (e.g. {', '.join(map(str, expr.columns[drop][:3]))}); raise "
            "--max_missing to keep them",
        )
    values, genes = values[:, ~drop], expr.columns[~drop]
    mean = np.nanmean(values[train], axis=0)
    cohorts = lab["source_cohort"].to_numpy()
    for name in pd.unique(cohorts[~train]):
        rows = cohorts == name
        absent = np.isnan(values[rows]).all(axis=0)
        if absent.any():
            note(
                "warning",
                "test_genes_missing",
                f"test cohort {name}: {int(absent.sum())} of {len(genes)} gene(s) the model uses are absent "
                f"(e.g. {', '.join(map(str, genes[absent][:3]))}); filled with the training mean",
            )
    n_nan = int(np.isnan(values).sum())
    if n_nan:
        note("info", "imputation", f"{n_nan} missing expression value(s) filled with the training mean")
        r, c = np.nonzero(np.isnan(values))
        values[r, c] = mean[c]
    sd = values[train].std(axis=0)
    const = sd == 0
    if const.any():
        note(
            "warning", "constant_genes", f"{int(const.sum())} gene(s) constant in the training cohort dropped"
        )
        values, genes = values[:, ~const], genes[~const]
    if values.shape[1] == 0:
        raise RadplugInputError(f"{origin}: no usable gene left after the checks")
    _check_scale(values, cohorts, note)

    feats = features.copy()
    keep = []
    for _, f in feats.iterrows():
        col = lab[f["name"]]
        tr = col[train].dropna()
        if f["kind"] == "radiomic":
            if tr.nunique() <= 1:
                note(
                    "warning",
                    "constant_feature",
                    f"radiomic feature '{f['name']}' is constant in the training cohort: dropped",
                )
                continue
        else:
            if tr.nunique() < 2:
                raise RadplugInputError(
                    f"clinical target '{f['name']}' has {tr.nunique()} class(es) in the training cohort "
                    f"({', '.join(map(str, tr.unique()[:3]))}); a classifier needs two or more. "
                    "Remove it from "
                    "--clinical_targets"
                )
            if (~train).any() and col[~train].dropna().nunique() < 2:
                note(
                    "warning",
                    "single_class_test",
                    f"clinical target '{f['name']}' has one class in the test "
                    "cohort: test AUC will be undefined",
                )
        keep.append(f)
    feats = pd.DataFrame(keep, columns=features.columns)
    clean = pd.DataFrame(values.astype(np.float32), index=expr.index, columns=genes)
    note(
        "info",
        "summary",
        f"{int(train.sum())} training and {int((~train).sum())} test samples, "
        f"{len(genes)} genes, {len(feats)} targets",
    )
    keep_cols = ["sample_id", "cohort", "source_cohort"] + list(feats["name"])
    return Validated(clean, labels[keep_cols], feats.reset_index(drop=True), pd.DataFrame(notes))
