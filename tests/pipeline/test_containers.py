"""Real `nextflow run main.nf -profile test,podman -c tests/small.config` in the image that scripts/build-image.sh
builds: every task runs in the container, and the results tables equal those of the same run on the host.

Needs podman (scripts/ci-services.sh installs it and builds the image); skips with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import (
    COMPARED,
    REPO,
    SMALL_CONFIG,
    TOLERANCE,
    max_table_differences,
    read_trace,
    run_nextflow,
    run_pipeline,
)

IMAGE = "localhost/radplug:0.1.0"


def provenance(path: Path) -> dict:
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[b"radplug.provenance"])


# -- the podman run ---------------------------------------------------------------------------------------

def _podman_ready() -> str | None:
    if shutil.which("podman") is None:
        return "podman is not installed: run scripts/ci-services.sh (as root)"
    if os.geteuid() != 0:
        return "the podman tests run rootful podman: run them as root after scripts/ci-services.sh"
    return None


pytestmark = [pytest.mark.container, pytest.mark.pipeline,
              pytest.mark.skipif(_podman_ready() is not None, reason=str(_podman_ready()))]


@pytest.fixture(scope="module")
def image() -> str:
    """The CPU image, built or confirmed up to date by scripts/build-image.sh (quick when the sources are
    unchanged: it compares the image's content-hash label)."""
    proc = subprocess.run([str(REPO / "scripts/build-image.sh")], capture_output=True, text=True,
                          timeout=3600)
    assert proc.returncode == 0, f"scripts/build-image.sh failed:\n{proc.stderr[-4000:]}"
    return IMAGE


@pytest.fixture(scope="module")
def podman_run(image, tmp_path_factory) -> Path:
    """The small configuration (tests/small.config: every process of the DAG) in the image, shared by the tests
    below."""
    return run_pipeline(tmp_path_factory.mktemp("podman"), "test,podman", "-c", str(SMALL_CONFIG))


def test_image_is_labelled_with_the_version_and_runs_the_steps(image):
    proc = subprocess.run(["podman", "image", "inspect", image, "--format",
                           '{{index .Labels "org.opencontainers.image.version"}} '
                           '{{index .Labels "radplug.content-hash"}}'],
                          capture_output=True, text=True, check=True)
    version, content_hash = proc.stdout.split()
    assert version == "0.1.0" and len(content_hash) == 16
    proc = subprocess.run(["podman", "run", "--rm", image, "bash", "-c",
                           "test -f /run/.containerenv && command -v radplug-search"
                           " && radplug-versions --help"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("/opt/radplug/bin/radplug-search")


def test_every_task_runs_inside_the_podman_container(podman_run):
    trace = read_trace(podman_run)
    assert len(trace) >= 10
    assert {row["container"] for row in trace} == {IMAGE}, {row["process"]: row["container"] for row in trace}
    assert all(row["status"] == "COMPLETED" for row in trace)
    for row in trace:
        wrapper = (Path(row["workdir"]) / ".command.run").read_text()
        assert "podman run" in wrapper and IMAGE in wrapper, row["process"]
    # from inside the tasks: each Parquet file records the interpreter and host name of the step that wrote
    # it: the image's Debian Python and a container's host name, not this machine's
    image_python = subprocess.run(["podman", "run", "--rm", IMAGE, "python", "-c",
                                   "import sys; print(sys.version.split()[0])"],
                                  capture_output=True, text=True, check=True).stdout.strip()
    for rel in ("data/expression.parquet", *COMPARED):
        prov = provenance(podman_run / rel)
        assert prov["python"] == image_python, (rel, prov)
        assert prov["host"] != platform.node(), (rel, prov)


def test_podman_results_equal_the_host_results(podman_run, small_run):
    diffs = max_table_differences(small_run.outdir, podman_run)
    print("max |podman - local| per table:", diffs)
    assert all(d <= TOLERANCE for d in diffs.values()), diffs


# -- EXTRACT in the container -----------------------------------------------------------------------------

def test_extract_runs_in_the_container_and_equals_the_host_extraction(image, tmp_path):
    """The image manifests of tests/test_extract_pipeline.py (lung1, lung2 and noisy crops as 44 patients) through
    `-profile test,podman`: EXTRACT runs in the image (its PyRadiomics build) and the whole pipeline completes;
    the extracted tables equal this machine's extraction of the same patients with the same settings."""
    import pandas as pd
    from test_extract_pipeline import PYRAD, _cohort  # skips here when SimpleITK or the images are absent

    from radplug.data.extract import extract_cases, read_image_manifest

    if not PYRAD.exists():
        pytest.skip(f"real images not present: {PYRAD} (../shared is absent)")
    data = tmp_path / "in"
    data.mkdir()
    sheet, settings, gmt, _ = _cohort(data)
    run = run_nextflow(tmp_path / "podman", "-profile", "test,podman", "--input", str(sheet), "--extract_settings",
                       str(settings), "--extract_batch", "15", "--clinical_targets", "histology",
                       "--genesets", f"custom={gmt}", "--models", "svm", "--mask_n_random", "50", timeout=3600)
    assert run.returncode == 0, run.log[-6000:]
    outdir = run.outdir
    extract_rows = [row for row in read_trace(outdir) if row["process"].endswith(":EXTRACT")]
    assert len(extract_rows) == 3 and {row["container"] for row in extract_rows} == {IMAGE}, extract_rows
    image_pyradiomics = subprocess.run(["podman", "run", "--rm", IMAGE, "python", "-c",
                                        "import radiomics; print(radiomics.__version__)"],
                                       capture_output=True, text=True, check=True).stdout.strip()
    worst = 0.0
    for cohort, manifest in (("ct_train", "images_train.csv"), ("ct_test", "images_test.csv")):
        got = pd.read_csv(outdir / "extraction" / f"{cohort}.radiomics.csv", dtype={"sample_id": str})
        info = json.loads((outdir / "extraction" / f"{cohort}.extraction.json").read_text())
        assert info["extractor_version"] == image_pyradiomics
        host = extract_cases(read_image_manifest(data / manifest), "pyradiomics", str(settings)).features
        got, host = got.set_index("sample_id"), host.set_index("sample_id")
        assert sorted(got.index) == sorted(host.index) and sorted(got.columns) == sorted(host.columns)
        a, b = got.loc[host.index, host.columns].to_numpy(float), host.to_numpy(float)
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-12)
        worst = max(worst, float(rel.max()))
    print(f"EXTRACT in {IMAGE} (pyradiomics {image_pyradiomics}) vs host: max relative difference {worst:.3g}")
    assert worst <= TOLERANCE, worst
