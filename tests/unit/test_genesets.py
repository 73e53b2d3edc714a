"""Gene-set sources on the real MSigDB GMTs: parsing old/new names, versions, licenses, size filters,
coverage against a real gene universe, custom signatures and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

from radplug.genesets import msigdb_file, prepare_gene_sets, read_gene_sets, resolve_msigdb, source_info
from radplug.io import RadplugInputError
from radplug.plugins import get_source

MSIGDB = SHARED_DATA / "msigdb"
LEUKEMIA = MSIGDB.parent / "gsea_leukemia" / "Leukemia_collapsed_symbols.gct"
needs_msigdb = pytest.mark.skipif(not MSIGDB.exists(), reason="needs ../shared/data/msigdb (real GMTs)")


def _gmt_counts(path: Path) -> tuple[int, int]:
    """(sets, distinct genes) counted straight from the file's lines."""
    sets, genes = 0, set()
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        sets += 1
        genes.update(g for g in parts[2:] if g)
    return sets, len(genes)


@needs_msigdb
@pytest.mark.parametrize("source,file,version,n_sets", [
    ("msigdb_hallmark", "h.all.v7.0.symbols.gmt", "7.0", 50),
    ("msigdb_go_bp", "c5.bp.v6.2.symbols.gmt", "6.2", 4436),
    ("msigdb_go_bp", "c5.go.bp.v2023.2.Hs.symbols.gmt", "2023.2.Hs", 7647),
    ("msigdb_reactome", "c2.cp.reactome.v6.2.symbols.gmt", "6.2", 674),
    ("msigdb_reactome", "c2.cp.reactome.v7.0.symbols.gmt", "7.0", 1499),
])
def test_msigdb_sources_load_real_gmts(source, file, version, n_sets):
    src = get_source(source)
    table = src.load(str(MSIGDB / file))
    assert list(table.columns) == ["gene_set", "gene"]
    sets, genes = _gmt_counts(MSIGDB / file)
    assert table["gene_set"].nunique() == sets == n_sets
    assert table["gene"].nunique() == genes
    info = source_info(src, table)
    assert info["version"] == version
    assert "CC BY 4.0" in info["license"]
    assert "Liberzon" in info["citation"]
    # the description/URL column never leaks into the genes
    assert not table["gene"].str.contains("http").any()
    prefix = {"msigdb_hallmark": "HALLMARK_", "msigdb_reactome": "REACTOME_"}.get(source, "GOBP_" if
                                                                                   "2023" in file else "GO_")
    assert table["gene_set"].str.startswith(prefix).all()


@needs_msigdb
def test_wrong_collection_is_a_clear_error():
    with pytest.raises(RadplugInputError, match=r"h\.all\.v7\.0.*REACTOME_.*msigdb_reactome"):
        get_source("msigdb_reactome").load(str(MSIGDB / "h.all.v7.0.symbols.gmt"))
    with pytest.raises(RadplugInputError, match="needs a file, URL or MSigDB release"):
        get_source("msigdb_hallmark").load(None)
    with pytest.raises(RadplugInputError, match="nope.gmt: gene-set file not found"):
        get_source("msigdb_hallmark").load(str(MSIGDB / "nope.gmt"))


@needs_msigdb
def test_go_bp_size_filter_and_coverage_full_universe():
    table = get_source("msigdb_go_bp").load(str(MSIGDB / "c5.go.bp.v2023.2.Hs.symbols.gmt"))
    sizes = table.groupby("gene_set").size()
    prep = prepare_gene_sets(table, sorted(table["gene"].unique()))
    assert len(prep.members) == int((sizes <= 500).sum()) == 7375        # the paper's "at most 500 genes"
    assert len(prep.dropped) == int((sizes > 500).sum())
    assert (prep.dropped["reason"] == "more than 500 genes").all()
    assert (prep.coverage["coverage"] == 1.0).all()


