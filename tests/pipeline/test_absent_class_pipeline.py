"""The stage target of the real NSCLC-Radiogenomics cohort, with a class absent from the test cohort, through a real
`nextflow run` (the tables and the step's code: tests/unit/test_absent_class.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import read_trace, run_nextflow
from test_absent_class import CLINICAL, EXPRESSION, HALLMARK, nsclc_split

pytestmark = [pytest.mark.skipif(not CLINICAL.exists(), reason="shared NSCLC-Radiogenomics data not present")]


# --------------------------------------------------------------------------- the real pipeline
def _write_nsclc_cohorts(folder: Path) -> Path:
    """Two cohorts from the real files: expression (genes as rows, as shipped) and clinical rows per cohort."""
    train, test, _ = nsclc_split()
    folder.mkdir(parents=True, exist_ok=True)
    expr = pd.read_csv(EXPRESSION, index_col=0)
    clin = pd.read_csv(CLINICAL, dtype=str, keep_default_na=False)
    for name, ids in (("train", train), ("test", test)):
        expr[ids].to_csv(folder / f"{name}_expr.csv")
        clin[clin["Case ID"].isin(ids)].to_csv(folder / f"{name}_clin.csv", index=False)
    sheet = folder / "samplesheet.csv"
    sheet.write_text("cohort,role,expression,clinical\nnsclc_train,train,train_expr.csv,train_clin.csv\n"
                     "nsclc_test,test,test_expr.csv,test_clin.csv\n")
    return sheet


@pytest.mark.pipeline
def test_nsclc_stage_pipeline(tmp_path: Path) -> None:
    """`nextflow run` on the real cohort, stage target, both interpreters: exit 0, the class `other` NaN with
    its reason in the published tables and the report."""
    sheet = _write_nsclc_cohorts(tmp_path / "in")
    r = run_nextflow(tmp_path, "-profile", "test", "--input", str(sheet), "--clinical_targets", "stage",
                     "--genesets", f"msigdb_hallmark={HALLMARK}", "--models", "enet", "--cv_folds", "3",
                     "--mask_min_auc", "0", "--mask_n_random", "50", "--interpreters", "masking,permutation",
                     outdir="res", timeout=1800)
    assert r.returncode == 0, r.log[-4000:]
    res = r.outdir
    met = pd.read_parquet(res / "evaluation" / "test_metrics.parquet")
    other = met[met["class"] == "other"].iloc[0]
    assert math.isnan(other["auc"]) and "no test patient of class 'other'" in other["note"]
    for rel in ("masking/masking.parquet", "masking/permutation.parquet"):
        tab = pd.read_parquet(res / rel)
        o = tab[(tab["cohort"] == "test") & (tab["class"] == "other")]
        assert len(o) and o["auc"].isna().all() and o["note"].str.contains("no test patient").all(), rel
    page = (res / "report" / "report.html").read_text()
    assert "Metrics that cannot be estimated" in page
    # the task order: PREFLIGHT (gene sets, targets, parameters) ran before VALIDATE and every SEARCH task
    # (Nextflow numbers tasks as it creates them, and a task is created only once its inputs exist)
    trace = pd.DataFrame(read_trace(res))
    proc = trace["name"].str.split(" ").str[0].str.split(":").str[-1]
    task_id = trace["task_id"].astype(int)
    pre = trace[proc == "PREFLIGHT"]
    assert len(pre) == 1 and pre["status"].iloc[0] == "COMPLETED"
    first = task_id[proc == "PREFLIGHT"].iloc[0]
    assert (task_id[proc == "SEARCH"] > first).all() and (task_id[proc == "VALIDATE"] > first).all()
    assert (task_id[proc == "INGEST"] < first).all()
