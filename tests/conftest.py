"""Shared fixtures: repository paths, the real Nextflow launcher, and one real test-profile run per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"


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


def run_nextflow(launch_dir: Path, *args: str, outdir: str = "results", timeout: int = 1200,
                 env: dict[str, str] | None = None) -> NextflowRun:
    """Run ``nextflow run main.nf ARGS --outdir OUTDIR`` for real in ``launch_dir``."""
    nf = nextflow_command()
    if nf is None:
        pytest.fail("nextflow not found: run ./setup.sh first")
    launch_dir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "NXF_OFFLINE": "true", "NXF_ANSI_LOG": "false", **(env or {})}
    cmd = [nf, "run", str(REPO / "main.nf"), *args, "--outdir", outdir]
    proc = subprocess.run(cmd, cwd=launch_dir, env=full_env, capture_output=True, text=True, timeout=timeout)
    return NextflowRun(launch_dir, launch_dir / outdir, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"real public data not found at {SHARED_DATA} (present in CI, absent in a user's fresh clone)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def test_profile_run(tmp_path_factory) -> NextflowRun:
    """One real `nextflow run main.nf -profile test`, shared by the pipeline tests."""
    run = run_nextflow(tmp_path_factory.mktemp("test_profile"), "-profile", "test")
    assert run.returncode == 0, run.log[-4000:]
    return run
