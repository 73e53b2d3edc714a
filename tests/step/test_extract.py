"""EXTRACT at function level: PyRadiomics' baseline reproduced on its lung test cases, presets and user settings,
the plugin listing and conformance check, and clear errors (naming patient and file) for bad input.

Data: ../shared/data/radiomics_images (PyRadiomics' test cases, BSD-3; the IBSI-1 CT phantom, CC BY-NC 3.0)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

from radplug.data.extract import (
    ExtractionError,
    ImageCase,
    extract_cases,
    is_image_manifest,
    join_extractions,
    read_image_manifest,
    write_extraction,
)
from radplug.data.extract_reference import baseline_case, compare_to_baseline
from radplug.io import RadplugInputError

sitk = pytest.importorskip("SimpleITK", reason="the radiomics extra is not installed (./setup.sh installs it)")

PYRAD = SHARED_DATA / "radiomics_images" / "pyradiomics"
IBSI = SHARED_DATA / "radiomics_images" / "ibsi1_ct_phantom"
LUNGS = ("lung1", "lung2")


def case(name: str, sid: str | None = None, label: int = 1) -> ImageCase:
    return ImageCase(sid or name, PYRAD / f"{name}_image.nrrd", PYRAD / f"{name}_label.nrrd", label)


def write_settings(conf: dict, path: Path) -> Path:
    path.write_text(json.dumps(conf))          # JSON is YAML
    return path


@pytest.fixture(scope="module")
def lung_extraction(tmp_path_factory) -> tuple[pd.DataFrame, dict]:
    """lung1 and lung2 extracted with the settings PyRadiomics' baseline records for them (a user YAML file)."""
    conf, _ = baseline_case(PYRAD / "baseline", "lung1")
    settings = write_settings(conf, tmp_path_factory.mktemp("settings") / "baseline.yaml")
    res = extract_cases([case(c) for c in LUNGS], "pyradiomics", str(settings))
    return res.features.set_index("sample_id"), res.info


@pytest.mark.parametrize("name", LUNGS)
def test_lung_cases_reproduce_pyradiomics_baseline(lung_extraction, name: str) -> None:
    features, info = lung_extraction
    conf, baseline = baseline_case(PYRAD / "baseline", name)
    assert conf == info["settings"]              # both lung cases record the same settings
    cmp = compare_to_baseline(features.loc[name].to_dict(), baseline)
    assert len(cmp) >= 90, f"only {len(cmp)} baseline features for {name}"
    bad = cmp[~cmp["ok"]]
    assert bad.empty, f"{name}: {len(bad)} feature(s) off PyRadiomics' baseline by >= 3 %:\n{bad.head(10)}"


def test_provenance_records_version_settings_and_time(lung_extraction) -> None:
    _, info = lung_extraction
    import radiomics

    assert info["extractor"] == "pyradiomics" and info["extractor_version"] == radiomics.__version__
    assert info["settings_source"] == "file baseline.yaml"
    assert [p["sample_id"] for p in info["patients"]] == list(LUNGS)
    assert all(p["seconds"] > 0 and p["voxels"] > 0 for p in info["patients"])


def test_presets_differ_and_aerts2014_adds_filtered_features(tmp_path: Path) -> None:
    small = [case("breast1")]
    default = extract_cases(small, "pyradiomics", "pyradiomics")
    aerts = extract_cases(small, "pyradiomics", "aerts2014")
    d_cols, a_cols = set(default.features.columns), set(aerts.features.columns)
    assert any(c.startswith("log-sigma-0-5-mm-3D_") for c in a_cols)
    assert any(c.startswith("log-sigma-5-0-mm-3D_") for c in a_cols)
    assert {c.split("_")[0] for c in a_cols if c.startswith("wavelet-")} == {
        f"wavelet-{b}" for b in ("LLL", "LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH")}
    assert not any("_gldm_" in c or "_ngtdm_" in c for c in a_cols)         # Aerts 2014 had no GLDM/NGTDM
    assert any("_gldm_" in c for c in d_cols)
    shared = sorted((d_cols & a_cols) - {"sample_id"})
    assert shared and np.allclose(default.features[shared].to_numpy(), aerts.features[shared].to_numpy())
    # the published settings file reproduces the run when given back as a user YAML
    write_extraction(aerts, tmp_path / "f.csv", tmp_path / "i.json", tmp_path / "s.yaml")
    again = extract_cases(small, "pyradiomics", str(tmp_path / "s.yaml"))
    pd.testing.assert_frame_equal(again.features, pd.read_csv(tmp_path / "f.csv", dtype={"sample_id": str}),
                                  check_dtype=False)


