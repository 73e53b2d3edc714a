"""PyRadiomics batch output through real `nextflow run`: a bad table refused in INGEST, and the paper universe of
NSCLC-Radiogenomics end to end (the parsing and filters: tests/step/test_pyradiomics_input.py)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import read_trace, run_nextflow
from test_pyradiomics_input import BAD, HALLMARK, TARGETS, needs_nsclc, write_native_cohorts


# one bad table through a real `nextflow run` (the others refuse in the same INGEST code, tested above): the filter
# parameter reaches INGEST, the run stops there and publishes nothing
@pytest.mark.pipeline
@needs_nsclc
@pytest.mark.parametrize("name", ["include_keeps_nothing"])
def test_bad_pyradiomics_input_pipeline(name: str, tmp_path: Path) -> None:
    edit, extra, message = BAD[name]
    sheet = write_native_cohorts(tmp_path / "in", edit=edit)
    outdir = tmp_path / "res"
    run = run_nextflow(tmp_path, "-profile", "test", "--input", str(sheet), "--genesets",
                       f"msigdb_hallmark={HALLMARK}", "--clinical_targets", TARGETS, "--models", "enet", *extra,
                       outdir=str(outdir), timeout=900)
    assert run.returncode != 0, run.log[-3000:]
    assert re.search(message, re.sub(r"\s+", " ", run.log)), run.log[-3000:]
    published = sorted(p.name for p in outdir.iterdir()) if outdir.exists() else []
    assert set(published) <= {"pipeline_info"}, published
    status = {r["name"].split(" ")[0].split(":")[-1]: r["status"] for r in read_trace(outdir)}
    assert status.get("INGEST") == "FAILED" and "VALIDATE" not in status, status


# --------------------------------------------------------------------------- the paper universe, end to end
@pytest.mark.pipeline
@needs_nsclc
@pytest.mark.skipif(not HALLMARK.exists(), reason="needs ../shared/data/msigdb")
def test_nsclc_paper_universe_pipeline(tmp_path: Path) -> None:
    """The native PyRadiomics table of NSCLC-Radiogenomics with ``--radiomics_include preset:paper`` and
    near-duplicate removal (|rho| > 0.85), elastic net, fast grid, Hallmark, a real `nextflow run`."""
    sheet = write_native_cohorts(tmp_path / "in")
    start = time.monotonic()
    run = run_nextflow(tmp_path, "--input", str(sheet), "--genesets", f"msigdb_hallmark={HALLMARK}",
                       "--clinical_targets", TARGETS, "--radiomics_include", "preset:paper",
                       "--radiomics_max_correlation", "0.85", "--models", "enet", "--grid", "fast",
                       "--cv_folds", "3", "--n_boot", "100", "--mask_n_random", "50", timeout=3000)
    wall = time.monotonic() - start
    assert run.returncode == 0, run.log[-4000:]
    summary = check_paper_universe_outputs(run.outdir)
    print(f"NSCLC paper universe: {summary}; {len(read_trace(run.outdir))} tasks; wall {wall:.0f} s")


def check_paper_universe_outputs(out: Path) -> str:
    """The published tables of the paper-universe run: selection, targets per image type and class, test
    metrics, masking rows. Returns a one-line summary."""
    sel = pd.read_csv(out / "data/radiomics_selection.csv", keep_default_na=False)
    assert len(sel) == 1764 and sel["kept"].dtype == bool
    sel["rho"] = pd.to_numeric(sel["rho"].replace("", np.nan))
    universe = sel[~sel["reason"].str.startswith("matches no")]
    assert len(universe) == 292
    assert universe["image_type"].value_counts().to_dict() == {"original": 108, "log-sigma-0-5-mm-3D": 92,
                                                              "wavelet-HHH": 92}
    kept = sel[sel["kept"]]
    dropped = universe[~universe["kept"]]
    assert 30 < len(kept) < 292 and dropped["reason"].str.contains(r"> 0\.85 with .* \(training cohort\)").all()
    assert (dropped["rho"].abs() > 0.85).all() and dropped["partner"].isin(kept["feature"]).all()
    binar = pd.read_parquet(out / "data/binarization.parquet")
    assert set(binar["feature"]) == set(kept["feature"])
    # targets per image type x class: each pair is its own group (unit), GLDM included, none 'other'
    targets = binar[binar["kept"]]
    per_unit = targets.groupby(["image_type", "feature_class"]).size()
    assert set(per_unit.index.get_level_values(0)) == {"original", "log-sigma-0-5-mm-3D", "wavelet-HHH"}
    assert {"shape", "firstorder", "glcm", "gldm"} <= set(per_unit.index.get_level_values(1))
    tasks = pd.read_parquet(out / "data/tasks.parquet")
    radiomic = tasks[tasks["source"] == "radiomic"]
    assert set(radiomic["target"]) == set(targets["feature"]) and "other" not in set(radiomic["group"])
    assert (radiomic["group"] == radiomic["target"].map(lambda t: "_".join(t.split("_")[:2]))).all()
    assert radiomic["group"].nunique() == len(per_unit)
    met = pd.read_parquet(out / "evaluation/test_metrics.parquet")
    overall = met[met["averaging"] != "one-vs-rest"]
    assert set(overall["target"]) == set(tasks["target"]) and (overall["n"] <= 18).all()
    assert overall["auc"].dropna().between(0, 1).all() and overall["auc_q"].dropna().between(0, 1).all()
    chance = pd.read_parquet(out / "evaluation/target_chance.parquet").iloc[0]
    assert chance["targets"] == len(overall) and chance["passing"] == int((overall["auc"] >= 0.7).sum())
    mask_targets = [t for t in (out / "evaluation/mask_targets.txt").read_text().splitlines() if t]
    assert set(mask_targets) == set(overall.loc[overall["auc"] >= 0.7, "target"])
    n_mask = 0
    if mask_targets:                                  # masking rows: every passing target, Hallmark sets ranked
        m = pd.read_parquet(out / "masking/masking.parquet")
        assert set(m["target"]) == set(mask_targets) and set(m["source"]) == {"msigdb_hallmark"}
        test_rows = m[m["cohort"] == "test"]
        assert test_rows.groupby("target")["gene_set"].nunique().min() >= 5
        assert test_rows["auc"].dropna().between(0, 1).all()
        n_mask = len(m)
    by_type = {k: int(v) for k, v in per_unit.groupby(level=0).sum().items()}
    return (f"{len(universe)} features, {len(kept)} after |rho| <= 0.85, {len(targets)} radiomic targets in "
            f"{len(per_unit)} image type x class units ({by_type}), "
            f"{int(chance['passing'])} of {int(chance['targets'])} targets pass AUC 0.70 "
            f"({chance['expected_by_chance']:.1f} by chance), {n_mask} masking rows")
