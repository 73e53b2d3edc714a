"""Real `nextflow run main.nf -profile test,slurm -c tests/small.config` on a single-node SLURM cluster
(scripts/slurm-up.sh): every task is an sbatch job, and the results tables equal those of the same run on the host.

Skips with the reason when no SLURM cluster answers (scripts/ci-services.sh starts one in CI).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, SMALL_CONFIG, TOLERANCE, max_table_differences, read_trace, run_pipeline


def _slurm_missing() -> str | None:
    if shutil.which("sbatch") is None or shutil.which("scontrol") is None:
        return "SLURM client tools not installed: run scripts/slurm-up.sh (as root) or scripts/ci-services.sh"
    if subprocess.run(["scontrol", "ping"], capture_output=True, timeout=30).returncode != 0:
        return "no SLURM controller answers `scontrol ping`: start one with scripts/slurm-up.sh (as root)"
    return None


pytestmark = [pytest.mark.slurm, pytest.mark.pipeline,
              pytest.mark.skipif(_slurm_missing() is not None, reason=str(_slurm_missing()))]


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory) -> Path:
    # tests/slurm_poll.config: Nextflow polls the test cluster every second (conf/slurm.config: 5 s);
    # tests/small.config: every process of the DAG, with one model family and a smaller cohort
    poll = REPO / "tests" / "slurm_poll.config"
    return run_pipeline(tmp_path_factory.mktemp("slurm"), "test,slurm", "-c", f"{poll},{SMALL_CONFIG}")


def _job(job_id: str) -> dict[str, str]:
    """`scontrol show job` as a dict (the cluster keeps finished jobs for MinJobAge = 1 h)."""
    out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True,
                         timeout=30).stdout
    return dict(re.findall(r"(\w+)=(\S*)", out))


def test_every_task_is_a_completed_slurm_job(slurm_run):
    trace = read_trace(slurm_run)
    assert len(trace) >= 10
    ids = [row["native_id"] for row in trace]
    assert all(i.isdigit() for i in ids), f"native_id is not a SLURM job id: {ids}"
    assert len(set(ids)) == len(ids)
    for row in trace:
        assert row["status"] == "COMPLETED" and row["exit"] == "0", row
        wrapper = (Path(row["workdir"]) / ".command.run").read_text()
        assert "#SBATCH" in wrapper, row["process"]
        job = _job(row["native_id"])
        assert job.get("JobState") == "COMPLETED", (row["process"], job)
        assert job.get("WorkDir") == row["workdir"], (row["process"], job)
        assert Path(job.get("Command", "")).name == ".command.run", (row["process"], job)
        assert job.get("Partition") == os.environ.get("RADPLUG_SLURM_QUEUE", "debug")


def test_slurm_results_equal_the_host_results(slurm_run, small_run):
    diffs = max_table_differences(small_run.outdir, slurm_run)
    print("max |slurm - local| per table:", diffs)
    assert all(d <= TOLERANCE for d in diffs.values()), diffs
