"""Every malformed input of tests/malformed_cases.py through the `radplug` CLI entry point (in-process, for
speed; a representative subset as real processes with their real exit status), and a few through real
`nextflow run main.nf --input ...`."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, read_trace, run_refused
from malformed_cases import (
    CASES,
    GOOD_GMT,
    LABELS_ACCEPTED,
    PIPELINE_CASES,
    PREFLIGHT_ARGS,
    SHEET_ACCEPTED,
    Tables,
    base_cohort,
    case,
    write_cohort,
)

from radplug.io import read_expression, read_parquet


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    return env


VALIDATE_ARGS = [
    "--expression",
    "ing/raw_expression.parquet",
    "--labels",
    "ing/raw_labels.parquet",
    "--features",
    "ing/raw_features.parquet",
    "--outdir",
    "val",
]
PREFLIGHT_INPUTS = ["--expression", "ing/raw_expression.parquet", "--labels", "ing/raw_labels.parquet",
                    "--features", "ing/raw_features.parquet", "--outdir", "pf"]


def _merge_args(base: tuple[str, ...], extra: tuple[str, ...]) -> list[str]:
    """``base`` options with those ``extra`` gives again replaced (an option's values run to the next --x)."""
    def parse(args: tuple[str, ...]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        key = None
        for a in args:
            if a.startswith("--") and not a[2:3].isdigit():
                key = a
                out[key] = []
            else:
                out[key].append(a)
        return out

    merged = {**parse(base), **parse(extra)}
    return [x for k, v in merged.items() for x in (k, *v)]


# a representative subset also runs as real processes (bin/radplug-ingest, bin/radplug-validate,
# bin/radplug-preflight): the console scripts' real exit status and output, each refusal kind of every step
SUBPROCESS_CASES = (
    "sheet_bad_role",
    "expression_binary",
    "expression_non_numeric",
    "sample_mismatch",
    "sample_in_two_cohorts_case",
    "single_class_target",
    "missing_values",
    "pf_geneset_two_field_line",
    "pf_models_stray_comma",
    "pf_continuous_target",
    "pf_class_with_one_patient",
    "pf_test_cohort_no_shared_genes",
)


def _subprocess(step: str, args: list[str], cwd: Path) -> tuple[int, str]:
    r = subprocess.run(
        [sys.executable, str(REPO / "bin" / f"radplug-{step}"), *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return r.returncode, r.stdout + r.stderr


def _in_process(capsys, caplog):
    """Run `radplug <step>` through radplug.cli.main in this process (its return value is the exit status
    the console script exits with); output = stderr + log records."""
    from radplug.cli import main

    def run(step: str, args: list[str], cwd: Path) -> tuple[int, str]:
        old = Path.cwd()
        os.chdir(cwd)
        try:
            with caplog.at_level(logging.INFO):
                code = main([step, *args])
        finally:
            os.chdir(old)
        out = capsys.readouterr()
        text = out.out + out.err + "\n".join(r.getMessage() for r in caplog.records)
        caplog.clear()
        return code, text

    return run


def _tables(folder: Path, step: str) -> Tables:
    """The tables INGEST and then VALIDATE or PREFLIGHT wrote under ``folder`` (see malformed_cases.Tables)."""
    ing = folder / "ing"
    t = {"raw_expression": read_expression(ing / "raw_expression.parquet"),
         "raw_labels": read_parquet(ing / "raw_labels.parquet"),
         "raw_features": read_parquet(ing / "raw_features.parquet")}
    if step == "validate":
        t |= {"expression": read_expression(folder / "val" / "expression.parquet"),
              "labels": read_parquet(folder / "val" / "labels.parquet"),
              "features": read_parquet(folder / "val" / "features.parquet")}
    if step == "preflight":
        t |= {"class_counts": pd.read_csv(folder / "pf" / "preflight_class_counts.csv", keep_default_na=False),
              "genesets": pd.read_csv(folder / "pf" / "preflight_genesets.csv")}
    return t


@pytest.fixture(scope="module")
def clean_tables(tmp_path_factory) -> dict[str, Tables]:
    """The unbroken cohort's tables after VALIDATE and after PREFLIGHT (with a valid GMT), by step."""
    from radplug.cli import main

    folder = tmp_path_factory.mktemp("clean")
    cohort = base_cohort()
    cohort.files["sets.gmt"] = GOOD_GMT
    sheet = write_cohort(cohort, folder)
    old = Path.cwd()
    os.chdir(folder)
    try:
        assert main(["ingest", "--samplesheet", sheet.name, "--outdir", "ing"]) == 0
        assert main(["validate", *VALIDATE_ARGS]) == 0
        assert main(["preflight", *PREFLIGHT_INPUTS, *PREFLIGHT_ARGS]) == 0
    finally:
        os.chdir(old)
    return {step: _tables(folder, step) for step in ("validate", "preflight")}


def _assert_expected_tables(c, folder: Path, clean: dict[str, Tables]) -> None:
    """An accepted case gives the clean input's tables, changed exactly as its ``expect`` says."""
    assert c.expect is not None, f"{c.name} is accepted (exit 0) but states no expected tables"
    got = _tables(folder, c.step)
    want = c.expect({k: v.copy() for k, v in clean[c.step].items()})
    assert set(got) == set(want)
    exact = {"check_exact": True} if not c.tol else {"check_exact": False, "rtol": c.tol, "atol": c.tol}
    for k in want:
        g, w = got[k], want[k]
        if k == "class_counts":                         # one row per target, cohort and class: order is not data
            g, w = (x.sort_values(["target", "cohort", "class"]).reset_index(drop=True) for x in (g, w))
        pd.testing.assert_frame_equal(g, w, obj=f"{c.name}: {k}", **exact)


# what to do: every refusal (each problem of a PREFLIGHT list) says it, by one of these
REMEDY = re.compile(r"\b(add|remove|rename|fix|check|use|give|keep|pass|drop|fill|replace|download|merge|cut|lower|"
                    r"raise|spell|install|save|list|separate|name (it|them|the|at least))\b|must be (one of|a|an|from|"
                    r"'|an integer|0)|available:|allowed columns are", re.IGNORECASE)


def _assert_refused(out: str) -> None:
    """A refusal: no traceback, and an error naming what to do (every problem of a PREFLIGHT list)."""
    assert "Traceback" not in out, out
    errors = [line.split("error: ", 1)[1] for line in out.splitlines() if "error: " in line]
    assert errors, out
    problems = [line[4:] for line in out.splitlines() if line.startswith("  - ")] or errors
    for problem in problems:
        assert REMEDY.search(problem), f"the message names nothing to do: {problem}"


def _check_case(c, folder: Path, run, clean: dict[str, Tables]) -> None:
    cohort = base_cohort()
    c.edit(cohort)
    sheet = write_cohort(cohort, folder)
    code, out = run("ingest", ["--samplesheet", sheet.name, "--outdir", "ing", *c.args], folder)
    if c.step == "ingest":
        assert code == c.exit_code, out
        assert re.search(c.message, out), out
        assert c.exit_code, f"{c.name}: an ingest case that is accepted needs step 'validate' (its tables compared)"
        _assert_refused(out)
        assert not (folder / "ing").exists() or not any((folder / "ing").iterdir())
        return
    assert code == 0, out
    if c.step == "preflight":
        code, out = run("preflight", [*PREFLIGHT_INPUTS, *_merge_args(PREFLIGHT_ARGS, c.preflight_args)], folder)
        written = folder / "pf"
    else:
        code, out2 = run("validate", VALIDATE_ARGS, folder)
        out += "\n" + out2
        written = folder / "val"
    assert code == c.exit_code, out
    assert re.search(c.message, out), out
    if c.exit_code:
        _assert_refused(out)
        assert not written.exists() or not any(written.iterdir())
    else:
        _assert_expected_tables(c, folder, clean)


def test_case_table_is_large_and_unique() -> None:
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
    every = names + list(SHEET_ACCEPTED) + list(LABELS_ACCEPTED)       # accepted variants: tests/test_samplesheet.py
    assert len(set(every)) == len(every) >= 100
    assert sum(c.exit_code != 0 for c in CASES) >= 25
    # no case exits 0 without its tables compared with the clean input's (accepted sheet and label variants are
    # compared in tests/test_samplesheet.py)
    assert [c.name for c in CASES if c.exit_code == 0 and c.expect is None] == []
    assert set(PIPELINE_CASES) <= set(names) and set(SUBPROCESS_CASES) <= set(names)


def test_base_cohort_is_valid(tmp_path: Path) -> None:
    """The unbroken cohort passes INGEST and VALIDATE without warnings: each case fails for its own defect."""
    sheet = write_cohort(base_cohort(), tmp_path)
    code, out = _subprocess("ingest", ["--samplesheet", sheet.name, "--outdir", "ing"], tmp_path)
    assert code == 0, out
    code, out = _subprocess("validate", VALIDATE_ARGS, tmp_path)
    assert code == 0, out
    assert "WARNING" not in out


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_malformed_cli(c, tmp_path: Path, capsys, caplog, clean_tables) -> None:
    _check_case(c, tmp_path, _in_process(capsys, caplog), clean_tables)


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_malformed_cli_subprocess(name: str, tmp_path: Path, clean_tables) -> None:
    _check_case(case(name), tmp_path, _subprocess, clean_tables)


# --------------------------------------------------------------------------- real nextflow runs
# One case per step that can refuse runs through real `nextflow run` (INGEST, and a VALIDATE-level problem that
# PREFLIGHT catches first: malformed_cases.PIPELINE_CASES; PREFLIGHT's kinds and the parameter schema at launch:
# below): the refusal stops the run in that process, its message (with what to do) reaches the log, and nothing is
# published. Every other case runs the same step's code above (in-process
# and, for SUBPROCESS_CASES, as the real console script): a whole `nextflow run` per case would add ~12 s each and
# test no more of the pipeline.
@pytest.mark.pipeline
@pytest.mark.parametrize("name", list(PIPELINE_CASES))
def test_malformed_pipeline(name: str, tmp_path: Path) -> None:
    c = case(name)
    cohort = base_cohort()
    c.edit(cohort)
    r = run_refused(tmp_path, write_cohort(cohort, tmp_path / "in"), gmt=GOOD_GMT)
    out = r.log
    assert re.search(c.message, re.sub(r"\s+", " ", out)) or re.search(c.message, out), out
    status = {row["name"].split(" ")[0].split(":")[-1]: row["status"] for row in read_trace(r.outdir)}
    failed = [step for step, st in status.items() if st == "FAILED"]
    assert failed == [PIPELINE_CASES[name]], status                   # the process whose code refuses it
    assert "VALIDATE" not in status, status


# PREFLIGHT cases through real `nextflow run`, one per kind of check (a gene-set source, a parameter against the
# cohort, the two cohorts against each other): each stops in PREFLIGHT (right after INGEST), before VALIDATE and
# any SEARCH task, and publishes nothing besides pipeline_info/. `--seed -1` is refused even earlier, by the
# parameter schema at launch (message given here). `--nested_cv` too large for the cohort runs through Nextflow in
# tests/test_nested.py.
PIPELINE_PREFLIGHT = {
    "pf_geneset_no_gene_matches": None,
    "pf_cv_folds_too_many": None,
    "pf_test_cohort_copy_of_train": None,
    "pf_seed_negative": r"--seed must be >= 0, got -1",
}


def _nextflow_args(args: list[str], folder: Path) -> list[str]:
    """`radplug` CLI options as pipeline parameters (--cv-folds -> --cv_folds; gene-set paths absolute)."""
    out, key = [], None
    for a in args:
        if a.startswith("--") and not a[2:3].isdigit():
            key = a.replace("-", "_").replace("__", "--", 1)
            out.append(key)
        elif key == "--genesets":
            name, _, path = a.partition("=")
            out.append(f"{name}={folder / path}")
        else:
            out.append(a)
    # several sources are one comma-separated pipeline parameter
    if "--genesets" in out:
        i = out.index("--genesets")
        j = i + 1
        while j < len(out) and not out[j].startswith("--"):
            j += 1
        out[i + 1:j] = [",".join(out[i + 1:j])]
    return out


@pytest.mark.pipeline
@pytest.mark.parametrize("name", list(PIPELINE_PREFLIGHT))
def test_preflight_pipeline(name: str, tmp_path: Path) -> None:
    c = case(name)
    cohort = base_cohort()
    c.edit(cohort)
    folder = tmp_path / "in"
    sheet = write_cohort(cohort, folder)
    args = _nextflow_args([*c.args, *_merge_args(PREFLIGHT_ARGS, c.preflight_args)], folder)
    r = run_refused(tmp_path, sheet, *args)
    message = PIPELINE_PREFLIGHT[name] or c.message
    assert re.search(message, r.log), r.log
    if PIPELINE_PREFLIGHT[name] is None:            # failed in PREFLIGHT: the task order in the trace
        rows = read_trace(r.outdir)
        status = {row["name"].split(" ")[0].split(":")[-1]: row["status"] for row in rows}
        assert status.get("INGEST") == "COMPLETED" and status.get("PREFLIGHT") == "FAILED", status
        assert not {"VALIDATE", "BINARIZE", "PLAN", "SEARCH"} & set(status), status
