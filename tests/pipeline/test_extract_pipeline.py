"""Images through the real pipeline: a samplesheet whose radiomics column names image manifests (PyRadiomics'
lung CTs lung1 and lung2, plus noisy crops of them under other ids as extra patients), with simulated expression
and clinical tables for those ids, run by `nextflow run main.nf` through EXTRACT -> INGEST -> BINARIZE -> ... ->
REPORT. The lung cases' extracted values must equal PyRadiomics' baseline (its settings, its 3 % rule); bad image
input must stop the run with a message naming the patient and the file, and publish nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA, read_trace, run_nextflow
from test_extract import shifted_mask, two_series_folder

from radplug.data.extract_reference import baseline_case, compare_to_baseline

sitk = pytest.importorskip("SimpleITK", reason="the radiomics extra is not installed (./setup.sh installs it)")

PYRAD = SHARED_DATA / "radiomics_images" / "pyradiomics"
IBSI = SHARED_DATA / "radiomics_images" / "ibsi1_ct_phantom"
pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.skipif(not PYRAD.exists(), reason=f"real images not present: {PYRAD} (../shared is absent)"),
]
# a subset of the baseline's first-order and shape features keeps the number of downstream targets small
FEATURES = {"firstorder": ["Mean", "Median", "Entropy", "Skewness", "Kurtosis", "Uniformity", "90Percentile"],
            "shape": ["Sphericity", "MeshVolume", "Maximum3DDiameter", "SurfaceVolumeRatio"]}


def _noisy_crop(case: str, rng: np.random.Generator, out: Path, noise_sd: float) -> tuple[Path, Path]:
    """A crop around the tumour of a lung case with seeded Gaussian noise and an intensity offset: a new patient."""
    image = sitk.ReadImage(str(PYRAD / f"{case}_image.nrrd"))
    mask = sitk.ReadImage(str(PYRAD / f"{case}_label.nrrd"))
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(mask)
    box = stats.GetBoundingBox(1)
    dim = image.GetDimension()
    lo = [max(0, box[i] - 8) for i in range(dim)]
    hi = [min(image.GetSize()[i], box[i] + box[dim + i] + 8) for i in range(dim)]
    size = [h - lo_ for lo_, h in zip(lo, hi, strict=True)]
    img = sitk.RegionOfInterest(image, size, lo)
    msk = sitk.RegionOfInterest(mask, size, lo)
    arr = sitk.GetArrayFromImage(img).astype(np.float32)
    arr = arr + rng.normal(rng.uniform(-40, 40), noise_sd, size=arr.shape)
    noisy = sitk.GetImageFromArray(arr.astype(np.int16))
    noisy.CopyInformation(img)
    sitk.WriteImage(noisy, str(out.with_suffix(".image.nrrd")), True)
    sitk.WriteImage(msk, str(out.with_suffix(".mask.nrrd")), True)
    return out.with_suffix(".image.nrrd"), out.with_suffix(".mask.nrrd")


def PLANTED(sim) -> str:  # noqa: N802
    """The gene set whose expression follows image noise: the first set in name order."""
    return sorted(sim.gene_sets["gene_set"].unique())[0]


def _cohort(folder: Path, n_train: int = 30, n_test: int = 14) -> tuple[Path, Path, Path, str]:
    """Image manifests, expression, clinical, settings (baseline's, fewer features) and the samplesheet."""
    from radplug.data.simulate import simulate_cohort

    sim = simulate_cohort(n_train, n_test, n_genes=300, n_sets=12, features_per_group=1, signal=1.5, seed=3)
    rng = np.random.default_rng(5)
    imgs = folder / "images"
    imgs.mkdir()
    roles = sim.clinical["cohort"].to_numpy()
    ids = ["lung1", "lung2"] + [f"P{i:03d}" for i in range(3, len(roles) + 1)]
    rename = dict(zip(sim.clinical["sample_id"], ids, strict=True))
    expression = sim.expression.rename(index=rename)
    clinical = sim.clinical.assign(sample_id=ids)
    # an imaging-genomic link: the image noise of a patient drives the expression of one gene set (PLANTED), so
    # noise-sensitive features (entropy, uniformity, ...) are predictable from expression and get masked
    noise = np.r_[np.nan, np.nan, rng.uniform(5, 120, size=len(ids) - 2)]     # lung1, lung2: as acquired
    z = np.nan_to_num((np.log(noise) - np.nanmean(np.log(noise))) / np.nanstd(np.log(noise)))
    genes = sim.gene_sets.loc[sim.gene_sets["gene_set"] == PLANTED(sim), "gene"]
    expression[list(genes)] += 3.0 * z[:, None]
    rows: dict[str, list[str]] = {"train": [], "test": []}
    for sid, role, sd in zip(ids, roles, noise, strict=True):
        if sid in ("lung1", "lung2"):
            image, mask = PYRAD / f"{sid}_image.nrrd", PYRAD / f"{sid}_label.nrrd"   # the originals, absolute
        else:
            image, mask = _noisy_crop(rng.choice(["lung1", "lung2"]), rng, imgs / sid, sd)
            image, mask = image.relative_to(folder), mask.relative_to(folder)       # relative to the manifest
        rows[role].append(f"{sid},{image},{mask},1")
    for role in ("train", "test"):
        (folder / f"images_{role}.csv").write_text("sample_id,image,mask,label\n" + "\n".join(rows[role]) + "\n")
        sel = clinical["cohort"] == role
        expression.loc[clinical.loc[sel, "sample_id"]].reset_index().to_csv(folder / f"expr_{role}.csv", index=False)
        clinical.loc[sel].drop(columns="cohort").to_csv(folder / f"clin_{role}.csv", index=False)
    conf, _ = baseline_case(PYRAD / "baseline", "lung1")
    conf["featureClass"] = FEATURES
    settings = folder / "baseline_subset.yaml"
    settings.write_text(json.dumps(conf))
    gmt = folder / "sets.gmt"
    with open(gmt, "w") as fh:
        for s, genes in sim.gene_sets.groupby("gene_set", sort=True)["gene"]:
            fh.write(s + "\tsimulated\t" + "\t".join(genes) + "\n")
    sheet = folder / "samplesheet.csv"
    sheet.write_text("cohort,role,expression,radiomics,clinical\n"
                     "ct_train,train,expr_train.csv,images_train.csv,clin_train.csv\n"
                     "ct_test,test,expr_test.csv,images_test.csv,clin_test.csv\n")
    return sheet, settings, gmt, PLANTED(sim)


def test_images_through_extract_and_the_whole_pipeline(tmp_path: Path) -> None:
    data = tmp_path / "in"
    data.mkdir()
    sheet, settings, gmt, planted = _cohort(data)
    outdir = tmp_path / "res"
    r = run_nextflow(tmp_path, "-profile", "test", "--input", str(sheet), "--extract_settings", str(settings),
                     "--extract_batch", "8", "--clinical_targets", "histology", "--genesets", f"custom={gmt}",
                     "--models", "svm", "--mask_n_random", "50", outdir=str(outdir))
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]

    ext = outdir / "extraction"
    table = pd.read_csv(ext / "ct_train.radiomics.csv", dtype={"sample_id": str}).set_index("sample_id")
    n_feat = sum(len(v) for v in FEATURES.values())
    assert table.shape == (30, n_feat)
    for case in ("lung1", "lung2"):
        _, baseline = baseline_case(PYRAD / "baseline", case)
        cmp = compare_to_baseline(table.loc[case].to_dict(), {k: baseline[k] for k in table.columns})
        assert len(cmp) == n_feat and cmp["ok"].all(), cmp[~cmp["ok"]]
    info = json.loads((ext / "ct_train.extraction.json").read_text())
    import radiomics

    assert info["extractor_version"] == radiomics.__version__ and info["n_patients"] == 30
    assert info["settings_source"] == "file baseline_subset.yaml"
    assert json.loads("\n".join(ln for ln in (ext / "ct_train.extraction_settings.yaml").read_text().splitlines()
                                if not ln.startswith("#"))) == json.loads(settings.read_text())
    # one EXTRACT task per batch of 8 patients: 30 train -> 4, 14 test -> 2; one EXTRACT_JOIN per cohort
    procs = [r["process"].split(":")[-1] for r in read_trace(outdir)]
    assert procs.count("EXTRACT") == 6 and procs.count("EXTRACT_JOIN") == 2
    # every model-search job ran (one per unit: histology, the shape group, the stats group) and every target has a
    # selected model: the staged inputs downstream of EXTRACT are read by each task, not consumed by the first
    assert procs.count("SEARCH") == 3, procs
    selection = pd.read_parquet(outdir / "cv" / "selection.parquet")
    assert set(selection.loc[selection["selected"], "target"]) == {"histology", *table.columns}
    assert procs.count("FIT_FINAL") == 3, procs     # one per unit, as SEARCH: not one per target

    # downstream unchanged: the extracted features are the radiomic targets of INGEST/VALIDATE/BINARIZE
    labels = pd.read_parquet(outdir / "data" / "labels.parquet").set_index("sample_id")
    assert np.allclose(labels.loc["lung1", table.columns].astype(float), table.loc["lung1"])
    feats = pd.read_parquet(outdir / "data" / "features.parquet")
    assert set(feats.loc[feats["kind"] == "radiomic", "name"]) == set(table.columns)
    targets = pd.read_parquet(outdir / "data" / "targets.parquet")
    assert any(c.startswith("original_firstorder_") for c in targets.columns)
    # ... and on through models and masking: the noise-driven features are predicted from expression on the test
    # cohort and reach gene-set masking
    metrics = pd.read_parquet(outdir / "evaluation" / "test_metrics.parquet").set_index("target")
    for feature in ("original_firstorder_Entropy", "original_firstorder_Uniformity"):
        assert metrics.loc[feature, "auc"] >= 0.7, metrics["auc"]
    masking = pd.read_parquet(outdir / "masking" / "masking.parquet")
    masked = set(masking.loc[masking["cohort"] == "test", "target"])
    assert {"original_firstorder_Entropy", "original_firstorder_Uniformity"} <= masked, masked
    assert set(masking["gene_set"]) >= {planted}
    # the report (rebuilt on completion from the results folder) shows the extractor's version and settings
    page = (outdir / "report" / "report.html").read_text()
    assert "Radiomic feature extraction" in page and radiomics.__version__ in page


