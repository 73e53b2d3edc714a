"""A table of malformed (and borderline) inputs: each case writes a small cohort, breaks one thing, and states
the step that must catch it, the exit status and the message it must print.

Used by tests/test_malformed.py (CLI, every case) and by its pipeline tests (real `nextflow run`, a few).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

N_TRAIN, N_TEST, N_GENES = 30, 15, 40
HEADER = "cohort,role,expression,radiomics,clinical"


@dataclass
class Cohort:
    """A small valid two-cohort data set, as editable in-memory tables (lists of rows)."""

    train_ids: list[str]
    test_ids: list[str]
    genes: list[str]
    expr: dict[str, np.ndarray]  # cohort -> samples x genes
    radiomics: dict[str, list[list[str]]]  # cohort -> rows (header first)
    clinical: dict[str, list[list[str]]]
    sheet: list[str]  # samplesheet lines (header first)
    files: dict[str, bytes] = field(default_factory=dict)  # extra files to write verbatim
    expr_format: str = "csv"  # csv (samples as rows) or tsv_genes_rows

    def expr_rows(self, name: str) -> list[list[str]]:
        ids = self.train_ids if name == "train" else self.test_ids
        rows = [["sample_id", *self.genes]]
        rows += [[s, *(f"{v:.4f}" for v in self.expr[name][i])] for i, s in enumerate(ids)]
        return rows


def base_cohort(seed: int = 0) -> Cohort:
    rng = np.random.default_rng(seed)
    train = [f"T{i:02d}" for i in range(1, N_TRAIN + 1)]
    test = [f"V{i:02d}" for i in range(1, N_TEST + 1)]
    genes = [f"GENE{i}" for i in range(1, N_GENES + 1)]
    expr = {"train": rng.normal(8, 1, (N_TRAIN, N_GENES)), "test": rng.normal(8, 1, (N_TEST, N_GENES))}
    hist = ["Adenocarcinoma, NOS", "Squamous Cell Carcinoma, NOS", "Large cell carcinoma"]
    stages = ["IA", "IIB", "IIIA", "Stage II"]
    rad, clin = {}, {}
    for name, ids in (("train", train), ("test", test)):
        rad[name] = [["sample_id", "shape_Volume", "GLCM_contrast", "stats_Entropy"]] + [
            [s, *(f"{v:.3f}" for v in rng.normal(0, 1, 3))] for s in ids
        ]
        clin[name] = [["sample_id", "histology", "stage"]] + [
            [s, hist[i % 3], stages[i % 4]] for i, s in enumerate(ids)
        ]
    sheet = [
        HEADER,
        "c1,train,train_expr.csv,train_rad.csv,train_clin.csv",
        "c2,test,test_expr.csv,test_rad.csv,test_clin.csv",
    ]
    return Cohort(train, test, genes, expr, rad, clin, sheet)


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def write_cohort(c: Cohort, folder: Path) -> Path:
    """Write the cohort's files and samplesheet; return the samplesheet path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("train", "test"):
        if c.expr_format == "tsv_genes_rows":
            rows = c.expr_rows(name)
            cols = list(zip(*rows, strict=True))
            (folder / f"{name}_expr.csv").write_text("".join("\t".join(r) + "\n" for r in cols))
        else:
            (folder / f"{name}_expr.csv").write_text(_csv(c.expr_rows(name)))
        (folder / f"{name}_rad.csv").write_text(_csv(c.radiomics[name]))
        (folder / f"{name}_clin.csv").write_text(_csv(c.clinical[name]))
    for fname, data in c.files.items():
        (folder / fname).write_bytes(data)
    sheet = folder / "samplesheet.csv"
    sheet.write_text("\n".join(c.sheet) + "\n")
    return sheet


@dataclass
class Case:
    name: str
    edit: Callable[[Cohort], None]
    message: str  # regex the output must contain
    step: str = "ingest"  # ingest: fails in INGEST; validate: INGEST passes, VALIDATE fails/warns
    exit_code: int = 2  # 0: the input is accepted with the warning in `message`
    args: tuple[str, ...] = ()  # extra `radplug ingest` arguments


