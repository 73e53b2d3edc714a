"""Built-in gene-set sources: MSigDB Hallmark, GO biological process and Reactome (by release, from a local
GMT or a URL) and custom signatures (GMT, CSV set,gene, or a plain gene list).

Each loaded table carries ``attrs`` version, license and citation (``source_info``). A release given
instead of a path (``msigdb_hallmark=7.0``) is fetched from the Broad's release URL; tests and pipelines
should pass local files."""

from __future__ import annotations

from functools import partial

import pandas as pd

from radplug.genesets import read_gene_sets, release_from_name, resolve_msigdb
from radplug.hookspecs import GeneSetSource, hookimpl
from radplug.io import RadplugInputError

MSIGDB_CITATION = ("Liberzon A. et al., The Molecular Signatures Database Hallmark Gene Set Collection, "
                   "Cell Systems 1(6):417-425 (2015); Subramanian A. et al., PNAS 102(43):15545 (2005)")
MSIGDB_LICENSE = "CC BY 4.0 (MSigDB v6.0+, except KEGG, BioCarta and AAAS/STKE sets)"


def _load(source: str, prefixes: tuple[str, ...], path: str | None) -> pd.DataFrame:
    if not path:
        raise RadplugInputError(
            f"gene-set source '{source}' needs a file, URL or MSigDB release: pass --genesets {source}=PATH "
            f"(e.g. {source}=h.all.v7.0.symbols.gmt, or {source}=7.0 to download that release)"
        )
    path = resolve_msigdb(source.removeprefix("msigdb_"), path)
    df = read_gene_sets(path)
    if source == "msigdb_go_bp" and df["gene_set"].str.startswith("GOBP_").any():
        df = df[df["gene_set"].str.startswith("GOBP_")].reset_index(drop=True)   # c5.go: drop GOCC_/GOMF_
    if prefixes:
        names = df["gene_set"].drop_duplicates()
        if not names.str.startswith(prefixes).any():
            raise RadplugInputError(
                f"{path}: no set name starts with {' or '.join(prefixes)}: is this the right collection "
                f"for source '{source}'?"
            )
    df.attrs.update(version=release_from_name(path), license=MSIGDB_LICENSE, citation=_CITATIONS[source])
    return df


def _custom(path: str | None) -> pd.DataFrame:
    if not path:
        raise RadplugInputError("gene-set source 'custom' needs a GMT, CSV (set,gene) or gene-list file")
    df = read_gene_sets(path)
    df.attrs.update(version="user-supplied", license="as given by the user", citation="as given by the user")
    return df


_CITATIONS = {
    "msigdb_hallmark": MSIGDB_CITATION,
    "msigdb_go_bp": MSIGDB_CITATION + "; The Gene Ontology Consortium, Nucleic Acids Res. 47:D330 (2019)",
    "msigdb_reactome": MSIGDB_CITATION + "; Jassal B. et al., Nucleic Acids Res. 48:D498 (2020)",
}


SOURCES = [
    GeneSetSource("msigdb_hallmark", "by file (MSigDB release)", MSIGDB_LICENSE, MSIGDB_CITATION,
                  partial(_load, "msigdb_hallmark", ("HALLMARK_",)),
                  description="MSigDB Hallmark collection (h.all.*.symbols.gmt)"),
    GeneSetSource("msigdb_go_bp", "by file (MSigDB release)", MSIGDB_LICENSE, _CITATIONS["msigdb_go_bp"],
                  partial(_load, "msigdb_go_bp", ("GO_", "GOBP_")),
                  description="MSigDB C5 GO biological process (old GO_ or new GOBP_ names)"),
    GeneSetSource("msigdb_reactome", "by file (MSigDB release)", MSIGDB_LICENSE,
                  _CITATIONS["msigdb_reactome"],
                  partial(_load, "msigdb_reactome", ("REACTOME_",)),
                  description="MSigDB C2 canonical pathways, Reactome subset"),
    GeneSetSource("custom", "user-supplied", "as given by the user", "as given by the user", _custom,
                  description="Custom signatures: GMT, CSV (set,gene) or a plain gene list"),
]


@hookimpl
def radplug_geneset_sources() -> list[GeneSetSource]:
    return list(SOURCES)
