"""Built-in gene-set sources. MSigDB files are read from a path or URL the user gives (MSigDB's
license requires registration for download, so radplug does not fetch them by itself)."""

from __future__ import annotations

from functools import partial

import pandas as pd

from radplug.genesets import read_gene_sets, release_from_name
from radplug.hookspecs import GeneSetSource, hookimpl
from radplug.io import RadplugInputError

MSIGDB_CITATION = ("Liberzon A. et al., The Molecular Signatures Database Hallmark Gene Set Collection, "
                   "Cell Systems 1(6):417-425 (2015); Subramanian A. et al., PNAS 102(43):15545 (2005)")
MSIGDB_LICENSE = "CC BY 4.0 (MSigDB v6.0+, except KEGG, BioCarta and AAAS/STKE sets)"


def _load(source: str, prefixes: tuple[str, ...], path: str | None) -> pd.DataFrame:
    if not path:
        raise RadplugInputError(
            f"gene-set source '{source}' needs a file or URL: pass --genesets {source}=PATH "
            "(download the GMT from MSigDB after registering)"
        )
    df = read_gene_sets(path)
    if prefixes:
        names = df["gene_set"].drop_duplicates()
        if not names.str.startswith(prefixes).any():
            raise RadplugInputError(
                f"{path}: no set name starts with {' or '.join(prefixes)}: is this the right collection "
                f"for source '{source}'?"
            )
    df.attrs["version"] = release_from_name(path)
    return df


def _custom(path: str | None) -> pd.DataFrame:
    if not path:
        raise RadplugInputError("gene-set source 'custom' needs a GMT, CSV (set,gene) or gene-list file")
    df = read_gene_sets(path)
    df.attrs["version"] = "user-supplied"
    return df


SOURCES = [
    GeneSetSource("msigdb_hallmark", "by file (MSigDB release)", MSIGDB_LICENSE, MSIGDB_CITATION,
                  partial(_load, "msigdb_hallmark", ("HALLMARK_",)),
                  description="MSigDB Hallmark collection (h.all.*.symbols.gmt)"),
    GeneSetSource("msigdb_go_bp", "by file (MSigDB release)", MSIGDB_LICENSE,
                  MSIGDB_CITATION + "; The Gene Ontology Consortium, Nucleic Acids Res. (2019)",
                  partial(_load, "msigdb_go_bp", ("GO_", "GOBP_")),
                  description="MSigDB C5 GO biological process (old GO_ or new GOBP_ names)"),
    GeneSetSource("msigdb_reactome", "by file (MSigDB release)", MSIGDB_LICENSE,
                  MSIGDB_CITATION + "; Jassal B. et al., Nucleic Acids Res. 48:D498 (2020)",
                  partial(_load, "msigdb_reactome", ("REACTOME_",)),
                  description="MSigDB C2 canonical pathways, Reactome subset"),
    GeneSetSource("custom", "user-supplied", "as given by the user", "as given by the user", _custom,
                  description="Custom signatures: GMT, CSV (set,gene) or a plain gene list"),
]


@hookimpl
def radplug_geneset_sources() -> list[GeneSetSource]:
    return list(SOURCES)