# --------------------------------------------------------------------------- edits
def _sheet(i: int, col: int, value: str) -> Callable[[Cohort], None]:
    def f(c: Cohort) -> None:
        cells = c.sheet[i].split(",")
        cells[col] = value
        c.sheet[i] = ",".join(cells)

    return f


def _drop_sheet_column(col: int) -> Callable[[Cohort], None]:
    def f(c: Cohort) -> None:
        c.sheet = [",".join(x for j, x in enumerate(line.split(",")) if j != col) for line in c.sheet]

    return f


def _set_expr(name: str, i: int, j: int, value: float) -> Callable[[Cohort], None]:
    def f(c: Cohort) -> None:
        c.expr[name][i, j] = value

    return f


def _expr_text(name: str, row: int, col: int, text: str) -> Callable[[Cohort], None]:
    """Replace one cell of the expression CSV by raw text (via an extra verbatim file)."""

    def f(c: Cohort) -> None:
        rows = c.expr_rows(name)
        rows[row][col] = text
        c.files[f"{name}_expr_edit.csv"] = _csv(rows).encode()
        c.sheet = [line.replace(f"{name}_expr.csv", f"{name}_expr_edit.csv") for line in c.sheet]

    return f


def _file(fname: str, data: bytes, column: int) -> Callable[[Cohort], None]:
    """Point row 2 (train) of the samplesheet at a verbatim file in ``column``."""

    def f(c: Cohort) -> None:
        c.files[fname] = data
        _sheet(1, column, fname)(c)

    return f


def _clin(name: str, row: int, col: int, value: str) -> Callable[[Cohort], None]:
    def f(c: Cohort) -> None:
        c.clinical[name][row][col] = value

    return f


def _all(*edits: Callable[[Cohort], None]) -> Callable[[Cohort], None]:
    def f(c: Cohort) -> None:
        for e in edits:
            e(c)

    return f


def _dup_expr_row(c: Cohort) -> None:
    c.expr["train"][3] = c.expr["train"][2]
    c.train_ids[3] = c.train_ids[2]


def _mismatch(c: Cohort) -> None:
    c.clinical["train"][7][0] = "X99"


def _test_uses_train_id(c: Cohort) -> None:
    c.test_ids[0] = "T01"
    c.radiomics["test"][1][0] = "T01"
    c.clinical["test"][1][0] = "T01"


def _single_class(c: Cohort) -> None:
    for r in c.clinical["train"][1:]:
        r[1] = "Adenocarcinoma"


def _few_train(c: Cohort) -> None:
    keep = 8
    c.train_ids = c.train_ids[:keep]
    c.expr["train"] = c.expr["train"][:keep]
    c.radiomics["train"] = c.radiomics["train"][: keep + 1]
    c.clinical["train"] = c.clinical["train"][: keep + 1]


def _constant_radiomic(c: Cohort) -> None:
    for r in c.radiomics["train"][1:]:
        r[2] = "1.5"


def _dup_gene(c: Cohort) -> None:
    c.genes[5] = c.genes[4]


def _nan_cells(c: Cohort) -> None:
    c.expr["train"][:20, 0] = np.nan  # 2/3 missing: dropped
    c.expr["train"][2, 1] = np.nan  # imputed
    c.expr["test"][4, 2] = np.nan


def _raw_test(c: Cohort) -> None:
    c.expr["test"] = np.exp2(c.expr["test"] + 6)


def _test_missing_genes(c: Cohort) -> None:
    c.expr["test"][:, :5] = np.nan


def _test_single_class(c: Cohort) -> None:
    for r in c.clinical["test"][1:]:
        r[1] = "Squamous Cell Carcinoma"


def _rename_hist(c: Cohort) -> None:
    for name in ("train", "test"):
        c.clinical[name][0][1] = "diagnosis"


def _ragged(c: Cohort) -> None:
    c.clinical["train"][4].append("extra")


def _bad_radiomic(c: Cohort) -> None:
    c.radiomics["train"][6][3] = "high"


def _genes_rows(c: Cohort) -> None:
    c.expr_format = "tsv_genes_rows"
    c.expr["train"][5, 7] = np.inf


