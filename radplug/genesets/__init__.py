"""Gene-set collections: parsing (GMT, CSV, gene lists), filtering and coverage against a gene universe."""

from __future__ import annotations

import gzip
import io
import logging
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radplug.io import RadplugInputError

log = logging.getLogger(__name__)


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
            raise RadplugInputError(f"{path}: gene-set file not found; check the path given to --genesets")
        data = p.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError) as exc:
            raise RadplugInputError(f"{path}: a corrupt or truncated gzip file ({exc}); download it again") from exc
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if not data.strip():
        raise RadplugInputError(f"{path}: gene-set file is empty; check the path and the file")
    if b"\x00" in data[:4096]:
        raise RadplugInputError(f"{path}: looks like a binary file, not a gene-set file (GMT, CSV/TSV or a gene list)")
    return data.decode("utf-8", errors="replace")


_DESCRIPTION_WORDS = {"", "na", "n/a", "none", "null", "-", ".", "x", "description"}
_GENE_STYLE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]*(@)?$|^[A-Z][A-Za-z0-9.\-]*$")


def _description_column(lines: list[list[str]]) -> bool:
    """Whether column 2 of a GMT holds descriptions (the format's rule) or, as in some hand-made files, the
    first gene. Decided per file, from the lines with 3 or more fields: column 2 is a description when most of
    its values look like one (empty, ``na``, a URL, text with spaces, ``> ...``, the set's own name); it holds
    genes when most of its values are genes of the file's other lines or are written as its genes are
    (upper-case symbols or ids); otherwise the format's rule (a description) holds."""
    rows = [p for p in lines if len(p) >= 3]
    if not rows:
        return True
    genes = {g.strip() for p in rows for g in p[2:] if g.strip()}
    gene_style = sum(bool(_GENE_STYLE.match(g)) for g in genes) >= 0.9 * max(len(genes), 1)
    desc = gene_like = 0
    for p in rows:
        v = p[1].strip()
        if (v.lower() in _DESCRIPTION_WORDS or "://" in v or " " in v or v.startswith((">", "#"))
                or v == p[0].strip()):
            desc += 1
        elif v in genes or (gene_style and _GENE_STYLE.match(v) and len(v) > 1):
            gene_like += 1
    return not gene_like > max(desc, len(rows) / 2)


