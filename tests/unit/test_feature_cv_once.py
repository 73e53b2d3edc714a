"""Issue 14, item 4: a group network's per-feature CV runs once, for the configuration chosen over every SEARCH
chunk of its grid, not once per chunk (5 of 6 thrown away with --grid paper). Real fits on the -profile test
cohort (simulate -> ingest -> validate -> binarize), and the wiring through a real `nextflow run`."""

from __future__ import annotations

import pandas as pd
import pytest

from radplug.training.search import feature_cv_job, grid, run_job, select


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> dict:
    from radplug.data.binarize import binarize
    from radplug.data.ingest import ingest
    from radplug.data.simulate import simulate_cohort, write_simulated
    from radplug.data.validate import validate

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
