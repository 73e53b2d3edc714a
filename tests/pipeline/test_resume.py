"""Determinism and resume: a run interrupted during SEARCH and resumed gives the same tables as an
uninterrupted run with the same seed (in another folder): the small configuration (tests/small.config), whose
9 SEARCH tasks leave room to interrupt between them."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pandas as pd
import pytest
from conftest import SMALL_CONFIG, nextflow_argv, nextflow_env, read_trace, run_nextflow

pytestmark = pytest.mark.pipeline

TABLES = ["data/targets.parquet", "cv/cv_results.parquet", "cv/selection.parquet",
          "evaluation/test_metrics.parquet", "evaluation/predictions.parquet", "masking/masking.parquet"]


def _wait_for_search_task(launch_dir, proc, timeout=600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail("nextflow finished before it could be interrupted")
        for trace in (launch_dir / "results" / "pipeline_info").glob("execution_trace_*.txt"):
            if any("SEARCH" in line and "COMPLETED" in line for line in trace.read_text().splitlines()):
                return
        time.sleep(1)
    pytest.fail("no SEARCH task completed in time")


def test_interrupted_run_resumes_to_the_same_tables(small_run, tmp_path):
    small = ("-profile", "test", "-c", str(SMALL_CONFIG))
    proc = subprocess.Popen(nextflow_argv(*small), cwd=tmp_path, env=nextflow_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        _wait_for_search_task(tmp_path, proc)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=120)
    assert not (tmp_path / "results" / "evaluation").exists(), "the interrupted run should not have finished"

    resumed = run_nextflow(tmp_path, *small, "-resume")
    assert resumed.returncode == 0, resumed.log[-3000:]
    trace = pd.DataFrame(read_trace(resumed.outdir))
    search = trace[trace["name"].str.contains("SEARCH")]
    assert (search["status"] == "CACHED").any(), "resume re-ran every SEARCH task"
    assert (search["status"] == "COMPLETED").any(), "the interruption happened after SEARCH finished"

    for table in TABLES:
        a = pd.read_parquet(small_run.outdir / table)
        b = pd.read_parquet(resumed.outdir / table)
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=table)
