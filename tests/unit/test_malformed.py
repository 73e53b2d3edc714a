"""Every malformed input of tests/malformed_cases.py through the `radplug` CLI entry point (in-process, for
speed; a representative subset as real processes with their real exit status), and a few through real
`nextflow run main.nf --input ...`."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from malformed_cases import (
    CASES,
    GOOD_GMT,
    LABELS_ACCEPTED,
    PIPELINE_CASES,
    PREFLIGHT_ARGS,
    SHEET_ACCEPTED,
    Tables,
    base_cohort,
    write_cohort,
)

from radplug.io import read_expression, read_parquet

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


def clean_step_tables(folder: Path) -> dict[str, Tables]:
    """The unbroken cohort's tables after VALIDATE and after PREFLIGHT (with a valid GMT), by step, written in
    ``folder``."""
    from radplug.cli import main

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


@pytest.fixture(scope="module")
def clean_tables(tmp_path_factory) -> dict[str, Tables]:
    return clean_step_tables(tmp_path_factory.mktemp("clean"))


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


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_malformed_cli(c, tmp_path: Path, capsys, caplog, clean_tables) -> None:
    _check_case(c, tmp_path, _in_process(capsys, caplog), clean_tables)
