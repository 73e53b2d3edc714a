"""INGEST: read the cohorts of a samplesheet (expression, radiomics, clinical) into one raw cohort table set.

Every check fails with a :class:`RadplugInputError` naming the file, the row or column, and what to do."""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from radplug.data.clinical import find_stage_columns, normalize_histology, normalize_stage, read_histology_map
from radplug.data.radiomics import SELECTION_COLUMNS, filter_features, near_duplicates
from radplug.io import RadplugInputError, read_text

log = logging.getLogger(__name__)

SAMPLESHEET_COLUMNS = ("cohort", "role", "expression", "radiomics", "clinical", "annotation")
ID_CANDIDATES = (
    "sample_id",
    "sample",
    "sample.name",
    "sample_name",
    "id",
    "patient",
    "patient_id",
    "case_id",
    "name",
)
NA_STRINGS = ("", "NA", "NaN", "nan", "null", "NULL", "Null", "N/A", "na", "n/a", "None", "#N/A")
SCHEMA_INPUT = Path(__file__).resolve().parent.parent / "schemas" / "schema_input.json"  # assets/ links here


# --------------------------------------------------------------------------- low-level readers
def _suffix(path: Path) -> str:
    name = re.sub(r"\.gz$", "", path.name.lower())
    return name.rsplit(".", 1)[-1] if "." in name else ""


def detect_format(path: Path, text: str | None = None) -> str:
    """One of parquet, h5ad, gct, series_matrix, cls, delimited."""
    suffix = _suffix(path)
    if suffix in ("parquet", "h5ad", "cls"):
        return suffix
    if text is None:
        text = read_text(path)
    if suffix == "gct" or text.startswith(("#1.2", "#1.3")):
        return "gct"
    if "!series_matrix_table_begin" in text[:5_000_000].lower():
        return "series_matrix"
    return "delimited"


def _csv_keep_duplicates(text: str, sep: str) -> pd.DataFrame:
    """read_csv with the first line as header, keeping duplicate column names (pandas would rename them)."""
    df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=None)
    header = [str(c).strip() for c in df.iloc[0]]
    df = df.iloc[1:].reset_index(drop=True)
    df.columns = header
    return df


def _read_delimited(text: str, path: Path) -> pd.DataFrame:
    text = text.replace("\r\n", "\n").replace("\r", "")
    first = text.split("\n", 1)[0]
    sep = "\t" if _suffix(path) in ("tsv", "tab") or first.count("\t") > first.count(",") else ","
    kind = "TSV" if sep == "\t" else "CSV"
    try:
        df = _csv_keep_duplicates(text, sep)
    except Exception as exc:
        raise RadplugInputError(
            f"{path}: not a readable {kind} file ({str(exc).strip()}); check the delimiter "
            "and that every row has as many fields as the header"
        ) from exc
    if df.shape[1] < 2:
        raise RadplugInputError(
            f"{path}: needs a header row and at least two {kind} columns; found "
            f"{df.shape[1]} column(s) (is the delimiter right?); separate the columns with commas or tabs"
        )
    if df.empty:
        raise RadplugInputError(f"{path}: has a header but no data rows; add the rows (is the file complete?)")
    return df


def _read_h5ad(path: Path) -> pd.DataFrame:
    try:
        import anndata
    except ImportError as exc:
        raise RadplugInputError(
            f"{path}: reading .h5ad needs the anndata package (pip install anndata)"
        ) from exc
    try:
        ad = anndata.read_h5ad(path)
    except Exception as exc:
        raise RadplugInputError(f"{path}: not a readable .h5ad file ({exc})") from exc
    X = ad.X.toarray() if hasattr(ad.X, "toarray") else np.asarray(ad.X)
    return pd.DataFrame(X, index=ad.obs_names.astype(str), columns=ad.var_names.astype(str)).reset_index(
        names="sample_id"
    )


def read_table(path: str | Path) -> pd.DataFrame:
    """A delimited, Parquet, GCT, series-matrix or .h5ad file as a raw DataFrame: first column the row ids."""
    path = Path(path)
    fmt = detect_format(path) if _suffix(path) in ("parquet", "h5ad") else None
    if fmt == "parquet":
        from radplug.io import read_parquet

        if path.exists() and path.is_file() and path.stat().st_size == 0:
            raise RadplugInputError(f"{path}: file is empty; check the path and write or download the file again")
        df = read_parquet(path)
        if df.empty or df.shape[1] < 2:
            raise RadplugInputError(f"{path}: the Parquet table is empty or has fewer than two columns")
        df.attrs["format"] = "parquet"
        return df
    if fmt == "h5ad":
        df = _read_h5ad(path)
        df.attrs["format"] = "h5ad"
        return df
    text = read_text(path)
    fmt = detect_format(path, text)
    if fmt == "gct":
        df = read_gct_text(text, str(path))
    elif fmt == "series_matrix":
        from radplug.data.geo import read_series_matrix_text

        sm = read_series_matrix_text(text, str(path))
        df = sm.reset_index(names="ID_REF")
        df.attrs = dict(sm.attrs)
    else:
        df = _read_delimited(text, path)
    df.attrs["format"] = fmt
    return df


def read_gct_text(text: str, origin: str) -> pd.DataFrame:
    """GCT 1.2 (NAME, Description, samples...) -> genes as rows: first column NAME, then samples."""
    lines = text.replace("\r\n", "\n").replace("\r", "").split("\n")
    if not lines[0].startswith("#1.2"):
        raise RadplugInputError(
            f"{origin}: only GCT version 1.2 is supported (first line '#1.2'), got {lines[0][:20]!r}; save it as "
            "GCT 1.2 or as a CSV/TSV table"
        )
    if len(lines) < 4:
        raise RadplugInputError(f"{origin}: a GCT file needs '#1.2', a size line, a header and data rows")
    try:
        n_rows, n_cols = (int(x) for x in lines[1].split("\t")[:2])
    except ValueError:
        raise RadplugInputError(
            f"{origin}, line 2: expected '<rows><TAB><columns>', got {lines[1][:40]!r}"
        ) from None
    df = _csv_keep_duplicates("\n".join(lines[2:]), "\t")
    desc = [c for c in df.columns[1:2] if c.lower() in ("description", "desc")]
    df = df.drop(columns=desc)
    if df.shape != (n_rows, n_cols + 1):
        log.warning(
            "%s: the GCT size line says %d x %d but the table has %d rows and %d sample columns",
            origin,
            n_rows,
            n_cols,
            df.shape[0],
            df.shape[1] - 1,
        )
    return df