def parse_gmt(text: str, origin: str = "<gmt>") -> pd.DataFrame:
    """Parse GMT text: name, description (or URL), genes. Returns a long table gene_set, gene.

    The description column is detected, not assumed (:func:`_description_column`): a file whose column 2
    holds genes keeps them (with a warning). A set name given on several lines is one set when the lines list
    the same genes (a warning), else the later lines become ``NAME__2``, ``NAME__3`` (a warning naming them);
    sets are never merged silently."""
    parsed: list[tuple[int, list[str]]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        parsed.append((lineno, line.split("\t")))
    if not parsed:
        raise RadplugInputError(f"{origin}: no gene sets found (the file has no data lines); check "
                                 "the file")
    with_desc = _description_column([p for _, p in parsed])
    first_gene = 2 if with_desc else 1
    if not with_desc:
        log.warning("%s: column 2 holds genes, not descriptions (e.g. '%s' on line %d); read as the first gene "
                    "of each set", origin, parsed[0][1][1].strip(), parsed[0][0])
    rows: list[tuple[str, str]] = []
    seen: dict[str, tuple[int, frozenset[str]]] = {}
    renamed, repeated = [], []
    for lineno, parts in parsed:
        if len(parts) < first_gene + 1:
            raise RadplugInputError(
                f"{origin}, line {lineno}: a GMT line needs name<TAB>description<TAB>genes...; "
                f"found {len(parts)} tab-separated field(s); separate the fields with tabs"
            )
        name = parts[0].strip()
        if not name:
            raise RadplugInputError(f"{origin}, line {lineno}: empty gene-set name; name the set or remove the line")
        genes = [g.strip() for g in parts[first_gene:] if g.strip()]
        if not genes:
            raise RadplugInputError(f"{origin}, line {lineno}: gene set '{name}' lists no genes; add them or "
                                    "remove the line")
        key = frozenset(genes)
        if name in seen:
            if seen[name][1] == key:
                repeated.append(f"{name} (lines {seen[name][0]}, {lineno})")
                continue
            k = 2
            while f"{name}__{k}" in seen:
                k += 1
            renamed.append(f"{name} -> {name}__{k} (line {lineno})")
            name = f"{name}__{k}"
        seen[name] = (lineno, key)
        rows.extend((name, g) for g in genes)
    if repeated:
        log.warning("%s: %d gene set(s) given twice with the same genes, kept once: %s", origin, len(repeated),
                    "; ".join(repeated[:5]))
    if renamed:
        log.warning("%s: %d gene-set name(s) repeated with different genes; the later ones renamed: %s", origin,
                    len(renamed), "; ".join(renamed[:5]))
    return pd.DataFrame(rows, columns=["gene_set", "gene"]).drop_duplicates(ignore_index=True)


def read_gene_sets(path: str) -> pd.DataFrame:
    """Read gene sets from GMT, CSV/TSV (columns set/gene_set and gene) or a plain gene list."""
    text = _open_text(path)
    name = Path(re.sub(r"\.gz$", "", path.split("?")[0])).name
    lower = name.lower()
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
    if lower.endswith(".gmt") or "\t" in first and len(first.split("\t")) > 2:
        return parse_gmt(text, path)
    if lower.endswith((".csv", ".tsv")):
        sep = "\t" if lower.endswith(".tsv") else ","
        try:
            df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str)
        except Exception as exc:
            raise RadplugInputError(f"{path}: not a readable gene-set table ({str(exc).strip()})") from exc
        cols = {c.lower().strip(): c for c in df.columns}
        set_col = cols.get("gene_set") or cols.get("set") or cols.get("signature")
        gene_col = cols.get("gene") or cols.get("symbol") or cols.get("gene_symbol")
        if not set_col or not gene_col:
            raise RadplugInputError(
                f"{path}: a gene-set table needs columns 'set' (or gene_set) and 'gene'; "
                f"found {list(df.columns)}: rename its header"
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


MSIGDB_RELEASES = "https://data.broadinstitute.org/gsea-msigdb/msigdb/release"
_RELEASE = re.compile(r"^v?(\d+\.\d+(?:\.\d+)?(?:\.Hs)?)$")


def msigdb_file(collection: str, release: str) -> str:
    """File name of an MSigDB collection (``hallmark``, ``go_bp``, ``reactome``) for a release such as
    ``7.0`` or ``2023.2.Hs`` (human symbols). GO BP is ``c5.bp`` up to 7.1 and ``c5.go.bp`` (GOBP_ names)
    from 7.2 on."""
    m = _RELEASE.match(release.strip())
    if not m:
        raise RadplugInputError(f"'{release}' is not an MSigDB release (e.g. 7.0, 7.5.1 or 2023.2.Hs)")
    rel = m.group(1)
    major, minor = (int(x) for x in rel.split(".")[:2])
    prefix = {"hallmark": "h.all", "reactome": "c2.cp.reactome",
              "go_bp": "c5.bp" if (major, minor) < (7, 2) else "c5.go.bp"}
    if collection not in prefix:
        raise RadplugInputError(f"unknown MSigDB collection '{collection}'; one of {', '.join(prefix)}")
    return f"{prefix[collection]}.v{rel}.symbols.gmt"


def resolve_msigdb(collection: str, spec: str) -> str:
    """A path or URL as given, or, when ``spec`` is a release (``7.0``, ``v2023.2.Hs``), the Broad's
    download URL of that collection and release."""
    if _RELEASE.match(spec.strip()) and not Path(spec).exists():
        m = _RELEASE.match(spec.strip())
        return f"{MSIGDB_RELEASES}/{m.group(1)}/{msigdb_file(collection, m.group(1))}"
    return spec


def source_info(source, table: pd.DataFrame) -> dict[str, str]:
    """Version, license and citation of a loaded gene-set table (its attrs, else the source record's)."""
    return {k: str(table.attrs.get(k, getattr(source, k))) for k in ("version", "license", "citation")}


@dataclass
class PreparedGeneSets:
    """Gene sets restricted to a gene universe, with coverage and the sets dropped (and why)."""

    members: dict[str, np.ndarray]     # gene_set -> column indices into the universe
    coverage: pd.DataFrame            # gene_set, n_genes, n_present, coverage
    dropped: pd.DataFrame             # gene_set, n_genes, n_present, reason


def prepare_gene_sets(long: pd.DataFrame, universe: list[str] | pd.Index, min_present: int = 5,
                      max_size: int = 500) -> PreparedGeneSets:
    """Match symbols (case-insensitive) to ``universe``, keep sets of at most ``max_size`` distinct genes
    with at least ``min_present`` of them measured, and report coverage per set (genes in the set, genes
    present, fraction) plus a table of the sets dropped and why. Vectorised: no loop over sets."""
    universe = pd.Index(universe).astype(str)
    index = pd.Series(np.arange(len(universe)), index=universe.str.upper())
    index = index[~index.index.duplicated(keep="first")]
    df = pd.DataFrame({"gene_set": long["gene_set"].astype(str).to_numpy(),
                       "key": long["gene"].astype(str).str.strip().str.upper().to_numpy()})
    df = df[df["key"] != ""].drop_duplicates()
    df["col"] = df["key"].map(index)
    stats = df.groupby("gene_set", sort=True).agg(n_genes=("key", "size"), n_present=("col", "count"))
    stats["coverage"] = stats["n_present"] / stats["n_genes"].clip(lower=1)
    reason = pd.Series("", index=stats.index, dtype=object)
    reason[stats["n_present"] < min_present] = (f"fewer than {min_present} genes present in the "
                                                "expression data")
    reason[stats["n_genes"] > max_size] = f"more than {max_size} genes"
    keep = reason == ""
    cov = stats[keep].reset_index()[["gene_set", "n_genes", "n_present", "coverage"]]
    dropped = stats[~keep].assign(reason=reason[~keep]).reset_index()[
        ["gene_set", "n_genes", "n_present", "coverage", "reason"]]
    hits = df[df["col"].notna() & df["gene_set"].isin(cov["gene_set"])]
    hits = hits.assign(col=hits["col"].astype(np.int64)).sort_values(["gene_set", "col"])
    bounds = np.cumsum(hits.groupby("gene_set", sort=True).size().to_numpy())[:-1]
    cols = np.split(hits["col"].to_numpy(), bounds) if len(hits) else []
    members = dict(zip(cov["gene_set"], cols, strict=True))
    if len(dropped):
        log.warning("%d of %d gene sets dropped: %s", len(dropped), len(dropped) + len(cov),
                    "; ".join(f"{n} {r}" for r, n in dropped["reason"].value_counts().items()))
    return PreparedGeneSets(members, cov, dropped)
