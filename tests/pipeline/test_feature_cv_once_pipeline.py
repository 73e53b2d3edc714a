"""Issue 14, item 4, through a real `nextflow run`: a group network's per-feature CV runs once per group (the step's
code: tests/unit/test_feature_cv_once.py)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import read_trace, run_nextflow

from radplug.training.search import grid


@pytest.mark.pipeline
def test_pipeline_runs_feature_cv_once_per_group(tmp_path) -> None:
    """-profile test with the mlp's fast grid split into one configuration per chunk (--grid_chunk 1). Masking is
    not what this run checks: --mask_min_auc 1 leaves it out; 500 simulated genes (the profile: 2,000) give the
    same targets, groups and tasks for less fitting."""
    n_cfg = len(grid("mlp", "fast"))
    run = run_nextflow(tmp_path, "-profile", "test", "--models", "mlp", "--grid_chunk", "1", "--mask_min_auc", "1",
                       "--n_boot", "50", "--sim_n_genes", "500", timeout=2400)
    assert run.returncode == 0, run.log[-4000:]
    trace = pd.DataFrame(read_trace(run.outdir))
    proc = trace["name"].str.split(" ").str[0].str.split(":").str[-1]
    tasks = pd.read_parquet(run.outdir / "data/tasks.parquet")
    groups = tasks.loc[tasks["source"] == "radiomic", "group"].nunique()
    assert (proc == "FEATURE_CV").sum() == groups
    search_group = trace[(proc == "SEARCH") & trace["name"].str.contains("group-")]
    assert len(search_group) == groups * n_cfg
    cv = pd.read_parquet(run.outdir / "cv/cv_results.parquet")
    feat = cv[cv["cv_kind"] == "feature"]
    radiomic = set(tasks.loc[tasks["source"] == "radiomic", "target"])
    assert set(feat["target"]) == radiomic
    assert (feat.groupby("unit")["config_id"].nunique() == 1).all()           # one configuration per group
    assert (feat.groupby("target").size() == 3).all()                         # 3 folds, once
    group = cv[cv["cv_kind"] == "group"]
    best = (group.groupby(["unit", "config_id", "target"])["auc"].mean().groupby(["unit", "config_id"]).mean()
            .groupby("unit").idxmax().map(lambda x: x[1]))
    assert feat.groupby("unit")["config_id"].first().to_dict() == best.to_dict()
    sel = pd.read_parquet(run.outdir / "cv/selection.parquet")
    assert (sel.loc[sel["target"].isin(radiomic), "cv_kind"] == "feature").all()