def test_manifest_reading_and_detection(tmp_path: Path) -> None:
    m = tmp_path / "images.csv"
    m.write_text("sample_id,image,mask,label\nP1,img/a.nrrd,img/a_mask.nrrd,\nP2,/abs/b.nii.gz,/abs/b.nii.gz,2\n")
    cases = read_image_manifest(m)
    assert cases[0] == ImageCase("P1", tmp_path / "img/a.nrrd", tmp_path / "img/a_mask.nrrd", 1)
    assert cases[1].label == 2 and cases[1].image == Path("/abs/b.nii.gz")
    assert is_image_manifest(m)
    feats = tmp_path / "feats.csv"
    feats.write_text("sample_id,f1\nP1,1.0\n")
    assert not is_image_manifest(feats)
    m.write_text("sample_id,image,mask\nP1,a.nrrd,b.nrrd\nP1,c.nrrd,d.nrrd\n")
    with pytest.raises(RadplugInputError, match=r"row 3: sample_id 'P1' appears more than once"):
        read_image_manifest(m)
    m.write_text("sample_id,image\nP1,a.nrrd\n")
    with pytest.raises(RadplugInputError, match="missing mask"):
        read_image_manifest(m)
    m.write_text("sample_id,image,mask,label\nP1,a.nrrd,b.nrrd,tumour\n")
    with pytest.raises(RadplugInputError, match=r"patient P1\): label 'tumour' is not an integer"):
        read_image_manifest(m)


# --------------------------------------------------------------------------- bad input
def two_series_folder(folder: Path) -> Path:
    """A copy of the IBSI-1 phantom's DICOM series with two slices of a second series (another series UID) added."""
    shutil.copytree(IBSI / "dicom" / "image", folder)
    small = sitk.Cast(sitk.ReadImage(str(PYRAD / "breast1_image.nrrd")), sitk.sitkInt16)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for z in range(2):
        sl = small[:, :, z]
        for tag, value in (("0020|000e", "1.2.826.0.1.3680043.2.1125.99.1"), ("0020|000d", "1.2.3.4.5"),
                           ("0008|0060", "MR"), ("0020|0013", str(z + 1)),
                           ("0020|0032", f"0\\0\\{z * 3.0}"), ("0008|0018", f"1.2.826.0.1.3680043.2.1125.99.2.{z}")):
            sl.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"other_{z}.dcm"))
        writer.Execute(sl)
    return folder


def shifted_mask(path: Path) -> Path:
    """breast1's mask with its origin moved by 5 mm: off the image's voxel grid."""
    mask = sitk.ReadImage(str(PYRAD / "breast1_label.nrrd"))
    mask.SetOrigin(tuple(o + 5.0 for o in mask.GetOrigin()))
    sitk.WriteImage(mask, str(path))
    return path


def test_mask_without_the_label_names_patient_and_file() -> None:
    with pytest.raises(ExtractionError, match=r"patient B7: mask .*breast1_label\.nrrd has no voxel of label 2 "
                                              r"\(values present: \[0, 1\]\)"):
        extract_cases([case("breast1", "B7", label=2)])


def test_geometry_mismatch_names_patient_and_file(tmp_path: Path) -> None:
    bad = ImageCase("B8", PYRAD / "breast1_image.nrrd", shifted_mask(tmp_path / "shifted_mask.nrrd"), 1)
    with pytest.raises(ExtractionError, match=r"patient B8: mask .*shifted_mask\.nrrd does not match the image "
                                              r".*breast1_image\.nrrd: origin"):
        extract_cases([bad])
    other = ImageCase("B9", PYRAD / "breast1_image.nrrd", PYRAD / "lung1_label.nrrd", 1)
    with pytest.raises(ExtractionError, match=r"patient B9: mask .*lung1_label\.nrrd does not match .*: size"):
        extract_cases([other])


def test_unreadable_and_missing_files_name_patient_and_file(tmp_path: Path) -> None:
    (tmp_path / "broken.nrrd").write_text("this is not an image\n")
    bad = ImageCase("C1", tmp_path / "broken.nrrd", PYRAD / "breast1_label.nrrd", 1)
    with pytest.raises(ExtractionError, match=r"patient C1: image .*broken\.nrrd cannot be read"):
        extract_cases([bad])
    gone = ImageCase("C2", tmp_path / "gone.nii.gz", PYRAD / "breast1_label.nrrd", 1)
    with pytest.raises(ExtractionError, match=r"patient C2: image .*gone\.nii\.gz does not exist"):
        extract_cases([gone])


