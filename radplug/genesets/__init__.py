"""Gene-set collections: parsing (GMT, CSV, gene lists), filtering and coverage against a gene universe."""

from __future__ import annotations

import gzip
import io
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radplug.io import RadplugInputError


def _open_text(path: str) -> str:
    """Text of a local file (gzip allowed) or of an http(s)/file URL."""
    if re.match(r"^(https?|ftp|file)://", path):
        try:
            with urllib.request.urlopen(path, timeout=60) as resp:  # noqa: S310 - user-given URL
                data = resp.read()
        except Exception as exc:
            raise RadplugInputError(f"{path}: could not download ({exc}); pass a local copy instead") from exc
    else:
        p = Path(path)
        if not p.exists():
            raise RadplugInputError(f"{path}: gene-set file not found")
        data = p.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def parse_gmt(text: str, origin: str = "<gmt>") -> pd.DataFrame:
    """Parse GMT text: name, description (or URL), genes. Returns a long table gene_set, gene."""
    rows: list[tuple[str, str]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise RadplugInputError(
                f"{origin}, line {lineno}: a GMT line needs name<TAB>description<TAB>genes...; "
                f"found {len(parts)} tab-separated field(s)"
            )
        name = parts[0].strip()
        for g in parts[2:]:
            g = g.strip()
            if g:
                rows.append((name, g))
    if not rows:
        raise RadplugInputError(f"{origin}: no gene sets found")
    return pd.DataFrame(rows, columns=["gene_set", "gene"]).drop_duplicates(ignore_index=True)


def read_gene_sets(path: str) -> pd.DataFrame:
    """Read gene sets from GMT, CSV/TSV (columns set/gene_set and gene) or a plain gene list."""
    text = _open_text(path)
    name = Path(re.sub(r"\.gz$", "", path.split("?")[0])).name
    lower = name.lower()
    if lower.endswith(".gmt") or "\t" in text.splitlines()[0] and len(text.splitlines()[0].split("\t")) > 2:
        return parse_gmt(text, path)
    if lower.endswith((".csv", ".tsv")):
        sep = "\t" if lower.endswith(".tsv") else ","
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str)
        cols = {c.lower().strip(): c for c in df.columns}
        set_col = cols.get("gene_set") or cols.get("set") or cols.get("signature")
        gene_col = cols.get("gene") or cols.get("symbol") or cols.get("gene_symbol")
        if not set_col or not gene_col:
            raise RadplugInputError(
                f"{path}: a gene-set table needs columns 'set' (or gene_set) and 'gene'; found {list(df.columns)}"
            )
        out = df[[set_col, gene_col]].dropna()
        out.columns = ["gene_set", "gene"]
        out["gene"] = out["gene"].str.strip()
        return out.drop_duplicates(ignore_index=True)
    genes = [g.strip() for g in text.splitlines() if g.strip() and not g.startswith("#")]
    if not genes:
        raise RadplugInputError(f"{path}: empty gene list")
    stem = re.sub(r"\.(txt|grp|list)$", "", name, flags=re.I)
    return pd.DataFrame({"gene_set": stem, "gene": genes}).drop_duplicates(ignore_index=True)


def release_from_name(path: str | None) -> str:
    """MSigDB release guessed from a file name (``h.all.v7.0.symbols.gmt`` -> ``7.0``)."""
    if not path:
        return "unknown"
    m = re.search(r"v(\d+(?:\.\d+)*(?:\.Hs)?)", Path(path).name)
    return m.group(1) if m else "unknown"


@dataclass
class PreparedGeneSets:
    """Gene sets restricted to a gene universe, with coverage and the sets dropped (and why)."""

    members: dict[str, np.ndarray]     # gene_set -> column indices into the universe
    coverage: pd.DataFrame            # gene_set, n_genes, n_present, coverage
    dropped: pd.DataFrame             # gene_set, n_genes, n_present, reason


def prepare_gene_sets(long: pd.DataFrame, universe: list[str] | pd.Index, min_present: int = 5,
                      max_size: int = 500) -> PreparedGeneSets:
    """Match symbols (case-insensitive) to ``universe``, keep sets of at most ``max_size`` genes with
    at least ``min_present`` of them measured, and report coverage per set."""
    universe = pd.Index(universe)
    index = {g.upper(): i for i, g in enumerate(universe)}
    members: dict[str, np.ndarray] = {}
    cov_rows, drop_rows = [], []
    for name, genes in long.groupby("gene_set", sort=True)["gene"]:
        uniq = pd.unique(genes.astype(str))
        present = sorted({index[g.upper()] for g in uniq if g.upper() in index})
        row = {"gene_set": name, "n_genes": len(uniq), "n_present": len(present),
               "coverage": len(present) / max(1, len(uniq))}
        if len(uniq) > max_size:
            drop_rows.append({**row, "reason": f"more than {max_size} genes"})
        elif len(present) < min_present:
            drop_rows.append({**row, "reason": f"fewer than {min_present} genes present in the expression data"})
        else:
            members[name] = np.asarray(present, dtype=np.int64)
            cov_rows.append(row)
    cov = pd.DataFrame(cov_rows, columns=["gene_set", "n_genes", "n_present", "coverage"])
    dropped = pd.DataFrame(drop_rows, columns=["gene_set", "n_genes", "n_present", "coverage", "reason"])
    return PreparedGeneSets(members, cov, dropped)
