"""Malformed input through the real console scripts (bin/radplug-ingest, -validate, -preflight): their exit status
and output for a representative subset of tests/malformed_cases.py (every case in-process:
tests/unit/test_malformed.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from malformed_cases import base_cohort, case, write_cohort
from test_malformed import SUBPROCESS_CASES, VALIDATE_ARGS, _check_case, clean_step_tables


@pytest.fixture(scope="module")
def clean_tables(tmp_path_factory) -> dict:
    return clean_step_tables(tmp_path_factory.mktemp("clean"))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    return env


def _subprocess(step: str, args: list[str], cwd: Path) -> tuple[int, str]:
    r = subprocess.run(
        [sys.executable, str(REPO / "bin" / f"radplug-{step}"), *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return r.returncode, r.stdout + r.stderr


def test_base_cohort_is_valid(tmp_path: Path) -> None:
    """The unbroken cohort passes INGEST and VALIDATE without warnings: each case fails for its own defect."""
    sheet = write_cohort(base_cohort(), tmp_path)
    code, out = _subprocess("ingest", ["--samplesheet", sheet.name, "--outdir", "ing"], tmp_path)
    assert code == 0, out
    code, out = _subprocess("validate", VALIDATE_ARGS, tmp_path)
    assert code == 0, out
    assert "WARNING" not in out


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_malformed_cli_subprocess(name: str, tmp_path: Path, clean_tables) -> None:
    _check_case(case(name), tmp_path, _subprocess, clean_tables)