@needs_msigdb
@pytest.mark.skipif(not LEUKEMIA.exists(), reason="needs ../shared/data/gsea_leukemia (real GCT)")
def test_hallmark_coverage_on_a_real_platform():
    """Coverage of Hallmark sets against the 10,056 symbols of a real HG-U95Av2 profile."""
    from radplug.data.ingest import read_table

    universe = read_table(LEUKEMIA).iloc[:, 0].astype(str).tolist()
    assert len(universe) > 10000
    table = get_source("msigdb_hallmark").load(str(MSIGDB / "h.all.v7.0.symbols.gmt"))
    prep = prepare_gene_sets(table, universe, min_present=5, max_size=500)
    assert len(prep.members) + len(prep.dropped) == 50
    cov = prep.coverage.set_index("gene_set")
    # recompute one set's coverage by hand (case-insensitive symbol match)
    hyp = set(table.loc[table["gene_set"] == "HALLMARK_HYPOXIA", "gene"])
    present = {g.upper() for g in universe} & {g.upper() for g in hyp}
    assert cov.loc["HALLMARK_HYPOXIA", "n_genes"] == len(hyp) == 200
    assert cov.loc["HALLMARK_HYPOXIA", "n_present"] == len(present)
    assert cov.loc["HALLMARK_HYPOXIA", "coverage"] == pytest.approx(len(present) / 200)
    assert 0.5 < cov["coverage"].median() < 1.0           # an old array misses some symbols
    members = prep.members["HALLMARK_HYPOXIA"]
    assert {universe[i].upper() for i in members} == present
    # a stricter filter drops sets and says why
    strict = prepare_gene_sets(table, universe, min_present=190, max_size=500)
    assert len(strict.dropped) > 0
    assert strict.dropped["reason"].str.contains("fewer than 190 genes present").all()
    assert (strict.dropped["n_present"] < 190).all()


def test_custom_gmt_csv_and_list(tmp_path):
    gmt = tmp_path / "sigs.gmt"
    gmt.write_text("SIG_A\tmy description\tTP53\tEGFR\tKRAS\r\nSIG_B\thttp://x\tMYC\tegfr\n")
    csv = tmp_path / "sigs.csv"
    pd.DataFrame({"set": ["S1", "S1", "S2"], "gene": ["TP53", " MYC ", "KRAS"]}).to_csv(csv, index=False)
    lst = tmp_path / "girard_2016.txt"
    lst.write_text("# ADC vs SCC\nTP53\nKRAS\n\nMYC\n")
    src = get_source("custom")
    g = src.load(str(gmt))
    assert g.groupby("gene_set")["gene"].apply(list).to_dict() == {"SIG_A": ["TP53", "EGFR", "KRAS"],
                                                                   "SIG_B": ["MYC", "egfr"]}
    assert source_info(src, g)["version"] == "user-supplied"
    c = src.load(str(csv))
    assert sorted(map(tuple, c.to_numpy())) == [("S1", "MYC"), ("S1", "TP53"), ("S2", "KRAS")]
    ls = src.load(str(lst))
    assert set(ls["gene_set"]) == {"girard_2016"} and list(ls["gene"]) == ["TP53", "KRAS", "MYC"]
    # a file:// URL works like a path
    assert src.load(gmt.as_uri()).equals(g)
    prep = prepare_gene_sets(g, ["EGFR", "TP53", "MYC"], min_present=2)
    assert list(prep.members) == ["SIG_A", "SIG_B"]
    assert np.array_equal(prep.members["SIG_B"], [0, 2])            # case-insensitive EGFR match
    assert prep.coverage.set_index("gene_set").loc["SIG_A", "coverage"] == pytest.approx(2 / 3)


