"""Reference values for feature extraction: PyRadiomics' own baseline (its test cases) and the rule its test
suite applies (relative difference below 3 %, exact where the baseline is 0)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pandas as pd

BASELINE_CLASSES = ("firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
REL_TOLERANCE = 0.03   # PyRadiomics tests/testUtils.py: assert percentDiff < 0.03


def baseline_case(baseline_dir: str | Path, case: str) -> tuple[dict[str, Any], dict[str, float]]:
    """PyRadiomics' baseline for one test case: (settings file dict, {feature: value}) over the 3-D classes.

    The settings are the ones the baseline records for that case (``diagnostics_Configuration_Settings``,
    identical across classes); unset (None) settings are left at PyRadiomics' defaults."""
    settings: dict[str, Any] | None = None
    values: dict[str, float] = {}
    for cls in BASELINE_CLASSES:
        df = pd.read_csv(Path(baseline_dir) / f"baseline_{cls}.csv", index_col=0, dtype=str)
        if case not in df.columns:
            raise ValueError(f"{baseline_dir}: no baseline column '{case}' for class {cls}")
        col = df[case]
        s = ast.literal_eval(col["diagnostics_Configuration_Settings"])
        s = {k: v for k, v in s.items() if v is not None}
        if settings is not None and s != settings:
            raise ValueError(f"{baseline_dir}: case {case} has different settings in class {cls}")
        settings = s
        for name, v in col.items():
            if not str(name).startswith("diagnostics_") and isinstance(v, str) and v.strip():
                values[str(name)] = float(v)
    assert settings is not None
    conf = {"imageType": {"Original": {}}, "featureClass": {c: None for c in BASELINE_CLASSES}, "setting": settings}
    return conf, values


def compare_to_baseline(values: dict[str, float], baseline: dict[str, float]) -> pd.DataFrame:
    """One row per baseline feature: value, baseline, relative difference and whether PyRadiomics' own test
    would pass it (a feature missing from ``values`` fails)."""
    rows = []
    for name, ref in baseline.items():
        v = values.get(name, float("nan"))
        if ref == 0.0:
            diff = 0.0 if v == 0.0 else 1.0
        else:
            diff = abs(1.0 - v / ref)
        rows.append({"feature": name, "value": v, "baseline": ref, "rel_diff": diff,
                     "ok": bool(diff < REL_TOLERANCE)})
    return pd.DataFrame(rows)