# --------------------------------------------------------------------------- orientation and ids
_ID_SEPARATORS = re.compile(r"[\s\-_.]+")
ID_SPELLING = "case, spaces and the separators - _ ."


def normalized_id(sample_id: object) -> str:
    """A sample id as compared for duplicates: trimmed, case-folded, each run of spaces, '-', '_' and '.' as one
    '-' ('TCGA-05-4244', 'tcga_05_4244' and 'TCGA.05.4244' are one patient)."""
    return _ID_SEPARATORS.sub("-", str(sample_id).strip().casefold())


def near_duplicate_ids(ids: list[str]) -> list[list[str]]:
    """Groups of distinct ids that are equal by :func:`normalized_id` (one patient spelled two ways?)."""
    groups: dict[str, list[str]] = {}
    for i in dict.fromkeys(map(str, ids)):
        groups.setdefault(normalized_id(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def check_near_duplicate_ids(ids: list[str], origin: str, where: str = "",
                             rows: dict[str, int] | None = None) -> None:
    """Refuse ids of one file that differ only in case, spaces or separators (``rows``: id -> file row)."""
    groups = near_duplicate_ids(ids)
    if not groups:
        return
    shown = "; ".join(" and ".join(f"'{i}'" + (f" (row {rows[i]})" if rows and i in rows else "") for i in g)
                      for g in groups[:3])
    raise RadplugInputError(
        f"{origin}: {len(groups)} sample id(s) given twice{where} when {ID_SPELLING} are ignored: {shown}; the same "
        "patient twice? Each sample must appear once: remove the repeat, or give clearly distinct ids if they "
        "are different patients")


def find_id_column(df: pd.DataFrame, origin: str, id_column: str | None = None) -> str:
    """The sample-id column: ``id_column`` if given, else a conventional name, else the first column."""
    if id_column:
        if id_column not in df.columns:
            raise RadplugInputError(
                f"{origin}: id column '{id_column}' (--id_column) not found; columns are "
                f"{list(df.columns)[:10]}; give one of them to --id_column"
            )
        return id_column
    lower = {c.lower().strip(): c for c in df.columns}
    for cand in ID_CANDIDATES:
        if cand in lower:
            return lower[cand]
    return df.columns[0]


def _parse_cells(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(float values, NaN where not a number; mask of cells written as missing) of a table of text cells, in one
    vectorised pass."""
    text = np.char.strip(df.to_numpy(dtype=str)) if df.size else np.zeros(df.shape, dtype=str)
    na = np.isin(text, NA_STRINGS)
    flat = pd.to_numeric(pd.Series(text.ravel(), dtype=object), errors="coerce")
    return flat.to_numpy(dtype=np.float64, na_value=np.nan).reshape(df.shape), na


def to_numeric_matrix(df: pd.DataFrame, origin: str, what: str) -> pd.DataFrame:
    """Convert all cells to float; a clear error names the first non-numeric or infinite cell."""
    if all(pd.api.types.is_numeric_dtype(t) for t in df.dtypes):
        out = df.astype(np.float64)
    else:
        values, na = _parse_cells(df)
        out = pd.DataFrame(values, index=df.index, columns=df.columns)
        bad = pd.DataFrame(np.isnan(values) & ~na, index=df.index, columns=df.columns)
        if bad.to_numpy().any():
            r, c = np.argwhere(bad.to_numpy())[0]
            raise RadplugInputError(
                f"{origin}: {what} value {df.iat[r, c]!r} at row '{df.index[r]}', column '{df.columns[c]}' "
                "is not "
                f"a number; fix it, or leave the cell empty to mark it missing ({int(bad.to_numpy().sum())} "
                "non-numeric cell(s) in all)"
            )
        out = out.astype(np.float64)
    inf = np.isinf(out.to_numpy())
    if inf.any():
        r, c = np.argwhere(inf)[0]
        raise RadplugInputError(
            f"{origin}: {what} value at row '{out.index[r]}', column '{out.columns[c]}' is infinite; "
            f"replace it with a finite value or leave it empty ({int(inf.sum())} infinite cell(s) in all)"
        )
    return out


def _drop_text_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Drop a leading description/annotation column (e.g. GCT-like 'Description' in a TSV)."""
    if table.shape[1] and str(table.columns[0]).strip().lower() in (
        "description",
        "desc",
        "gene_title",
        "gene title",
    ):
        return table.drop(columns=table.columns[0])
    return table


def read_expression_file(
    path: str | Path,
    orientation: str = "auto",
    known_ids: set[str] | None = None,
    annotation: str | Path | None = None,
    collapse: str = "mean",
    messages: list[str] | None = None,
    collapse_choice: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Expression as samples x genes (float). ``orientation``: auto, samples_rows or genes_rows (GCT, series
    matrix and .h5ad have a fixed layout). With ``annotation``, probes are collapsed to gene symbols;
    duplicate gene symbols are always collapsed by ``collapse`` (mean, max_mean, max_variance).
    ``collapse_choice`` (gene -> probe or column id, from the training cohort) fixes the probe that
    max_mean/max_variance keep; the choice used is returned in ``attrs['collapse_choice']``."""
    from radplug.data.geo import collapse_columns

    path = Path(path)
    messages = messages if messages is not None else []
    if orientation not in ("auto", "samples_rows", "genes_rows"):
        raise RadplugInputError(f"orientation must be auto, samples_rows or genes_rows, got {orientation!r}")
    raw = read_table(path)
    fmt = raw.attrs.get("format", "delimited")
    first = raw.columns[0]
    table = raw.set_index(first)
    table.index = table.index.astype(str).str.strip()
    table.columns = table.columns.astype(str).str.strip()
    table = _drop_text_columns(table)
    if fmt in ("gct", "series_matrix"):
        orientation = "genes_rows"
    elif fmt == "h5ad":
        orientation = "samples_rows"
    elif orientation == "auto":
        cols_known = len(set(table.columns) & known_ids) if known_ids else 0
        rows_known = len(set(table.index) & known_ids) if known_ids else 0
        if cols_known != rows_known:
            orientation = "genes_rows" if cols_known > rows_known else "samples_rows"
        else:
            orientation = "genes_rows" if table.shape[0] > table.shape[1] else "samples_rows"
        log.info("%s: orientation detected as %s (override with --orientation)", path, orientation)
    if orientation == "genes_rows":
        dup = table.columns[table.columns.duplicated()]
    else:
        dup = table.index[table.index.duplicated()]
    if len(dup):
        raise RadplugInputError(
            f"{path}: duplicate sample id(s) {', '.join(map(str, dup.unique()[:5]))}; each "
            "sample must appear once (remove or rename the repeats)"
        )
    check_near_duplicate_ids(list(table.columns if orientation == "genes_rows" else table.index), str(path))
    values = to_numeric_matrix(table, str(path), "expression")
    if orientation == "genes_rows":
        values = values.T
    values.index.name = "sample_id"
    titles = raw.attrs.get("sample_titles")
    if titles and known_ids:
        by_title = len(set(titles.values()) & known_ids)
        if by_title > len(set(values.index) & known_ids):
            values.index = pd.Index([titles.get(s, s) for s in values.index], name="sample_id")
            messages.append(
                f"{path}: samples renamed from GEO accessions to their !Sample_title, which match "
                "the other tables"
            )
    if annotation:
        from radplug.data.geo import collapse_probes, read_platform_annotation

        n_probes = values.shape[1]
        values = collapse_probes(
            values, read_platform_annotation(annotation), method=collapse, origin=str(path),
            choice=collapse_choice,
        )
        messages.append(
            f"{path}: {n_probes} probes collapsed to {values.shape[1]} gene symbols with "
            f"{Path(annotation).name} ({collapse})"
        )
    elif values.columns.duplicated().any():
        ndup = int(values.columns.duplicated().sum())
        examples = ", ".join(map(str, values.columns[values.columns.duplicated()].unique()[:3]))
        values = collapse_columns(values, values.columns, collapse, collapse_choice)
        messages.append(
            f"{path}: {ndup} duplicate gene symbol(s) (e.g. {examples}) collapsed by --collapse {collapse}"
        )
    if collapse_choice is not None and values.attrs.get("collapse_choice") is not None:
        fb = int(values.attrs.get("collapse_fallbacks", 0))
        messages.append(
            f"{path}: --collapse {collapse} kept the probe chosen on the training cohort for every gene"
            + (f" but {fb}, whose chosen probe is absent here (this file's own choice used)" if fb else "")
        )
    empty_genes = [g for g in values.columns if not str(g).strip() or str(g).lower() in ("nan", "none")]
    if empty_genes:
        raise RadplugInputError(f"{path}: {len(empty_genes)} gene(s) have an empty name; name or remove them")
    return values


def read_labels_file(path: str | Path, id_column: str | None = None) -> pd.DataFrame:
    """A clinical or radiomics table indexed by sample id (strings kept). A GEO series matrix gives its
    sample titles and characteristics."""
    path = Path(path)
    raw = read_table(path)
    if raw.attrs.get("format") == "series_matrix":
        from radplug.data.geo import series_matrix_samples

        return series_matrix_samples(raw.columns[1:], raw.attrs)      # first column: ID_REF
    col = find_id_column(raw, str(path), id_column)
    ids = raw[col].astype(str).str.strip()
    empty = ids[ids.isin(["", "nan", "None"])]
    if len(empty):
        raise RadplugInputError(
            f"{path}, row {int(empty.index[0]) + 2}: empty sample id in column '{col}'; "
            "fill it or remove the row"
        )
    dup = ids[ids.duplicated()]
    if len(dup):
        rows = [int(i) + 2 for i in ids.index[ids == dup.iloc[0]]]
        raise RadplugInputError(
            f"{path}: duplicate sample id(s) in column '{col}': "
            f"{', '.join(map(str, dup.unique()[:5]))} (e.g. rows {rows}); each sample must "
            "appear once (remove or rename the repeats)"
        )
    check_near_duplicate_ids(list(ids), str(path), f" in column '{col}'",
                             {i: int(r) + 2 for r, i in ids.items()})
    out = raw.drop(columns=[col])
    out.index = pd.Index(ids, name="sample_id")
    return out


# --------------------------------------------------------------------------- radiomics tables (PyRadiomics)
PATH_COLUMNS = ("mask", "image")      # PyRadiomics batch output: the path columns ids may come from (Mask first)
_IMAGE_SUFFIX = re.compile(r"\.(nii\.gz|nii|nrrd|nhdr|mha|mhd|dcm|img|hdr|gz)$", re.IGNORECASE)


def is_pyradiomics_table(columns: list[str]) -> bool:
    """Whether a table's header is PyRadiomics batch output: Image and Mask path columns, or diagnostics_*."""
    low = {str(c).strip().lower() for c in columns}
    return {"image", "mask"} <= low or any(str(c).startswith("diagnostics_") for c in columns)


def _path_parts(paths: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(file name without image extension, parent folder name) of each path (``/`` or ``\\`` separated)."""
    parts = paths.astype(str).str.strip().str.replace("\\", "/", regex=False).str.rstrip("/").str.split("/")
    stem = parts.map(lambda p: _IMAGE_SUFFIX.sub("", p[-1]) if p else "")
    parent = parts.map(lambda p: p[-2] if len(p) > 1 else "")
    return stem, parent


def _ids_from_pattern(values: pd.Series, pattern: str, origin: str, column: str) -> pd.Series:
    """The first group (or the whole match) of ``pattern`` in each value; a clear error for a row without one."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise RadplugInputError(f"--radiomics_id_pattern {pattern!r} is not a valid regular expression ({exc})") \
            from None
    out = []
    for i, v in enumerate(values.astype(str)):
        m = rx.search(v)
        if m is None:
            raise RadplugInputError(
                f"{origin}, row {i + 2}: --radiomics_id_pattern {pattern!r} does not match column '{column}' "
                f"({v!r}); adjust the pattern (its first group, or the whole match, is the patient id)"
            )
        out.append(m.group(1) if rx.groups else m.group(0))
    return pd.Series(out, index=values.index)


def _check_text_columns(table: pd.DataFrame, origin: str) -> None:
    """Refuse a feature column whose every value is text (not a number): it is not a radiomic feature."""
    if table.empty or all(pd.api.types.is_numeric_dtype(t) for t in table.dtypes):
        return
    values, na = _parse_cells(table)
    text_only = (np.isnan(values) & ~na).sum(axis=0) == (~na).sum(axis=0)
    text_only &= (~na).any(axis=0)
    if text_only.any():
        j = int(np.argmax(text_only))
        first = table.iloc[int(np.argmax(~na[:, j])), j]
        raise RadplugInputError(
            f"{origin}: column '{table.columns[j]}' holds text, not numbers (e.g. {str(first).strip()!r}), so it is "
            f"not a radiomic feature ({int(text_only.sum())} such column(s)); remove the column (or, if it holds "
            "the patient id, name it with --id_column)"
        )


def read_radiomics_file(path: str | Path, id_column: str | None = None, id_pattern: str | None = None,
                        known_ids: set[str] | None = None, messages: list[str] | None = None) -> pd.DataFrame:
    """A radiomics table indexed by patient id: feature columns only (strings kept).

    PyRadiomics batch output is read as written: its unnamed index column, ``Image``/``Mask`` paths and
    ``diagnostics_*`` columns are dropped (one note), and the patient id comes from ``id_column``, a
    conventional id column, ``id_pattern`` (a regex whose first group is the id, searched in the Mask, then
    the Image path), or else the file name (without extension) or folder name of the Mask or Image path,
    whichever matches the most ``known_ids`` (the clinical table's) and is unique. In another table
    ``id_pattern`` extracts the id from the id column."""
    path = Path(path)
    messages = messages if messages is not None else []
    raw = read_table(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    if not is_pyradiomics_table(list(raw.columns)):
        out = read_labels_file(path, id_column)
        if id_pattern:
            ids = _ids_from_pattern(pd.Series(out.index, index=out.index), id_pattern, str(path), "id column")
            out.index = pd.Index(ids.to_numpy(), name="sample_id")
            _refuse_duplicates(out.index.to_series(), path, "the ids --radiomics_id_pattern took from the id column")
        _check_text_columns(out, str(path))
        return out
    if raw.columns[0] in ("", "Unnamed: 0"):                      # pandas' row index, written by to_csv
        raw = raw.drop(columns=raw.columns[0])
    diag = [c for c in raw.columns if c.startswith("diagnostics_")]
    paths = {c.lower(): c for c in raw.columns if c.lower() in PATH_COLUMNS}
    lower = {c.lower(): c for c in raw.columns}
    id_col = id_column if id_column in raw.columns else next((lower[c] for c in ID_CANDIDATES if c in lower), None)
    if id_column and id_column not in raw.columns:
        messages.append(f"{path}: --id_column '{id_column}' is not a column of this PyRadiomics output; the patient "
                        "id is taken from its path columns instead")
    if id_col is not None and not id_pattern:
        ids, source = raw[id_col].astype(str).str.strip(), f"column '{id_col}'"
    elif id_pattern:
        src_col = id_col or next((paths[c] for c in PATH_COLUMNS if c in paths), None)
        if src_col is None:
            raise RadplugInputError(f"{path}: --radiomics_id_pattern needs an Image, Mask or id column; this "
                                    "PyRadiomics output has none")
        ids, source = _ids_from_pattern(raw[src_col], id_pattern, str(path), src_col), \
            f"--radiomics_id_pattern in column '{src_col}'"
    else:
        candidates = []
        for c in PATH_COLUMNS:
            if c in paths:
                stem, parent = _path_parts(raw[paths[c]])
                candidates += [(stem, f"the file names of column '{paths[c]}'"),
                               (parent, f"the folder names of column '{paths[c]}'")]
        usable = [(s, d) for s, d in candidates if not s.isin(["", "nan", "None"]).any()]
        if not usable:
            raise RadplugInputError(
                f"{path}: no recognisable patient id in this PyRadiomics output: no id column "
                f"({', '.join(ID_CANDIDATES)}) and no usable Image/Mask path column; name the id column with "
                "--id_column, or give --radiomics_id_pattern (a regex whose first group is the id, searched in "
                "the Mask path)"
            )
        known = known_ids or set()
        ids, source = max(usable, key=lambda sd: (len(set(sd[0]) & known), sd[0].nunique()))
        if ids.nunique() == 1 and len(ids) > 1:
            raise RadplugInputError(
                f"{path}: no recognisable patient id: every row's Image/Mask path gives the same name "
                f"{ids.iloc[0]!r}; give --radiomics_id_pattern (a regex whose first group is the id, searched in "
                "the Mask path) or add a sample_id column"
            )
    ids = ids.astype(str).str.strip()
    _refuse_duplicates(ids, path, f"the patient ids taken from {source}")
    drop = [*diag, *paths.values(), *([id_col] if id_col else [])]
    out = raw.drop(columns=list(dict.fromkeys(drop)))
    out.index = pd.Index(ids.to_numpy(), name="sample_id")
    messages.append(
        f"{path}: PyRadiomics batch output: patient ids from {source} (e.g. {', '.join(ids.iloc[:2])}); "
        f"{len(diag)} diagnostics_* column(s) and the path columns dropped; {out.shape[1]} feature column(s)"
    )
    _check_text_columns(out, str(path))
    return out


def _refuse_duplicates(ids: pd.Series, path: Path, what: str) -> None:
    dup = ids[ids.duplicated()]
    if len(dup):
        rows = [int(i) + 2 for i, v in enumerate(ids) if v == dup.iloc[0]]
        raise RadplugInputError(
            f"{path}: duplicate patient(s) {', '.join(map(str, dup.unique()[:5]))} in {what} (rows {rows}); each "
            "patient must appear once: remove the repeated rows (e.g. a second lesion), or choose another id with "
            "--id_column or --radiomics_id_pattern"
        )


# --------------------------------------------------------------------------- samplesheet
@dataclass
class Cohort:
    name: str
    role: str
    expression: Path
    radiomics: Path | None = None
    clinical: Path | None = None
    annotation: Path | None = None
    extra: dict = field(default_factory=dict)


def load_input_schema() -> dict:
    """The samplesheet JSON schema (assets/schema_input.json)."""
    if not SCHEMA_INPUT.exists():
        raise RadplugInputError(f"{SCHEMA_INPUT}: the samplesheet schema is missing from this installation")
    return json.loads(SCHEMA_INPUT.read_text())


FILE_COLUMNS = ("expression", "radiomics", "clinical", "annotation")


def parse_samplesheet(path: str | Path) -> list[dict[str, str]]:
    """The one samplesheet parser, used by ``radplug ingest`` and by the pipeline (its SAMPLESHEET step):
    the file is decoded as every input file is (UTF-8 with or without BOM, else latin-1; CRLF or LF), the
    delimiter is a tab when the header has more tabs than commas (or the file is .tsv/.tab), else a comma;
    fields may be quoted (``"a, b.csv"``); header names and values are trimmed and header names lower-cased.
    A duplicated, unknown or missing column, a schema violation (assets/schema_input.json), a duplicated
    cohort name or no training cohort is refused, naming the file, row and column. Returns one dict per
    cohort with the non-empty values as written (paths not resolved)."""
    import jsonschema

    path = Path(path)
    text = read_text(path)
    df = _read_delimited(text, path) if detect_format(path, text) == "delimited" else None
    if df is None:
        raise RadplugInputError(
            f"{path}: a samplesheet must be a CSV file (columns {', '.join(SAMPLESHEET_COLUMNS)})"
        )
    df.columns = [c.strip().lower() for c in df.columns]
    dup_cols = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dup_cols:
        raise RadplugInputError(
            f"{path}: samplesheet column(s) {', '.join(dup_cols)} appear more than once in the header; "
            "keep one of each"
        )
    schema = load_input_schema()
    allowed = list(schema["items"]["properties"])
    unknown = [c for c in df.columns if c not in allowed]
    if unknown:
        raise RadplugInputError(
            f"{path}: unknown samplesheet column(s) {', '.join(unknown)}; allowed columns are "
            f"{', '.join(allowed)}"
        )
    missing = [c for c in schema["items"]["required"] if c not in df.columns]
    if missing:
        raise RadplugInputError(
            f"{path}: samplesheet lacks column(s) {', '.join(missing)}; add them (the columns are "
            f"{', '.join(SAMPLESHEET_COLUMNS)})"
        )
    records = [{k: str(v).strip() for k, v in row.items() if str(v).strip()} for row in df.to_dict("records")]
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(records), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        loc = list(e.absolute_path)
        row = f"row {loc[0] + 2}" if loc else "header"
        col = f", column '{loc[1]}'" if len(loc) > 1 else ""
        msg = e.message
        if e.validator in ("pattern", "enum", "anyOf") and isinstance(e.schema, dict):
            msg = e.schema.get("errorMessage", e.message)
        raise RadplugInputError(f"{path}, {row}{col}: {msg}")
    names = [r["cohort"] for r in records]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise RadplugInputError(
            f"{path}: cohort name(s) {', '.join(dup)} appear more than once; each row needs a "
            "unique cohort name: rename the repeats"
        )
    if not any(r["role"] == "train" for r in records):
        raise RadplugInputError(f"{path}: no cohort has role 'train'; one cohort must be the training cohort: "
                                "give it role 'train'")
    return records


def resolve_sheet_path(value: str, base: Path) -> str:
    """A samplesheet path as a location: absolute paths and URLs (``s3://...``) as given, others relative to
    ``base`` (the samplesheet's folder)."""
    if "://" in value or Path(value).is_absolute():
        return value
    return str(base / value)


def read_samplesheet(path: str | Path) -> list[Cohort]:
    """Read and validate the cohort samplesheet (:func:`parse_samplesheet`); paths relative to the
    samplesheet's folder."""
    path = Path(path)
    cohorts = []
    for rec in parse_samplesheet(path):

        def p(col: str, rec: dict = rec) -> Path | None:
            v = rec.get(col, "")
            return Path(resolve_sheet_path(v, path.parent)) if v else None

        cohorts.append(
            Cohort(
                rec["cohort"], rec["role"], p("expression"), p("radiomics"), p("clinical"), p("annotation")
            )
        )
    return cohorts


def normalized_samplesheet(path: str | Path, base: str | Path | None = None) -> list[dict[str, str]]:
    """The samplesheet as the pipeline stages it: :func:`parse_samplesheet`'s rows with every file path
    resolved against ``base`` (default: the sheet's folder) and the path as written kept under
    ``given_<column>`` (for messages)."""
    path = Path(path)
    base = Path(base) if base else path.parent
    out = []
    for rec in parse_samplesheet(path):
        row = {"cohort": rec["cohort"], "role": rec["role"]}
        for col in FILE_COLUMNS:
            if rec.get(col):
                row[col] = resolve_sheet_path(rec[col], base)
                row[f"given_{col}"] = rec[col]
        out.append(row)
    return out


@dataclass
class IngestOptions:
    orientation: str = "auto"
    id_column: str | None = None
    clinical_targets: tuple[str, ...] = ("histology", "stage")
    histology_column: str | None = None
    histology_map: str | None = None
    collapse: str = "mean"
    allow_sample_mismatch: bool = False
    radiomics_id_pattern: str | None = None
    radiomics_include: str | None = None
    radiomics_exclude: str | None = None
    radiomics_max_correlation: float = 1.0


LABEL_MAPPING_COLUMNS = ["target", "text", "label", "by", "n", "cohort", "column"]


def _stage_mapping(clin: pd.DataFrame, stage: pd.Series, cohort: str) -> pd.DataFrame:
    """Each distinct stage text (or pT / pN / pM combination) of a cohort, the stage it became and how many
    samples carry it."""
    stage_col, tcol, ncol, mcol = find_stage_columns(clin)
    if stage_col is not None:
        text, by, column = clin[stage_col].astype(str).str.strip(), "stage text", stage_col
    else:
        parts = [clin[c].astype(str).str.strip() if c else pd.Series("", index=clin.index) for c in (tcol, ncol, mcol)]
        text, by, column = parts[0] + " / " + parts[1] + " / " + parts[2], "pT / pN / pM", f"{tcol}, {ncol}, {mcol}"
    df = pd.DataFrame({"text": text.to_numpy(), "label": stage.to_numpy()})
    out = df.groupby("text", sort=True, dropna=False).agg(label=("label", "first"), n=("label", "size")).reset_index()
    return out.assign(target="stage", by=by, cohort=cohort, column=column)[LABEL_MAPPING_COLUMNS]


RESERVED_NAMES = ("sample_id", "cohort", "source_cohort")


def check_feature_names(names: list[str], origin: Path | str, clinical_targets: tuple[str, ...] = ()) -> None:
    """Refuse radiomic feature names that are empty, given twice (also after trimming or in another case: they
    would share a file name on case-insensitive systems), reserved (``sample_id``, ``cohort``,
    ``source_cohort``) or equal to a clinical target's name. Any other text is allowed: names reach file
    names through :func:`radplug.io.safe_id` and commands quoted."""
    stripped = [str(n).strip() for n in names]
    if any(not n for n in stripped):
        raise RadplugInputError(f"{origin}: a radiomic feature column has an empty name; name it or remove it")
    seen: dict[str, str] = {}
    for n in stripped:
        key = n.lower()
        if key in seen:
            same = "is given twice" if seen[key] == n else f"and '{seen[key]}' differ only in case"
            raise RadplugInputError(f"{origin}: radiomic feature '{n}' {same}; each feature needs its own "
                                    "name: rename or remove the repeat")
        seen[key] = n
    reserved = [n for n in stripped if n.lower() in RESERVED_NAMES]
    if reserved:
        raise RadplugInputError(f"{origin}: radiomic feature name(s) {', '.join(reserved)} are reserved for radplug's "
                                f"own columns ({', '.join(RESERVED_NAMES)}); rename them")
    clash = [n for n in stripped if n in clinical_targets or n.lower() in ("histology", "stage")]
    if clash:
        raise RadplugInputError(f"{origin}: radiomic feature name(s) {', '.join(clash)} are also clinical target "
                                "names (--clinical_targets, histology, stage); rename the feature")


@dataclass
class Ingested:
    expression: pd.DataFrame  # samples x genes (all cohorts; NaN where a cohort lacks a gene)
    labels: pd.DataFrame  # sample_id, cohort, source_cohort, clinical targets, radiomic features
    features: pd.DataFrame  # name, kind (clinical|radiomic)
    histology_mapping: pd.DataFrame
    messages: list[str]
    label_mapping: pd.DataFrame | None = None  # target, text, label, by, n, cohort, column (histology, stage)
    radiomics_selection: pd.DataFrame | None = None  # radplug.data.radiomics.SELECTION_COLUMNS, one row per feature


def _find_histology_column(df: pd.DataFrame, hint: str | None, origin: Path) -> str | None:
    if hint:
        if hint not in df.columns:
            raise RadplugInputError(
                f"{origin}: histology column '{hint}' (--histology_column) not found; columns "
                f"are {list(df.columns)[:15]}"
            )
        return hint
    for c in df.columns:
        if "histolog" in c.lower():
            return c
    return None


def _clinical_table(c: Cohort, expr_ids: pd.Index, id_column: str | None) -> pd.DataFrame:
    if _suffix(c.clinical) == "cls":
        from radplug.data.geo import read_cls

        labels = read_cls(c.clinical)
        if len(labels) != len(expr_ids):
            raise RadplugInputError(
                f"{c.clinical}: {len(labels)} labels for {len(expr_ids)} samples in "
                f"{c.expression}; a .cls file lists one label per sample, in column order: fix the "
                "labels or the expression file"
            )
        return pd.DataFrame({"class": labels}, index=pd.Index(expr_ids, name="sample_id"))
    return read_labels_file(c.clinical, id_column)


def check_ids_across_cohorts(cohort_ids: list[tuple[Cohort, list[str]]]) -> None:
    """Refuse a patient in two cohorts: the same sample id, or ids equal once case, spaces and separators are
    ignored; the message names the ids, the cohorts and their files."""
    seen: dict[str, list[tuple[str, Cohort]]] = {}
    for c, ids in cohort_ids:
        for i in ids:
            seen.setdefault(normalized_id(i), []).append((str(i), c))
    shared = [v for v in seen.values() if len({c.name for _, c in v}) > 1]
    if not shared:
        return

    def files(c: Cohort) -> str:
        return ", ".join(p.name for p in (c.expression, c.radiomics, c.clinical) if p)

    shown = ", ".join("/".join(dict.fromkeys(i for i, _ in v)) for v in shared[:5])
    spelled = any(len({i for i, _ in v}) > 1 for v in shared)
    eg = " and ".join(f"'{i}' in cohort {c.name} ({files(c)})" for i, c in shared[0][:3])
    raise RadplugInputError(
        f"sample id(s) {shown} appear in more than one cohort"
        + (f" (ids compared ignoring {ID_SPELLING})" if spelled else "")
        + f" ({len(shared)} in all; e.g. {eg}): a patient belongs to one cohort only; remove it from one of them, or "
        "give distinct ids if they are different patients")


def ingest(samplesheet: str | Path, options: IngestOptions | None = None) -> Ingested:
    """Read every cohort of the samplesheet and join expression, clinical and radiomic tables."""
    opts = options or IngestOptions()
    cohorts = read_samplesheet(samplesheet)
    hist_map = read_histology_map(opts.histology_map)
    reserved = [t for t in opts.clinical_targets if t.lower() in RESERVED_NAMES]
    if reserved:
        raise RadplugInputError(f"--clinical_targets: {', '.join(reserved)} is reserved for radplug's own columns "
                                f"({', '.join(RESERVED_NAMES)}); rename that clinical column")
    exprs, labels, messages, mappings, stage_maps = {}, {}, [], [], []
    cohort_ids: list[tuple[Cohort, list[str]]] = []
    radiomic_names: list[str] = []
    selection: dict[str, dict] = {}       # feature -> its row of the selection table (first file that has it)
    # training cohorts first: --collapse max_mean/max_variance choose each gene's probe on the (first)
    # training cohort, and every other cohort keeps that probe
    train_choice: dict[str, str] | None = None
    order = sorted(range(len(cohorts)), key=lambda i: cohorts[i].role != "train")
    for i in order:
        c = cohorts[i]
        clin = None
        if c.clinical and _suffix(c.clinical) != "cls":
            clin = _clinical_table(c, pd.Index([]), opts.id_column)
        rad = None
        if c.radiomics:
            rad = read_radiomics_file(c.radiomics, opts.id_column, opts.radiomics_id_pattern,
                                      set(clin.index) if clin is not None else None, messages)
            rad = _filter_radiomics(rad, c.radiomics, opts, selection)
        known = set(clin.index if clin is not None else []) | set(rad.index if rad is not None else [])
        expr = read_expression_file(
            c.expression, opts.orientation, known, c.annotation, opts.collapse, messages, train_choice
        )
        if c.role == "train" and train_choice is None:
            train_choice = expr.attrs.get("collapse_choice")
        if c.clinical and clin is None:
            clin = _clinical_table(c, expr.index, opts.id_column)
        ids = pd.Index(expr.index)
        for other, table, fpath in (("clinical", clin, c.clinical), ("radiomics", rad, c.radiomics)):
            if table is None:
                continue
            only_expr = ids.difference(table.index)
            only_other = table.index.difference(ids)
            if len(only_expr) or len(only_other):
                msg = (
                    f"cohort {c.name}: {len(only_expr)} sample(s) in the expression file {c.expression.name} "
                    f"but not in the {other} file {fpath.name}, {len(only_other)} in the {other} file "
                    "but not "
                    f"in the expression file (e.g. {', '.join(list(only_expr[:3]) + list(only_other[:3]))})"
                )
                spelled = [g for g in near_duplicate_ids(list(only_expr) + list(only_other))
                           if any(i in only_expr for i in g) and any(i in only_other for i in g)]
                if spelled:
                    msg += (f"; {len(spelled)} pair(s) of them differ only in {ID_SPELLING} (e.g. '{spelled[0][0]}' in "
                            f"{c.expression.name} and '{spelled[0][1]}' in {fpath.name}): spell each id the same "
                            "way in every file")
                if not opts.allow_sample_mismatch:
                    raise RadplugInputError(
                        msg + "; fix the ids or pass --allow_sample_mismatch to continue with "
                        "the samples present in every table"
                    )
                ids = ids.intersection(table.index, sort=False)
                messages.append(msg + f"; continuing with the {len(ids)} sample(s) in every table")
        if len(ids) == 0:
            raise RadplugInputError(
                f"cohort {c.name}: no sample is present in every table; check that the sample "
                "ids of the expression, clinical and radiomics files match"
            )
        lab = pd.DataFrame(index=ids)
        lab["cohort"] = c.role
        lab["source_cohort"] = c.name
        if clin is not None:
            clin = clin.loc[ids]
            for target in opts.clinical_targets:
                if target == "histology":
                    col = _find_histology_column(clin, opts.histology_column, c.clinical)
                    if col is None:
                        raise RadplugInputError(
                            f"{c.clinical}: no histology column (a name containing "
                            "'histolog'); name it with --histology_column or drop 'histology' "
                            "from --clinical_targets"
                        )
                    lab["histology"], used = normalize_histology(clin[col], hist_map)
                    mappings.append(used.assign(cohort=c.name, column=col))
                elif target == "stage":
                    stage = normalize_stage(clin)
                    if stage is None:
                        raise RadplugInputError(
                            f"{c.clinical}: no stage column and no pT/pN columns; drop 'stage' "
                            "from --clinical_targets or add the column"
                        )
                    lab["stage"] = stage
                    stage_maps.append(_stage_mapping(clin, stage, c.name))
                else:
                    if target not in clin.columns:
                        raise RadplugInputError(
                            f"{c.clinical}: clinical target column '{target}' "
                            f"(--clinical_targets) not found; columns are "
                            f"{list(clin.columns)[:15]}; list existing columns in --clinical_targets"
                        )
                    vals = clin[target].astype(str).str.strip()
                    # a class coded 1 in one cohort and 1.0 in another (a float column) is the same class
                    vals = vals.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
                    lab[target] = vals.where(~vals.str.lower().isin([s.lower() for s in NA_STRINGS]), None)
                n_missing = int(lab[target].isna().sum())
                if n_missing:
                    messages.append(
                        f"cohort {c.name}: clinical target '{target}' missing for {n_missing} of "
                        f"{len(lab)} sample(s) (left missing)"
                    )
        elif opts.clinical_targets:
            messages.append(
                f"cohort {c.name}: no clinical file; clinical targets are missing for its samples"
            )
        if rad is not None:
            check_feature_names(list(rad.columns), c.radiomics, opts.clinical_targets)
            rad = rad.loc[ids]
            rvals = to_numeric_matrix(rad, str(c.radiomics), "radiomic feature")
            for col in rvals.columns:
                if col not in radiomic_names:
                    radiomic_names.append(col)
            lab = lab.join(rvals)
        exprs[i] = expr.loc[ids]
        cohort_ids.append((c, list(ids)))
        labels[i] = lab
        log.info("cohort %s (%s): %d samples, %d genes", c.name, c.role, len(ids), expr.shape[1])
    check_ids_across_cohorts(cohort_ids)
    expression = pd.concat([exprs[i] for i in sorted(exprs)], axis=0, join="outer")
    lab_all = pd.concat([labels[i] for i in sorted(labels)], axis=0)
    lab_all.index.name = "sample_id"
    sel_table = None
    if selection:
        radiomic_names = _drop_near_duplicates(lab_all, radiomic_names, selection, opts.radiomics_max_correlation,
                                               messages)
        lab_all = lab_all.drop(columns=[n for n, r in selection.items() if not r["kept"] and n in lab_all]).copy()
        sel_table = pd.DataFrame(list(selection.values()), columns=SELECTION_COLUMNS)
    clinical_present = [t for t in opts.clinical_targets if t in lab_all.columns]
    if not clinical_present and not radiomic_names:
        raise RadplugInputError(
            f"{samplesheet}: nothing to predict: no radiomics file and no clinical target; add "
            "a radiomics or clinical file, or set --clinical_targets"
        )
    features = pd.DataFrame(
        [{"name": t, "kind": "clinical"} for t in clinical_present]
        + [{"name": r, "kind": "radiomic"} for r in radiomic_names],
        columns=["name", "kind"],
    )
    hist_mapping = (
        pd.concat(mappings, ignore_index=True)
        if mappings
        else pd.DataFrame(columns=["text", "histology", "by", "n", "cohort", "column"])
    )
    label_mapping = pd.concat(
        [hist_mapping.rename(columns={"histology": "label"}).assign(target="histology"), *stage_maps],
        ignore_index=True)[LABEL_MAPPING_COLUMNS]
    return Ingested(expression, lab_all.reset_index(), features, hist_mapping, messages, label_mapping, sel_table)


def _filter_radiomics(rad: pd.DataFrame, origin: Path, opts: IngestOptions, selection: dict[str, dict]
                      ) -> pd.DataFrame:
    """Apply --radiomics_include / --radiomics_exclude to one radiomics table (rows recorded in ``selection``);
    refuse a filter that keeps none of its features."""
    table = filter_features([str(c).strip() for c in rad.columns], opts.radiomics_include, opts.radiomics_exclude)
    for row in table.to_dict("records"):
        selection.setdefault(row["feature"], row)
    if not table["kept"].any():
        types = ", ".join(sorted(set(table["image_type"]) - {""})[:12]) or "none recognised"
        classes = ", ".join(sorted(set(table["feature_class"]) - {""})) or "none recognised"
        raise RadplugInputError(
            f"{origin}: the radiomics filter (--radiomics_include {opts.radiomics_include or '(all)'!r}, "
            f"--radiomics_exclude {opts.radiomics_exclude or '(none)'!r}) keeps none of its {len(table)} radiomic "
            f"features; image types in this file: {types}; feature classes: {classes}; fix the filter "
            "(see docs/inputs.md, 'Selecting radiomic features')"
        )
    if (~table["kept"]).any():
        return rad.loc[:, table["kept"].to_numpy()]
    return rad


def _drop_near_duplicates(lab_all: pd.DataFrame, names: list[str], selection: dict[str, dict], threshold: float,
                          messages: list[str]) -> list[str]:
    """--radiomics_max_correlation: drop features whose |Spearman rho| on the training cohort with a feature kept
    before them exceeds ``threshold`` (off at 1); records partner and rho in ``selection``."""
    n_filtered = sum(not r["kept"] for r in selection.values())
    if n_filtered:
        messages.append(f"radiomics filter: {len(selection) - n_filtered} of {len(selection)} radiomic features kept "
                        "(--radiomics_include / --radiomics_exclude)")
    if threshold >= 1 or len(names) < 2:
        return names
    train = lab_all.loc[lab_all["cohort"] == "train", names].astype(np.float64)
    dups = near_duplicates(train, threshold)
    for row in dups.itertuples():
        if not row.kept:
            selection[row.feature].update(kept=False, partner=row.partner, rho=row.rho,
                                          reason=f"|Spearman rho| {abs(row.rho):.3f} > {threshold:g} with "
                                                 f"{row.partner} (training cohort)")
    kept = list(dups.loc[dups["kept"], "feature"])
    messages.append(f"--radiomics_max_correlation {threshold:g}: {len(names) - len(kept)} near-duplicate radiomic "
                    f"feature(s) dropped, {len(kept)} kept (see data/radiomics_selection.csv)")
    return kept