def test_bad_custom_files_name_the_problem(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,symbol_x\na,b\n")
    with pytest.raises(RadplugInputError, match=r"bad\.csv: a gene-set table needs columns 'set'"):
        read_gene_sets(str(bad))
    gmt = tmp_path / "short.gmt"
    gmt.write_text("SIG_A\tdesc\tTP53\nSIG_B\n")
    with pytest.raises(RadplugInputError, match=r"short\.gmt, line 2: a GMT line needs"):
        read_gene_sets(str(gmt))


def test_msigdb_release_names():
    assert msigdb_file("hallmark", "7.0") == "h.all.v7.0.symbols.gmt"
    assert msigdb_file("go_bp", "6.2") == "c5.bp.v6.2.symbols.gmt"
    assert msigdb_file("go_bp", "2023.2.Hs") == "c5.go.bp.v2023.2.Hs.symbols.gmt"
    assert msigdb_file("reactome", "v7.0".lstrip("v")) == "c2.cp.reactome.v7.0.symbols.gmt"
    assert resolve_msigdb("hallmark", "v2023.2.Hs").endswith("/2023.2.Hs/h.all.v2023.2.Hs.symbols.gmt")
    assert resolve_msigdb("hallmark", "/data/h.gmt") == "/data/h.gmt"
    with pytest.raises(RadplugInputError, match="not an MSigDB release"):
        msigdb_file("hallmark", "latest")


# --------------------------------------------------------------------------- GMT dialects (issue 13)
def _gmt_table(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return read_gene_sets(str(path)).sort_values(["gene_set", "gene"]).reset_index(drop=True)


CLEAN_GMT = b"".join(b"SET%d\thttp://example.org/%d\t" % (k, k)
                     + b"\t".join(b"GENE%d" % i for i in range(k * 8 + 1, k * 8 + 9)) + b"\n" for k in range(4))


@pytest.mark.parametrize("variant", ["no_description", "na_description", "gz_bom_crlf", "spaces_in_description"])
def test_gmt_dialects_give_the_clean_table(tmp_path, variant) -> None:
    """Accepted GMT variants read to exactly the table of the clean file (no gene lost or invented)."""
    import gzip

    clean = _gmt_table(tmp_path, "clean.gmt", CLEAN_GMT)
    lines = CLEAN_GMT.decode().splitlines()
    if variant == "no_description":
        data = "".join("\t".join([p[0], *p[2:]]) + "\n" for p in (ln.split("\t") for ln in lines)).encode()
    elif variant == "na_description":
        data = "".join("\t".join([p[0], "na", *p[2:]]) + "\n" for p in (ln.split("\t") for ln in lines)).encode()
    elif variant == "spaces_in_description":
        data = "".join("\t".join([p[0], "> genes up in X", *p[2:]]) + "\n"
                       for p in (ln.split("\t") for ln in lines)).encode()
    else:
        data = gzip.compress(b"\xef\xbb\xbf" + CLEAN_GMT.replace(b"\n", b"\r\n"))
    name = "sets.gmt.gz" if variant == "gz_bom_crlf" else "sets.gmt"
    pd.testing.assert_frame_equal(_gmt_table(tmp_path, name, data), clean)


def test_gmt_duplicate_names(tmp_path, caplog) -> None:
    first = CLEAN_GMT.split(b"\n")[0] + b"\n"
    other = b"SET0\tx\tGENE30\tGENE31\tGENE32\n"
    tab = _gmt_table(tmp_path, "d.gmt", CLEAN_GMT + first + other)
    assert sorted(tab["gene_set"].unique()) == ["SET0", "SET0__2", "SET1", "SET2", "SET3"]
    assert sorted(tab.loc[tab["gene_set"] == "SET0", "gene"]) == sorted(f"GENE{i}" for i in range(1, 9))
    assert sorted(tab.loc[tab["gene_set"] == "SET0__2", "gene"]) == ["GENE30", "GENE31", "GENE32"]
    assert "renamed: SET0 -> SET0__2 (line 6)" in caplog.text and "kept once: SET0 (lines 1, 5)" in caplog.text


@pytest.mark.parametrize("file", ["h.all.v7.0.symbols.gmt", "c2.cp.reactome.v6.2.symbols.gmt",
                                  "c5.go.bp.v2023.2.Hs.symbols.gmt"])
def test_real_msigdb_description_column_detected(file, caplog) -> None:
    """MSigDB column 2 (URL or text) is read as a description: every gene of every line, and no set lost."""
    path = SHARED_DATA / "msigdb" / file
    if not path.exists():
        pytest.skip("shared MSigDB files not present")
    tab = read_gene_sets(str(path))
    lines = [ln.split("\t") for ln in path.read_text().splitlines() if ln.strip()]
    assert tab["gene_set"].nunique() == len({p[0] for p in lines})
    assert len(tab) == sum(len({g.strip() for g in p[2:] if g.strip()}) for p in lines)
    assert "column 2 holds genes" not in caplog.text