def test_messages_name_the_users_path_of_a_staged_copy(tmp_path: Path) -> None:
    """In a pipeline task the manifest points at staged copies; image_source/mask_source (written by EXTRACT) are
    the paths the user gave, and messages and provenance name those."""
    (tmp_path / "broken.nrrd").write_text("this is not an image\n")
    (tmp_path / "manifest.csv").write_text(
        "sample_id,image,mask,label,image_source,mask_source\n"
        f"C3,broken.nrrd,{PYRAD / 'breast1_label.nrrd'},1,/data/study/C3/ct.nrrd,/data/study/C3/gtv.nrrd\n"
        f"C4,{PYRAD / 'breast1_image.nrrd'},{PYRAD / 'breast1_label.nrrd'},1,/data/study/C4/ct.nrrd,\n")
    c3, c4 = read_image_manifest(tmp_path / "manifest.csv")
    assert c3.image == tmp_path / "broken.nrrd" and c3.shown("image") == "/data/study/C3/ct.nrrd"
    assert c4.shown("mask") == str(PYRAD / "breast1_label.nrrd")       # no source given: the path itself
    with pytest.raises(ExtractionError, match=r"patient C3: image /data/study/C3/ct\.nrrd cannot be read"):
        extract_cases([c3])
    res = extract_cases([c4])
    assert res.info["patients"][0]["image"] == "/data/study/C4/ct.nrrd"


def test_dicom_series_image_with_nifti_mask(tmp_path: Path) -> None:
    """A DICOM series folder is read as the image (IBSI-1 phantom; its NIfTI mask is on the same grid)."""
    res = extract_cases([ImageCase("PHANTOM", IBSI / "dicom" / "image", IBSI / "nifti" / "mask" / "mask.nii.gz")])
    nifti = extract_cases([ImageCase("PHANTOM", IBSI / "nifti" / "image" / "phantom.nii.gz",
                                     IBSI / "nifti" / "mask" / "mask.nii.gz")])
    cols = [c for c in res.features.columns if c.startswith("original_shape_")]
    assert cols and np.allclose(res.features[cols].to_numpy(), nifti.features[cols].to_numpy(), rtol=1e-6)


def test_dicom_rtstruct_mask_and_two_series_folder_are_explained(tmp_path: Path) -> None:
    rt = ImageCase("D1", IBSI / "dicom" / "image", IBSI / "dicom" / "mask" / "DCM_RS_00060.dcm")
    with pytest.raises(ExtractionError, match=r"patient D1: mask .*DCM_RS_00060\.dcm is a DICOM RTSTRUCT object.*"
                                              r"convert it to a voxel mask"):
        extract_cases([rt])
    two = ImageCase("D2", two_series_folder(tmp_path / "two_series"), IBSI / "nifti" / "mask" / "mask.nii.gz")
    with pytest.raises(ExtractionError, match=r"patient D2: image .*two_series: the folder holds 2 DICOM series"):
        extract_cases([two])


def test_join_refuses_mixed_settings(tmp_path: Path) -> None:
    a = extract_cases([case("breast1", "A")], "pyradiomics", "pyradiomics")
    b = extract_cases([case("breast1", "B")], "pyradiomics", "pyradiomics")
    joined = join_extractions([a, b])
    assert list(joined.features["sample_id"]) == ["A", "B"] and joined.info["n_patients"] == 2
    conf = json.loads(json.dumps(b.info["settings"]))
    conf["setting"]["binWidth"] = 10
    c = extract_cases([case("breast1", "C")], "pyradiomics", str(write_settings(conf, tmp_path / "s.yaml")))
    with pytest.raises(RadplugInputError, match=r"extractions disagree on settings \(patients C\)"):
        join_extractions([a, c])


# --------------------------------------------------------------------------- plugin kind
def _radplug(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "radplug.cli", *args], capture_output=True, text=True, timeout=300)


