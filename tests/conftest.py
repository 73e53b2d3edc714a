"""Shared fixtures and helpers: repository paths, the real Nextflow launcher, one real test-profile run per
session, the execution trace, and the comparison of result tables between runs."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"

# Nextflow's JVM with the client (C1) compiler only, for every `nextflow` the tests start (`run`, `config`): a test
# run is short and C2's compiling was half of its launcher's CPU (a stub run of the whole DAG: 21.8 -> 10.8 CPU s).
# It changes how fast Nextflow's own code runs, nothing it does. An NXF_OPTS already set wins.
os.environ.setdefault("NXF_OPTS", "-XX:TieredStopAtLevel=1")


def nextflow_command() -> str | None:
    """The Nextflow launcher: the one setup.sh installed into the environment, else one on PATH."""
    venv_nf = REPO / ".venv" / "bin" / "nextflow"
    if venv_nf.exists():
        return str(venv_nf)
    return shutil.which("nextflow")


@dataclass
class NextflowRun:
    launch_dir: Path
    outdir: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def log(self) -> str:
        return self.stdout + self.stderr


def nextflow_argv(*args: str, outdir: str = "results") -> list[str]:
    """``nextflow run main.nf ARGS --outdir OUTDIR`` with the suite's launcher."""
    nf = nextflow_command()
    if nf is None:
        pytest.fail("nextflow not found: run ./setup.sh first")
    return [nf, "run", str(REPO / "main.nf"), *args, "--outdir", outdir]


def nextflow_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Offline, plain-log Nextflow with this environment's ``radplug`` scripts first on PATH."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {**os.environ, "NXF_OFFLINE": "true", "NXF_ANSI_LOG": "false", "PATH": path, **(extra or {})}


def run_nextflow(launch_dir: Path, *args: str, outdir: str = "results", timeout: int = 1800,
                 env: dict[str, str] | None = None) -> NextflowRun:
    """Run ``nextflow run main.nf ARGS --outdir OUTDIR`` for real in ``launch_dir`` (``env`` adds variables)."""
    launch_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(nextflow_argv(*args, outdir=outdir), cwd=launch_dir, env=nextflow_env(env),
                          capture_output=True, text=True, timeout=timeout)
    return NextflowRun(launch_dir, launch_dir / outdir, proc.returncode, proc.stdout, proc.stderr)


def run_refused(launch_dir: Path, sheet: Path, *args: str, gmt: bytes | None = None,
                timeout: int = 900) -> NextflowRun:
    """A real ``nextflow run main.nf -profile test --input SHEET ARGS --outdir LAUNCH_DIR/res`` that must fail
    and publish nothing besides ``pipeline_info/``. With ``gmt``, that file is the run's only gene-set source
    (``--genesets custom=...``) and ``--models enet`` is set."""
    extra: list[str] = []
    if gmt is not None:
        path = launch_dir / "sets.gmt"
        launch_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gmt)
        extra = ["--genesets", f"custom={path}", "--models", "enet"]
    outdir = launch_dir / "res"
    run = run_nextflow(launch_dir, "-profile", "test", "--input", str(sheet), *extra, *args, outdir=str(outdir),
                       timeout=timeout)
    assert run.returncode != 0, run.log
    published = sorted(p.name for p in outdir.iterdir()) if outdir.exists() else []
    assert set(published) <= {"pipeline_info"}, published
    return run


def run_pipeline(launch_dir: Path, profile: str, *args: str, timeout: int = 2400) -> Path:
    """A real ``nextflow run main.nf -profile PROFILE ARGS`` that must succeed; its results dir."""
    run = run_nextflow(launch_dir, "-profile", profile, *args, timeout=timeout)
    log = (launch_dir / ".nextflow.log").read_text(errors="replace")[-3000:] if run.returncode else ""
    assert run.returncode == 0, f"-profile {profile} failed:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}\n{log}"
    return run.outdir


def read_trace(outdir: Path) -> list[dict[str, str]]:
    """Rows of the newest execution trace under ``OUTDIR/pipeline_info``."""
    traces = sorted((outdir / "pipeline_info").glob("execution_trace_*.txt"))
    assert traces, f"no execution trace under {outdir / 'pipeline_info'}"
    with open(traces[-1]) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert rows, f"empty trace {traces[-1]}"
    return rows


COMPARED = ("evaluation/test_metrics.parquet", "masking/masking.parquet", "cv/cv_results.parquet")
TOLERANCE = 1e-6


