"""The `radplug` command line as a real process: exit status and messages of steps run by hand, and ruff on the
sources."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from test_clinical import LUNG3, needs_lung3
from test_models import PAPER_SIZES
from test_protocol import FAMILIES

from radplug.io import write_parquet
from radplug.training.search import chunk_configs, grid, plan_jobs


def test_cli_reports_bad_input_with_a_clear_message(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("cohort,role,expression,clinical\nA,training,missing.csv,clinical.csv\n")
    proc = subprocess.run([sys.executable, "-m", "radplug.cli", "ingest", "--samplesheet", str(sheet), "--outdir",
                           str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "row 2, column 'role': role must be 'train' or 'test'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_package_is_ruff_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "radplug", "tests", "bin"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


# model grids (tests/unit/test_models.py)
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "radplug.cli", *args], capture_output=True, text=True,
                          cwd=str(REPO), env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)


def test_grid_count_paper_sizes_cli() -> None:
    res = _cli("grid", "--preset", "paper", "--count")
    assert res.returncode == 0, res.stderr
    counts = {line.split("\t")[0]: int(line.split("\t")[1]) for line in res.stdout.strip().splitlines()}
    assert {f: counts[f] for f in PAPER_SIZES} == PAPER_SIZES
    one = _cli("grid", "--family", "svm", "--preset", "paper", "--count")
    assert one.stdout.strip() == "svm\t400"
    bad = _cli("grid", "--family", "svm", "--preset", "huge", "--count")
    assert bad.returncode == 2 and "no grid preset 'huge'" in bad.stderr and "paper" in bad.stderr


# clinical tables (tests/unit/test_clinical.py)
@pytest.fixture(scope="module")
def lung3() -> pd.DataFrame:
    return pd.read_csv(LUNG3, encoding="latin-1")


@needs_lung3
def test_lung3_ingest_writes_mapping(tmp_path: Path, lung3: pd.DataFrame) -> None:
    """Through the real CLI: the mapping used lands in histology_mapping.csv, with counts per text."""
    rng = np.random.default_rng(1)
    ids = lung3["sample.name"]
    expr = pd.DataFrame(rng.normal(7, 1, (len(ids), 30)), index=ids, columns=[f"G{i}" for i in range(30)])
    expr.T.to_csv(tmp_path / "expr.tsv", sep="\t", index_label="gene")  # genes as rows
    (tmp_path / "sheet.csv").write_text(f"cohort,role,expression,clinical\nlung3,train,expr.tsv,{LUNG3}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, "-m", "radplug.cli", "ingest", "--samplesheet", "sheet.csv", "--outdir", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    mapping = pd.read_csv(tmp_path / "out" / "histology_mapping.csv")
    assert len(mapping) == 17 and mapping["n"].sum() == 89
    assert set(mapping["histology"]) == {"ADC", "SCC", "other"}
    labels = pd.read_parquet(tmp_path / "out" / "raw_labels.parquet")
    assert labels["histology"].value_counts().to_dict() == {"ADC": 44, "SCC": 36, "other": 9}
    assert labels["stage"].isna().sum() == 2


# the selection protocol (tests/unit/test_protocol.py)
def test_plan_paper_grid_task_counts(cohort: dict, tmp_path: Path) -> None:
    tasks = cohort["tasks"]
    n_groups = tasks.loc[tasks["source"] == "radiomic", "group"].nunique()
    n_clinical = int((tasks["source"] != "radiomic").sum())
    jobs = plan_jobs(tasks, FAMILIES, "paper", 8)
    per = jobs.groupby("family").size().to_dict()
    # chunks of 8 fits: a configuration each, except staged families (rf: 4 fits of 30 tree counts, gbt: 15 of 10)
    fits = {"mlp": 48, "enet": 100, "svm": 400, "rf": 4, "gbt": 15}
    expected = {f: (n_groups + n_clinical) * math.ceil(fits[f] / 8) for f in FAMILIES}
    assert per == expected
    assert jobs["job_id"].is_unique
    # every configuration of every family is covered exactly once per unit by the chunks
    for (unit, fam), g in jobs.groupby(["unit", "family"]):
        covered = sorted(i for c in g["chunk"] for grp in chunk_configs(fam, "paper", c, g["n_chunks"].iloc[0])
                         for i in grp)
        assert covered == list(range(len(grid(fam, "paper")))), (unit, fam)
    tasks_file = tmp_path / "tasks.parquet"
    write_parquet(tasks, tasks_file, "test")
    cmd = [sys.executable, "-m", "radplug.cli", "plan", "--tasks", str(tasks_file), "--grid", "paper",
           "--grid-chunk", "8", "--out", str(tmp_path / "jobs.csv")]
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
                         cwd=str(REPO))
    assert res.returncode == 0, res.stderr
    assert len(pd.read_csv(tmp_path / "jobs.csv")) == sum(expected.values())
