"""INGEST: read the cohorts of a samplesheet (expression, radiomics, clinical) into one raw cohort table set."""

from __future__ import annotations

import gzip
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from radplug.clinical import normalize_histology, normalize_stage, read_histology_map
from radplug.io import RadplugInputError

log = logging.getLogger(__name__)

ROLES = ("train", "test")
SAMPLESHEET_COLUMNS = ("cohort", "role", "expression", "radiomics", "clinical", "annotation")
ID_CANDIDATES = ("sample_id", "sample", "sample.name", "sample_name", "id", "patient", "patient_id", "case_id",
                 "name")


# --------------------------------------------------------------------------- low-level readers
def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise RadplugInputError(f"{path}: file not found")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if not data.strip():
        raise RadplugInputError(f"{path}: file is empty")
    return data


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    name = re.sub(r"\.gz$", "", name)
    return name.rsplit(".", 1)[-1] if "." in name else ""


def read_table(path: str | Path) -> pd.DataFrame:
    """A delimited, Parquet or GCT file as a raw DataFrame (no index; strings kept as read)."""
    path = Path(path)
    suffix = _suffix(path)
    if suffix == "parquet":
        from radplug.io import read_parquet

        return read_parquet(path)
    if suffix == "h5ad":
        try:
            import anndata  # noqa: F401
        except ImportError as exc:
            raise RadplugInputError(f"{path}: reading .h5ad needs the anndata package (pip install anndata)") from exc
        import anndata

        ad = anndata.read_h5ad(path)
        X = ad.X.toarray() if hasattr(ad.X, "toarray") else np.asarray(ad.X)
        return pd.DataFrame(X, index=ad.obs_names.astype(str), columns=ad.var_names.astype(str)).reset_index(
            names="sample_id")
    text = _decode(_read_bytes(path))
    if suffix == "gct" or text.startswith("#1.2") or text.startswith("#1.3"):
        return read_gct_text(text, str(path))
    if "!series_matrix_table_begin" in text:
        from radplug.geo import read_series_matrix_text

        return read_series_matrix_text(text, str(path)).reset_index(names="ID_REF")
    first_line = text.split("\n", 1)[0]
    tabbed = suffix in ("tsv", "txt", "tab") or first_line.count("\t") > first_line.count(",")
    sep = "\t" if tabbed else ","
    try:
        df = pd.read_csv(io.StringIO(text.replace("\r\n", "\n").replace("\r", "")), sep=sep, dtype=str,
                         keep_default_na=False)
    except Exception as exc:
        raise RadplugInputError(f"{path}: not a readable {'TSV' if sep == chr(9) else 'CSV'} file ({exc})") from exc
    if df.empty or df.shape[1] < 2:
        raise RadplugInputError(f"{path}: needs a header row and at least two columns; found shape {df.shape}")
    return df