def max_table_differences(a: Path, b: Path) -> dict[str, float]:
    """For each compared table: the same rows (keys = its non-float columns), the same missing values, and the
    largest absolute difference of its float columns."""
    out = {}
    for rel in COMPARED:
        x, y = pd.read_parquet(a / rel), pd.read_parquet(b / rel)
        assert list(x.columns) == list(y.columns), f"{rel}: columns differ"
        assert len(x) == len(y), f"{rel}: {len(x)} rows vs {len(y)}"
        num = [c for c in x.columns if pd.api.types.is_float_dtype(x[c])]
        keys = [c for c in x.columns if c not in num]
        x = x.sort_values(keys, kind="stable").reset_index(drop=True)
        y = y.sort_values(keys, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(x[keys], y[keys], obj=f"{rel} keys")
        xv, yv = x[num].to_numpy(float), y[num].to_numpy(float)
        assert np.array_equal(np.isnan(xv), np.isnan(yv)), f"{rel}: missing values differ"
        diff = np.abs(np.nan_to_num(xv) - np.nan_to_num(yv))
        out[rel] = float(diff.max()) if diff.size else 0.0
    return out


@pytest.fixture(scope="session")
def cohort(tmp_path_factory) -> dict:
    """The -profile test cohort (conf/test.config) as in-memory tables, for real fits without Nextflow: 120 train /
    60 test, 400 genes, signal 1.3, seed 42, through the real simulate -> ingest -> validate -> binarize chain.
    Shared by the session: tests read it and copy before changing anything."""
    from radplug.data.binarize import binarize
    from radplug.data.ingest import ingest
    from radplug.data.simulate import simulate_cohort, write_simulated
    from radplug.data.validate import validate

    out = tmp_path_factory.mktemp("sim")
    sim = simulate_cohort(120, 60, 400, 24, 2, None, 1.3, 42)
    write_simulated(sim, out, 42)
    ing = ingest(out / "samplesheet.csv")
    val = validate(ing.expression, ing.labels, ing.features, 0.2)
    targets, tasks, _ = binarize(val.labels, val.features, 0.10, None)
    return {"expression": val.expression, "targets": targets, "tasks": tasks, "truth": sim.ground_truth,
            "dir": out}


@pytest.fixture(scope="session")
def test_profile_run(tmp_path_factory) -> NextflowRun:
    """One real `nextflow run main.nf -profile test`, shared by the pipeline tests."""
    run = run_nextflow(tmp_path_factory.mktemp("test_profile"), "-profile", "test")
    assert run.returncode == 0, run.log[-4000:]
    return run


# tests/small.config on top of -profile test: the whole DAG with one model family and a smaller cohort, for the
# runs that test where and how the steps run (podman, SLURM, an interrupted run resumed) against the host run.
SMALL_CONFIG = REPO / "tests" / "small.config"


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> NextflowRun:
    """One real `nextflow run main.nf -profile test -c tests/small.config` on the host: what the podman, SLURM
    and resumed runs of the same configuration must reproduce."""
    run = run_nextflow(tmp_path_factory.mktemp("small"), "-profile", "test", "-c", str(SMALL_CONFIG))
    assert run.returncode == 0, run.log[-4000:]
    return run


# ---------------------------------------------------------------------------------------------------- test levels
# tests/unit: pure Python, no subprocess; tests/step: a real step or CLI as a subprocess, PyRadiomics, Nextflow's
# config, the browser, pip-installed plugins; tests/pipeline: real `nextflow run` (stub runs first). `make test`
# runs them in that order, the pipeline level's slow tier (the heavy real runs) last.
LEVELS = ("unit", "step", "pipeline")
# the slow tier: heavy real runs (minutes each on 2 cores). Every test that reads the shared test-profile run
# (`test_profile_run`) or the shared small run (`small_run`) is in it too, and so is a whole module listed with None.
SLOW: dict[str, set[str] | None] = {
    "test_resume": None,
    "test_slurm": None,
    "test_containers": None,
    "test_nsclc_pipeline": None,
    "test_verhaak_pipeline": None,
    "test_absent_class_pipeline": None,
    "test_pyradiomics_pipeline": {"test_nsclc_paper_universe_pipeline"},
    "test_nested_pipeline": {"test_pipeline_nested_cv_publishes_estimates_side_by_side"},
    "test_feature_cv_once_pipeline": {"test_pipeline_runs_feature_cv_once_per_group"},
    "test_extract_pipeline": {"test_images_through_extract_and_the_whole_pipeline"},
}
for _level in LEVELS:                      # helper modules of one level import those of another (test_extract, ...)
    if str(Path(__file__).parent / _level) not in sys.path:
        sys.path.insert(1, str(Path(__file__).parent / _level))


def _level(item) -> str:
    """unit, step or pipeline by the test's folder (a test elsewhere counts as pipeline: it runs last)."""
    try:
        parts = Path(str(item.fspath)).resolve().relative_to(Path(__file__).resolve().parent).parts
    except ValueError:
        return "pipeline"
    return parts[0] if len(parts) > 1 and parts[0] in LEVELS else "pipeline"


def _slow(item) -> bool:
    names = SLOW.get(item.module.__name__, set())
    return (names is None or item.originalname in names
            or bool({"test_profile_run", "small_run"} & set(item.fixturenames)))


def pytest_collection_modifyitems(session, config, items) -> None:
    """Each test gets its level's marker (and `slow` for the slow tier); the order is unit, step, then pipeline:
    the stub runs of the whole DAG first (a wiring mistake fails in seconds), the small real runs, the slow tier
    last."""
    def key(item) -> tuple[int, int]:
        level = _level(item)
        if level != "pipeline":
            return LEVELS.index(level), 0
        if item.module.__name__ == "test_stub" or "stub" in item.originalname:
            return 2, 0
        return 2, 2 if _slow(item) else 1

    for item in items:
        item.add_marker(getattr(pytest.mark, _level(item)))
        if _level(item) == "pipeline" and _slow(item):
            item.add_marker(pytest.mark.slow)
    items.sort(key=key)
