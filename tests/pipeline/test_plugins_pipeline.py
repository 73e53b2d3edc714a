"""Third-party plugins, pip-installed, through a real `nextflow run` with main.nf unchanged; a release spec refused
clearly offline (the plugin records and checks: tests/step/test_plugins.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import read_trace, run_nextflow
from test_plugins import _env, _pip_target


@pytest.fixture(scope="module")
def extras_site(tmp_path_factory) -> Path:
    """radplug-knn and radplug-extras pip-installed together into one --target directory."""
    site = tmp_path_factory.mktemp("extras_site")
    for package in ("radplug-knn", "radplug-extras"):
        _pip_target(package, site)
    yield site
    shutil.rmtree(site, ignore_errors=True)


@pytest.mark.pipeline
def test_third_party_plugins_in_real_pipeline_run(extras_site: Path, test_profile_run, tmp_path: Path) -> None:
    """A model family (knn), an interpreter (ablation) and a gene-set source with its own spec syntax
    (gene_blocks=SG:2000:100), all from pip-installed packages, through `nextflow run -profile test` with main.nf
    unchanged. Resumes the suite's shared test-profile run, so only the new tasks and those downstream run."""
    out = tmp_path / "res"
    res = run_nextflow(test_profile_run.launch_dir, "-profile", "test", "--models", "mlp,knn", "-resume",
                       "--genesets", "gene_blocks=SG:2000:100", "--interpreters", "masking,ablation",
                       "--mask_n_random", "50", "--mask_max_random", "200",
                       outdir=str(out), env={"PYTHONPATH": _env(extras_site)["PYTHONPATH"], "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.log[-6000:]
    found = {p.name: p for p in out.rglob("*.parquet")}
    sel = pd.read_parquet(found["selection.parquet"])
    assert set(sel["family"]) == {"mlp", "knn"}
    tasks = pd.read_parquet(found["tasks.parquet"])
    knn = sel[sel["family"] == "knn"]
    assert set(knn["target"]) == set(tasks["target"])  # knn searched on every target
    assert knn["auc_mean"].notna().all()
    metrics = pd.read_parquet(found["test_metrics.parquet"])
    assert set(metrics["target"]) == set(tasks["target"])
    assert metrics["auc"].between(0, 1).all() and metrics["auc_ci_low"].le(metrics["auc_ci_high"]).all()
    # the source's own spec reached it: 20 blocks of 100 simulated genes, masked and tested
    masking = pd.read_parquet(out / "masking" / "masking.parquet")
    assert set(masking["source"]) == {"gene_blocks"}
    assert masking["gene_set"].nunique() == 20 and masking["q_value"].notna().any()
    # the third-party interpreter ran through the same runner on every masked target, published by SIGNIFICANCE
    abl = pd.read_parquet(out / "masking" / "ablation.parquet")
    assert set(abl["interpreter"]) == {"ablation"} and set(abl["source"]) == {"gene_blocks"}
    assert set(abl["target"]) == set(masking["target"])
    assert abl["auc_drop"].notna().any() and abl["gene_set"].nunique() == 20


@pytest.mark.pipeline
def test_msigdb_release_spec_goes_to_the_source_and_is_refused_clearly_offline(tmp_path: Path) -> None:
    """`--genesets msigdb_hallmark=7.0` is passed through to the source plugin, which resolves the release to the
    Broad's URL; without network PREFLIGHT stops the run naming the URL and what to do, before any training."""
    run = run_nextflow(tmp_path, "-profile", "test", "--genesets", "msigdb_hallmark=7.0", timeout=900)
    assert run.returncode != 0
    assert "h.all.v7.0.symbols.gmt: could not download" in run.stdout + run.stderr
    assert "pass a local copy instead" in run.stdout + run.stderr
    published = {p.relative_to(run.outdir).parts[0] for p in run.outdir.rglob("*") if p.is_file()}
    assert published <= {"pipeline_info", "data"} and not (run.outdir / "data" / "expression.parquet").exists()
    assert not any(r["name"].split(" ")[0].endswith(":SEARCH") for r in read_trace(run.outdir))
