"""Issue 14, item 4: a group network's per-feature CV runs once, for the configuration chosen over every SEARCH
chunk of its grid, not once per chunk (5 of 6 thrown away with --grid paper). Real fits on the -profile test
cohort (simulate -> ingest -> validate -> binarize), and the wiring through a real `nextflow run`."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import read_trace, run_nextflow

from radplug.search import feature_cv_job, grid, run_job, select


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> dict:
    from radplug.binarize import binarize
    from radplug.ingest import ingest
    from radplug.simulate import simulate_cohort, write_simulated
    from radplug.validate import validate

    out = tmp_path_factory.mktemp("sim")
    write_simulated(simulate_cohort(120, 60, 300, 24, 2, None, 1.3, 42), out, 42)
    ing = ingest(out / "samplesheet.csv")
    val = validate(ing.expression, ing.labels, ing.features, 0.2)
    targets, tasks, _ = binarize(val.labels, val.features, 0.10, None)
    return {"expression": val.expression, "targets": targets, "tasks": tasks}


def test_feature_cv_after_all_chunks_equals_the_single_chunk_search(cohort: dict) -> None:
    e, t, k = cohort["expression"], cohort["targets"], cohort["tasks"]
    n_cfg = len(grid("mlp", "fast"))
    assert n_cfg >= 2
    whole = run_job("group:GLCM", "mlp", "fast", 0, 1, e, t, k, 3, 42)        # one chunk: feature CV inside
    chunks = [run_job("group:GLCM", "mlp", "fast", c, n_cfg, e, t, k, 3, 42, feature_cv=False) for c in range(n_cfg)]
    assert all(set(c["cv_kind"]) == {"group"} for c in chunks)               # no per-chunk feature CV
    cv = pd.concat(chunks, ignore_index=True)
    feat = feature_cv_job("group:GLCM", "mlp", cv, e, t, k, 3, 42)
    want = whole[whole["cv_kind"] == "feature"]
    assert set(feat["cv_kind"]) == {"feature"} and feat["config_id"].nunique() == 1
    assert feat["config_id"].iloc[0] == want["config_id"].iloc[0]          # chosen over every chunk
    keys = ["target", "fold"]
    pd.testing.assert_frame_equal(feat.sort_values(keys).reset_index(drop=True)[["target", "fold", "auc"]],
                                  want.sort_values(keys).reset_index(drop=True)[["target", "fold", "auc"]])
    _, sel_chunks = select(pd.concat([cv, feat], ignore_index=True), ["mlp"])
    _, sel_whole = select(whole, ["mlp"])
    pd.testing.assert_frame_equal(sel_chunks[["target", "config_id", "cv_kind", "auc_mean"]],
                                  sel_whole[["target", "config_id", "cv_kind", "auc_mean"]])
    with pytest.raises(ValueError, match="no group-network CV rows for group:shape"):
        feature_cv_job("group:shape", "mlp", cv, e, t, k, 3, 42)


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
