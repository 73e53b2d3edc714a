"""GEO and GSEA formats: series matrix files, platform annotations (GPL tables, MSigDB .chip), probe collapse,
and GSEA .cls class labels."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from radplug.io import RadplugInputError, read_text

log = logging.getLogger(__name__)

COLLAPSE_METHODS = ("mean", "max_mean", "max_variance")
_SYMBOL_COLUMNS = ("gene symbol", "gene_symbol", "symbol", "genesymbol", "gene")
_PROBE_COLUMNS = ("id", "probe set id", "probe_set_id", "probe", "probe_id", "id_ref", "probeset")
_MISSING_SYMBOLS = {"", "---", "na", "nan", "null", "none", "-"}


def _split_row(line: str) -> list[str]:
    return next(csv.reader([line], delimiter="\t", quotechar='"'))


def read_series_matrix_text(text: str, origin: str) -> pd.DataFrame:
    """A GEO series matrix as probes x samples (float; index ``ID_REF``, columns GSM accessions).

    ``attrs`` holds ``sample_titles`` (GSM -> !Sample_title) and ``characteristics``
    (GSM -> {key: value}, from the ``!Sample_characteristics_ch1`` lines written as ``key: value``)."""
    lines = text.replace("\r\n", "\n").replace("\r", "").split("\n")
    try:
        begin = next(i for i, ln in enumerate(lines) if ln.strip().lower() == "!series_matrix_table_begin")
    except StopIteration:
        raise RadplugInputError(
            f"{origin}: no '!series_matrix_table_begin' line: not a GEO series matrix"
        ) from None
    end = next((i for i, ln in enumerate(lines) if ln.strip().lower() == "!series_matrix_table_end"), None)
    if end is None or end <= begin + 1:
        raise RadplugInputError(
            f"{origin}: the series matrix table has no '!series_matrix_table_end' line or no "
            "header; the file may be truncated: download it again"
        )
    meta: dict[str, list[list[str]]] = {}
    for ln in lines[:begin]:
        if ln.startswith("!Sample_"):
            row = _split_row(ln)
            meta.setdefault(row[0], []).append([v.strip() for v in row[1:]])
    body = "\n".join(ln for ln in lines[begin + 1 : end] if ln.strip())
    try:
        df = pd.read_csv(io.StringIO(body), sep="\t", quotechar='"', dtype=str, keep_default_na=False)
    except Exception as exc:
        raise RadplugInputError(f"{origin}: unreadable series matrix table ({exc})") from exc
    if df.columns[0].strip('"').upper() != "ID_REF":
        raise RadplugInputError(
            f"{origin}: the series matrix table must start with an ID_REF column, found {df.columns[0]!r}"
        )
    df = df.set_index(df.columns[0])
    df.index = df.index.astype(str).str.strip()
    df.index.name = "ID_REF"
    df.columns = df.columns.astype(str).str.strip()
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise RadplugInputError(f"{origin}: the series matrix table is empty")
    gsm = meta.get("!Sample_geo_accession", [list(df.columns)])[0]
    titles = meta.get("!Sample_title", [gsm])[0]
    if len(titles) == len(gsm):
        df.attrs["sample_titles"] = dict(zip(gsm, titles, strict=True))
    chars: dict[str, dict[str, str]] = {}
    for row in meta.get("!Sample_characteristics_ch1", []):
        for acc, cell in zip(gsm, row, strict=False):
            key, sep, val = cell.partition(":")
            if sep and val.strip():
                chars.setdefault(acc, {})[key.strip()] = val.strip()
    df.attrs["characteristics"] = chars
    return df


def read_series_matrix(path: str | Path) -> pd.DataFrame:
    """Read a (possibly gzipped) series matrix file; see :func:`read_series_matrix_text`."""
    return read_series_matrix_text(read_text(Path(path)), str(path))


def series_matrix_clinical(path: str | Path) -> pd.DataFrame:
    """Sample table of a series matrix: index GSM accession; columns title and each characteristics key."""
    sm = read_series_matrix(path)
    return series_matrix_samples(sm.columns, sm.attrs)


def series_matrix_samples(samples: pd.Index, attrs: dict) -> pd.DataFrame:
    """The sample table from an already parsed series matrix: its sample columns and its ``attrs``."""
    titles = pd.Series(attrs.get("sample_titles", {}), name="title", dtype=object)
    chars = pd.DataFrame.from_dict(attrs.get("characteristics", {}), orient="index")
    out = pd.DataFrame(index=pd.Index(samples, name="sample_id"))
    out["title"] = titles.reindex(out.index)
    if not chars.empty:
        out = out.join(chars)
    return out


def read_platform_annotation(path: str | Path) -> pd.DataFrame:
    """Probe -> gene symbol as a long table (probe, gene).

    Accepts a GEO GPL table (``ID`` and ``Gene Symbol`` columns, '#' comment lines, optional
    ``!platform_table_begin`` block, ``///``-separated multi-gene symbols) and MSigDB ``.chip`` files
    (``Probe Set ID``, ``Gene Symbol``; one row per probe and gene). Probes without a symbol are left out."""
    path = Path(path)
    text = read_text(path).replace("\r\n", "\n").replace("\r", "")
    lines = text.split("\n")
    low = [ln.strip().lower() for ln in lines]
    if "!platform_table_begin" in low:
        b = low.index("!platform_table_begin")
        e = low.index("!platform_table_end") if "!platform_table_end" in low else len(lines)
        lines = lines[b + 1 : e]
    lines = [ln for ln in lines if ln.strip() and not ln.startswith(("#", "!", "^"))]
    if not lines:
        raise RadplugInputError(f"{path}: the platform annotation has no table")
    sep = "\t" if lines[0].count("\t") >= lines[0].count(",") else ","
    try:
        df = pd.read_csv(
            io.StringIO("\n".join(lines)), sep=sep, dtype=str, keep_default_na=False, quotechar='"'
        )
    except Exception as exc:
        raise RadplugInputError(f"{path}: unreadable platform annotation ({exc})") from exc
    cols = {c.strip().lower(): c for c in df.columns}
    probe = next((cols[c] for c in _PROBE_COLUMNS if c in cols), None)
    symbol = next((cols[c] for c in _SYMBOL_COLUMNS if c in cols), None)
    if probe is None or symbol is None:
        raise RadplugInputError(
            f"{path}: a platform annotation needs a probe column (ID or 'Probe Set ID') and a 'Gene Symbol' "
            f"column; found {list(df.columns)[:10]}. Use the GPL 'full table' from GEO or an MSigDB "
            ".chip file"
        )
    long = pd.DataFrame({"probe": df[probe].astype(str).str.strip(), "gene": df[symbol].astype(str)})
    long["gene"] = long["gene"].str.split("///")
    long = long.explode("gene")
    long["gene"] = long["gene"].str.strip()
    long = long[~long["gene"].str.lower().isin(_MISSING_SYMBOLS) & (long["probe"] != "")]
    long = long.drop_duplicates().reset_index(drop=True)
    if long.empty:
        raise RadplugInputError(f"{path}: no probe in the platform annotation has a gene symbol")
    return long


def collapse_probes(
    values: pd.DataFrame, annotation: pd.DataFrame, method: str = "mean", origin: str = "expression",
    choice: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Samples x probes -> samples x gene symbols.

    Probes without a symbol and probes mapped to more than one gene (ambiguous) are dropped. Several probes
    of one gene are combined by ``method``: ``mean`` (per-sample mean), ``max_mean`` (the probe with the
    highest mean over samples) or ``max_variance`` (the probe with the highest variance). ``choice``
    (gene -> probe, from :func:`choose_columns` on the training cohort) fixes the probe of each gene."""
    if method not in COLLAPSE_METHODS:
        raise RadplugInputError(
            f"collapse method must be one of {', '.join(COLLAPSE_METHODS)}, got {method!r}"
        )
    n_genes_per_probe = annotation.groupby("probe")["gene"].nunique()
    unique = annotation[annotation["probe"].map(n_genes_per_probe) == 1].drop_duplicates("probe")
    mapping = dict(zip(unique["probe"], unique["gene"], strict=True))
    probes = [p for p in values.columns if p in mapping]
    n_ambiguous = int(sum(1 for p in values.columns if n_genes_per_probe.get(p, 0) > 1))
    n_unmapped = values.shape[1] - len(probes) - n_ambiguous
    if not probes:
        raise RadplugInputError(
            f"{origin}: none of its {values.shape[1]} probe ids "
            f"(e.g. {', '.join(map(str, values.columns[:3]))}) "
            "is in the platform annotation; check that the annotation is for the same array"
        )
    log.info(
        "%s: %d probes mapped to genes, %d without a symbol and %d mapped to several genes dropped",
        origin,
        len(probes),
        n_unmapped,
        n_ambiguous,
    )
    sub = values[probes]
    genes = pd.Index([mapping[p] for p in probes])
    return collapse_columns(sub, genes, method, choice)


def column_ids(labels: pd.Index) -> list[str]:
    """A stable id per column: its label, or ``label#k`` for the k-th repeat of a label (k >= 1)."""
    seen: dict[str, int] = {}
    ids = []
    for lab in map(str, labels):
        k = seen.get(lab, 0)
        seen[lab] = k + 1
        ids.append(lab if k == 0 else f"{lab}#{k}")
    return ids


def choose_columns(values: pd.DataFrame, keys: pd.Index, method: str) -> dict[str, str]:
    """Per key (gene symbol), the id (:func:`column_ids`) of the column with the highest mean (``max_mean``)
    or variance (``max_variance``) over the samples of ``values``; ties go to the first column."""
    keys = pd.Index(keys).astype(str)
    score = values.mean(axis=0) if method == "max_mean" else values.var(axis=0)
    order = pd.DataFrame({"key": keys, "score": score.to_numpy(), "id": column_ids(values.columns),
                          "pos": np.arange(len(keys))})
    order = order.sort_values(["score", "pos"], ascending=[False, True], na_position="last")
    best = order.drop_duplicates("key")
    return dict(zip(best["key"], best["id"], strict=True))


def collapse_columns(values: pd.DataFrame, keys: pd.Index, method: str = "mean",
                     choice: dict[str, str] | None = None) -> pd.DataFrame:
    """Combine the columns of ``values`` sharing a key (gene symbol) by ``method`` (see collapse_probes).

    For ``max_mean``/``max_variance``, ``choice`` (key -> column id, decided on the training cohort) fixes
    the column of each key; a key whose chosen column is absent here falls back to this table's own best
    (counted in ``attrs['collapse_fallbacks']``). The choice used is in ``attrs['collapse_choice']``."""
    if method not in COLLAPSE_METHODS:
        raise RadplugInputError(
            f"collapse method must be one of {', '.join(COLLAPSE_METHODS)}, got {method!r}"
        )
    keys = pd.Index(keys).astype(str)
    fallbacks = 0
    if method == "mean":
        t = values.T.set_axis(keys)
        out = t.groupby(level=0, sort=False).mean().T
        used = None
    else:
        own = choose_columns(values, keys, method)
        ids = column_ids(values.columns)
        pos_of = {i: p for p, i in enumerate(ids)}
        used = {}
        for key, best in own.items():
            chosen = choice.get(key, best) if choice is not None else best
            if chosen not in pos_of or keys[pos_of[chosen]] != key:
                chosen, fallbacks = best, fallbacks + 1
            used[key] = chosen
        genes = sorted(used, key=lambda k: pos_of[used[k]])   # in the order of their chosen columns
        out = values.iloc[:, [pos_of[used[k]] for k in genes]]
        out.columns = genes
    out.index = values.index
    out.attrs["collapse_choice"] = used
    out.attrs["collapse_fallbacks"] = fallbacks
    return out


def read_cls(path: str | Path) -> list[str]:
    """GSEA categorical .cls labels: line 1 ``n_samples n_classes 1``, line 2 ``# names``, line 3 labels."""
    path = Path(path)
    lines = [ln.strip() for ln in read_text(path).replace("\r", "").split("\n") if ln.strip()]
    if len(lines) < 3:
        raise RadplugInputError(f"{path}: a .cls file needs 3 lines (sizes, '# class names', labels)")
    head = lines[0].split()
    if len(head) < 2 or not all(x.isdigit() for x in head[:2]):
        raise RadplugInputError(f"{path}, line 1: expected '<n samples> <n classes> 1', got {lines[0]!r}")
    n, k = int(head[0]), int(head[1])
    names = lines[1].lstrip("#").split()
    labels = lines[2].split()
    if len(labels) != n:
        raise RadplugInputError(f"{path}, line 3: {len(labels)} labels for {n} samples (line 1)")
    if names and len(names) == k and all(lab.isdigit() for lab in labels):
        labels = [names[int(lab)] for lab in labels]
    return labels
