"""Plugin system: entry-point discovery, the example third-party plugin (radplug-knn), broken plugins, and the
conformance check. Plugin packages are installed for real with pip into a temporary --target directory that
is put on PYTHONPATH of a subprocess; nothing is installed into the project's virtual environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from radplug.hookspecs import ModelFamily, hookimpl

PLUGINS = REPO / "tests" / "plugins"
BUILTINS = {"mlp", "enet", "svm", "rf", "gbt"}


def _pip_target(package: str, target: Path) -> Path:
    """``pip install --target`` one of the test plugin packages (real build through its pyproject.toml)."""
    res = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                          str(PLUGINS / package)], capture_output=True, text=True)
    assert res.returncode == 0, f"pip install of {package} failed:\n{res.stderr[-2000:]}"
    return target


def _env(site: Path | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    paths = ([str(site)] if site else []) + [str(REPO)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(extra)
    return env


def _radplug(args: list[str], site: Path | None = None, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "radplug.cli", *args], capture_output=True, text=True,
                          env=_env(site, **extra), cwd=str(REPO), timeout=600)


@pytest.fixture(scope="module")
def knn_site(tmp_path_factory) -> Path:
    site = _pip_target("radplug-knn", tmp_path_factory.mktemp("knn_site"))
    yield site
    shutil.rmtree(site, ignore_errors=True)  # "uninstall": the package only ever lived here


def test_example_plugin_is_not_installed_in_the_project_env() -> None:
    from importlib import metadata

    names = {d.metadata["Name"] for d in metadata.distributions()}
    assert "radplug-knn" not in names and "radplug-broken" not in names


def test_builtins_listed_with_package_and_version() -> None:
    res = _radplug(["plugins", "--json"])
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    fams = {r["name"]: r for r in rows if r["kind"] == "model_family"}
    assert BUILTINS <= set(fams)
    assert {fams[f]["package"] for f in BUILTINS} == {"radplug"}
    assert all(fams[f]["version"] not in ("", "?") for f in BUILTINS)
    assert {r["name"] for r in rows if r["kind"] == "geneset_source"} >= {"custom", "msigdb_hallmark"}


def test_knn_plugin_discovered_through_its_entry_point(knn_site: Path) -> None:
    res = _radplug(["plugins", "--json"], knn_site)
    assert res.returncode == 0, res.stderr
    fams = {r["name"]: r for r in json.loads(res.stdout) if r["kind"] == "model_family"}
    assert fams["knn"]["package"] == "radplug-knn"
    assert fams["knn"]["version"] == "0.1.0"
    assert fams["knn"]["plugin"] == "knn"
    assert BUILTINS <= set(fams)
    text = _radplug(["plugins"], knn_site).stdout
    assert "knn" in text and "radplug-knn 0.1.0" in text
    count = _radplug(["grid", "--family", "knn", "--preset", "fast", "--count"], knn_site)
    assert count.stdout.split() == ["knn", "1"]


def test_knn_plugin_passes_conformance(knn_site: Path) -> None:
    res = _radplug(["check-plugin", "knn", "--json"], knn_site)
    assert res.returncode == 0, res.stdout + res.stderr
    checks = json.loads(res.stdout)
    assert all(c["passed"] for c in checks)
    assert any(c["check"].startswith("multiclass") for c in checks)
    assert not any(c["check"].startswith("multilabel") for c in checks)  # knn does not declare multilabel


def test_broken_plugin_import_error_names_plugin_and_cause(tmp_path: Path) -> None:
    site = _pip_target("radplug-broken", tmp_path / "site")
    res = _radplug(["plugins"], site)
    assert res.returncode == 2
    err = res.stderr
    assert "plugin 'broken'" in err and "package radplug-broken" in err
    assert "ModuleNotFoundError" in err and "radplug_dependency_that_does_not_exist" in err
    assert "pip uninstall radplug-broken" in err
    assert "Traceback" not in err
    # every command that needs plugins fails the same clear way
    res = _radplug(["grid", "--family", "enet", "--count"], site)
    assert res.returncode == 2 and "plugin 'broken'" in res.stderr


@pytest.fixture(scope="module")
def dupe_site(tmp_path_factory) -> Path:
    site = _pip_target("radplug-dupe", tmp_path_factory.mktemp("dupe_site"))
    yield site
    shutil.rmtree(site, ignore_errors=True)


def test_duplicate_family_name_lists_every_provider(dupe_site: Path) -> None:
    site = dupe_site
    res = _radplug(["plugins"], site)
    assert res.returncode == 2
    assert "duplicate" in res.stderr and "model_family 'enet'" in res.stderr
    assert "plugin 'builtin_models' (radplug)" in res.stderr and "plugin 'dupe' (radplug-dupe)" in res.stderr


def test_hook_returning_wrong_type_is_named(dupe_site: Path) -> None:
    site = dupe_site
    res = _radplug(["plugins"], site, RADPLUG_DUPE_MODE="wrongtype")
    assert res.returncode == 2
    assert "plugin 'dupe' (package radplug-dupe) returned dict from radplug_geneset_sources()" in res.stderr
    assert "GeneSetSource" in res.stderr


def test_unknown_family_lists_available() -> None:
    res = _radplug(["check-plugin", "nosuchfamily"])
    assert res.returncode == 2
    assert "unknown model family 'nosuchfamily'" in res.stderr and "enet" in res.stderr


class _BadEstimator:
    """Violates the contract: predict_proba returns one column, get_params ignores the constructor."""

    def __init__(self, k: int = 1):
        self.k = k

    def get_params(self, deep: bool = True) -> dict:
        return {}

    def set_params(self, **p):
        return self

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        import numpy as np

        return np.full((len(X), 1), 0.5)


class _BadPlugin:
    @staticmethod
    @hookimpl
    def radplug_model_families():
        return [ModelFamily(name="bad", summary="violates the contract", factory=_BadEstimator,
                            grids={"fast": [{"k": 3}]})]


def test_conformance_reports_each_violation() -> None:
    """A real (in-process registered) plugin whose estimator breaks the contract fails the named checks."""
    from radplug.conformance import check_family
    from radplug.plugins import plugin_manager

    pm = plugin_manager()
    pm.register(_BadPlugin, name="bad_inprocess")
    try:
        res = {r.check.split(" ")[0]: r for r in check_family("bad")}
    finally:
        pm.unregister(name="bad_inprocess")
    assert not res["binary"].passed and "shape (12, 1), expected (12, 2)" in res["binary"].detail
    assert not res["multiclass"].passed
    assert not res["get_params/set_params"].passed and "'k': 3" in res["get_params/set_params"].detail
    assert not res["grids"].passed and "unknown parameters ['k']" in res["grids"].detail
    assert res["determinism"].passed


class _WrongStagedPlugin:
    """A forest whose staged scores are the whole forest's for every size: SEARCH would score the wrong model."""

    @staticmethod
    @hookimpl
    def radplug_model_families():
        from radplug.hookspecs import Staged
        from radplug.models.builtin import make_rf

        return [ModelFamily(name="wrong_staged", summary="staged scores that are not the smaller models",
                            factory=make_rf, grids={"fast": [{"n_estimators": 20}]},
                            staged=Staged("n_estimators", lambda est, X, values: [est.predict_proba(X)] * len(values)))]


