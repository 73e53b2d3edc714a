"""Readers: GEO series matrix + GPL platform collapse, real GCT + MSigDB .chip, CLS, orientation, formats,
radiomic feature groups, the samplesheet schema and its example."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, SHARED_DATA

from radplug.data.geo import collapse_probes, read_cls, read_platform_annotation, series_matrix_clinical
from radplug.data.ingest import IngestOptions, ingest, load_input_schema, read_expression_file, read_samplesheet
from radplug.data.radiomics import GROUPS, feature_group, read_group_overrides
from radplug.data.validate import validate
from radplug.io import RadplugInputError, write_parquet

LEUK = SHARED_DATA / "gsea_leukemia"
needs_leukemia = pytest.mark.skipif(
    not LEUK.exists(), reason=f"real data not present: {LEUK} (../shared absent)"
)

PROBES = ["1000_at", "1001_at", "1002_f_at", "1003_s_at", "1004_at", "1005_at", "AFFX-BioB"]
GPL = (  # GEO GPL 'full table' style: comment lines, ID + Gene Symbol, '///' multi-gene, '---' unmapped
    "#ID = Affymetrix probe set id\n#Gene Symbol = symbol\n"
    "ID\tGB_ACC\tGene Title\tGene Symbol\tENTREZ_GENE_ID\n"
    "1000_at\tX60188\tmitogen-activated protein kinase 3\tMAPK3\t5595\n"
    "1001_at\tX60957\ttyrosine kinase\tTIE1\t7075\n"
    "1002_f_at\tX65962\tcytochrome P450\tCYP2C19 /// CYP2C9\t1557 /// 1559\n"
    "1003_s_at\tX68149\tchemokine receptor 5\tCXCR5\t643\n"
    "1004_at\tX68149\tchemokine receptor 5\tCXCR5\t643\n"
    "1005_at\tX68277\tphosphatase\tDUSP1\t1843\n"
    "AFFX-BioB\t\tcontrol\t---\t\n"
)


def _series_matrix(values: np.ndarray) -> str:
    gsm = [f"GSM{1000 + i}" for i in range(values.shape[1])]
    titles = [f"PAT-{i + 1:02d}" for i in range(values.shape[1])]
    hist = ("SCC", "ADC")
    q = lambda xs: "\t".join(f'"{x}"' for x in xs)  # noqa: E731
    lines = [
        '!Series_title\t"A test series"',
        '!Series_geo_accession\t"GSE99999"',
        '!Series_platform_id\t"GPL96"',
        "",
        f"!Sample_title\t{q(titles)}",
        f"!Sample_geo_accession\t{q(gsm)}",
        f"!Sample_characteristics_ch1\t{q(['histology: ' + hist[i % 2] for i in range(len(gsm))])}",
        f"!Sample_characteristics_ch1\t{q(['age: ' + str(50 + i) for i in range(len(gsm))])}",
        "!series_matrix_table_begin",
        f'"ID_REF"\t{q(gsm)}',
    ]
    for p, row in zip(PROBES, values, strict=True):
        lines.append(f'"{p}"\t' + "\t".join("null" if np.isnan(v) else f"{v:.5f}" for v in row))
    lines.append("!series_matrix_table_end")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("gz", [False, True])
def test_series_matrix_with_gpl_collapse(tmp_path: Path, gz: bool) -> None:
    rng = np.random.default_rng(0)
    values = np.round(rng.normal(7, 1, (len(PROBES), 6)), 5)  # as written to the file
    values[0, 2] = np.nan
    text = _series_matrix(values).encode()
    sm = tmp_path / ("GSE99999_series_matrix.txt" + (".gz" if gz else ""))
    sm.write_bytes(gzip.compress(text) if gz else text)
    gpl = tmp_path / "GPL96.annot.txt"
    gpl.write_text(GPL)
    ann = read_platform_annotation(gpl)
    assert set(ann.loc[ann["probe"] == "1002_f_at", "gene"]) == {"CYP2C19", "CYP2C9"}
    assert "AFFX-BioB" not in set(ann["probe"])
    by = {}
    for method in ("mean", "max_mean", "max_variance"):
        by[method] = read_expression_file(sm, annotation=gpl, collapse=method)
    e = by["mean"]
    assert list(e.index) == [f"GSM{1000 + i}" for i in range(6)]
    # ambiguous (two genes) and unmapped probes are dropped; CXCR5 has two probes
    assert sorted(e.columns) == ["CXCR5", "DUSP1", "MAPK3", "TIE1"]
    np.testing.assert_allclose(e["CXCR5"], values[3:5].mean(axis=0))
    np.testing.assert_allclose(e["DUSP1"], values[5])
    assert np.isnan(e["MAPK3"].iloc[2])  # GEO 'null' stays missing
    best_mean = 3 + int(np.argmax(values[3:5].mean(axis=1)))
    best_var = 3 + int(np.argmax(values[3:5].var(axis=1, ddof=1)))
    np.testing.assert_allclose(by["max_mean"]["CXCR5"], values[best_mean])
    np.testing.assert_allclose(by["max_variance"]["CXCR5"], values[best_var])
    # the same file as clinical table: titles and characteristics
    clin = series_matrix_clinical(sm)
    assert clin.loc["GSM1001", "title"] == "PAT-02" and clin.loc["GSM1001", "histology"] == "ADC"
    assert clin.loc["GSM1005", "age"] == "55"
    # GSM accessions are renamed to titles when the clinical table uses titles
    renamed = read_expression_file(sm, known_ids={f"PAT-{i:02d}" for i in range(1, 7)}, annotation=gpl)
    assert list(renamed.index) == [f"PAT-{i:02d}" for i in range(1, 7)]


def test_series_matrix_through_samplesheet(tmp_path: Path) -> None:
    """A GEO series matrix as both expression and clinical file, collapsed with a GPL table, via ingest()."""
    rng = np.random.default_rng(3)
    values = rng.normal(7, 1, (len(PROBES), 12))
    (tmp_path / "GSE1_series_matrix.txt.gz").write_bytes(gzip.compress(_series_matrix(values).encode()))
    (tmp_path / "GPL96.txt").write_text(GPL)
    (tmp_path / "sheet.csv").write_text(
        "cohort,role,expression,clinical,annotation\n"
        "geo,train,GSE1_series_matrix.txt.gz,GSE1_series_matrix.txt.gz,GPL96.txt\n"
    )
    res = ingest(tmp_path / "sheet.csv", IngestOptions(clinical_targets=("histology", "age")))
    assert res.expression.shape == (12, 4)
    assert res.labels["histology"].value_counts().to_dict() == {"SCC": 6, "ADC": 6}
    assert any("collapsed to 4 gene symbols" in m for m in res.messages)


@needs_leukemia
def test_leukemia_probe_collapse_matches_gsea_collapsed_file() -> None:
    chip = LEUK / "Human_AFFY_HG_U95_MSigDB_7_0_final.chip"
    probes = read_expression_file(LEUK / "Leukemia_hgu95av2.gct")
    assert probes.shape == (48, 12564)
    collapsed = read_expression_file(LEUK / "Leukemia_hgu95av2.gct", annotation=chip, collapse="max_mean")
    reference = read_expression_file(LEUK / "Leukemia_collapsed_symbols.gct")
    assert list(collapsed.index) == list(reference.index)  # same 48 samples, same order
    ann = read_platform_annotation(chip)
    genes_per_probe = ann.groupby("probe")["gene"].nunique()
    ann1 = ann[ann["probe"].map(genes_per_probe) == 1]
    probes_per_gene = ann1.groupby("gene")["probe"].nunique()
    single = [g for g in collapsed.columns if probes_per_gene.get(g) == 1 and g in reference.columns]
    assert len(single) > 2000
    agree = [g for g in single if np.allclose(collapsed[g], reference[g])]
    assert len(agree) / len(single) > 0.95  # symbols agree -> identical values
    for g in ("GLRA1", "BMP3", "MMP20"):
        np.testing.assert_allclose(collapsed[g], reference[g])
    # mean collapse of a multi-probe gene is the mean of its probes in the probe-level file
    mean = collapse_probes(probes, ann, "mean")
    multi = next(g for g in probes_per_gene[probes_per_gene > 2].index if g in mean.columns)
    members = [p for p in ann1.loc[ann1["gene"] == multi, "probe"] if p in probes.columns]
    assert len(members) > 1
    np.testing.assert_allclose(mean[multi], probes[members].mean(axis=1))


@needs_leukemia
def test_leukemia_cls_as_clinical(tmp_path: Path) -> None:
    labels = read_cls(LEUK / "Leukemia.cls")
    assert labels[:24] == ["ALL"] * 24 and labels[24:] == ["AML"] * 24
    (tmp_path / "sheet.csv").write_text(
        f"cohort,role,expression,clinical\nleuk,train,{LEUK / 'Leukemia_collapsed_symbols.gct'},"
        f"{LEUK / 'Leukemia.cls'}\n"
    )
    res = ingest(tmp_path / "sheet.csv", IngestOptions(clinical_targets=("class",)))
    assert res.labels.set_index("sample_id").loc["AML_3", "class"] == "AML"
    assert res.expression.shape[0] == 48
    assert (
        any("duplicate gene symbol" in m for m in res.messages)
        or not res.expression.columns.duplicated().any()
    )


def test_orientation_detected_and_overridable(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ids = [f"S{i}" for i in range(8)]
    df = pd.DataFrame(rng.normal(size=(8, 5)), index=ids, columns=[f"G{i}" for i in range(5)])
    df.to_csv(tmp_path / "rows.csv", index_label="sample_id")
    df.T.to_csv(tmp_path / "cols.tsv", sep="\t", index_label="gene")
    write_parquet(df.reset_index(names="sample_id"), tmp_path / "rows.parquet", "test")
    for f in ("rows.csv", "cols.tsv", "rows.parquet"):
        got = read_expression_file(tmp_path / f, known_ids=set(ids))
        pd.testing.assert_frame_equal(got, df.rename_axis("sample_id"), check_names=False)
    # without known ids, 5 genes x 8 samples as columns looks like samples-as-rows; the override fixes it
    wrong = read_expression_file(tmp_path / "cols.tsv")
    assert list(wrong.index) == [f"G{i}" for i in range(5)]
    right = read_expression_file(tmp_path / "cols.tsv", orientation="genes_rows")
    assert list(right.index) == ids


def test_duplicate_symbols_collapse_rule(tmp_path: Path) -> None:
    df = pd.DataFrame({"sample_id": ["a", "b", "c"], "X": [1.0, 2.0, 3.0], "Y": [5.0, 5.0, 5.0]})
    text = df.to_csv(index=False).replace("sample_id,X,Y", "sample_id,X,X")
    (tmp_path / "d.csv").write_text(text)
    msgs: list[str] = []
    mean = read_expression_file(tmp_path / "d.csv", orientation="samples_rows", messages=msgs)
    assert mean["X"].tolist() == [3.0, 3.5, 4.0] and "collapsed" in msgs[0]
    var = read_expression_file(tmp_path / "d.csv", orientation="samples_rows", collapse="max_variance")
    assert var["X"].tolist() == [1.0, 2.0, 3.0]
    mx = read_expression_file(tmp_path / "d.csv", orientation="samples_rows", collapse="max_mean")
    assert mx["X"].tolist() == [5.0, 5.0, 5.0]


def test_h5ad(tmp_path: Path) -> None:
    anndata = pytest.importorskip("anndata", reason="anndata is not installed: .h5ad reading is optional")
    X = np.arange(12, dtype=np.float32).reshape(3, 4)
    ad = anndata.AnnData(X, obs=pd.DataFrame(index=["a", "b", "c"]), var=pd.DataFrame(index=list("WXYZ")))
    ad.write_h5ad(tmp_path / "x.h5ad")
    got = read_expression_file(tmp_path / "x.h5ad")
    assert got.loc["b", "Y"] == 6.0


def test_samplesheet_schema_and_example() -> None:
    schema = load_input_schema()
    assert schema["items"]["required"] == ["cohort", "role", "expression"]
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema)
    cohorts = read_samplesheet(REPO / "assets" / "samplesheet_example.csv")
    assert [(c.name, c.role) for c in cohorts] == [("stanford", "train"), ("lung3", "test")]
    assert cohorts[1].annotation.name == "GPL15048.annot.txt" and cohorts[0].annotation is None
    json.dumps(schema)


def test_clinical_only_dataset_validates() -> None:
    """No radiomics file: clinical targets alone go through VALIDATE."""
    rng = np.random.default_rng(2)
    ids = [f"s{i}" for i in range(30)]
    expr = pd.DataFrame(rng.normal(size=(30, 20)), index=ids, columns=[f"g{i}" for i in range(20)])
    labels = pd.DataFrame(
        {
            "sample_id": ids,
            "cohort": ["train"] * 20 + ["test"] * 10,
            "source_cohort": "x",
            "Subtype": ["A", "B", "C"] * 10,
        }
    )
    feats = pd.DataFrame({"name": ["Subtype"], "kind": ["clinical"]})
    res = validate(expr, labels, feats)
    assert list(res.features["name"]) == ["Subtype"] and res.expression.shape == (30, 20)


def test_radiomic_groups_and_override(tmp_path: Path) -> None:
    names = {
        "shape_Compactness1": "shape",
        "stats_Entropy": "stats",
        "GLCM_contrast": "GLCM",
        "GLSZM_zonePercentage": "GLSZM",
        "RLGL_runPercentage": "RLGL",
        "LoG_sigma_1_mm_2D_stats_kurtosis": "LoG",
        "wavelet_HHH_GLCM_contrast": "wavelet",
        # PyRadiomics names: the group is <image type>_<feature class> (GLDM/NGTDM no longer 'other')
        "original_glrlm_RunEntropy": "original_glrlm",
        "log-sigma-3-0-mm-3D_glcm_Idm": "log-sigma-3-0-mm-3D_glcm",
        "wavelet-LLH_firstorder_Mean": "wavelet-LLH_firstorder",
        "original_firstorder_Energy": "original_firstorder",
        "original_shape_Sphericity": "original_shape",
        "original_gldm_DependenceEntropy": "original_gldm",
        "wavelet-HHH_ngtdm_Busyness": "wavelet-HHH_ngtdm",
        "volume": "other",
    }
    for n, g in names.items():
        assert feature_group(n) == g, n
    override = REPO / "assets" / "feature_groups_example.csv"
    ov = read_group_overrides(str(override))
    assert set(ov.values()) <= set(GROUPS)
    assert feature_group("volume", ov) == "shape"
    (tmp_path / "bad.csv").write_text("name,grp\nvolume,shape\n")
    with pytest.raises(RadplugInputError, match="feature, group"):
        read_group_overrides(str(tmp_path / "bad.csv"))
    (tmp_path / "bad2.csv").write_text("feature,group\nvolume,texture\n")
    with pytest.raises(RadplugInputError, match="row 2.*'texture'.*shape, stats"):
        read_group_overrides(str(tmp_path / "bad2.csv"))


@needs_leukemia
@pytest.mark.parametrize("method", ["max_variance", "max_mean"])
def test_probe_choice_decided_on_training_cohort(tmp_path: Path, method: str) -> None:
    """Real Leukemia GCT + .chip split into a training (ALL_1..12, AML_1..12) and a test cohort (the rest,
    listed first in the samplesheet): every gene of the test cohort is the probe chosen on the training
    samples, even where the test samples alone would choose another probe."""
    gct = LEUK / "Leukemia_hgu95av2.gct"
    chip = LEUK / "Human_AFFY_HG_U95_MSigDB_7_0_final.chip"
    probes = read_expression_file(gct)
    train_ids = [f"{c}_{i}" for c in ("ALL", "AML") for i in range(1, 13)]
    test_ids = [s for s in probes.index if s not in train_ids]
    paths = {}
    for name, ids in (("train", train_ids), ("test", test_ids)):
        sub = probes.loc[ids].T
        lines = ["#1.2", f"{sub.shape[0]}\t{sub.shape[1]}", "\t".join(["NAME", "Description", *ids])]
        lines += ["\t".join([p, "na", *(repr(float(v)) for v in row)])
                  for p, row in zip(sub.index, sub.to_numpy(), strict=True)]
        paths[name] = tmp_path / f"{name}.gct"
        paths[name].write_text("\n".join(lines) + "\n")
        pd.DataFrame({"sample_id": ids, "class": [s.split("_")[0] for s in ids]}).to_csv(
            tmp_path / f"{name}_clin.csv", index=False)
    (tmp_path / "sheet.csv").write_text(
        "cohort,role,expression,clinical,annotation\n"
        f"val,test,{paths['test']},{tmp_path / 'test_clin.csv'},{chip}\n"
        f"dev,train,{paths['train']},{tmp_path / 'train_clin.csv'},{chip}\n")
    res = ingest(tmp_path / "sheet.csv", IngestOptions(clinical_targets=("class",), collapse=method))
    expr = res.expression
    assert list(expr.index[:len(test_ids)]) == test_ids   # samplesheet order kept
    ann = read_platform_annotation(chip)
    per_probe = ann.groupby("probe")["gene"].nunique()
    ann1 = ann[ann["probe"].map(per_probe) == 1].drop_duplicates("probe")
    ann1 = ann1[ann1["probe"].isin(probes.columns)]
    multi = ann1.groupby("gene")["probe"].apply(list)
    multi = multi[multi.map(len) > 1]
    tr, te = probes.loc[train_ids], probes.loc[test_ids]
    s_train, s_test = (tr.var(), te.var()) if method == "max_variance" else (tr.mean(), te.mean())
    on_train = [max(m, key=lambda p: (s_train[p], -m.index(p))) for m in multi]
    on_test = [max(m, key=lambda p: (s_test[p], -m.index(p))) for m in multi]
    genes = list(multi.index)
    np.testing.assert_allclose(expr.loc[test_ids, genes].to_numpy(), te[on_train].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(expr.loc[train_ids, genes].to_numpy(), tr[on_train].to_numpy(), rtol=1e-6)
    n_differs = sum(a != b for a, b in zip(on_train, on_test, strict=True))
    assert len(multi) > 500 and n_differs > 20   # the rule matters on real data
    assert any("chosen on the training cohort" in m for m in res.messages)
