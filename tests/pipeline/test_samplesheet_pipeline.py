"""Samplesheets through real `nextflow run`: accepted variants that Nextflow must stage, and refusals (every variant
through the steps' code: tests/unit/test_samplesheet.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_refused
from malformed_cases import GOOD_GMT, base_cohort, case, write_cohort
from test_samplesheet import _write

# --------------------------------------------------------------------------- real nextflow runs
# Accepted sheets go through SAMPLESHEET, staging and INGEST, which then stops on a target column that does not
# exist (`--clinical_targets zzz`): its message proves every file was staged and read, and no model is trained.
# Those that Nextflow must stage (odd paths) and one of the SAMPLESHEET step's parsing (BOM, CRLF, tabs); the other
# parsing variants (tab delimiter alone, header spaces and case) are the same step's code, tested above through
# both entry points. Refused: one SAMPLESHEET refusal (a semicolon delimiter is the same step's code, above) and a
# file Nextflow cannot find.
PIPELINE_ACCEPTED = ("sheet_quoted_path_with_comma", "sheet_bom_crlf_tab", "sheet_path_with_apostrophe",
                     "sheet_unicode_path")


PIPELINE_REFUSED = ("sheet_duplicate_column", "sheet_missing_file_in_subfolder")


@pytest.mark.pipeline
@pytest.mark.parametrize("name", PIPELINE_ACCEPTED)
def test_accepted_sheet_pipeline(name: str, tmp_path: Path) -> None:
    out = run_refused(tmp_path, _write(tmp_path / "in", name), "--clinical_targets", "zzz", gmt=GOOD_GMT).log
    assert re.search(r"clinical target column 'zzz' \(--clinical_targets\) not found; columns are "
                     r"\['histology', 'stage'\]", out), out
    assert "INGEST" in out and "does not exist" not in out


@pytest.mark.pipeline
@pytest.mark.parametrize("name", PIPELINE_REFUSED)
def test_refused_sheet_pipeline(name: str, tmp_path: Path) -> None:
    c = case(name)
    cohort = base_cohort()
    c.edit(cohort)
    out = run_refused(tmp_path, write_cohort(cohort, tmp_path / "in"), gmt=GOOD_GMT).log
    assert re.search(c.message, out), out
    assert "INGEST (" not in out or name == "sheet_missing_file_in_subfolder"
