"""PyRadiomics batch output as radiomics input (issue 14, items 1-2 and the bad-input acceptance point), on the
real NSCLC-Radiogenomics feature table (../shared/data/nsclc_radiogenomics, 60 patients x 1,764 features, written
by PyRadiomics 3.0.1's batch script): ids from the Mask path, diagnostics dropped, names parsed into image type x
feature class, the include/exclude filter and its paper preset, near-duplicate removal on the training cohort,
clear refusals of bad tables (CLI and real `nextflow run`), and a small real pipeline run of the paper universe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, SHARED_DATA

from radplug.data.binarize import binarize
from radplug.data.ingest import IngestOptions, ingest, read_radiomics_file
from radplug.data.radiomics import filter_features, near_duplicates, parse_feature_name, parse_filter
from radplug.io import RadplugInputError

NSCLC = SHARED_DATA / "nsclc_radiogenomics"
FEATURES = NSCLC / "features_NSCLC.csv"
HALLMARK = SHARED_DATA / "msigdb" / "h.all.v7.0.symbols.gmt"
CLINICAL = NSCLC / "NSCLCR01Radiogenomic_DATA_LABELS_2018-05-22_1500-shifted.csv"
TARGETS = "EGFR mutation status,KRAS mutation status"
needs_nsclc = pytest.mark.skipif(not FEATURES.exists(), reason="needs ../shared/data/nsclc_radiogenomics")


def _split_script():
    """docs/examples/real_nsclc/split.py, the documented way to make the `real_nsclc` samplesheet."""
    import importlib.util

    path = REPO / "docs" / "examples" / "real_nsclc" / "split.py"
    spec = importlib.util.spec_from_file_location("real_nsclc_split", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_native_cohorts(folder: Path, edit: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> Path:
    """The `real_nsclc` example (docs/examples/real_nsclc/split.py: 42 train / 18 test, each file in its native
    format: the PyRadiomics CSV's own rows, expression with genes as rows, the TCIA clinical table). ``edit``
    may change the training cohort's PyRadiomics table (bad-input cases)."""
    sheet = _split_script().split(NSCLC, folder)
    if edit is not None:
        rad = folder / "train_radiomics.csv"
        edit(pd.read_csv(rad, index_col=0)).to_csv(rad)
    return sheet


# --------------------------------------------------------------------------- names and filters
def test_feature_names_parse_into_image_type_and_class() -> None:
    cases = {
        "original_shape_Sphericity": ("original", "shape", "original_shape"),
        "original_shape2D_Elongation": ("original", "shape2D", "original_shape2D"),
        "log-sigma-0-5-mm-3D_gldm_DependenceEntropy": ("log-sigma-0-5-mm-3D", "gldm", "log-sigma-0-5-mm-3D_gldm"),
        "wavelet-HHH_ngtdm_Busyness": ("wavelet-HHH", "ngtdm", "wavelet-HHH_ngtdm"),
        "squareroot_firstorder_Mean": ("squareroot", "firstorder", "squareroot_firstorder"),
        "square_glcm_Idm": ("square", "glcm", "square_glcm"),
        "logarithm_glszm_ZoneEntropy": ("logarithm", "glszm", "logarithm_glszm"),
        "exponential_glrlm_RunEntropy": ("exponential", "glrlm", "exponential_glrlm"),
        "gradient_firstorder_Mean": ("gradient", "firstorder", "gradient_firstorder"),
        "lbp-3D-m1_glcm_Idm": ("lbp-3D-m1", "glcm", "lbp-3D-m1_glcm"),
        "lbp-2D_firstorder_Mean": ("lbp-2D", "firstorder", "lbp-2D_firstorder"),
        # Aerts-style names keep the paper's 7 groups, with an image type and class read from the name
        "GLCM_contrast": ("original", "glcm", "GLCM"),
        "RLGL_runPercentage": ("original", "glrlm", "RLGL"),
        "LoG_sigma_0_5_mm_2D_stats_entropy": ("log-sigma-0-5-mm-2D", "firstorder", "LoG"),
        "wavelet_HHH_GLSZM_zonePercentage": ("wavelet-HHH", "glszm", "wavelet"),
        "volume": ("", "", "other"),
    }
    for name, want in cases.items():
        f = parse_feature_name(name)
        assert (f.image_type, f.feature_class, f.group) == want, name


@needs_nsclc
def test_real_pyradiomics_names_and_paper_preset() -> None:
    names = [c for c in pd.read_csv(FEATURES, nrows=0).columns
             if not c.startswith("diagnostics_") and c not in ("Unnamed: 0", "Image", "Mask")]
    parsed = [parse_feature_name(n) for n in names]
    assert len(names) == 1764 and all(p.style == "pyradiomics" for p in parsed)
    types = pd.Series([p.image_type for p in parsed]).value_counts()
    assert types["original"] == 108 and len(types) == 19                   # original + 10 LoG sigmas + 8 bands
    assert (types.drop("original") == 92).all()
    classes = set(p.feature_class for p in parsed)
    assert classes == {"shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"}
    assert "other" not in {p.group for p in parsed}                         # GLDM / NGTDM have their own groups
    paper = filter_features(names, "preset:paper", None)
    kept = paper[paper["kept"]]
    assert len(kept) == 292
    assert kept["image_type"].value_counts().to_dict() == {"original": 108, "log-sigma-0-5-mm-3D": 92,
                                                          "wavelet-HHH": 92}
    assert (paper.loc[~paper["kept"], "reason"] == "matches no --radiomics_include term").all()
    # one syntax: AND within a term (+), OR across terms (,), exclude after include, case-insensitive globs
    sel = filter_features(names, "type:wavelet-*+class:NGTDM,name:original_shape_*", "name:*Volume*")
    k = sel[sel["kept"]]
    # 8 wavelet bands x 5 NGTDM + 16 original shape - MeshVolume, VoxelVolume, SurfaceVolumeRatio
    assert len(k) == 8 * 5 + 16 - 3 and set(k["feature_class"]) == {"ngtdm", "shape"}
    assert sel.loc[sel["feature"] == "original_shape_MeshVolume", "reason"].item() == \
        "matches --radiomics_exclude term name:*volume*"


def test_filter_syntax_errors_name_the_option() -> None:
    with pytest.raises(RadplugInputError, match=r"--radiomics_include: 'original' in term 'original' is not "
                                                r"key:pattern.*type:<image type>"):
        parse_filter("original", "--radiomics_include")
    with pytest.raises(RadplugInputError, match=r"--radiomics_exclude: 'kind:glcm'"):
        parse_filter("type:original,kind:glcm", "--radiomics_exclude")
    with pytest.raises(RadplugInputError, match=r"unknown or combined preset 'preset:aerts'.*preset:paper = "):
        parse_filter("preset:aerts", "--radiomics_include")
    assert parse_filter(" , ", "x") == []


def test_near_duplicates_greedy_in_column_order() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=40), rng.normal(size=40)
    df = pd.DataFrame({"a": a, "a_exp": np.exp(a), "b": b, "neg_b": -b + rng.normal(0, 0.01, 40),
                       "c": rng.normal(size=40)})
    res = near_duplicates(df, 0.95).set_index("feature")
    assert list(res.index[res["kept"]]) == ["a", "b", "c"]
    assert res.loc["a_exp", "partner"] == "a" and res.loc["a_exp", "rho"] == pytest.approx(1.0)
    assert res.loc["neg_b", "partner"] == "b" and res.loc["neg_b", "rho"] < -0.95


