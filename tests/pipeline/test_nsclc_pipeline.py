"""The real radiogenomic cohort (NSCLC-Radiogenomics, ../shared/data) through a real `nextflow run`: a small
slice of it (the 18 original shape features and the EGFR/KRAS/recurrence/survival labels, 42 train / 18 test
patients, elastic net, Hallmark), checking what a researcher must see first on a cohort this small: how many
targets pass the masking threshold against how many would by chance, and each target's test-AUC q-value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA, run_nextflow

pytestmark = pytest.mark.pipeline

NSCLC = SHARED_DATA / "nsclc_radiogenomics"
HALLMARK = SHARED_DATA / "msigdb" / "h.all.v7.0.symbols.gmt"
CLINICAL = {"EGFR mutation status": "EGFR", "KRAS mutation status": "KRAS", "Recurrence": "recurrence",
            "Survival Status": "survival"}


def write_nsclc_cohorts(folder, feature_prefix: str = "original_shape_", n_train: int = 42, seed: int = 0):
    """Samplesheet and per-cohort CSVs for the 60 NSCLC-Radiogenomics patients: expression (1,000 genes,
    samples as columns, as shipped), PyRadiomics features whose names start with ``feature_prefix`` (the
    case id taken from the Mask path), and the clinical labels renamed to shell-safe names."""
    feats = pd.read_csv(NSCLC / "features_NSCLC.csv")
    ids = feats["Mask"].str.extract(r"(R01-\d+)")[0]
    rad = feats.loc[:, [c for c in feats.columns if c.startswith(feature_prefix)]]
    rad.insert(0, "sample_id", ids)
    expr = pd.read_csv(NSCLC / "df_zscore.csv", index_col=0)
    clin = pd.read_csv(NSCLC / "NSCLCR01Radiogenomic_DATA_LABELS_2018-05-22_1500-shifted.csv")
    clin = clin.rename(columns={"Case ID": "sample_id", **CLINICAL})[["sample_id", *CLINICAL.values()]]
    order = np.random.default_rng(seed).permutation(len(ids))
    rows = []
    for role, part in (("train", ids.iloc[order[:n_train]]), ("test", ids.iloc[order[n_train:]])):
        expr[list(part)].to_csv(folder / f"{role}_expression.csv")
        rad[rad["sample_id"].isin(part)].to_csv(folder / f"{role}_radiomics.csv", index=False)
        clin[clin["sample_id"].isin(part)].to_csv(folder / f"{role}_clinical.csv", index=False)
        rows.append({"cohort": f"nsclc_{role}", "role": role, "expression": f"{role}_expression.csv",
                     "radiomics": f"{role}_radiomics.csv", "clinical": f"{role}_clinical.csv"})
    pd.DataFrame(rows).to_csv(folder / "samplesheet.csv", index=False)
    return folder / "samplesheet.csv"


@pytest.mark.skipif(not (NSCLC.exists() and HALLMARK.exists()), reason="needs ../shared/data (NSCLC, MSigDB)")
def test_nsclc_report_states_targets_against_chance(tmp_path):
    sheet = write_nsclc_cohorts(tmp_path)
    run = run_nextflow(tmp_path, "--input", str(sheet), "--genesets", f"msigdb_hallmark={HALLMARK}",
                       "--clinical_targets", ",".join(CLINICAL.values()), "--models", "enet", "--grid", "fast",
                       "--cv_folds", "3", "--n_boot", "200", "--mask_n_random", "100")
    assert run.returncode == 0, run.log[-4000:]
    out = run.outdir
    met = pd.read_parquet(out / "evaluation/test_metrics.parquet")
    overall = met[met["averaging"] != "one-vs-rest"]
    assert len(overall) >= 10 and {"EGFR", "KRAS", "recurrence", "survival"} <= set(overall["target"])
    assert overall["n"].max() <= 18                                          # the 18 test patients
    scored = overall.dropna(subset=["auc"])
    assert scored["auc_p"].between(0, 1).all() and scored["auc_q"].between(0, 1).all()
    chance = pd.read_parquet(out / "evaluation/target_chance.parquet").iloc[0]
    # with 18 test patients a model whose scores vary passes AUC 0.70 by chance with probability ~0.05-0.15;
    # one that predicts a constant (heavily regularized on 42 patients) cannot pass at all
    per_target = scored["p_pass_by_chance"]
    varying = scored["auc_p"] < 1
    assert varying.sum() >= 3 and per_target[varying].between(0.03, 0.25).all(), scored.to_string()
    assert (per_target[~varying] <= 1e-3).all()
    assert chance["expected_by_chance"] == pytest.approx(per_target.sum(), rel=1e-6)
    assert chance["passing"] == int((overall["auc"] >= 0.7).sum())
    html = (out / "report/report.html").read_text()
    assert f"{int(chance['passing'])} of {int(chance['targets'])} targets reach a test AUC of at least 0.70" in html
    assert f"{chance['expected_by_chance']:.1f} would by chance alone" in html
    assert "auc_q" in html
    print(f"NSCLC slice: {int(chance['passing'])} of {int(chance['targets'])} targets pass 0.70, "
          f"{chance['expected_by_chance']:.1f} expected by chance, {int(chance['significant_q05'])} at q < 0.05")
