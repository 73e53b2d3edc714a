"""Malformed input through real `nextflow run main.nf --input ...`: one case per step that can refuse (every case
through the steps' code: tests/unit/test_malformed.py, tests/step/test_malformed_step.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import read_trace, run_refused
from malformed_cases import GOOD_GMT, PIPELINE_CASES, PREFLIGHT_ARGS, base_cohort, case, write_cohort
from test_malformed import _merge_args


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
