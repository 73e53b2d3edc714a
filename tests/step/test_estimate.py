"""`radplug plan --estimate`: the cost of a run before it starts. Counts are exact (the SEARCH jobs PLAN writes and
the CV fits they run); memory follows the fold-stacked training's own budget; time is a rough model that must at
least order the grids and scale with the data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from radplug.io import write_parquet
from radplug.models.stacked import MEMORY_SHARE, member_bytes
from radplug.training.estimate import estimate_run
from radplug.training.search import fit_groups, plan_jobs, unit_targets

FAMILIES = ["mlp", "enet", "svm", "rf", "gbt"]


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    from radplug.data.binarize import binarize
    from radplug.data.ingest import ingest
    from radplug.data.simulate import simulate_cohort, write_simulated
    from radplug.data.validate import validate

    out = tmp_path_factory.mktemp("sim")
    write_simulated(simulate_cohort(120, 60, 300, 20, 3, None, 1.3, 7), out, 7)
    ing = ingest(out / "samplesheet.csv")
    val = validate(ing.expression, ing.labels, ing.features, 0.2)
    return binarize(val.labels, val.features, 0.10, None)[1]


def test_counts_are_the_planned_jobs_and_their_fits(tasks) -> None:
    est = estimate_run(tasks, FAMILIES, "paper", 8, 10, 262, 21_766, flops=1e10, memory_limit=16 * 2**30)
    jobs = plan_jobs(tasks, FAMILIES, "paper", 8)
    by_family = est.set_index("family")
    for fam in FAMILIES:
        assert by_family.loc[fam, "search_tasks"] == (jobs["family"] == fam).sum()
        n_fits = len(fit_groups(fam, "paper"))   # a staged family fits once per group (rf 4, gbt 15)
        fits = 0
        for unit in jobs.loc[jobs["family"] == fam, "unit"].unique():
            n_t = len(unit_targets(unit, tasks))
            per_config = n_t if unit.startswith("each:") else 1
            feature_cv = n_t * 10 if unit.startswith("group:") else 0   # the chosen network, per feature
            fits += per_config * n_fits * 10 + feature_cv
        assert by_family.loc[fam, "cv_fits"] == fits
    assert by_family.loc["all", "search_tasks"] == len(jobs)
    assert est.attrs["final_fits"] == len(tasks) and est.attrs["mask_targets"] == len(tasks)
    # FIT_FINAL and MASK: one task per unit (each radiomic group, each clinical target), not per target
    n_units = tasks.loc[tasks["source"] == "radiomic", "group"].nunique() + (tasks["source"] != "radiomic").sum()
    assert est.attrs["final_tasks"] == n_units == est.attrs["mask_tasks"] < len(tasks)
    two = estimate_run(tasks, ["enet"], "fast", 8, 10, 262, 2_000, n_sources=2, flops=1e10, memory_limit=2**34)
    assert two.attrs["mask_tasks"] == 2 * n_units


def test_memory_follows_the_stacking_budget_and_time_orders_the_grids(tasks) -> None:
    limit = 16 * 2**30
    paper = estimate_run(tasks, FAMILIES, "paper", 8, 10, 262, 21_766, flops=1e10, memory_limit=limit)
    one_wide = member_bytes(262, 21_766, len(tasks), 6000, 4)
    # ten stacked folds of the widest network do not fit: the task plans for its budget, not for all folds
    assert paper.set_index("family").loc["mlp", "largest_task_gb"] == pytest.approx(MEMORY_SHARE * limit / 2**30)
    assert 10 * one_wide > MEMORY_SHARE * limit
    hours = {p: estimate_run(tasks, FAMILIES, p, 8, 10, 262, 21_766, flops=1e10, memory_limit=limit)
             .set_index("family").loc["all", "search_cpu_hours"] for p in ("fast", "standard", "paper")}
    assert hours["fast"] < hours["standard"] < hours["paper"]
    small = estimate_run(tasks, FAMILIES, "fast", 8, 10, 262, 2_000, flops=1e10, memory_limit=limit)
    assert small.set_index("family").loc["all", "search_cpu_hours"] < hours["fast"]


def test_plan_estimate_cli(tasks, tmp_path: Path) -> None:
    write_parquet(tasks, tmp_path / "tasks.parquet", "test")
    res = subprocess.run([sys.executable, "-m", "radplug.cli", "plan", "--tasks", str(tmp_path / "tasks.parquet"),
                          "--estimate", "--n-genes", "21766", "--grid", "paper", "--out", str(tmp_path / "jobs.csv")],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=str(REPO))
    assert res.returncode == 0, res.stderr
    n_train = max(sum(json.loads(c).values()) for c in tasks["n_train"])
    assert f"{len(tasks)} targets, {n_train} training patients, 21766 genes" in res.stdout
    assert "SEARCH tasks" in res.stdout and "CPU hours" in res.stdout and "FIT_FINAL" in res.stdout
    n_units = tasks.loc[tasks["source"] == "radiomic", "group"].nunique() + (tasks["source"] != "radiomic").sum()
    assert f"then {n_units} FIT_FINAL tasks, one per unit ({len(tasks)} final models" in res.stdout
    assert f"at most {n_units} MASK tasks, one per (unit, gene-set source)" in res.stdout
    assert (tmp_path / "jobs.csv").exists()
    res = subprocess.run([sys.executable, "-m", "radplug.cli", "plan", "--tasks", str(tmp_path / "tasks.parquet"),
                          "--estimate"], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 2 and "needs --expression (or --n-genes)" in res.stderr
