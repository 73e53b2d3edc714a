"""Nested cross-validation (``--nested_cv``) through real `nextflow run`: a stub run of its wiring, one small real run,
and the bad-input runs that publish nothing (the step's code: tests/unit/test_nested.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import read_trace, run_nextflow

from radplug.io import read_parquet


# ---------------------------------------------------------------- real nextflow runs
@pytest.mark.pipeline
def test_pipeline_nested_cv_publishes_estimates_side_by_side(tmp_path: Path) -> None:
    # masking is not what this run checks: --mask_min_auc 1 leaves it out; 500 simulated genes (the profile: 2,000)
    # keep the 4 x the search cheap (the same targets and tasks)
    run = run_nextflow(tmp_path, "-profile", "test", "--models", "enet,svm", "--nested_cv", "3",
                       "--mask_min_auc", "1", "--sim_n_genes", "500", timeout=3000)
    assert run.returncode == 0, run.log[-4000:]
    assert "--nested_cv 3: the whole search runs 3 more times" in run.stdout
    res = run.outdir
    parts = sorted(p.name for p in (res / "cv").glob("nested_o*.parquet"))
    assert parts == ["nested_o0.parquet", "nested_o1.parquet", "nested_o2.parquet"]
    nested = pd.concat([read_parquet(res / "cv" / p) for p in parts], ignore_index=True)
    sel = read_parquet(res / "cv" / "selection.parquet")
    targets = set(sel["target"])
    assert set(nested["target"]) == targets and len(nested) == 3 * len(targets)
    assert "outer_fold" not in read_parquet(res / "cv" / "cv_results.parquet")   # SELECT saw the search only
    est = pd.read_csv(res / "report" / "tables" / "estimates.csv")
    assert list(est.columns[:3]) == ["target", "family", "cv_auc"]
    assert {"nested_auc", "nested_auc_sd", "n_outer", "optimism", "nested_families", "test_auc",
            "auc_prior"} <= set(est.columns)
    assert set(est["target"]) == targets and (est["n_outer"] == 3).all()
    assert est["nested_auc"].between(0, 1).all() and est["test_auc"].notna().any()
    html = (res / "report" / "report.html").read_text()
    assert "id=nested-cv" in html and "optimistic" in html


@pytest.mark.pipeline
def test_pipeline_nested_cv_too_few_patients_publishes_nothing(tmp_path: Path) -> None:
    # -profile test: the smallest training class ('stage' III) has 26 patients; 3 outer x 3 inner is fine,
    # 3 outer x 20 inner is not (26 - 9 = 17 kept)
    run = run_nextflow(tmp_path, "-profile", "test", "--models", "enet", "--nested_cv", "3", "--cv_folds", "20",
                       timeout=900)
    assert run.returncode != 0
    assert re.search(r"--nested_cv 3 with --cv_folds 20: target 'stage', class 'III' has \d+ training patients; an "
                     r"outer training part keeps \d+ of them, fewer than the 20 inner folds", run.log), run.log[-3000:]
    assert "Lower --nested_cv or --cv_folds" in run.log
    # the embedded cohort publishes its simulated inputs (data/simulated/) first; nothing else is published
    # (with --input nothing besides pipeline_info/: tests/test_malformed.py, case pf_nested_cv_too_few)
    published = sorted(p.name for p in run.outdir.iterdir()) if run.outdir.exists() else []
    assert set(published) <= {"pipeline_info", "data"}, published
    if (run.outdir / "data").exists():
        assert sorted(p.name for p in (run.outdir / "data").iterdir()) == ["simulated"]
    status = {row["name"].split(" ")[0].split(":")[-1]: row["status"] for row in read_trace(run.outdir)}
    assert status.get("PREFLIGHT") == "FAILED" and not {"VALIDATE", "PLAN", "SEARCH"} & set(status), status


@pytest.mark.pipeline
def test_pipeline_bad_class_weight_publishes_nothing(tmp_path: Path) -> None:
    run = run_nextflow(tmp_path, "-profile", "test", "--class_weight", "foo", "--nested_cv", "3", timeout=600)
    assert run.returncode != 0
    assert "--class_weight must be one of balanced, none, got 'foo'" in run.log
    published = sorted(p.name for p in run.outdir.iterdir()) if run.outdir.exists() else []
    assert set(published) <= {"pipeline_info"}, published


@pytest.mark.pipeline
def test_stub_run_wires_nested_cv(tmp_path: Path) -> None:
    """`-stub --nested_cv 2`: PLAN's stub adds the outer-fold jobs, SEARCH's stub their nested_ tables, and one
    NESTED task per outer fold runs and records its versions."""
    run = run_nextflow(tmp_path, "-stub", "-profile", "test", "--nested_cv", "2", timeout=600)
    assert run.returncode == 0, run.log[-4000:]
    names = [row["name"] for row in read_trace(run.outdir) if row["status"] == "COMPLETED"]
    assert sorted(n.split(":")[-1] for n in names if ":NESTED" in n) == ["NESTED (outer fold 0)",
                                                                        "NESTED (outer fold 1)"]
    assert sorted(p.name for p in (run.outdir / "cv").glob("nested_o*.parquet")) == ["nested_o0.parquet",
                                                                                    "nested_o1.parquet"]
    assert "RADPLUG:TRAIN_MODELS:NESTED" in (run.outdir / "pipeline_info" / "software_versions.yml").read_text()
