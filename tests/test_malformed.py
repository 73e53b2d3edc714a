"""Every malformed input of tests/malformed_cases.py through the real `radplug` CLI (subprocess, real exit
status), and a few through real `nextflow run main.nf --input ...`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from malformed_cases import CASES, PIPELINE_CASES, base_cohort, case, write_cohort

REPO = Path(__file__).resolve().parents[1]
NEXTFLOW = shutil.which("nextflow") or str(Path(sys.executable).parent / "nextflow")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    return env


def _radplug(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "radplug.cli", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_case_table_is_large_and_unique() -> None:
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
    assert sum(c.exit_code != 0 for c in CASES) >= 25
    assert set(PIPELINE_CASES) <= set(names)


def test_base_cohort_is_valid(tmp_path: Path) -> None:
    """The unbroken cohort passes INGEST and VALIDATE, so each case fails only for its own defect."""
    sheet = write_cohort(base_cohort(), tmp_path)
    r = _radplug(["ingest", "--samplesheet", sheet.name, "--outdir", "ing"], tmp_path)
    assert r.returncode == 0, r.stderr
    r = _radplug(
        [
            "validate",
            "--expression",
            "ing/raw_expression.parquet",
            "--labels",
            "ing/raw_labels.parquet",
            "--features",
            "ing/raw_features.parquet",
            "--outdir",
            "val",
        ],
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "WARNING" not in r.stderr


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_malformed_cli(c, tmp_path: Path) -> None:
    cohort = base_cohort()
    c.edit(cohort)
    sheet = write_cohort(cohort, tmp_path)
    r = _radplug(["ingest", "--samplesheet", sheet.name, "--outdir", "ing", *c.args], tmp_path)
    out = r.stdout + r.stderr
    if c.step == "ingest":
        assert r.returncode == c.exit_code, out
        assert re.search(c.message, out), out
        if c.exit_code:
            assert "Traceback" not in out
            assert not (tmp_path / "ing" / "raw_expression.parquet").exists()
        return
    assert r.returncode == 0, out
    v = _radplug(
        [
            "validate",
            "--expression",
            "ing/raw_expression.parquet",
            "--labels",
            "ing/raw_labels.parquet",
            "--features",
            "ing/raw_features.parquet",
            "--outdir",
            "val",
        ],
        tmp_path,
    )
    out += v.stdout + v.stderr
    assert v.returncode == c.exit_code, out
    assert re.search(c.message, out), out
    if c.exit_code:
        assert "Traceback" not in out
        assert not (tmp_path / "val").exists() or not any((tmp_path / "val").iterdir())


# --------------------------------------------------------------------------- real nextflow runs
def _nextflow(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = _env()
    env["NXF_OFFLINE"] = "true"
    return subprocess.run(
        [NEXTFLOW, "run", str(REPO / "main.nf"), "-profile", "test", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _gmt(folder: Path) -> Path:
    gmt = folder / "sets.gmt"
    gmt.write_text(
        "".join(
            f"SET{k}\tx\t" + "\t".join(f"GENE{i}" for i in range(k * 8 + 1, k * 8 + 9)) + "\n"
            for k in range(4)
        )
    )
    return gmt


@pytest.mark.pipeline
@pytest.mark.parametrize("name", PIPELINE_CASES)
def test_malformed_pipeline(name: str, tmp_path: Path) -> None:
    c = case(name)
    cohort = base_cohort()
    c.edit(cohort)
    sheet = write_cohort(cohort, tmp_path / "in")
    outdir = tmp_path / "res"
    r = _nextflow(
        [
            "--input",
            str(sheet),
            "--outdir",
            str(outdir),
            "--genesets",
            f"custom={_gmt(tmp_path)}",
            "--models",
            "enet",
        ],
        tmp_path,
    )
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert re.search(c.message, re.sub(r"\s+", " ", out)) or re.search(c.message, out), out
    assert not (outdir / "data").exists(), sorted(p.name for p in outdir.iterdir())
    assert not (outdir / "report").exists()
    assert not (outdir / "cv").exists()


@pytest.mark.pipeline
def test_unknown_parameter_rejected(tmp_path: Path) -> None:
    outdir = tmp_path / "res"
    r = _nextflow(["--outdir", str(outdir), "--max_mising", "0.3"], tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "unknown parameter --max_mising" in out
    assert not (outdir / "data").exists()