# --------------------------------------------------------------------------- reading the native table
@needs_nsclc
def test_pyradiomics_table_ids_from_mask_path(tmp_path: Path) -> None:
    sheet = write_native_cohorts(tmp_path)
    messages: list[str] = []
    rad = read_radiomics_file(sheet.parent / "train_radiomics.csv", messages=messages)
    assert rad.shape == (42, 1764) and rad.index.str.fullmatch(r"R01-\d{3}").all()
    assert not any(c.startswith("diagnostics_") or c in ("Image", "Mask", "") for c in rad.columns)
    assert len(messages) == 1 and "37 diagnostics_* column(s)" in messages[0]
    assert "file names of column 'Mask'" in messages[0]
    # an explicit pattern; a --id_column the PyRadiomics output does not have falls back to the paths (noted)
    pat = read_radiomics_file(sheet.parent / "train_radiomics.csv", id_pattern=r"masks/(R01-\d+)")
    assert list(pat.index) == list(rad.index)
    notes: list[str] = []
    viacol = read_radiomics_file(sheet.parent / "train_radiomics.csv", id_column="Case ID", messages=notes)
    assert list(viacol.index) == list(rad.index) and "--id_column 'Case ID' is not a column" in notes[0]


@needs_nsclc
def test_ingest_selection_on_training_cohort_only(tmp_path: Path) -> None:
    sheet = write_native_cohorts(tmp_path)
    opts = IngestOptions(clinical_targets=tuple(TARGETS.split(",")), radiomics_include="preset:paper",
                         radiomics_max_correlation=0.9)
    res = ingest(sheet, opts)
    sel = res.radiomics_selection
    assert len(sel) == 1764 and sel["kept"].sum() == (res.features["kind"] == "radiomic").sum()
    dup = sel[sel["reason"].str.startswith("|Spearman")]
    assert len(dup) > 50 and (dup["rho"].abs() > 0.9).all()
    assert dup["partner"].isin(sel.loc[sel["kept"], "feature"]).all()      # the partner is a kept feature
    # the rho recorded is the training cohort's (recomputed here from the raw training rows)
    raw = read_radiomics_file(sheet.parent / "train_radiomics.csv")
    row = dup.iloc[0]
    rho = raw[[row["feature"], row["partner"]]].astype(float).corr(method="spearman").iloc[0, 1]
    assert row["rho"] == pytest.approx(rho, abs=1e-9)
    kept = set(res.features.loc[res.features["kind"] == "radiomic", "name"])
    assert kept <= set(res.labels.columns) and not set(dup["feature"]) & set(res.labels.columns)


