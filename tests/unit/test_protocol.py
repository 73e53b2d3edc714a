"""The paper's selection protocol on the simulated cohort (the -profile test cohort): SEARCH jobs planned per
(unit, family, chunk), group networks choose the mlp configuration, per-feature CV of that configuration,
comparators per feature, softmax networks for histology, selection by mean CV AUC, final fit, test metrics
with bootstrap CIs. Real fits (PyTorch, scikit-learn) on the real simulate -> ingest -> validate -> binarize
chain."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radplug.io import RadplugInputError, write_parquet
from radplug.training.final import evaluate, fit_final, micro_auc_ci
from radplug.training.search import grid, run_job, select

FAMILIES = ["mlp", "enet", "svm", "rf", "gbt"]


@pytest.fixture(scope="module")
def glcm_search(cohort: dict) -> pd.DataFrame:
    """SEARCH for the GLCM group: the mlp group network (fast grid) and enet per feature, 3-fold CV."""
    e, t, k = cohort["expression"], cohort["targets"], cohort["tasks"]
    glcm = list(k.loc[k["group"] == "GLCM", "target"])
    parts = [run_job("group:GLCM", "mlp", "fast", 0, 1, e, t, k, 3, 42)]
    parts += [run_job(f"target:{f}", "enet", "fast", 0, 1, e, t, k, 3, 42) for f in glcm]
    return pd.concat(parts, ignore_index=True)


def test_group_network_chooses_config_then_per_feature_cv(cohort: dict, glcm_search: pd.DataFrame) -> None:
    cv = glcm_search
    tasks = cohort["tasks"]
    glcm = set(tasks.loc[tasks["group"] == "GLCM", "target"])
    mlp = cv[cv["family"] == "mlp"]
    group = mlp[mlp["cv_kind"] == "group"]
    feat = mlp[mlp["cv_kind"] == "feature"]
    n_cfg = len(grid("mlp", "fast"))
    assert len(group) == n_cfg * len(glcm) * 3 and set(group["target"]) == glcm
    assert feat["config_id"].nunique() == 1 and len(feat) == len(glcm) * 3
    per_cfg = group.groupby(["config_id", "target"])["auc"].mean().groupby("config_id").mean()
    assert feat["config_id"].iloc[0] == per_cfg.idxmax()  # the group network's choice
    summary, sel = select(cv, ["mlp", "enet"])
    mlp_sel = sel[sel["family"] == "mlp"].set_index("target")
    assert (mlp_sel["cv_kind"] == "feature").all()
    feat_auc = feat.groupby("target")["auc"].mean()
    assert np.allclose(mlp_sel.loc[feat_auc.index, "auc_mean"], feat_auc)
    chosen = sel[sel["selected"]].set_index("target")
    assert set(chosen.index) == glcm
    for target in glcm:
        cands = sel[sel["target"] == target]
        assert chosen.loc[target, "auc_mean"] == cands["auc_mean"].max()
    assert {"group", "feature", "target"} == set(summary["cv_kind"])


def test_networks_competitive_on_planted_feature(cohort: dict, glcm_search: pd.DataFrame) -> None:
    truth = cohort["truth"]
    planted = set(truth["target"]) & set(glcm_search["target"])
    assert planted, "the simulated cohort plants a GLCM feature"
    _, sel = select(glcm_search, ["mlp", "enet"])
    for target in planted:
        s = sel[sel["target"] == target].set_index("family")["auc_mean"]
        assert s["mlp"] > 0.75, s
        assert s["mlp"] > s["enet"] - 0.1, s


def test_final_fit_and_test_metrics_with_bootstrap_ci(cohort: dict, glcm_search: pd.DataFrame) -> None:
    e, t, k = cohort["expression"], cohort["targets"], cohort["tasks"]
    hist = run_job("target:histology", "mlp", "fast", 0, 1, e, t, k, 3, 42)
    assert set(hist["cv_kind"]) == {"target"} and hist["auc"].between(0, 1).all()
    _, sel = select(pd.concat([glcm_search, hist], ignore_index=True), ["mlp", "enet"])
    models = [fit_final(target, sel, e, t, k, 42) for target in sorted(sel.loc[sel["selected"], "target"])]
    hm = next(m for m in models if m.target == "histology")
    assert hm.pipeline.named_steps["model"].task_ == "multiclass"  # softmax network
    met, pred = evaluate(models, e, t, n_boot=200, seed=1)
    h = met[met["target"] == "histology"].set_index("class")
    assert set(h.index) == {"micro", "ADC", "SCC", "other"}
    assert h.loc["micro", "averaging"] == "micro" and (h.drop("micro")["averaging"] == "one-vs-rest").all()
    assert 0.5 <= h.loc["micro", "auc_prior"] < 0.8 and (h.drop("micro")["auc_prior"] == 0.5).all()
    assert met["auc"].notna().all()
    assert met["auc_ci_low"].notna().all() and met["auc_ci_high"].notna().all()
    assert (met["auc_ci_low"] <= met["auc_ci_high"]).all()
    assert met["auc_ci_low"].between(0, 1).all() and met["auc_ci_high"].between(0, 1).all()
    assert ((met["auc_ci_high"] - met["auc_ci_low"]) > 0.01).all()  # 60 test patients: a real interval
    n_test = int((t["cohort"] == "test").sum())
    assert (met["n"] <= n_test).all()
    hp = pred[pred["target"] == "histology"]
    assert np.allclose(hp.groupby("sample_id")["probability"].sum(), 1, atol=1e-5)
    acc = met.loc[met["averaging"] == "binary", "accuracy"]
    assert acc.between(0, 1).all()
    assert json.loads(k.set_index("target").loc["histology", "classes"]) == ["ADC", "SCC", "other"]


def test_micro_auc_ci_resamples_patients() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    perfect = np.eye(3)[y] * 0.8 + 0.2 / 3
    assert micro_auc_ci(y, perfect, 200, 0) == (1.0, 1.0)
    noisy = np.clip(perfect + rng.normal(scale=0.4, size=perfect.shape), 0.01, None)
    noisy /= noisy.sum(axis=1, keepdims=True)
    lo, hi = micro_auc_ci(y, noisy, 300, 0)
    assert 0.5 < lo < hi < 1.0
    assert micro_auc_ci(y, noisy, 300, 0) == (lo, hi)


def test_run_job_with_stacked_folds(cohort: dict, glcm_search: pd.DataFrame) -> None:
    """stack_folds=True trains the fold networks together; same rows, comparable CV AUC."""
    e, t, k = cohort["expression"], cohort["targets"], cohort["tasks"]
    stacked = run_job("target:GLCM_entrop2", "mlp", "fast", 0, 1, e, t, k, 3, 42, stack_folds=True)
    assert list(stacked.columns) == list(glcm_search.columns)
    assert len(stacked) == len(grid("mlp", "fast")) * 3 and set(stacked["cv_kind"]) == {"target"}
    feat = glcm_search[(glcm_search["cv_kind"] == "feature") & (glcm_search["target"] == "GLCM_entrop2")]
    same = stacked[stacked["config_id"] == feat["config_id"].iloc[0]]
    assert same["auc"].mean() > 0.75
    assert abs(same["auc"].mean() - feat["auc"].mean()) < 0.1


def test_prior_only_micro_auc_baseline() -> None:
    """The no-information baseline of a micro AUC: training frequencies for everyone, scored by brute force."""
    from radplug.training.final import prior_micro_auc

    y_train = np.repeat([0, 1, 2], [50, 35, 15])
    y_test = np.repeat([0, 1, 2], [42, 33, 12])
    prior = np.bincount(y_train) / len(y_train)
    labels = np.eye(3)[y_test].ravel()
    scores = np.tile(prior, len(y_test))
    pos, neg = scores[labels == 1], scores[labels == 0]
    brute = ((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())
    got = prior_micro_auc(y_test, y_train, 3)
    assert got == pytest.approx(brute) and 0.6 < got < 0.7
    assert prior_micro_auc(y_test, np.repeat([0, 1, 2], 10), 3) == pytest.approx(0.5)   # equal priors


def test_select_refuses_targets_without_cv_results(cohort: dict, glcm_search: pd.DataFrame, tmp_path: Path) -> None:
    """SELECT gets the tasks table: a target (or a family) whose SEARCH results never arrived is named, not dropped."""
    from radplug.cli import main
    from radplug.training.search import check_cv_complete

    glcm = cohort["tasks"][cohort["tasks"]["target"].isin(glcm_search["target"])]
    check_cv_complete(glcm_search, glcm, ["mlp", "enet"])          # complete: no error
    with pytest.raises(RadplugInputError, match=r"1 of \d+ targets have no CV results \(GLCM_"):
        check_cv_complete(glcm_search[glcm_search["target"] != glcm["target"].iloc[0]], glcm, ["mlp", "enet"])
    with pytest.raises(RadplugInputError, match="model family svm produced no CV results"):
        check_cv_complete(glcm_search, glcm, ["mlp", "enet", "svm"])
    # through the step, as the pipeline runs it: exit 2, nothing written
    cv_file, tasks_file = tmp_path / "cv.parquet", tmp_path / "tasks.parquet"
    write_parquet(glcm_search[glcm_search["target"] != glcm["target"].iloc[0]], cv_file, "test")
    write_parquet(cohort["tasks"], tasks_file, "test")
    assert main(["select", "--cv", str(cv_file), "--tasks", str(tasks_file), "--outdir", str(tmp_path / "cv"),
                 "--models", "mlp,enet"]) == 2
    assert not (tmp_path / "cv").exists()
