"""Stub runs (`nextflow run main.nf -stub`): every module's `stub:` block, the whole DAG wired end to end in seconds,
and the per-process versions collated into pipeline_info/software_versions.yml. The first pipeline tests to run:
a wiring mistake (a missing emit, a channel of the wrong shape) fails here before any real computation."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SHARED_DATA, read_trace, run_nextflow

pytestmark = pytest.mark.pipeline

SIMULATED_DAG = {"SIMULATE", "SAMPLESHEET", "INGEST", "PREFLIGHT", "VALIDATE", "BINARIZE", "PLAN", "SEARCH",
                 "SELECT", "FIT_FINAL", "EVALUATE", "MASK", "SIGNIFICANCE", "REPORT"}
LUNG = SHARED_DATA / "radiomics_images" / "pyradiomics"


def _processes(outdir: Path) -> set[str]:
    return {row["name"].split(" ")[0].split(":")[-1] for row in read_trace(outdir) if row["status"] == "COMPLETED"}


def _versions(outdir: Path) -> dict[str, str]:
    text = (outdir / "pipeline_info" / "software_versions.yml").read_text()
    entries: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith('"'):
            current = line.strip().rstrip(":").strip('"')
            entries[current] = ""
        elif current:
            entries[current] += line.strip() + "\n"
    return entries


def test_stub_run_of_the_whole_dag(tmp_path: Path) -> None:
    run = run_nextflow(tmp_path, "-stub", "-profile", "test", timeout=600)
    assert run.returncode == 0, run.log[-4000:]
    assert _processes(run.outdir) == SIMULATED_DAG
    versions = _versions(run.outdir)
    assert {k.split(":")[-1] for k in versions if k.startswith("RADPLUG:")} == SIMULATED_DAG
    # each step runs in its subworkflow (subworkflows/local/): RADPLUG:<subworkflow>:<process>
    assert {k.split(":")[1] for k in versions if k.startswith("RADPLUG:")} == {
        "PREPARE_DATA", "TRAIN_MODELS", "EXPLAIN_MODELS", "REPORTING"}
    assert "Nextflow: 24.10" in versions["Workflow"] and "radplug:" in versions["Workflow"]
    assert all("torch:" in v and "scikit-learn:" in v for k, v in versions.items() if k != "Workflow")
    # no process's own versions.yml is published beside the results
    assert not list(run.outdir.rglob("versions.yml"))
    assert "stub run finished" in run.stdout


@pytest.mark.skipif(not LUNG.exists(), reason=f"real images not present: {LUNG}")
def test_stub_run_with_image_manifest_covers_extract(tmp_path: Path) -> None:
    manifest = tmp_path / "images.csv"
    manifest.write_text("sample_id,image,mask\n" + "".join(
        f"{c},{LUNG / f'{c}_image.nrrd'},{LUNG / f'{c}_label.nrrd'}\n" for c in ("lung1", "lung2")))
    for name in ("expr.csv", "clin.csv"):
        (tmp_path / name).write_text("sample_id\n")
    sheet = tmp_path / "samplesheet.csv"
    sheet.write_text("cohort,role,expression,radiomics,clinical\ntrain,train,expr.csv,images.csv,clin.csv\n")
    run = run_nextflow(tmp_path / "run", "-stub", "-profile", "test", "--input", str(sheet),
                       "--genesets", f"msigdb_hallmark={SHARED_DATA / 'msigdb' / 'h.all.v7.0.symbols.gmt'}",
                       timeout=600)
    assert run.returncode == 0, run.log[-4000:]
    done = _processes(run.outdir)
    assert {"EXTRACT", "EXTRACT_JOIN", "SAMPLESHEET", "MASK", "REPORT"} <= done and "SIMULATE" not in done
    assert {"RADPLUG:PREPARE_DATA:EXTRACT", "RADPLUG:PREPARE_DATA:EXTRACT_JOIN"} <= set(_versions(run.outdir))