@needs_nsclc
def test_binarize_all_features_without_performance_warnings(tmp_path: Path) -> None:
    import warnings

    res = ingest(write_native_cohorts(tmp_path), IngestOptions(clinical_targets=("EGFR mutation status",)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        targets, tasks, table = binarize(res.labels, res.features)
    assert len(table) == 1764 and targets.shape[1] == len(tasks) + 2
    assert {"image_type", "feature_class"} <= set(table.columns)
    radiomic = tasks[tasks["source"] == "radiomic"]
    assert radiomic["group"].str.fullmatch(r"(original|log-sigma-\d-\d-mm-3D|wavelet-[LH]{3})_"
                                           r"(shape|firstorder|glcm|glrlm|glszm|gldm|ngtdm)").all()


# --------------------------------------------------------------------------- bad input
def _same_paths(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(Image="/data/images/ct.nii.gz", Mask="/data/masks/gtv.nii.gz")


def _second_lesion(df: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([df, df.iloc[[3]]])


def _text_feature(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(original_firstorder_Mean=np.where(np.arange(len(df)) % 2, "high", "low"))


BAD = {
    # name: (edit of the training PyRadiomics table, extra parameters, message)
    "no_id": (_same_paths, (), r"train_radiomics\.csv: no recognisable patient id: every row's Image/Mask path "
                               r"gives the same name 'gtv'; give --radiomics_id_pattern"),
    "duplicate_patient": (_second_lesion, (), r"train_radiomics\.csv: duplicate patient\(s\) R01-\d+ in the "
                                              r"patient ids taken from the file names of column 'Mask'"),
    "text_feature_column": (_text_feature, (), r"train_radiomics\.csv: column 'original_firstorder_Mean' holds "
                                               r"text, not numbers \(e\.g\. 'low'\)"),
    "include_keeps_nothing": (None, ("--radiomics_include", "type:wavelet-XYZ,class:glcmm"),
                              r"train_radiomics\.csv: the radiomics filter \(--radiomics_include "
                              r"'type:wavelet-XYZ,class:glcmm'.*keeps none of its 1764 radiomic features; image "
                              r"types in this file: log-sigma-0-5-mm-3D"),
}


def _ingest_args(extra: tuple[str, ...]) -> IngestOptions:
    kw = {a[2:]: b for a, b in zip(extra[::2], extra[1::2], strict=True)}
    return IngestOptions(clinical_targets=tuple(TARGETS.split(",")), **kw)


@needs_nsclc
@pytest.mark.parametrize("name", list(BAD))
def test_bad_pyradiomics_input_cli(name: str, tmp_path: Path) -> None:
    """Each bad table through the real INGEST step (`radplug-ingest`, as the pipeline's INGEST task calls it): exit
    status 2, the message without a traceback, no table written."""
    edit, extra, message = BAD[name]
    sheet = write_native_cohorts(tmp_path / "in", edit=edit)
    flags = [a.replace("_", "-") if a.startswith("--") else a for a in extra]
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    proc = subprocess.run([sys.executable, str(REPO / "bin" / "radplug-ingest"), "--samplesheet", str(sheet),
                           "--outdir", str(tmp_path / "out"), "--clinical-targets", TARGETS, *flags],
                          capture_output=True, text=True, timeout=600, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out and re.search(message, re.sub(r"\s+", " ", out)), out
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.parquet"))
