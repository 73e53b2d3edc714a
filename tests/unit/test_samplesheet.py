"""One samplesheet parser: `radplug ingest` and the pipeline (whose SAMPLESHEET step runs `radplug samplesheet`,
the same parser; the Groovy side only checks and stages the resolved paths) accept and refuse the same
sheets. Accepted dialects (tab, padding, quoting, BOM, CRLF, latin-1, unusual file names, absolute paths) give
the same ingested tables as the clean sheet; refused ones the same message from both."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from malformed_cases import LABELS_ACCEPTED, SHEET_ACCEPTED, base_cohort, case, write_cohort

from radplug.cli import main

TABLES = ("raw_expression.parquet", "raw_labels.parquet", "raw_features.parquet")


def _write(folder: Path, name: str | None) -> Path:
    c = base_cohort()
    if name:
        SHEET_ACCEPTED[name](c)
    c.sheet = [line.replace("@ABS@", str(folder.resolve())) for line in c.sheet]
    return write_cohort(c, folder)


def _ingest(sheet: Path, out: Path, capsys) -> tuple[int, str]:
    code = main(["ingest", "--samplesheet", str(sheet), "--outdir", str(out)])
    cap = capsys.readouterr()
    return code, cap.out + cap.err


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    assert main(["ingest", "--samplesheet", str(_write(folder / "in", None)), "--outdir", str(folder / "ing")]) == 0
    return folder / "ing"


@pytest.mark.parametrize("name", sorted(SHEET_ACCEPTED))
def test_accepted_sheet_gives_the_clean_tables(name: str, clean: Path, tmp_path: Path, capsys) -> None:
    sheet = _write(tmp_path / "in", name)
    code, out = _ingest(sheet, tmp_path / "ing", capsys)
    assert code == 0, out
    for t in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ing" / t), pd.read_parquet(clean / t), obj=t)
    # the pipeline's step: the same rows, every path resolved to an existing file
    assert main(["samplesheet", "--samplesheet", str(sheet), "--out", str(tmp_path / "s.json")]) == 0
    rows = json.loads((tmp_path / "s.json").read_text())
    assert [(r["cohort"], r["role"]) for r in rows] == [("c1", "train"), ("c2", "test")]
    for r in rows:
        for col in ("expression", "radiomics", "clinical"):
            assert Path(r[col]).is_absolute() and Path(r[col]).is_file(), r
        assert "annotation" not in r


@pytest.mark.parametrize("name", sorted(LABELS_ACCEPTED))
def test_label_texts_map_as_the_clean_texts(name: str, tmp_path: Path, capsys) -> None:
    """TCGA codes, abbreviations, other languages, stage with TNM in parentheses, Unicode numerals, numeric stage
    codes, a target coded 0/1 in one cohort and 0.0/1.0 in another: the same labels as the clean texts."""
    edit, clean_edit, args = LABELS_ACCEPTED[name]
    tables = []
    for folder, e in ((tmp_path / "variant", edit), (tmp_path / "clean", clean_edit)):
        c = base_cohort()
        if e:
            e(c)
        sheet = write_cohort(c, folder)
        code = main(["ingest", "--samplesheet", str(sheet), "--outdir", str(folder / "ing"), *args])
        assert code == 0, capsys.readouterr().err
        tables.append(pd.read_parquet(folder / "ing" / "raw_labels.parquet"))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert tables[0].drop(columns=["cohort", "source_cohort"]).notna().all().all()


def test_samplesheet_command_resolves_against_base(tmp_path: Path) -> None:
    """The pipeline passes the original sheet's folder as --base (the task sees a staged copy)."""
    sheet = _write(tmp_path / "in", "sheet_subfolder_path")
    copy = tmp_path / "elsewhere" / "sheet.csv"
    copy.parent.mkdir()
    copy.write_bytes(sheet.read_bytes())
    assert main(["samplesheet", "--samplesheet", str(copy), "--base", str(sheet.parent),
                 "--out", str(tmp_path / "s.json")]) == 0
    rows = json.loads((tmp_path / "s.json").read_text())
    assert rows[1]["radiomics"] == str(sheet.parent / "sub/dir/test_rad.csv")
    assert rows[1]["given_radiomics"] == "sub/dir/test_rad.csv"


REFUSED = ("sheet_duplicate_column", "sheet_duplicate_column_case", "sheet_semicolon_delimiter",
           "sheet_unbalanced_quote", "sheet_bad_role", "sheet_unknown_column")


@pytest.mark.parametrize("name", REFUSED)
def test_refused_sheet_same_message_from_both_entry_points(name: str, tmp_path: Path, capsys) -> None:
    c = case(name)
    cohort = base_cohort()
    c.edit(cohort)
    sheet = write_cohort(cohort, tmp_path / "in")
    code, out = _ingest(sheet, tmp_path / "ing", capsys)
    assert code == 2 and re.search(c.message, out), out
    code2 = main(["samplesheet", "--samplesheet", str(sheet), "--out", str(tmp_path / "s.json")])
    out2 = capsys.readouterr().err
    assert code2 == 2 and re.search(c.message, out2), out2
    assert out.split("error: ", 1)[1] == out2.split("error: ", 1)[1]
    assert not (tmp_path / "s.json").exists()


def test_texts_mapped_to_other_or_missing_are_listed_in_the_report(tmp_path: Path, capsys) -> None:
    """Every clinical text that became `other` or missing is in data/label_mapping.csv and in a warning table
    of the report (not only in a CSV)."""
    from radplug.reporting.report import build_report

    c = base_cohort()
    c.clinical["train"][3][1] = "NSCLC NOS"
    c.clinical["train"][4][2] = "Stage X"
    c.clinical["test"][2][2] = "IV"
    sheet = write_cohort(c, tmp_path / "in")
    assert main(["ingest", "--samplesheet", str(sheet), "--outdir", str(tmp_path / "ing")]) == 0
    lm = pd.read_csv(tmp_path / "ing" / "label_mapping.csv", keep_default_na=False)
    rows = {(r.target, r.cohort, r.text): (r.label, r.n) for r in lm.itertuples()}
    assert rows[("histology", "c1", "NSCLC NOS")] == ("other", 1)
    assert rows[("histology", "c1", "Large cell carcinoma")] == ("other", 9)     # row 3 became NSCLC NOS
    assert rows[("stage", "c1", "Stage X")] == ("", 1)
    assert rows[("stage", "c2", "IV")] == ("other", 1)
    assert rows[("stage", "c1", "IIIA")] == ("III", 7)
    results = tmp_path / "results"
    (results / "data").mkdir(parents=True)
    (results / "data" / "label_mapping.csv").write_bytes((tmp_path / "ing" / "label_mapping.csv").read_bytes())
    page = build_report(results).read_text()
    assert "Label texts mapped to other or missing" in page
    for text in ("NSCLC NOS", "Stage X", "Large cell carcinoma"):
        assert text in page
    table = pd.read_csv(results / "report" / "tables" / "labels_other_or_missing.csv", keep_default_na=False)
    assert set(table["label"]) == {"other", "missing"} and "IIIA" not in set(table["text"])
