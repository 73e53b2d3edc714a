"""Clinical label normalisation: free-text histology -> ADC/SCC/other, stage text or pTNM -> I/II/III/other.

Missing values stay missing (None); nothing is guessed. The rules are documented in docs/inputs.md."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from radplug.io import RadplugInputError

HISTOLOGY_CLASSES = ("ADC", "SCC", "other")
MISSING = {
    "",
    "na",
    "n/a",
    "nan",
    "none",
    "null",
    "unknown",
    "not available",
    "not reported",
    "missing",
    "?",
    "--",
    "-",
    "[not available]",
    "[unknown]",
    "[not evaluated]",
}

# Ordered regex rules on the lower-cased, whitespace-collapsed text; the first match wins.
# Shipped as assets/histology_map_default.csv; replace them with --histology_map (columns pattern,histology)
# or override single texts (columns text,histology).
DEFAULT_HISTOLOGY_RULES: list[tuple[str, str]] = [
    (r"ad[eé]no-?\s?(squam|[eé]pidermo)", "other"),
    (r"non-?\s?squam|non-?\s?[eé]pidermo", "other"),
    (r"squam|\bscc\b|\bsqcc\b|\bsq\.?\s?cc\b|\blusc\b|[eé]pidermo[iï]d|plattenepithel|escamo|malpighi", "SCC"),
    (r"ad[eé]no|\badc\b|\badca\b|\bluad\b|\bbac\b|bronchiolo-?\s?alveolar|lepidic|acinar|papillary|mucinous",
     "ADC"),
    (r".+", "other"),
]


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip().lower() in MISSING


def _key(text: object) -> str:
    return re.sub(r"\s+", " ", str(text).strip().lower())


def _check_labels(df: pd.DataFrame, path: str | Path) -> None:
    bad = df[
        ~df["histology"].isin(HISTOLOGY_CLASSES) & ~df["histology"].str.strip().str.lower().isin(MISSING)
    ]
    if len(bad):
        i = int(bad.index[0])
        raise RadplugInputError(
            f"{path}, row {i + 2}: histology must be one of {', '.join(HISTOLOGY_CLASSES)} "
            f"(or empty for missing), got {bad['histology'].iloc[0]!r}"
        )


def read_histology_map(path: str | Path | None) -> pd.DataFrame | None:
    """A histology mapping CSV: ``pattern,histology`` (ordered regex rules replacing the defaults) or
    ``text,histology`` (exact texts, case- and whitespace-insensitive, applied before the default rules)."""
    if not path:
        return None
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise RadplugInputError(f"{path}: not a readable CSV histology mapping ({exc})") from exc
    cols = set(df.columns)
    if "histology" not in cols or not ({"text", "pattern"} & cols):
        raise RadplugInputError(
            f"{path}: a histology mapping needs columns text,histology (exact texts) or "
            f"pattern,histology (regex rules); found {list(df.columns)}: rename its header"
        )
    _check_labels(df, path)
    if "pattern" in cols:
        for i, p in enumerate(df["pattern"]):
            try:
                re.compile(p)
            except re.error as exc:
                raise RadplugInputError(
                    f"{path}, row {i + 2}: invalid regular expression {p!r} ({exc})"
                ) from exc
    return df


def normalize_histology(
    values: pd.Series, mapping: pd.DataFrame | None = None
) -> tuple[pd.Series, pd.DataFrame]:
    """Map free text to ADC/SCC/other (missing stays missing). Returns the labels and the mapping used
    (one row per distinct text: text, histology, by, n)."""
    rules = DEFAULT_HISTOLOGY_RULES
    exact: dict[str, str] = {}
    if mapping is not None and "pattern" in mapping.columns:
        rules = list(zip(mapping["pattern"], mapping["histology"], strict=True))
    elif mapping is not None:
        exact = {_key(t): h for t, h in zip(mapping["text"], mapping["histology"], strict=True)}
    used: dict[str, tuple[object, str]] = {}

    def one(v: object) -> object:
        if _is_missing(v):
            return None
        text = str(v).strip()
        key = _key(text)
        if key in exact:
            label = exact[key] if exact[key].strip().lower() not in MISSING else None
            used[text] = (label, "override (text)")
            return label
        for pattern, label in rules:
            if re.search(pattern, key):
                used[text] = (label, f"rule /{pattern}/")
                return label
        used[text] = (None, "no rule matched")
        return None

    out = pd.Series([one(v) for v in values], index=values.index, dtype=object)
    counts = values.map(lambda v: None if _is_missing(v) else str(v).strip()).value_counts()
    table = pd.DataFrame(
        [
            {"text": t, "histology": h, "by": by, "n": int(counts.get(t, 0))}
            for t, (h, by) in sorted(used.items())
        ],
        columns=["text", "histology", "by", "n"],
    )
    return out, table


_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "i": "I", "ii": "II", "iii": "III", "iv": "IV"}
_TNM = re.compile(r"^(?:p|c|yp)?t(\w+?)\s*(?:p|c)?n(\w)\s*(?:(?:p|c)?m(\w+))?$")


def _stage_words(s: str) -> object:
    """Stage group of a lower-cased stage text without parentheses; None when not recognised."""
    tnm = _TNM.match(s)
    if tnm:
        return stage_from_tnm("t" + tnm.group(1), "n" + tnm.group(2), "m" + (tnm.group(3) or "x"))
    s = re.sub(r"^(ajcc\s*)?(patho(logic(al)?)?\.?\s*|clinical\s*)?(stage|st\.?)\s*", "", s).strip()
    s = re.sub(r"^([0-4])\.0+$", r"\1", s)             # numeric codes stored as floats: 3.0 -> 3
    if s in ("0", "is"):
        return "other"
    m = re.match(r"^(iv|iii|ii|i|[1-4])\s*[abc]?[12]?$", s)
    if not m:
        return None
    roman = _ROMAN[m.group(1)]
    return roman if roman in ("I", "II", "III") else "other"


def normalize_stage_text(v: object) -> object:
    """'Stage IIIA', 'IB', '3', '3.0', 'II', 'Ⅲ' (Unicode numerals) -> I/II/III; IV and 0 -> other; a TNM string
    ('T2N0M0') is staged from its parts; 'Stage IIIB (T4N0M0)': the stage, else the TNM in parentheses;
    missing or unrecognised text -> None."""
    import unicodedata

    if _is_missing(v):
        return None
    s = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(v)).strip().lower())
    inner = re.findall(r"\(([^)]*)\)", s)
    main = re.sub(r"\([^)]*\)", " ", s).strip()
    label = _stage_words(re.sub(r"\s+", " ", main)) if main else None
    if label is None:
        for part in inner:
            label = _stage_words(part.strip())
            if label is not None:
                break
    return label


def _code(v: object, letter: str, pattern: str) -> str | None:
    if _is_missing(v):
        return None
    s = str(v).strip().lower()
    m = re.match(rf"^(?:yp|p|c)?{letter}?\s*({pattern})", s)
    return m.group(1) if m else None


def stage_from_tnm(t: object, n: object, m: object) -> object:
    """Coarse AJCC stage group (I/II/III; IV and 0 -> other) from pT/pN/pM; None when undecidable.

    AJCC 7 grouping; T1/T2 without a sub-letter are grouped as in AJCC 6 (T2 N0 = IB). pMX or a missing M
    counts as M0 (AJCC 7 dropped MX: metastasis is recorded when found). TX or NX give a stage only when
    the other parts decide it (any T N2/N3 -> III; T4 any N -> III)."""
    tc = _code(t, "t", r"is|x|[0-4][abc]?")
    nc = _code(n, "n", r"x|[0-3]")
    mc = _code(m, "m", r"x|[01]")
    if mc == "1":
        return "other"
    if nc in ("2", "3"):
        return "III"
    if tc is not None and tc.startswith("4"):
        return "III"
    if tc is None or nc is None or tc == "x" or nc == "x":
        return None
    if tc == "is":
        return "other" if nc == "0" else None
    if tc.startswith("0"):
        return None
    if tc.startswith("3"):
        return "II" if nc == "0" else "III"
    if tc == "2b":
        return "II"
    return "I" if nc == "0" else "II"  # T1*, T2, T2a


def find_stage_columns(df: pd.DataFrame) -> tuple[str | None, str | None, str | None, str | None]:
    """(stage text column, T column, N column, M column) by name; None where absent."""
    cols = {c.lower(): c for c in df.columns}
    tnm_words = re.compile(r"primary|tumou?r$|nodes?$|mets?$|metast|[._ ][ptnm]$|(^|[._ ])p?[tnm][._ ]?stage$")
    stage_col = next(
        (
            cols[c]
            for c in cols
            if re.search(
                r"(^|[._ ])stage$|^stage|(^|[._ ])stage[._ ]?(group|"
                r"overall|ajcc)",
                c,
            )
            and not tnm_words.search(c)
        ),
        None,
    )
    tcol = next(
        (cols[c] for c in cols if re.search(r"primary.tumou?r|(^|[._ ])p?t([._ ]?stage)?$|^t[._ ]?stage", c)),
        None,
    )
    ncol = next(
        (
            cols[c]
            for c in cols
            if re.search(
                r"stage.nodes?|(^|[._ ])p?n([._ ]?stage)?$|^n[._ ]?stage|"
                r"lymph.?nodes?",
                c,
            )
        ),
        None,
    )
    mcol = next(
        (cols[c] for c in cols if re.search(r"stage.mets?|metast|(^|[._ ])p?m([._ ]?stage)?$|^m[._ ]?stage", c)),
        None,
    )
    return stage_col, tcol, ncol, mcol


def normalize_stage(df: pd.DataFrame) -> pd.Series | None:
    """Stage from a stage-text column, else from pT/pN(/pM) columns; None when the table has neither."""
    stage_col, tcol, ncol, mcol = find_stage_columns(df)
    if stage_col is not None:
        return pd.Series([normalize_stage_text(v) for v in df[stage_col]], index=df.index, dtype=object)
    if tcol is None or ncol is None:
        return None
    mser = df[mcol] if mcol else pd.Series([None] * len(df), index=df.index)
    return pd.Series(
        [stage_from_tnm(t, n, m) for t, n, m in zip(df[tcol], df[ncol], mser, strict=True)],
        index=df.index,
        dtype=object,
    )
