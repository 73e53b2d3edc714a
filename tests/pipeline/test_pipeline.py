"""Pipeline-level tests: real `nextflow run main.nf -profile test`, then the published tables."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, read_trace, run_nextflow

from radplug.cli import main
from radplug.io import read_parquet
from radplug.training.search import final_units

pytestmark = pytest.mark.pipeline

LAYOUT = [
    "data/expression.parquet", "data/labels.parquet", "data/targets.parquet", "data/tasks.parquet",
    "data/binarization.parquet", "data/validation.parquet", "data/histology_mapping.csv",
    "data/simulated/ground_truth.parquet", "data/simulated/genesets.gmt",
    "cv/cv_results.parquet", "cv/selection.parquet", "cv/cv_summary.parquet",
    "evaluation/test_metrics.parquet", "evaluation/predictions.parquet", "evaluation/target_chance.parquet",
    "masking/masking.parquet", "masking/masking_null.parquet", "masking/geneset_coverage.parquet",
    "report/report.html", "report/figures/test_auc.png", "report/figures/test_auc.svg",
    "report/figures/masking_heatmap_custom.png", "report/figures/masking_null_custom.png",
    "report/tables/test_metrics.csv", "report/tables/masking_calls_custom.csv",
    "pipeline_info/software_versions.yml", "pipeline_info/params.json",
]


def test_publishes_the_documented_layout(test_profile_run):
    out = test_profile_run.outdir
    missing = [p for p in LAYOUT if not (out / p).exists()]
    assert not missing, f"not published: {missing}"
    assert list((out / "models").glob("*.model.pkl"))
    for pattern in ("execution_trace_*.txt", "execution_timeline_*.html", "execution_report_*.html"):
        assert list((out / "pipeline_info").glob(pattern)), pattern


def test_published_tables_meet_the_results_contract(test_profile_run):
    """Every table of radplug.results is published, with its columns and unique keys (the dropped-sets table only
    when the size filters dropped a set)."""
    from radplug.results import TABLES, table_problems

    out = test_profile_run.outdir
    for table in TABLES:
        path = out / table.path
        if table.name == "geneset_dropped.parquet" and not path.exists():
            continue
        assert path.exists(), f"{table.path} not published"
        columns = None if table.name != "expression.parquet" else ["sample_id"]
        assert table_problems(read_parquet(path, columns=columns), table) == [], table.path


def test_tables_have_the_expected_rows_and_ranges(test_profile_run):
    out = test_profile_run.outdir
    labels = pd.read_parquet(out / "data/labels.parquet")
    assert (labels["cohort"] == "train").sum() == 120 and (labels["cohort"] == "test").sum() == 60
    binar = pd.read_parquet(out / "data/binarization.parquet")
    assert len(binar) == 14                                # 7 groups x 2 features
    assert ((binar["minority_fraction"] >= 0.10) == binar["kept"]).all()
    tasks = pd.read_parquet(out / "data/tasks.parquet")
    assert set(tasks["target"]) == set(binar.loc[binar["kept"], "feature"]) | {"histology", "stage"}

    cv = pd.read_parquet(out / "cv/cv_results.parquet")
    assert set(cv["fold"]) == {0, 1, 2}
    assert set(cv["family"]) == {"mlp", "enet"}
    assert cv["auc"].between(0, 1).all()
    sel = pd.read_parquet(out / "cv/selection.parquet")
    assert (sel.groupby("target")["selected"].sum() == 1).all()
    assert set(sel["target"]) == set(tasks["target"])

    met = pd.read_parquet(out / "evaluation/test_metrics.parquet")
    overall = met[met["averaging"] != "one-vs-rest"]
    assert set(overall["target"]) == set(tasks["target"])
    for col in ("auc", "ap", "accuracy"):
        assert met[col].dropna().between(0, 1).all(), col
    ok = overall.dropna(subset=["auc_ci_low"])
    assert ((ok["auc_ci_low"] <= ok["auc"] + 1e-9) & (ok["auc"] <= ok["auc_ci_high"] + 1e-9)).all()
    hist = met[met["target"] == "histology"]
    assert set(hist["class"]) == {"micro", "ADC", "SCC", "other"}
    # target-level honesty: a permutation p and BH q per target's test AUC, and the chance expectation
    scored = overall.dropna(subset=["auc"])
    assert scored["auc_p"].between(0, 1).all() and scored["auc_q"].between(0, 1).all()
    assert met.loc[met["averaging"] == "one-vs-rest", "auc_p"].isna().all()
    chance = pd.read_parquet(out / "evaluation/target_chance.parquet").iloc[0]
    assert chance["targets"] == len(overall) and chance["passing"] == (overall["auc"] >= 0.7).sum()
    assert 0 <= chance["expected_by_chance"] < chance["targets"]
    masked = (out / "evaluation/mask_targets.txt").read_text().split()
    assert sorted(masked) == sorted(overall.loc[overall["auc"] >= 0.7, "target"])

    pred = pd.read_parquet(out / "evaluation/predictions.parquet")
    sums = pred.groupby(["target", "sample_id"])["probability"].sum()
    multiclass = sums.index.get_level_values(0).isin(["histology", "stage"])
    np.testing.assert_allclose(sums[multiclass], 1.0, atol=1e-5)


def test_planted_associations_rank_in_the_masking_top5(test_profile_run):
    """Every planted target that was masked (test AUC >= mask_min_auc) has its planted set in the top 5,
    and planted sets rank far better than a random set would (rank ~ n_sets / 2)."""
    out = test_profile_run.outdir
    truth = pd.read_parquet(out / "data/simulated/ground_truth.parquet")
    mask = pd.read_parquet(out / "masking/masking.parquet")
    test = mask[(mask["cohort"] == "test") & (mask["source"] == "custom")]
    n_sets = test["gene_set"].nunique()
    assert n_sets == 24
    masked_targets = set(test["target"])
    planted = truth[truth["target"].isin(masked_targets)]
    assert len(planted) >= 6, f"too few planted targets reached masking: {sorted(masked_targets)}"
    merged = planted.merge(test, on=["target", "class", "gene_set"], how="left")
    assert merged["rank"].notna().all()
    bad = merged[merged["rank"] > 5]
    assert bad.empty, bad[["target", "class", "gene_set", "auc", "rank"]].to_string()
    assert merged["rank"].mean() <= 3
    # the planted set beats the median set of its target, by a clear margin on average
    med = test.groupby(["target", "class"])["auc"].median().rename("median_auc").reset_index()
    merged = merged.merge(med, on=["target", "class"])
    margin = merged["auc"] - merged["median_auc"]
    assert (margin > 0).all() and margin.mean() > 0.1, merged.to_string()
    # p-values for every test row; q-values for every row of a group that masking can rank
    assert test["p_value"].between(0, 1).all()
    assert test.loc[~test["saturated"], "q_value"].between(0, 1).all()
    assert test.loc[test["saturated"], "q_value"].isna().all()
    assert set(test["call"]) <= {"significant", "not significant", "saturated"}
    assert ((test["call"] == "significant") == (test["q_value"] < 0.05)).all()
    assert test["auc_full"].between(0, 1).all() and (test["n_random"] >= 1).all()
    assert (test["n_random"] <= test["null_drawn"]).all() and test["null_drawn"].between(100, 5000).all()
    assert set(test["stop"]) <= {"hits", "max", "futile", "decided"}
    # most planted associations are significant; other (target, class, set) rows rarely are. On this tiny
    # cohort (60 test patients, 2,000 genes of which a quarter sit in planted modules) random sets of a
    # planted set's size reach some planted AUCs (p 0.006-0.02): 6-7 of 10 pass, and every one ranks first
    assert (merged["q_value"] < 0.05).mean() >= 0.6, merged[["target", "class", "gene_set", "q_value"]]
    keys = ["target", "class", "gene_set"]
    others = test.merge(truth[keys], on=keys, how="left", indicator=True).query("_merge == 'left_only'")
    assert (others["q_value"] < 0.05).mean() < 0.05


def test_final_models_and_masking_run_one_task_per_unit(test_profile_run, tmp_path):
    """FIT_FINAL runs once per unit (radiomic group or clinical target) and MASK once per (unit with a masked
    target, gene-set source), so a run's processes grow with its units, not its targets; the published tables still
    hold one model, one metrics row and one masking per target. The batched models are the per-target ones: fitting
    each target on its own (`radplug fit --target`) and evaluating gives the published tables, bit for bit."""
    out = test_profile_run.outdir
    tasks = pd.read_parquet(out / "data/tasks.parquet")
    units = final_units(tasks)
    assert sorted(t for names in units.values() for t in names) == sorted(tasks["target"])
    assert len(units) < len(tasks)                       # the test profile's groups have 2 features each
    trace = pd.DataFrame(read_trace(out))
    step = trace["process"].str.split(":").str[-1]
    assert sorted(trace.loc[step == "FIT_FINAL", "tag"]) == sorted(units)
    masked = set((out / "evaluation/mask_targets.txt").read_text().splitlines()) - {""}
    masked_units = {u for u, names in units.items() if set(names) & masked}
    assert masked and len(masked_units) <= len(masked)
    assert sorted(trace.loc[step == "MASK", "tag"]) == sorted(f"{u} x custom" for u in masked_units)
    # what the targets imply: a model per target, a metrics row per target, a masking per masked target
    assert {p.name for p in (out / "models").glob("*.model.pkl")} == {f"{i}.model.pkl" for i in tasks["id"]}
    met = pd.read_parquet(out / "evaluation/test_metrics.parquet")
    overall = met[met["averaging"] != "one-vs-rest"]
    assert sorted(overall["target"]) == sorted(tasks["target"])
    masking = pd.read_parquet(out / "masking/masking.parquet")
    assert set(masking["target"]) == masked and set(masking["source"]) == {"custom"}
    parts = {p.name for p in (out / "masking/parts").glob("*.masking.parquet")}
    ids = tasks.set_index("target")["id"]
    assert parts == {f"{ids[t]}__custom.masking.parquet" for t in masked}

    params = json.loads((out / "pipeline_info/params.json").read_text())
    single = tmp_path / "single"
    common = ["--selection", str(out / "cv/selection.parquet"), "--expression", str(out / "data/expression.parquet"),
              "--targets", str(out / "data/targets.parquet")]
    for target in tasks["target"]:
        assert main(["fit", "--target", target, *common, "--tasks", str(out / "data/tasks.parquet"),
                     "--seed", params["seed"], "--class-weight", params["class_weight"], "--outdir", str(single)]) == 0
    assert main(["evaluate", "--models", *map(str, sorted(single.glob("*.model.pkl"))), *common[2:],
                 "--outdir", str(tmp_path / "eval"), "--n-boot", params["n_boot"], "--seed", params["seed"],
                 "--mask-min-auc", params["mask_min_auc"], "--mask-target-q", params["mask_target_q"]]) == 0
    for table in ("test_metrics", "predictions"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "eval" / f"{table}.parquet"),
                                      pd.read_parquet(out / "evaluation" / f"{table}.parquet"), check_exact=True)
    assert (tmp_path / "eval/mask_targets.txt").read_text() == (out / "evaluation/mask_targets.txt").read_text()


def test_mask_of_a_unit_equals_mask_of_each_target(test_profile_run, tmp_path):
    """One MASK process over several models (`--model A B --only-targets`) writes, per target, the tables that one
    process per target writes; a model not listed in --only-targets is not masked."""
    out = test_profile_run.outdir
    tasks = pd.read_parquet(out / "data/tasks.parquet")
    names = list(tasks.loc[tasks["group"] == "shape", "target"])
    models = [str(out / "models" / f"{i}.model.pkl") for i in tasks.set_index("target").loc[names, "id"]]
    common = ["--expression", str(out / "data/expression.parquet"), "--targets", str(out / "data/targets.parquet"),
              "--genesets", f"custom={out / 'data/simulated/genesets.gmt'}", "--mask-n-random", "20",
              "--mask-max-random", "60", "--mask-null-bins", "3", "--interpreters", "masking", "--seed", "42"]
    (tmp_path / "only.txt").write_text(names[0] + "\n" + names[1] + "\n")
    assert main(["mask", "--model", *models, "--only-targets", str(tmp_path / "only.txt"), *common,
                 "--outdir", str(tmp_path / "unit")]) == 0
    for name, model in zip(names, models, strict=True):
        assert main(["mask", "--model", model, *common, "--outdir", str(tmp_path / name)]) == 0
    for name in names:
        stem = tasks.set_index("target").loc[name, "id"] + "__custom"
        for kind in ("masking", "null", "coverage", "dropped"):
            pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "unit" / f"{stem}.{kind}.parquet"),
                                          pd.read_parquet(tmp_path / name / f"{stem}.{kind}.parquet"), check_exact=True)
    (tmp_path / "only.txt").write_text(names[1] + "\n")
    assert main(["mask", "--model", *models, "--only-targets", str(tmp_path / "only.txt"), *common,
                 "--outdir", str(tmp_path / "one")]) == 0
    assert sorted(p.name.split("__")[0] for p in (tmp_path / "one").glob("*.masking.parquet")) == \
        [tasks.set_index("target").loc[names[1], "id"]]


def test_report_has_the_main_parts(test_profile_run):
    html = (test_profile_run.outdir / "report/report.html").read_text()
    for part in ("Headline", "Model comparison and test performance", "Gene-set masking", "Per-target results",
                 'data-figure="test_auc"', 'data-figure="cv_auc_by_family"', 'data-figure="masking_heatmap_custom"'):
        assert part in html, part
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"http", html), "report must be self-contained"
    # rebuilt at the end of the run with the finished trace: task timings per process
    assert "Tasks and time per process" in html
    # the chance line and the per-target calls with the random sets drawn
    assert "would by chance alone" in html and "random gene sets were drawn" in html
    assert 'data-figure="masking_null_custom"' in html and "Calls per target" in html
    timings = pd.read_csv(test_profile_run.outdir / "report/tables/timings.csv")
    assert timings["name"].str.contains("SEARCH").any() and len(timings) > 20


def test_resume_after_a_finished_run_reruns_nothing(test_profile_run):
    run = run_nextflow(test_profile_run.launch_dir, "-profile", "test", "-resume")
    assert run.returncode == 0, run.log[-3000:]
    df = pd.DataFrame(read_trace(run.outdir))
    assert len(df) > 20
    assert (df["status"] == "CACHED").all(), df.loc[df["status"] != "CACHED", ["name", "status"]].to_string()


def test_help_documents_every_parameter(tmp_path):
    run = run_nextflow(tmp_path, "--help")
    assert run.returncode == 0, run.log[-2000:]
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    names = [n for g in schema["$defs"].values() for n in g["properties"]]
    missing = [n for n in names if f"--{n}" not in run.stdout]
    assert not missing, missing
    assert not run.outdir.exists(), "--help must publish nothing"


def test_version_prints_the_version_and_publishes_nothing(tmp_path):
    import tomllib

    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    run = run_nextflow(tmp_path, "--version")
    assert run.returncode == 0, run.log[-2000:]
    assert f"radplug {version}" in run.stdout
    assert not run.outdir.exists()


def test_every_config_param_is_in_the_schema():
    text = (REPO / "nextflow.config").read_text()
    block = text[text.index("params {"):text.index("}", text.index("params {"))]
    config_params = set(re.findall(r"^\s*(\w+)\s*=", block, flags=re.M))
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    schema_params = {n for g in schema["$defs"].values() for n in g["properties"]}
    assert config_params == schema_params


def test_unknown_or_mistyped_parameters_fail_before_anything_runs(tmp_path):
    run = run_nextflow(tmp_path, "-profile", "test", "--cv_fold", "5", "--seed", "abc", "--max_mising", "0.3",
                       "--class_weight", "foo", "--min-set-size", "3")
    assert run.returncode != 0
    assert "unknown parameter --cv_fold" in run.log and "unknown parameter --max_mising" in run.log
    assert "--seed must be an integer" in run.log
    assert "--class_weight must be one of balanced, none, got 'foo'" in run.log
    # the dash spelling would be stored under another key and silently ignored
    assert "--min-set-size: radplug's parameters are written with underscores: use --min_set_size" in run.log
    assert not (tmp_path / "results" / "data").exists()