def _cls_wrong_count(c: Cohort) -> None:
    c.files["train.cls"] = b"29 2 1\n# A B\n" + (" ".join(["A", "B"] * 14 + ["A"]) + "\n").encode()
    _sheet(1, 4, "train.cls")(c)
    _sheet(2, 4, "")(c)


SERIES_TRUNCATED = (
    b'!Series_title\t"x"\n!Sample_geo_accession\t"GSM1"\t"GSM2"\n!series_matrix_table_begin\n'
    b'"ID_REF"\t"GSM1"\t"GSM2"\n"1000_at"\t1.0\t2.0\n'
)
GCT_13 = b"#1.3\n2\t2\t0\t0\nid\tT01\tT02\nA\t1\t2\n"


CASES: list[Case] = [
    # ---- samplesheet (validated against assets/schema_input.json)
    Case("sheet_missing_role_column", _drop_sheet_column(1), r"lacks column\(s\) role"),
    Case("sheet_bad_role", _sheet(1, 1, "training"), r"row 2, column 'role': role must be 'train' or 'test'"),
    Case(
        "sheet_unknown_column",
        lambda c: c.sheet.__setitem__(0, HEADER.replace("expression", "expresion")),
        r"unknown samplesheet column\(s\) expresion",
    ),
    Case(
        "sheet_bad_extension",
        _sheet(1, 2, "train_expr.xlsx"),
        r"row 2, column 'expression': expression must be",
    ),
    Case(
        "sheet_cohort_with_space", _sheet(1, 0, "my cohort"), r"row 2, column 'cohort': cohort must be a name"
    ),
    Case("sheet_no_train", _sheet(1, 1, "test"), r"no cohort has role 'train'"),
    Case("sheet_duplicate_cohort", _sheet(2, 0, "c1"), r"cohort name\(s\) c1 appear more than once"),
    Case(
        "sheet_no_target_file",
        _all(_sheet(1, 3, ""), _sheet(1, 4, "")),
        r"row 2: each cohort needs a radiomics or a clinical file",
    ),
    Case(
        "sheet_header_only", lambda c: c.sheet.__delitem__(slice(1, None)), r"has a header but no data rows"
    ),
    # ---- unreadable or empty files
    Case("expression_file_missing", _sheet(1, 2, "nope.csv"), r"nope\.csv: file not found"),
    Case("expression_file_empty", _file("empty.csv", b"", 2), r"empty\.csv: file is empty"),
    Case(
        "expression_binary",
        _file("garbage.csv", b"PK\x03\x04\x00\x00binary\x00" * 20, 2),
        r"garbage\.csv: looks like a binary file",
    ),
    Case(
        "expression_corrupt_gzip",
        _file("cut.csv.gz", gzip.compress(b"sample_id,A\nT01,1\n" * 50)[:40], 2),
        r"cut\.csv\.gz: a corrupt or truncated gzip file",
    ),
    Case(
        "clinical_header_only",
        _file("hdr.csv", b"sample_id,histology,stage\n", 4),
        r"hdr\.csv: has a header but no data rows",
    ),
    Case("clinical_ragged_row", _ragged, r"train_clin\.csv: not a readable CSV file"),
    Case("gct_wrong_version", _file("x.gct", GCT_13, 2), r"only GCT version 1\.2 is supported"),
    Case(
        "series_matrix_truncated",
        _file("GSE1_series_matrix.txt", SERIES_TRUNCATED, 2),
        r"no '!series_matrix_table_end' line",
    ),
    # ---- values
    Case(
        "expression_non_numeric",
        _expr_text("train", 5, 3, "abc"),
        r"expression value 'abc' at row 'T05', column 'GENE3' is not a number",
    ),
    Case(
        "expression_infinite",
        _set_expr("train", 4, 6, np.inf),
        r"expression value at row 'T05', column 'GENE7' is infinite",
    ),
    Case(
        "expression_infinite_genes_rows",
        _genes_rows,
        r"expression value at row 'GENE8', column 'T06' is infinite",
    ),
    Case(
        "radiomics_non_numeric",
        _bad_radiomic,
        r"radiomic feature value 'high' at row 'T06', column 'stats_Entropy' is not a number",
    ),
    # ---- sample ids
    Case("expression_duplicate_sample", _dup_expr_row, r"train_expr\.csv: duplicate sample id\(s\) T03"),
    Case(
        "clinical_duplicate_sample",
        _clin("train", 5, 0, "T02"),
        r"train_clin\.csv: duplicate sample id\(s\) in column 'sample_id': T02",
    ),
    Case("clinical_empty_sample_id", _clin("train", 5, 0, ""), r"train_clin\.csv, row 6: empty sample id"),
    Case(
        "sample_mismatch",
        _mismatch,
        r"cohort c1: 1 sample\(s\) in the expression file train_expr\.csv but not in the clinical file "
        r"train_clin\.csv, 1 in the clinical file .*--allow_sample_mismatch",
    ),
    Case(
        "sample_mismatch_allowed",
        _mismatch,
        r"continuing with the 29 sample\(s\) in every table",
        step="validate",
        exit_code=0,
        args=("--allow-sample-mismatch",),
    ),
    Case("sample_in_two_cohorts", _test_uses_train_id, r"sample id\(s\) T01 appear in more than one cohort"),
    Case("cls_label_count", _cls_wrong_count, r"train\.cls: 29 labels for 30 samples"),
    # ---- clinical targets and options
    Case(
        "clinical_target_missing",
        lambda c: None,
        r"clinical target column 'grade' \(--clinical_targets\) "
        r"not found",
        args=("--clinical-targets", "histology,grade"),
    ),
    Case("no_histology_column", _rename_hist, r"no histology column .*--histology_column"),
    Case(
        "bad_id_column",
        lambda c: None,
        r"id column 'patient_code' \(--id_column\) not found",
        args=("--id-column", "patient_code"),
    ),
    Case(
        "histology_map_bad_columns",
        lambda c: c.files.__setitem__("map.csv", b"from,to\nx,ADC\n"),
        r"map\.csv: a histology mapping needs columns text,histology",
        args=("--histology-map", "map.csv"),
    ),
    Case(
        "histology_map_bad_label",
        lambda c: c.files.__setitem__("map.csv", b"text,histology\nx,adenocarcinoma\n"),
        r"map\.csv, row 2: histology must be one of ADC, SCC, other",
        args=("--histology-map", "map.csv"),
    ),
    # ---- VALIDATE: errors
    Case(
        "single_class_target",
        _single_class,
        r"clinical target 'histology' has 1 class\(es\) in the training cohort \(ADC\)",
        step="validate",
    ),
    Case("too_few_training_samples", _few_train, r"only 8 training sample\(s\)", step="validate"),
    # ---- accepted with a warning (exit 0)
    Case(
        "duplicate_gene_symbols",
        _dup_gene,
        r"1 duplicate gene symbol\(s\) \(e\.g\. GENE5\) collapsed by "
        r"--collapse mean",
        step="validate",
        exit_code=0,
    ),
    Case(
        "missing_values",
        _nan_cells,
        r"1 gene\(s\) missing in more than 20% of training samples dropped "
        r"\(e\.g\. GENE1\)[\s\S]*2 missing expression value\(s\) filled with the training mean",
        step="validate",
        exit_code=0,
    ),
    Case(
        "raw_log_mix",
        _raw_test,
        r"cohorts mix scales: c2 look raw \(unlogged\) and c1 look log-scale",
        step="validate",
        exit_code=0,
    ),
    Case(
        "constant_radiomic_feature",
        _constant_radiomic,
        r"radiomic feature 'GLCM_contrast' is constant in the training cohort: dropped",
        step="validate",
        exit_code=0,
    ),
    Case(
        "test_missing_genes",
        _test_missing_genes,
        r"test cohort c2: 5 of 40 gene\(s\) the model uses are absent \(e\.g\. GENE1, GENE2, GENE3\); filled "
        r"with the training mean",
        step="validate",
        exit_code=0,
    ),
    Case(
        "single_class_test",
        _test_single_class,
        r"clinical target 'histology' has one class in the test cohort",
        step="validate",
        exit_code=0,
    ),
]

# Cases that also run through real `nextflow run main.nf --input ...` (one per failing step, plus the
# samplesheet check).
PIPELINE_CASES = ("expression_non_numeric", "sample_mismatch", "single_class_target")


def case(name: str) -> Case:
    return next(c for c in CASES if c.name == name)