def test_extractor_listed_and_passes_conformance() -> None:
    res = _radplug("plugins", "--json")
    assert res.returncode == 0, res.stderr
    rows = [r for r in json.loads(res.stdout) if r["kind"] == "feature_extractor"]
    assert [(r["name"], r["plugin"]) for r in rows] == [("pyradiomics", "builtin_extractors")]
    res = _radplug("check-plugin", "pyradiomics", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    checks = json.loads(res.stdout)
    assert len(checks) == 4 and all(c["passed"] for c in checks)


def test_listing_plugins_does_not_import_pyradiomics() -> None:
    code = ("import sys; from radplug.plugins import feature_extractors; feature_extractors(); "
            "print('radiomics' in sys.modules, 'SimpleITK' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_cli_extract_writes_the_ingest_table(tmp_path: Path) -> None:
    m = tmp_path / "images.csv"
    m.write_text(f"sample_id,image,mask\nB1,{PYRAD / 'breast1_image.nrrd'},{PYRAD / 'breast1_label.nrrd'}\n")
    res = _radplug("extract", "--manifest", str(m), "--out", str(tmp_path / "f.csv"), "--info",
                   str(tmp_path / "i.json"), "--extract-settings", "nosuchpreset")
    assert res.returncode == 2
    assert "--extract_settings 'nosuchpreset' is neither a preset of extractor pyradiomics" in res.stderr
    res = _radplug("extract", "--manifest", str(m), "--out", str(tmp_path / "f.csv"), "--info",
                   str(tmp_path / "i.json"))
    assert res.returncode == 0, res.stderr
    from radplug.data.ingest import read_labels_file, to_numeric_matrix

    table = read_labels_file(tmp_path / "f.csv")
    assert list(table.index) == ["B1"] and table.shape[1] > 90
    assert to_numeric_matrix(table, "f.csv", "radiomic feature").notna().all().all()


def test_ibsi1_phantom_configuration_a_agrees_for_every_family(tmp_path: Path) -> None:
    """IBSI-1 CT phantom, configuration A (no resampling: the definitions alone): every mapped feature of every
    family lies within the IBSI tolerance. (Configuration C's table, with its explained deviations, is printed by
    benchmarks/bench_extract.py --ibsi.)"""
    from radplug.data.extract_reference import IBSI_CONFIGS, ibsi_agreement, ibsi_summary, read_ibsi_reference

    conf, suffix = IBSI_CONFIGS["A"]
    nifti = IBSI / "nifti"
    phantom = ImageCase("PHANTOM", nifti / "image" / "phantom.nii.gz", nifti / "mask" / "mask.nii.gz")
    feats = extract_cases([phantom], "pyradiomics", str(write_settings(conf, tmp_path / "a.yaml")))
    ref = read_ibsi_reference(IBSI / "reference_values" / "ibsi_1_chest_config_a.csv")
    table = ibsi_agreement(feats.features.iloc[0].to_dict(), ref, suffix)
    summary = ibsi_summary(table)
    print(summary.to_string(index=False))
    assert len(summary) == 7 and len(table) >= 100
    assert table["within"].all(), table[~table["within"]]


def test_report_shows_extractor_version_and_settings(tmp_path: Path) -> None:
    from radplug.reporting.report import build_report

    res = extract_cases([case("breast1", "B1")], "pyradiomics", "pyradiomics")
    (tmp_path / "extraction").mkdir()
    write_extraction(join_extractions([res]), tmp_path / "extraction" / "c1.radiomics.csv",
                     tmp_path / "extraction" / "c1.extraction.json", tmp_path / "extraction" / "c1.settings.yaml")
    page = build_report(tmp_path).read_text()
    assert "Radiomic feature extraction" in page and res.info["extractor_version"] in page
    assert "preset pyradiomics" in page and "binWidth" in page
    table = pd.read_csv(tmp_path / "report" / "tables" / "extraction.csv")
    assert table.loc[0, "cohort"] == "c1" and table.loc[0, "patients"] == 1


def test_missing_extractor_package_says_how_to_install(tmp_path: Path) -> None:
    """Without the radiomics extra (simulated by blocking its import) EXTRACT stops with the install command."""
    m = tmp_path / "images.csv"
    m.write_text(f"sample_id,image,mask\nB1,{PYRAD / 'breast1_image.nrrd'},{PYRAD / 'breast1_label.nrrd'}\n")
    code = ("import sys; sys.modules['radiomics'] = None; from radplug.cli import main; "
            f"sys.exit(main(['extract', '--manifest', r'{m}', '--out', 'f.csv', '--info', 'i.json']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "the pyradiomics feature extractor is not installed" in out.stderr
    assert "pip install 'radplug[radiomics]'" in out.stderr and not (tmp_path / "f.csv").exists()
