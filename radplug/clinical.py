"""Clinical label normalisation: free-text histology -> ADC/SCC/other, stage text or pTNM -> I/II/III/other."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from radplug.io import RadplugInputError

MISSING = {"", "na", "n/a", "nan", "none", "null", "unknown", "not available", "missing", "?", "nos?"}

# Ordered regex rules; first match wins. Documented in docs/usage.md, overridable with --histology_map.
DEFAULT_HISTOLOGY_RULES: list[tuple[str, str]] = [
    (r"adenosquamous", "other"),
    (r"squamous|\bscc\b|epidermoid", "SCC"),
    (r"adeno|\badc\b|\bbac\b|bronchioloalveolar|lepidic|acinar|papillary|micropapillary|mucinous", "ADC"),
    (r".+", "other"),
]


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip().lower() in MISSING


def read_histology_map(path: str | None) -> pd.DataFrame | None:
    """Override table: CSV with columns ``text`` and ``histology`` (exact, case-insensitive matches)."""
    if not path:
        return None
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"text", "histology"} <= set(df.columns):
        raise RadplugInputError(f"{path}: a histology mapping needs columns text, histology; found {list(df.columns)}")
    return df


def normalize_histology(values: pd.Series, mapping: pd.DataFrame | None = None) -> tuple[pd.Series, pd.DataFrame]:
    """Map free text to ADC/SCC/other (missing stays missing). Returns the labels and the mapping used."""
    exact = {}
    if mapping is not None:
        exact = {str(t).strip().lower(): h for t, h in zip(mapping["text"], mapping["histology"], strict=True)}
    used: dict[str, tuple[str, str]] = {}

    def one(v: object) -> object:
        if _is_missing(v):
            return None
        text = str(v).strip()
        key = text.lower()
        if key in exact:
            used[text] = (exact[key], "override")
            return exact[key] if exact[key] and exact[key].lower() not in MISSING else None
        for pattern, label in DEFAULT_HISTOLOGY_RULES:
            if re.search(pattern, key):
                used[text] = (label, f"rule /{pattern}/")
                return label
        return None

    out = values.map(one).astype(object)
    table = pd.DataFrame([{"text": t, "histology": h, "by": by} for t, (h, by) in sorted(used.items())],
                         columns=["text", "histology", "by"])
    return out, table


_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "i": "I", "ii": "II", "iii": "III", "iv": "IV"}


def normalize_stage_text(v: object) -> object:
    """'Stage IIIA', 'IB', '3', 'II' -> I/II/III; IV and anything else known -> other; missing -> None."""
    if _is_missing(v):
        return None
    s = str(v).strip().lower().replace("stage", "").strip()
    m = re.match(r"^(iv|iii|ii|i|[1-4])\s*[abc]?\d?$", s)
    if not m:
        return "other"
    roman = _ROMAN[m.group(1)]
    return roman if roman in ("I", "II", "III") else "other"


def _t_code(t: object) -> str | None:
    if _is_missing(t):
        return None
    m = re.search(r"t\s*([0-4x]|is)", str(t).strip().lower()) or re.match(r"^([0-4x]|is)", str(t).strip().lower())
    return m.group(1) if m else None


def _n_code(n: object) -> str | None:
    if _is_missing(n):
        return None
    m = re.search(r"n\s*([0-3x])", str(n).strip().lower()) or re.match(r"^([0-3x])", str(n).strip().lower())
    return m.group(1) if m else None


def _m_code(m_: object) -> str | None:
    if _is_missing(m_):
        return None
    m = re.search(r"m\s*([01x])", str(m_).strip().lower()) or re.match(r"^([01x])", str(m_).strip().lower())
    return m.group(1) if m else None


def stage_from_tnm(t: object, n: object, m: object) -> object:
    """AJCC-7-style stage group from pT/pN/pM (coarse: I/II/III, IV -> other). None when not decidable."""
    tc, nc, mc = _t_code(t), _n_code(n), _m_code(m)
    if mc == "1":
        return "other"
    if tc is None or nc is None or tc == "x" or nc == "x":
        return None
    if mc is None or mc == "x":
        mc = "0"   # pM is rarely assessed pathologically: cM0 is the convention
    tn, nn = (0 if tc == "is" else int(tc)), int(nc)
    if nn == 3 or tn == 4 and nn >= 2 or nn == 2:
        return "III"
    if tn == 4:
        return "III"
    if nn == 1:
        return "III" if tn == 3 else "II"
    if tn == 3:
        return "II"
    if tn in (0, 1, 2):
        return "I" if tn <= 2 and nn == 0 else "II"
    return None


def normalize_stage(df: pd.DataFrame) -> pd.Series | None:
    """Stage from a 'stage' column, else from pT/pN/pM columns; None when the table has neither."""
    cols = {c.lower(): c for c in df.columns}
    stage_col = next((cols[c] for c in cols if c == "stage" or c.endswith(".stage") and "primary" not in c), None)
    if stage_col is not None:
        return df[stage_col].map(normalize_stage_text)
    tcol = next((cols[c] for c in cols if re.search(r"(primary.tumou?r|(^|[._])p?t$|tstage|t_stage)", c)), None)
    ncol = next((cols[c] for c in cols if re.search(r"(nodes|(^|[._])p?n$|nstage|n_stage)", c)), None)
    mcol = next((cols[c] for c in cols if re.search(r"(mets|metast|(^|[._])p?m$|mstage|m_stage)", c)), None)
    if tcol is None or ncol is None:
        return None
    mser = df[mcol] if mcol else pd.Series([None] * len(df), index=df.index)
    return pd.Series([stage_from_tnm(t, n, m) for t, n, m in zip(df[tcol], df[ncol], mser, strict=True)],
                     index=df.index, dtype=object)


def write_default_histology_map(path: str | Path) -> None:
    pd.DataFrame(DEFAULT_HISTOLOGY_RULES, columns=["pattern", "histology"]).to_csv(path, index=False)
