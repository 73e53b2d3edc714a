"""A class present in training and absent from the test cohort (ordinary in real data) runs through
EVALUATE, both interpreters (masking, permutation importance), SIGNIFICANCE and the report: that class's
metrics are NaN with the reason stated, never a number or a zero-width CI.

On the real NSCLC-Radiogenomics cohort (Bakr et al., Sci Data 2018; shared data): pathological stage from
its pT/pN/pM columns, the 60 patients with radiomic features split 42 train / 18 test with every stage
`other` patient (IV or 0) in training, as in the run that crashed in MASK (issue 13)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

from radplug.data.binarize import encode_target
from radplug.data.clinical import normalize_stage
from radplug.data.ingest import read_expression_file, read_labels_file
from radplug.explain.interpret import permutation_importance
from radplug.explain.masking import mask_model, significance
from radplug.genesets import prepare_gene_sets, read_gene_sets
from radplug.io import write_parquet
from radplug.reporting.report import build_report
from radplug.training.cv import make_pipeline
from radplug.training.final import FinalModel, class_note, evaluate

NSCLC = SHARED_DATA / "nsclc_radiogenomics"
CLINICAL = NSCLC / "NSCLCR01Radiogenomic_DATA_LABELS_2018-05-22_1500-shifted.csv"
EXPRESSION = NSCLC / "df_zscore.csv"
FEATURES = NSCLC / "features_NSCLC.csv"
HALLMARK = SHARED_DATA / "msigdb" / "h.all.v7.0.symbols.gmt"
CLASSES = ["I", "II", "III", "other"]

pytestmark = pytest.mark.skipif(not CLINICAL.exists(), reason="shared NSCLC-Radiogenomics data not present")


def nsclc_split(seed: int = 0) -> tuple[list[str], list[str], pd.DataFrame]:
    """The 60 radiomics patients, 42 train / 18 test, every stage-`other` patient in training; their
    clinical rows as read by radplug."""
    clin = read_labels_file(CLINICAL)
    case_ids = pd.read_csv(FEATURES, usecols=["Mask"])["Mask"].str.extract(r"(R01-\d+)")[0].tolist()
    stage = normalize_stage(clin).loc[case_ids]
    rng = np.random.default_rng(seed)
    other = list(stage.index[stage == "other"])
    rest = list(rng.permutation(stage.index[stage != "other"]))
    order = other + rest
    return order[:42], order[42:], clin.loc[case_ids]


def test_nsclc_stage_from_pathological_tnm_columns() -> None:
    """'Pathological T stage' is a T column, not a stage text column (it was read as stage text: all missing)."""
    clin = read_labels_file(CLINICAL)
    stage = normalize_stage(clin)
    counts = stage.value_counts().to_dict()
    assert counts == {"I": 93, "II": 34, "III": 24, "other": 11}      # 49 'Not Collected' stay missing
    assert stage.isna().sum() == 49


def test_class_note() -> None:
    y = np.array([0, 1, 2, 0, 1])
    assert class_note(y, 0, CLASSES) == ""
    assert "no test patient of class 'other'" in class_note(y, 3, CLASSES)
    assert "every labelled test patient is class 'I'" in class_note(np.zeros(5, int), 0, CLASSES)
    assert "every labelled test patient" in class_note(np.zeros(5, int), None, CLASSES)
    assert class_note(y, None, CLASSES) == ""


@pytest.fixture(scope="module")
def nsclc_results(tmp_path_factory):
    """The real cohort through EVALUATE, MASK (masking + permutation), SIGNIFICANCE and REPORT, function by
    function, into a results folder laid out as the pipeline publishes it."""
    train, test, clin = nsclc_split()
    expr = read_expression_file(EXPRESSION, known_ids=set(train + test))
    expr = expr.loc[train + test]
    expr = expr.loc[:, expr.loc[train].notna().mean() > 0.8]
    expr = expr.fillna(expr.loc[train].mean())
    stage = normalize_stage(clin)
    targets = pd.DataFrame({"sample_id": train + test, "cohort": ["train"] * 42 + ["test"] * 18,
                            "stage": stage.loc[train + test].to_numpy()})
    mask, y = encode_target(targets.set_index("sample_id").loc[train, "stage"], CLASSES)
    assert mask.all() and set(y) == {0, 1, 2, 3}
    pipe = make_pipeline("enet", {"C": 1.0, "l1_ratio": 0.5}, seed=0)
    pipe.fit(expr.loc[train].to_numpy(np.float32), y)
    model = FinalModel("stage", "enet", "c1", {}, CLASSES, list(expr.columns), pipe, 0, math.nan)
    met, pred = evaluate([model], expr, targets, n_boot=200, seed=0)
    prep = prepare_gene_sets(read_gene_sets(str(HALLMARK)), model.genes, 5, 500)
    real, null = mask_model(model, expr, targets, prep.members, prep.coverage, "msigdb_hallmark", 30, 5, 0)
    sig = significance(real, null)
    perm = permutation_importance(model, expr, targets, prep.members, "msigdb_hallmark", seed=0, n_repeats=2)
    res = tmp_path_factory.mktemp("nsclc_results")
    tasks = pd.DataFrame({"target": ["stage"], "kind": ["clinical"], "classes": ['["I","II","III","other"]']})
    write_parquet(targets, res / "data" / "targets.parquet", "test")
    write_parquet(tasks, res / "data" / "tasks.parquet", "test")
    write_parquet(met, res / "evaluation" / "test_metrics.parquet", "test")
    write_parquet(sig, res / "masking" / "masking.parquet", "test")
    write_parquet(perm, res / "masking" / "permutation.parquet", "test")
    report = build_report(res)
    return {"metrics": met, "masking": sig, "permutation": perm, "report": report, "results": res}


def test_evaluate_marks_the_absent_class(nsclc_results) -> None:
    met = nsclc_results["metrics"]
    other = met[met["class"] == "other"].iloc[0]
    assert other["n_pos"] == 0
    assert math.isnan(other["auc"]) and math.isnan(other["ap"])
    assert math.isnan(other["auc_ci_low"]) and math.isnan(other["auc_ci_high"])
    assert "no test patient of class 'other'" in other["note"]
    present = met[met["class"].isin(["I", "II", "III", "micro"])]
    assert present["auc"].notna().all() and (present["note"] == "").all()
    assert (present["auc_ci_high"] > present["auc_ci_low"]).all()


@pytest.mark.parametrize("table", ["masking", "permutation"])
def test_interpreters_mark_the_absent_class(nsclc_results, table) -> None:
    tab = nsclc_results[table]
    test = tab[tab["cohort"] == "test"]
    other = test[test["class"] == "other"]
    assert len(other) > 30                                              # one row per scored gene set
    assert other["auc"].isna().all() and other["rank"].isna().all()
    assert other["note"].str.contains("no test patient of class 'other'").all()
    rest = test[test["class"] != "other"]
    assert rest["auc"].notna().all() and rest["rank"].notna().all()
    assert not rest["note"].str.contains("no test patient").any()           # other notes (implausible) may stand
    if table == "masking":
        assert other["p_value"].isna().all() and other["q_value"].isna().all()
        train_other = tab[(tab["cohort"] == "train") & (tab["class"] == "other")]
        assert train_other["auc"].notna().all()                        # scored where the class exists


def test_report_states_the_reason(nsclc_results) -> None:
    page = Path(nsclc_results["report"]).read_text()
    assert "Metrics that cannot be estimated" in page
    assert "no test patient of class &#x27;other&#x27;" in page or "no test patient of class 'other'" in page
    table = pd.read_csv(nsclc_results["results"] / "report" / "tables" / "undefined_metrics.csv")
    assert table[["target", "class"]].values.tolist() == [["stage", "other"]]


def test_one_test_patient_gives_no_confident_auc(nsclc_results) -> None:
    """A single labelled test patient: no AUC, no zero-width interval, the reason stated (issue 13 gave
    micro AUC 1.0 with CI [1.0, 1.0])."""
    train, test, clin = nsclc_split()
    expr = read_expression_file(EXPRESSION, known_ids=set(train + test)).loc[train + test]
    expr = expr.loc[:, expr.loc[train].notna().mean() > 0.8]
    expr = expr.fillna(expr.loc[train].mean())
    stage = normalize_stage(clin)
    one = test[:1]
    targets = pd.DataFrame({"sample_id": train + one, "cohort": ["train"] * 42 + ["test"],
                            "stage": stage.loc[train + one].to_numpy()})
    _, y = encode_target(targets.set_index("sample_id").loc[train, "stage"], CLASSES)
    pipe = make_pipeline("enet", {"C": 1.0, "l1_ratio": 0.5}, seed=0)
    pipe.fit(expr.loc[train].to_numpy(np.float32), y)
    model = FinalModel("stage", "enet", "c1", {}, CLASSES, list(expr.columns), pipe, 0, math.nan)
    met, _ = evaluate([model], expr, targets, n_boot=200, seed=0)
    assert met["auc"].isna().all() and met["auc_ci_low"].isna().all() and met["auc_ci_high"].isna().all()
    micro = met[met["class"] == "micro"].iloc[0]
    assert "every labelled test patient is class" in micro["note"] and micro["n"] == 1
