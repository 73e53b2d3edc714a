"""Real `nextflow run main.nf -profile test,podman` in the image that scripts/build-image.sh builds:
every task runs in the container, and the results tables equal those of a run on the host.

Needs podman (scripts/ci-services.sh installs it and builds the image); skips with the reason otherwise.
The helpers here (a real Nextflow run, the trace, the table comparison) are shared with tests/test_slurm.py.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import REPO, nextflow_command

IMAGE = "localhost/radplug:0.1.0"
COMPARED = ("evaluation/test_metrics.parquet", "masking/masking.parquet", "cv/cv_results.parquet")
TOLERANCE = 1e-6


# -- shared helpers ------------------------------------------------------------------------------------------

def run_pipeline(launch_dir: Path, profile: str, timeout: int = 2400) -> Path:
    """Run ``nextflow run main.nf -profile PROFILE`` for real in ``launch_dir``; return its results dir."""
    launch_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NXF_OFFLINE": "true", "NXF_ANSI_LOG": "false"}
    cmd = [nextflow_command(), "run", str(REPO / "main.nf"), "-profile", profile, "--outdir", "results"]
    proc = subprocess.run(cmd, cwd=launch_dir, env=env, capture_output=True, text=True, timeout=timeout)
    log = (launch_dir / ".nextflow.log").read_text(errors="replace")[-3000:] if proc.returncode else ""
    assert proc.returncode == 0, (f"-profile {profile} failed:\n{proc.stdout[-4000:]}\n"
                                  f"{proc.stderr[-2000:]}\n{log}")
    return launch_dir / "results"


def read_trace(outdir: Path) -> list[dict[str, str]]:
    traces = sorted((outdir / "pipeline_info").glob("execution_trace_*.txt"))
    assert traces, f"no execution trace under {outdir / 'pipeline_info'}"
    with open(traces[-1]) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert rows, f"empty trace {traces[-1]}"
    return rows


@cache
def _own_local_run(base: str) -> Path:
    return run_pipeline(Path(base) / "local", "test")


def local_reference(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Results of `-profile test` on the host: the suite's shared run (conftest's ``test_profile_run``)
    when it exists, else one run made here and shared by this module and tests/test_slurm.py."""
    try:
        return request.getfixturevalue("test_profile_run").outdir
    except pytest.FixtureLookupError:
        return _own_local_run(str(tmp_path_factory.getbasetemp()))


def _numeric(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]


def max_table_differences(a: Path, b: Path) -> dict[str, float]:
    """For each compared table: the same rows (keys = its non-float columns), the same missing values, and the
    largest absolute difference of its float columns."""
    out = {}
    for rel in COMPARED:
        x, y = pd.read_parquet(a / rel), pd.read_parquet(b / rel)
        assert list(x.columns) == list(y.columns), f"{rel}: columns differ"
        assert len(x) == len(y), f"{rel}: {len(x)} rows vs {len(y)}"
        keys = [c for c in x.columns if c not in _numeric(x)]
        x = x.sort_values(keys, kind="stable").reset_index(drop=True)
        y = y.sort_values(keys, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(x[keys], y[keys], obj=f"{rel} keys")
        num = _numeric(x)
        xv, yv = x[num].to_numpy(float), y[num].to_numpy(float)
        assert np.array_equal(np.isnan(xv), np.isnan(yv)), f"{rel}: missing values differ"
        diff = np.abs(np.nan_to_num(xv) - np.nan_to_num(yv))
        out[rel] = float(diff.max()) if diff.size else 0.0
    return out


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
    return run_pipeline(tmp_path_factory.mktemp("podman"), "test,podman")


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


def test_podman_results_equal_the_host_results(podman_run, request, tmp_path_factory):
    local = local_reference(request, tmp_path_factory)
    diffs = max_table_differences(local, podman_run)
    print("max |podman - local| per table:", diffs)
    assert all(d <= TOLERANCE for d in diffs.values()), diffs