def read_gct_text(text: str, origin: str) -> pd.DataFrame:
    """GCT 1.2 (NAME, Description, samples...) -> genes as rows: first column NAME, then samples."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines[0].startswith("#1.2"):
        raise RadplugInputError(f"{origin}: only GCT version 1.2 is supported (first line '#1.2')")
    df = pd.read_csv(io.StringIO("\n".join(lines[2:])), sep="\t", dtype=str, keep_default_na=False)
    desc = [c for c in df.columns[:2] if c.lower() == "description"]
    return df.drop(columns=desc)


# --------------------------------------------------------------------------- orientation and ids
def find_id_column(df: pd.DataFrame, origin: str, id_column: str | None = None) -> str:
    """The sample-id column: ``id_column`` if given, else a conventional name, else the first column."""
    if id_column:
        if id_column not in df.columns:
            raise RadplugInputError(f"{origin}: id column '{id_column}' not found; columns are {list(df.columns)[:10]}")
        return id_column
    lower = {c.lower().strip(): c for c in df.columns}
    for cand in ID_CANDIDATES:
        if cand in lower:
            return lower[cand]
    return df.columns[0]


def to_numeric_matrix(df: pd.DataFrame, origin: str, what: str) -> pd.DataFrame:
    """Convert all cells to float; a clear error names the first non-numeric cell."""
    out = df.apply(pd.to_numeric, errors="coerce")
    raw = df.astype(str).apply(lambda s: s.str.strip())
    bad = out.isna() & ~raw.isin(["", "NA", "NaN", "nan", "null", "NULL", "N/A", "na"])
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        raise RadplugInputError(
            f"{origin}: {what} value {df.iat[r, c]!r} at row '{df.index[r]}', column '{df.columns[c]}' is not a "
            "number; fix or remove it"
        )
    return out.astype(np.float64)


def read_expression_file(path: str | Path, orientation: str = "auto", known_ids: set[str] | None = None,
                         annotation: str | Path | None = None, collapse: str = "mean") -> pd.DataFrame:
    """Expression as samples x genes (float). ``orientation``: auto, samples_rows or genes_rows."""
    path = Path(path)
    raw = read_table(path)
    first = raw.columns[0]
    table = raw.set_index(first)
    table.index = table.index.astype(str).str.strip()
    table.columns = table.columns.astype(str).str.strip()
    if orientation == "auto":
        cols_known = len(set(table.columns) & known_ids) if known_ids else 0
        rows_known = len(set(table.index) & known_ids) if known_ids else 0
        if cols_known != rows_known:
            orientation = "genes_rows" if cols_known > rows_known else "samples_rows"
        else:
            orientation = "genes_rows" if table.shape[0] > table.shape[1] else "samples_rows"
    if orientation not in ("samples_rows", "genes_rows"):
        raise RadplugInputError(f"orientation must be auto, samples_rows or genes_rows, got {orientation!r}")
    values = to_numeric_matrix(table, str(path), "expression")
    if orientation == "genes_rows":
        values = values.T
    values.index.name = "sample_id"
    if annotation:
        from radplug.geo import collapse_probes, read_platform_annotation

        values = collapse_probes(values, read_platform_annotation(annotation), method=collapse, origin=str(path))
    return values


def read_labels_file(path: str | Path, id_column: str | None = None) -> pd.DataFrame:
    """A clinical or radiomics table indexed by sample id (strings kept)."""
    path = Path(path)
    raw = read_table(path)
    col = find_id_column(raw, str(path), id_column)
    ids = raw[col].astype(str).str.strip()
    dup = ids[ids.duplicated()]
    if len(dup):
        raise RadplugInputError(f"{path}: duplicate sample id(s) in column '{col}': {', '.join(dup.unique()[:5])}")
    out = raw.drop(columns=[col])
    out.index = pd.Index(ids, name="sample_id")
    return out


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


def read_samplesheet(path: str | Path) -> list[Cohort]:
    """Read and check the cohort samplesheet (paths relative to the samplesheet's folder)."""
    path = Path(path)
    df = read_table(path)
    df.columns = [c.strip().lower() for c in df.columns]
    missing = [c for c in ("cohort", "role", "expression") if c not in df.columns]
    if missing:
        raise RadplugInputError(f"{path}: samplesheet lacks column(s) {', '.join(missing)}; "
                                f"expected {', '.join(SAMPLESHEET_COLUMNS)}")
    cohorts = []
    for i, row in df.iterrows():
        role = str(row["role"]).strip().lower()
        if role not in ROLES:
            raise RadplugInputError(f"{path}, row {i + 2}: role must be train or test, got {row['role']!r}")

        def p(col: str, row=row) -> Path | None:
            v = str(row.get(col, "") or "").strip()
            return (path.parent / v) if v else None

        if p("expression") is None:
            raise RadplugInputError(f"{path}, row {i + 2}: the expression column is empty")
        cohorts.append(Cohort(str(row["cohort"]).strip(), role, p("expression"), p("radiomics"), p("clinical"),
                              p("annotation")))
    names = [c.name for c in cohorts]
    if len(set(names)) != len(names):
        raise RadplugInputError(f"{path}: cohort names must be unique: {names}")
    if not any(c.role == "train" for c in cohorts):
        raise RadplugInputError(f"{path}: no cohort has role 'train'")
    return cohorts


@dataclass
class IngestOptions:
    orientation: str = "auto"
    id_column: str | None = None
    clinical_targets: tuple[str, ...] = ("histology", "stage")
    histology_column: str | None = None
    histology_map: str | None = None
    collapse: str = "mean"
    allow_sample_mismatch: bool = False


@dataclass
class Ingested:
    expression: pd.DataFrame          # samples x genes (all cohorts; NaN where a cohort lacks a gene)
    labels: pd.DataFrame              # sample_id, cohort, source_cohort, clinical targets, radiomic features
    features: pd.DataFrame            # name, kind (clinical|radiomic)
    histology_mapping: pd.DataFrame
    messages: list[str]


def _find_histology_column(df: pd.DataFrame, hint: str | None) -> str | None:
    if hint:
        return hint if hint in df.columns else None
    for c in df.columns:
        if "histolog" in c.lower():
            return c
    return None


def ingest(samplesheet: str | Path, options: IngestOptions | None = None) -> Ingested:
    """Read every cohort of the samplesheet and join expression, clinical and radiomic tables."""
    opts = options or IngestOptions()
    cohorts = read_samplesheet(samplesheet)
    hist_map = read_histology_map(opts.histology_map)
    exprs, labels, messages, mappings = [], [], [], []
    radiomic_names: list[str] = []
    for c in cohorts:
        clin = read_labels_file(c.clinical, opts.id_column) if c.clinical else None
        rad = read_labels_file(c.radiomics, opts.id_column) if c.radiomics else None
        known = set(clin.index if clin is not None else []) | set(rad.index if rad is not None else [])
        expr = read_expression_file(c.expression, opts.orientation, known, c.annotation, opts.collapse)
        if expr.index.duplicated().any():
            dup = expr.index[expr.index.duplicated()].unique()[:5]
            raise RadplugInputError(f"{c.expression}: duplicate sample id(s) {', '.join(dup)}")
        if expr.columns.duplicated().any():
            ndup = int(expr.columns.duplicated().sum())
            messages.append(f"{c.expression}: {ndup} duplicate gene symbol(s) averaged")
            expr = expr.T.groupby(level=0, sort=False).mean().T
        ids = pd.Index(expr.index)
        for other, table in (("clinical", clin), ("radiomics", rad)):
            if table is None:
                continue
            only_expr = ids.difference(table.index)
            only_other = table.index.difference(ids)
            if len(only_expr) or len(only_other):
                msg = (f"cohort {c.name}: {len(only_expr)} sample(s) in the expression file but not in the "
                       f"{other} file, {len(only_other)} in the {other} file but not in the expression file "
                       f"(e.g. {', '.join(list(only_expr[:3]) + list(only_other[:3]))})")
                if not opts.allow_sample_mismatch:
                    raise RadplugInputError(msg + "; fix the ids or pass --allow_sample_mismatch to continue with "
                                            "the samples present in every table")
                messages.append(msg + "; continuing with the intersection")
                ids = ids.intersection(table.index)
        if len(ids) == 0:
            raise RadplugInputError(f"cohort {c.name}: no sample is present in every table")
        lab = pd.DataFrame(index=ids)
        lab["cohort"] = c.role
        lab["source_cohort"] = c.name
        if clin is not None:
            clin = clin.loc[ids]
            for target in opts.clinical_targets:
                if target == "histology":
                    col = _find_histology_column(clin, opts.histology_column)
                    if col is None:
                        lab["histology"] = None
                        messages.append(f"{c.clinical}: no histology column found")
                        continue
                    lab["histology"], used = normalize_histology(clin[col], hist_map)
                    mappings.append(used.assign(cohort=c.name, column=col))
                elif target == "stage":
                    stage = normalize_stage(clin)
                    lab["stage"] = stage if stage is not None else None
                    if stage is None:
                        messages.append(f"{c.clinical}: no stage or pT/pN columns found")
                else:
                    if target not in clin.columns:
                        raise RadplugInputError(f"{c.clinical}: clinical target column '{target}' not found; "
                                                f"columns are {list(clin.columns)[:15]}")
                    vals = clin[target].astype(str).str.strip()
                    lab[target] = vals.where(~vals.str.lower().isin(["", "na", "nan", "none"]), None)
        if rad is not None:
            rad = rad.loc[ids]
            rvals = to_numeric_matrix(rad, str(c.radiomics), "radiomic feature")
            for col in rvals.columns:
                if col not in radiomic_names:
                    radiomic_names.append(col)
            lab = lab.join(rvals)
        exprs.append(expr.loc[ids])
        labels.append(lab)
        log.info("cohort %s (%s): %d samples, %d genes", c.name, c.role, len(ids), expr.shape[1])
    expression = pd.concat(exprs, axis=0, join="outer")
    if expression.index.duplicated().any():
        dup = expression.index[expression.index.duplicated()].unique()[:5]
        raise RadplugInputError(f"sample id(s) {', '.join(dup)} appear in more than one cohort; make them unique")
    lab_all = pd.concat(labels, axis=0)
    lab_all.index.name = "sample_id"
    clinical_present = [t for t in opts.clinical_targets if t in lab_all.columns]
    features = pd.DataFrame(
        [{"name": t, "kind": "clinical"} for t in clinical_present]
        + [{"name": r, "kind": "radiomic"} for r in radiomic_names])
    hist_mapping = (pd.concat(mappings, ignore_index=True) if mappings
                    else pd.DataFrame(columns=["text", "histology", "by", "cohort", "column"]))
    return Ingested(expression, lab_all.reset_index(), features, hist_mapping, messages)
