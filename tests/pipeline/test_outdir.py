"""A fresh or owned outdir: a new run refuses an --outdir holding an earlier run's results (-resume continues
that run; --overwrite removes its result folders first), and the report reads the newest trace only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import run_nextflow
from malformed_cases import GOOD_GMT, base_cohort, write_cohort

from radplug.reporting.report import build_report

EARLIER = ("masking/masking.parquet", "report/report.html", "data/labels.parquet")


def _earlier_run(outdir: Path) -> None:
    for rel in EARLIER:
        (outdir / rel).parent.mkdir(parents=True, exist_ok=True)
        (outdir / rel).write_text("from an earlier run")


def _sheet(folder: Path) -> tuple[Path, Path]:
    c = base_cohort()
    c.files["sets.gmt"] = GOOD_GMT
    return write_cohort(c, folder), folder / "sets.gmt"


@pytest.mark.pipeline
def test_outdir_of_an_earlier_run_is_refused(tmp_path: Path) -> None:
    sheet, gmt = _sheet(tmp_path / "in")
    _earlier_run(tmp_path / "res")
    r = run_nextflow(tmp_path, "-profile", "test", "--input", str(sheet), "--genesets", f"custom={gmt}",
                     outdir=str(tmp_path / "res"), timeout=600)
    assert r.returncode != 0, r.log
    assert "holds the results of an earlier run (data/, masking/, report/)" in r.log
    assert "or replace its results with --overwrite" in r.log
    assert all((tmp_path / "res" / rel).read_text() == "from an earlier run" for rel in EARLIER)
    assert "Submitted process" not in r.log


@pytest.mark.pipeline
def test_overwrite_removes_the_earlier_results(tmp_path: Path) -> None:
    """With --overwrite the earlier folders go first; this run then stops in INGEST (a target column that does
    not exist), so nothing of either run is left for a report to mix."""
    sheet, gmt = _sheet(tmp_path / "in")
    _earlier_run(tmp_path / "res")
    r = run_nextflow(tmp_path, "-profile", "test", "--input", str(sheet), "--genesets", f"custom={gmt}",
                     "--overwrite", "--clinical_targets", "zzz", outdir=str(tmp_path / "res"), timeout=600)
    assert r.returncode != 0, r.log
    assert "--overwrite: removed the earlier run's data/, masking/, report/" in r.log
    assert "clinical target column 'zzz'" in r.log
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["pipeline_info"]


def test_report_reads_the_newest_trace(tmp_path: Path) -> None:
    info = tmp_path / "pipeline_info"
    info.mkdir()
    header = "task_id\tname\tstatus\trealtime\n"
    (info / "execution_trace_2026-01-01_10-00-00.txt").write_text(header + "1\tRADPLUG:OLD_STEP\tCOMPLETED\t5s\n")
    (info / "execution_trace_2026-02-01_10-00-00.txt").write_text(header + "1\tRADPLUG:NEW_STEP\tCOMPLETED\t7s\n")
    build_report(tmp_path)
    timings = pd.read_csv(tmp_path / "report" / "tables" / "timings.csv")
    assert timings["name"].tolist() == ["RADPLUG:NEW_STEP"]


@pytest.mark.pipeline
def test_parameter_errors_say_what_to_give(tmp_path: Path) -> None:
    """A value-less numeric flag and an out-of-range value: refused together, each with a remedy, before any
    process starts."""
    r = run_nextflow(tmp_path, "-profile", "test", "--nested_cv", "--seed", "-1", timeout=300)
    assert r.returncode != 0, r.log
    assert "--nested_cv needs a value, e.g. --nested_cv 0" in r.log
    assert "--seed must be >= 0, got -1: give a value between 0 and 4294967295 (default 42)" in r.log
    assert "Submitted process" not in r.log