# kind -> (B2's image, B2's mask, B2's label, the message expected for it) given the input folder. A missing file is
# refused by the workflow before any task; each other kind stages another input through Nextflow (a mask file, an
# image and a mask file, a DICOM folder); an unreadable image is refused by the same EXTRACT code
# (tests/step/test_extract.py, with the manifest's own path in the message).
BAD_INPUTS = {
    "a file that does not exist": (lambda d: "missing.nrrd", lambda d: PYRAD / "breast1_label.nrrd", 1,
                                   lambda d: "patient B2: image 'missing.nrrd' does not exist"),
    "no voxel of the label": (lambda d: PYRAD / "breast1_image.nrrd", lambda d: PYRAD / "breast1_label.nrrd", 3,
                              lambda d: f"patient B2: mask {PYRAD / 'breast1_label.nrrd'} has no voxel of label 3"),
    "geometry mismatch": (lambda d: PYRAD / "breast1_image.nrrd", lambda d: shifted_mask(d / "shifted_mask.nrrd"), 1,
                          lambda d: f"patient B2: mask {d / 'shifted_mask.nrrd'} does not match the image "
                                    f"{PYRAD / 'breast1_image.nrrd'}: origin"),
    "DICOM folder with two series": (lambda d: two_series_folder(d / "two_series"),
                                     lambda d: IBSI / "nifti" / "mask" / "mask.nii.gz", 1,
                                     lambda d: f"patient B2: image {d / 'two_series'}: the folder holds 2 DICOM "
                                               "series"),
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_each_kind_of_bad_image_stops_the_run_and_publishes_nothing(tmp_path: Path, kind: str) -> None:
    """Beside a good patient B1, B2's files are bad in one way: EXTRACT stops the run naming B2 and the file as
    the manifest gave it (not the task's staged copy), and nothing reaches the results folder."""
    data = tmp_path / "in"
    data.mkdir()
    image, mask, label, message = BAD_INPUTS[kind]
    (data / "images.csv").write_text(
        "sample_id,image,mask,label\n"
        f"B1,{PYRAD / 'breast1_image.nrrd'},{PYRAD / 'breast1_label.nrrd'},1\n"
        f"B2,{image(data)},{mask(data)},{label}\n")
    (data / "expr.csv").write_text("sample_id,G1,G2\nB1,1.0,2.0\nB2,2.0,1.0\n")
    (data / "sheet.csv").write_text("cohort,role,expression,radiomics\nc1,train,expr.csv,images.csv\n")
    outdir = tmp_path / "res"
    r = run_nextflow(tmp_path, "--input", str(data / "sheet.csv"), "--genesets", f"custom={data / 'expr.csv'}",
                     outdir=str(outdir))
    assert r.returncode != 0
    assert message(data) in r.stdout + r.stderr, (r.stdout + r.stderr)[-4000:]
    assert not (outdir / "extraction").exists() and not (outdir / "data").exists()
