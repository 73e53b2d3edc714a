"""Conformance check for model-family plugins: does a family honour the contract the pipeline relies on?

``check_family(name)`` builds the family's estimator from its smallest grid preset and runs it on small
synthetic data: grids are lists of parameter dicts the estimator accepts; ``fit``/``predict_proba`` shapes
for binary, multiclass and (when declared) multilabel targets; probabilities in [0, 1] that sum to 1;
identical predictions for the same ``random_state``; ``get_params``/``set_params`` round trip and
``sklearn.base.clone``. ``radplug check-plugin FAMILY`` runs it from the command line.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from radplug.hookspecs import ModelFamily
from radplug.plugins import get_family
from radplug.training.cv import make_estimator


@dataclass
class CheckResult:
    """The outcome of one conformance check."""

    check: str
    passed: bool
    detail: str = ""


def _data(task: str, seed: int, n: int = 48, p: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Small standardized data with signal in the first features (binary, multiclass or multilabel)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    if task == "binary":
        y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    elif task == "multiclass":
        y = np.arange(n) % 3
        X[:, :3] += 2.0 * np.eye(3, dtype=np.float32)[y]
    else:
        Y = (X[:, :3] + 0.5 * rng.normal(size=(n, 3)) > 0).astype(int)
        Y[:3] = [[0, 0, 0], [1, 1, 1], [0, 1, 0]]  # every label has both values
        return X, Y
    return X, y


def smallest_preset(fam: ModelFamily) -> str:
    """The preset to check with: ``fast`` when present, otherwise the smallest grid."""
    if "fast" in fam.grids:
        return "fast"
    return min(fam.grids, key=lambda k: len(fam.grids[k]))


def _make(fam: ModelFamily, params: dict[str, Any], seed: int):
    return make_estimator(fam.name, params, seed, "cpu")


def _check_proba(proba: Any, n: int, k: int) -> str:
    """Empty string when ``proba`` is an (n, k) probability array, else what is wrong."""
    if not isinstance(proba, np.ndarray):
        return f"predict_proba returned {type(proba).__name__}, expected a numpy array"
    if proba.shape != (n, k):
        return f"predict_proba shape {proba.shape}, expected {(n, k)}"
    if not np.all(np.isfinite(proba)) or proba.min() < -1e-6 or proba.max() > 1 + 1e-6:
        return "predict_proba values outside [0, 1] or not finite"
    return ""


def _run_checks(results: list[CheckResult]) -> Callable[[str, Callable[[], str]], None]:
    """A runner that records one check's outcome; a raised exception is a failure naming where it came from (a
    failing plugin must be reported, not crash the checker)."""

    def run(check: str, fn: Callable[[], str]) -> None:
        try:
            problem = fn()
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            problem = f"{type(exc).__name__}: {exc} (at {tb.filename}:{tb.lineno})"
        results.append(CheckResult(check, not problem, problem))

    return run


def check_family(name: str, seed: int = 0, preset: str | None = None) -> list[CheckResult]:
    """Run every conformance check on family ``name``; one result per check (never raises for a failure)."""
    fam = get_family(name)
    results: list[CheckResult] = []
    run = _run_checks(results)

    preset = preset or smallest_preset(fam)

    def grids() -> str:
        if not fam.grids:
            return "the family declares no grid preset"
        for pname, cfgs in fam.grids.items():
            if not isinstance(cfgs, list) or not cfgs or not all(isinstance(c, dict) for c in cfgs):
                return f"grid preset '{pname}' is not a non-empty list of parameter dicts"
            for i, cfg in enumerate(cfgs):
                unknown = set(cfg) - set(fam.factory(**cfg).get_params())
                if unknown:
                    return f"grid preset '{pname}' config {i} sets unknown parameters {sorted(unknown)}"
        return ""

    run("grids", grids)
    if preset not in fam.grids:
        presets = ", ".join(fam.grids)
        results.append(CheckResult("preset", False, f"no grid preset '{preset}'; presets: {presets}"))
        return results
    params = dict(fam.grids[preset][0])

    def contract() -> str:
        est = fam.factory(**params)
        missing = [m for m in ("fit", "predict_proba", "get_params", "set_params") if not hasattr(est, m)]
        return f"estimator lacks {', '.join(missing)}" if missing else ""

    def params_roundtrip() -> str:
        est = _make(fam, params, seed)
        before = est.get_params(deep=False)
        est.set_params(**before)
        after = est.get_params(deep=False)
        if before != after:
            return f"set_params(**get_params()) changed the parameters: {before} -> {after}"
        wrong = {k: v for k, v in params.items() if before.get(k) != v}
        return f"get_params does not report the constructor arguments {wrong}" if wrong else ""

    def clone_check() -> str:
        from sklearn.base import clone

        est = _make(fam, params, seed)
        c = clone(est)
        if c is est or c.get_params(deep=False) != est.get_params(deep=False):
            return "sklearn.base.clone() did not return an equal, separate estimator"
        return ""

    def fit_task(task: str, k: int) -> Callable[[], str]:
        def go() -> str:
            X, y = _data(task, seed)
            est = _make(fam, params, seed).fit(X[:36], y[:36])
            p = est.predict_proba(X[36:])
            problem = _check_proba(p, 12, k)
            if problem:
                return problem
            if task != "multilabel" and not np.allclose(p.sum(axis=1), 1.0, atol=1e-5):
                return "predict_proba rows do not sum to 1"
            if task != "multilabel" and len(getattr(est, "classes_", [])) != k:
                return f"classes_ has {len(getattr(est, 'classes_', []))} entries, expected {k}"
            return ""
        return go

    def determinism() -> str:
        X, y = _data("binary", seed)
        p1 = _make(fam, params, seed).fit(X[:36], y[:36]).predict_proba(X[36:])
        p2 = _make(fam, params, seed).fit(X[:36], y[:36]).predict_proba(X[36:])
        if not np.allclose(p1, p2, atol=1e-6):
            return f"two fits with the same seed differ (max |diff| {np.abs(p1 - p2).max():.2g})"
        return ""

    def staged() -> str:
        """A staged family's smaller models, scored from one larger fit, are those the smaller value fits."""
        X, y = _data("binary", seed)
        name = fam.staged.param
        big = int(params.get(name, 0))
        if big < 2:
            return (f"staged parameter '{name}' is {params.get(name)!r} in the checked configuration: "
                    "need an integer >= 2")
        small = [max(1, big // 2), big]
        est = _make(fam, {**params, name: big}, seed).fit(X[:36], y[:36])
        for value, p in zip(small, fam.staged.proba(est, X[36:], small), strict=True):
            own = _make(fam, {**params, name: value}, seed).fit(X[:36], y[:36]).predict_proba(X[36:])
            if not np.allclose(p, own, atol=1e-9):
                return (f"staged probabilities at {name}={value} differ from a fit with {name}={value} "
                        f"(max |diff| {np.abs(np.asarray(p) - own).max():.2g}): SEARCH would score another model")
        return ""

    run("estimator contract (fit, predict_proba, get_params, set_params)", contract)
    run("get_params/set_params round trip", params_roundtrip)
    run("sklearn clone()", clone_check)
    run("binary fit/predict_proba shape (n, 2)", fit_task("binary", 2))
    run("multiclass fit/predict_proba shape (n, 3)", fit_task("multiclass", 3))
    if fam.multilabel:
        run("multilabel fit/predict_proba shape (n, 3)", fit_task("multilabel", 3))
    run("determinism under a seed", determinism)
    if fam.staged is not None:
        run(f"staged '{fam.staged.param}' equals its own fits", staged)
    return results


def _phantom(seed: int) -> tuple[Any, Any]:
    """A small synthetic CT-like image (noise + a brighter sphere) and the sphere's mask, as SimpleITK images."""
    import SimpleITK as sitk

    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[:20, :24, :24]
    inside = (z - 10) ** 2 + (y - 12) ** 2 + (x - 12) ** 2 <= 36
    img = rng.normal(-50.0, 40.0, size=inside.shape) + 120.0 * inside
    image = sitk.GetImageFromArray(img.astype(np.float32))
    mask = sitk.GetImageFromArray(inside.astype(np.uint8))
    for im in (image, mask):
        im.SetSpacing((0.8, 0.8, 2.0))
        im.SetOrigin((-10.0, 5.0, 30.0))
    return image, mask


def check_extractor(name: str, seed: int = 0, preset: str | None = None) -> list[CheckResult]:
    """Conformance checks of a feature-extractor plugin on a synthetic phantom (never raises for a failure):
    presets are settings dicts, ``version()`` is a string, ``factory(settings)`` returns ``extract(image, mask,
    label)`` giving a non-empty dict of named finite floats, identical on a second call."""
    from radplug.plugins import get_extractor

    ext = get_extractor(name)
    results: list[CheckResult] = []
    run = _run_checks(results)

    def presets() -> str:
        if not ext.presets:
            return "the extractor declares no settings preset"
        bad = [k for k, v in ext.presets.items() if not isinstance(v, dict)]
        return f"preset(s) {bad} are not settings dicts" if bad else ""

    def version() -> str:
        v = ext.version()
        return "" if isinstance(v, str) and v else f"version() returned {v!r}, expected a non-empty string"

    preset = preset or (next(iter(ext.presets)) if ext.presets else "")
    state: dict[str, Any] = {}

    def extract() -> str:
        image, mask = _phantom(seed)
        fn = ext.factory(dict(ext.presets[preset]))
        feats = fn(image, mask, 1)
        state["fn"], state["feats"] = fn, feats
        if not isinstance(feats, dict) or not feats:
            return f"extract() returned {type(feats).__name__}, expected a non-empty dict of features"
        wrong = [k for k, v in feats.items() if not isinstance(k, str) or not isinstance(v, float)]
        if wrong:
            return f"feature(s) {wrong[:3]} are not str -> float"
        nonfinite = [k for k, v in feats.items() if not np.isfinite(v)]
        return f"non-finite feature value(s) {nonfinite[:5]}" if nonfinite else ""

    def determinism() -> str:
        if "fn" not in state:
            return "skipped: extract() failed"
        image, mask = _phantom(seed)
        again = state["fn"](image, mask, 1)
        diff = [k for k in state["feats"] if not np.isclose(state["feats"][k], again.get(k, np.nan), rtol=1e-9)]
        return f"a second extraction differs in {diff[:5]}" if diff else ""

    run("settings presets", presets)
    run("version()", version)
    if preset not in ext.presets:
        results.append(CheckResult("preset", False, f"no preset '{preset}'; presets: {', '.join(ext.presets)}"))
        return results
    run(f"extract() on a synthetic phantom (preset {preset})", extract)
    run("determinism", determinism)
    return results


def _toy_model(seed: int) -> tuple[Any, Any, Any, Any]:
    """A small fitted elastic-net model on synthetic data with signal in genes 0-3, its expression and targets
    tables (train and test cohorts), and three gene sets as a long table (the signal genes, noise, a mix)."""
    import pandas as pd

    from radplug.training.cv import make_pipeline
    from radplug.training.final import FinalModel

    rng = np.random.default_rng(seed)
    n, p = 60, 30
    X = rng.normal(size=(n, p))
    y = (X[:, :4].sum(axis=1) + 0.5 * rng.normal(size=n) > 0).astype(int)
    genes = [f"G{i}" for i in range(p)]
    ids = [f"P{i}" for i in range(n)]
    train = np.arange(n) < 40
    pipe = make_pipeline("enet", {"l1_ratio": 0.5, "C": 1.0}, seed).fit(X[train], y[train])
    model = FinalModel("toy", "enet", "c0", {"l1_ratio": 0.5, "C": 1.0}, ["0", "1"], genes, pipe, seed, 0.9)
    expression = pd.DataFrame(X, index=pd.Index(ids, name="sample_id"), columns=genes)
    targets = pd.DataFrame({"sample_id": ids, "cohort": np.where(train, "train", "test"), "toy": y.astype(str)})
    sets = {"SIGNAL": [0, 1, 2, 3], "NOISE": list(range(10, 20)), "MIX": [0, 1, 20, 21, 22]}
    long = pd.DataFrame([(s, genes[i]) for s, idx in sets.items() for i in idx], columns=["gene_set", "gene"])
    return model, expression, targets, long


def check_interpreter(name: str, seed: int = 0, preset: str | None = None) -> list[CheckResult]:
    """Conformance checks of an interpreter plugin on a small fitted model (never raises for a failure): it runs
    through ``radplug.explain.interpret.run_interpreter``, its table has the required columns, a row for every gene set,
    AUCs in [0, 1] (or NaN), and the same numbers for the same seed."""
    import pandas as pd

    from radplug.explain.interpret import run_interpreter
    from radplug.hookspecs import InterpretRequest
    from radplug.plugins import get_interpreter

    get_interpreter(name)
    results: list[CheckResult] = []
    run = _run_checks(results)
    state: dict[str, Any] = {}
    from radplug.genesets import prepare_gene_sets

    model, expression, targets, long = _toy_model(seed)
    prep = prepare_gene_sets(long, model.genes, 3, 50)
    members, coverage = prep.members, prep.coverage

    def request() -> InterpretRequest:
        return InterpretRequest(model, expression, targets, members, coverage, "conformance", seed, "cpu",
                                {"n_random": 20, "max_random": 40, "null_bins": 2, "fdr_scope": "target"})

    def score() -> str:
        state["table"] = table = run_interpreter(name, request()).table
        missing_sets = set(members) - set(table["gene_set"].astype(str)) if len(table) else set(members)
        if missing_sets:
            return f"no row for gene set(s) {sorted(missing_sets)}"
        auc = pd.to_numeric(table["auc"], errors="coerce")
        bad = table.loc[auc.notna() & ((auc < 0) | (auc > 1)), "gene_set"].tolist()
        return f"AUC outside [0, 1] for {bad[:3]}" if bad else ""

    def determinism() -> str:
        if "table" not in state:
            return "skipped: score() failed"
        again = run_interpreter(name, request()).table
        a = pd.to_numeric(state["table"]["auc"], errors="coerce").to_numpy()
        b = pd.to_numeric(again["auc"], errors="coerce").to_numpy()
        same = a.shape == b.shape and np.allclose(a, b, equal_nan=True)
        return "" if same else "a second run with the same seed gives other AUCs"

    run("score() through the runner: columns, every set, AUC range", score)
    run("determinism", determinism)
    return results


def check_source(name: str, seed: int = 0, spec: str | None = None) -> list[CheckResult]:
    """Conformance checks of a gene-set source plugin (never raises for a failure): its metadata are non-empty
    strings and ``load(spec)`` returns a non-empty long table with string columns gene_set and gene and no
    duplicate rows. ``spec`` is what a user would pass after ``NAME=`` (required when the source needs one)."""
    from radplug.plugins import get_source

    src = get_source(name)
    results: list[CheckResult] = []
    run = _run_checks(results)

    def metadata() -> str:
        empty = [f for f in ("version", "license", "citation") if not str(getattr(src, f) or "").strip()]
        return f"empty metadata field(s) {empty}" if empty else ""

    def load() -> str:
        if src.needs_path and not spec:
            return f"the source needs a spec: rerun with --spec (what a user passes as --genesets {name}=SPEC)"
        long = src.load(spec)
        missing = [c for c in ("gene_set", "gene") if c not in getattr(long, "columns", [])]
        if missing:
            return f"load() returned a table without column(s) {missing}"
        if not len(long):
            return "load() returned no gene set"
        if long.duplicated(["gene_set", "gene"]).any():
            return "load() returned duplicate (gene_set, gene) rows"
        return ""

    run("metadata (version, license, citation)", metadata)
    run("load(spec) returns a long gene_set, gene table", load)
    return results