def test_conformance_checks_staged_scores_against_own_fits() -> None:
    from radplug.conformance import check_family
    from radplug.plugins import plugin_manager

    pm = plugin_manager()
    pm.register(_WrongStagedPlugin, name="wrong_staged_inprocess")
    try:
        res = {r.check: r for r in check_family("wrong_staged")}
    finally:
        pm.unregister(name="wrong_staged_inprocess")
    staged = res["staged 'n_estimators' equals its own fits"]
    assert not staged.passed and "n_estimators=10 differ from a fit with n_estimators=10" in staged.detail
    assert res["determinism under a seed"].passed


@pytest.mark.parametrize("family", sorted(BUILTINS))
def test_builtin_families_pass_conformance(family: str) -> None:
    from radplug.conformance import check_family

    results = check_family(family)
    failed = [f"{r.check}: {r.detail}" for r in results if not r.passed]
    assert not failed
    names = [r.check for r in results]
    assert any(n.startswith("multilabel") for n in names) == (family == "mlp")
    assert any(n.startswith("staged") for n in names) == (family in ("rf", "gbt"))


def test_check_plugin_cli_exit_code() -> None:
    res = _radplug(["check-plugin", "enet"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("PASS") >= 7 and "FAIL" not in res.stdout


@pytest.fixture(scope="module")
def extras_site(tmp_path_factory) -> Path:
    """The example plugins radplug-knn (a model family) and radplug-extras (an interpreter and a gene-set
    source), pip-installed together into one --target directory."""
    site = tmp_path_factory.mktemp("extras_site")
    for package in ("radplug-knn", "radplug-extras"):
        _pip_target(package, site)
    yield site
    shutil.rmtree(site, ignore_errors=True)


def test_extras_plugin_records_listed_and_conformant(extras_site: Path) -> None:
    rows = json.loads(_radplug(["plugins", "--json"], extras_site).stdout)
    by_kind = {(r["kind"], r["name"]): r for r in rows}
    assert by_kind[("interpreter", "ablation")]["package"] == "radplug-extras"
    assert by_kind[("geneset_source", "gene_blocks")]["package"] == "radplug-extras"
    for args in (["ablation"], ["gene_blocks", "--spec", "SG:200:20"], ["masking"], ["permutation"]):
        res = _radplug(["check-plugin", *args, "--json"], extras_site)
        assert res.returncode == 0, res.stdout + res.stderr
        checks = json.loads(res.stdout)
        assert checks and all(c["passed"] for c in checks), checks
    # a source that needs a spec fails its check without one, naming what to pass
    res = _radplug(["check-plugin", "gene_blocks"], extras_site)
    assert res.returncode != 0 and "--genesets gene_blocks=SPEC" in res.stdout


def test_unknown_interpreter_lists_available() -> None:
    res = _radplug(["mask", "--model", "m.pkl", "--expression", "e.csv", "--targets", "t.parquet", "--outdir", ".",
                    "--genesets", "custom=x.gmt", "--interpreters", "masking,shap"])
    assert res.returncode != 0
    assert "unknown interpreter 'shap'" in res.stderr and "permutation" in res.stderr
