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
import pandas as pd

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
    renames: dict[str, str] = field(default_factory=dict)  # written file -> its final name (relative path)
    sheet_bytes: Callable[[str], bytes] | None = None  # the samplesheet's text -> the bytes written

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
    for old, new in c.renames.items():
        (folder / new).parent.mkdir(parents=True, exist_ok=True)
        (folder / old).rename(folder / new)
    sheet = folder / "samplesheet.csv"
    text = "\n".join(c.sheet) + "\n"
    sheet.write_bytes(c.sheet_bytes(text) if c.sheet_bytes else text.encode())
    return sheet


# the tables a step writes, by name: raw_expression, raw_labels, raw_features (INGEST); expression, labels, features
# (VALIDATE); class_counts, genesets (PREFLIGHT). Expression tables are samples x genes (index sample_id).
Tables = dict[str, pd.DataFrame]


@dataclass
class Case:
    name: str
    edit: Callable[[Cohort], None]
    message: str  # regex the output must contain
    step: str = "ingest"  # ingest: fails in INGEST; validate: INGEST passes, VALIDATE fails/warns;
    # preflight: INGEST passes, PREFLIGHT (parameters, gene sets, targets; before any training) fails/warns
    exit_code: int = 2  # 0: the input is accepted with the warning in `message`
    args: tuple[str, ...] = ()  # extra `radplug ingest` arguments
    preflight_args: tuple[str, ...] = ()  # extra `radplug preflight` arguments (step "preflight")
    # an accepted case (exit 0): the clean cohort's tables -> the tables this input must give (every accepted
    # case has one: the same tables as the clean input, or exactly the difference the input legitimately makes)
    expect: Callable[[Tables], Tables] | None = None
    tol: float = 0.0  # 0: exact; else the absolute and relative tolerance of float columns (values read from text)


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


def _rename_sample(cohort: str, i: int, new: str, tables: str = "erc") -> Callable[[Cohort], None]:
    """Give sample ``i`` of ``cohort`` the id ``new`` in its (e)xpression, (r)adiomics and (c)linical tables."""

    def f(c: Cohort) -> None:
        if "e" in tables:
            (c.train_ids if cohort == "train" else c.test_ids)[i] = new
        if "r" in tables:
            c.radiomics[cohort][i + 1][0] = new
        if "c" in tables:
            c.clinical[cohort][i + 1][0] = new

    return f


def _dup_radiomics_row(c: Cohort) -> None:
    c.radiomics["train"][6][0] = c.radiomics["train"][2][0]


def _dup_test_expr_row(c: Cohort) -> None:
    c.expr["test"][4] = c.expr["test"][1]
    c.test_ids[4] = c.test_ids[1]


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


# --------------------------------------------------------------------------- tables an accepted input must give
# Each takes the clean cohort's tables (see Tables) and returns the tables the accepted variant must give: the
# same, or the clean ones with exactly the change the input legitimately makes.
def same(t: Tables) -> Tables:
    """The clean input's tables, unchanged."""
    return dict(t)


def _train_ids(t: Tables) -> list[str]:
    lab = t["raw_labels"]
    return list(lab.loc[lab["cohort"] == "train", "sample_id"])


def _with_expression(edit: Callable[[pd.DataFrame, str, list[str]], pd.DataFrame]) -> Callable[[Tables], Tables]:
    """Apply ``edit(table, key, training ids)`` to each expression table (raw and validated)."""

    def g(t: Tables) -> Tables:
        out = dict(t)
        for k in ("raw_expression", "expression"):
            if k in t:
                out[k] = edit(t[k].copy(), k, _train_ids(t))
        return out

    return g


def _with_labels(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Tables], Tables]:
    def g(t: Tables) -> Tables:
        out = dict(t)
        for k in ("raw_labels", "labels"):
            if k in t:
                out[k] = edit(t[k].copy()).reset_index(drop=True)
        return out

    return g


def _chain(*fs: Callable[[Tables], Tables]) -> Callable[[Tables], Tables]:
    def g(t: Tables) -> Tables:
        for f in fs:
            t = f(t)
        return t

    return g


def _without_samples(*ids: str) -> Callable[[Tables], Tables]:
    return _chain(_with_expression(lambda e, k, tr: e.drop(index=list(ids))),
                  _with_labels(lambda lab: lab[~lab["sample_id"].isin(ids)]))


def _gene5_is_mean_of_gene5_gene6(e: pd.DataFrame, key: str, train: list[str]) -> pd.DataFrame:
    e["GENE5"] = ((e["GENE5"].astype(np.float64) + e["GENE6"].astype(np.float64)) / 2).astype(np.float32)
    return e.drop(columns="GENE6")


def _train_mean(e: pd.DataFrame, train: list[str], gene: str, without: list[str] = ()) -> np.float32:
    return np.float32(e.loc[[s for s in train if s not in without], gene].astype(np.float64).mean())


def _missing_then_filled(e: pd.DataFrame, key: str, train: list[str]) -> pd.DataFrame:
    """_nan_cells: T01-T20 lack GENE1 (dropped by VALIDATE), T03 lacks GENE2 and V05 GENE3 (filled with the
    training mean of the values present)."""
    if key == "raw_expression":
        e.loc[train[:20], "GENE1"] = np.nan
        e.loc["T03", "GENE2"] = np.nan
        e.loc["V05", "GENE3"] = np.nan
        return e
    e.loc["T03", "GENE2"] = _train_mean(e, train, "GENE2", without=["T03"])
    e.loc["V05", "GENE3"] = _train_mean(e, train, "GENE3")
    return e.drop(columns="GENE1")


def _test_rows_raw_scale(e: pd.DataFrame, key: str, train: list[str]) -> pd.DataFrame:
    """_raw_test: the test cohort's values as given (2^(x+6)), flagged but not transformed."""
    test = [s for s in e.index if s not in train]
    e.loc[test] = np.exp2(e.loc[test].astype(np.float64) + 6).astype(np.float32)
    return e


def _test_genes_absent_then_filled(e: pd.DataFrame, key: str, train: list[str]) -> pd.DataFrame:
    test = [s for s in e.index if s not in train]
    for g in ("GENE1", "GENE2", "GENE3", "GENE4", "GENE5"):
        e.loc[test, g] = np.nan if key == "raw_expression" else _train_mean(e, train, g)
    return e


def _glcm_constant_then_dropped(t: Tables) -> Tables:
    out = dict(t)
    raw = t["raw_labels"].copy()
    raw.loc[raw["cohort"] == "train", "GLCM_contrast"] = 1.5
    out["raw_labels"] = raw
    out["labels"] = t["labels"].drop(columns="GLCM_contrast")
    out["features"] = t["features"][t["features"]["name"] != "GLCM_contrast"].reset_index(drop=True)
    return out


def _test_histology(label: str, only: str | None = None) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Test patients' histology set to ``label`` (those of class ``only``, or all)."""

    def g(lab: pd.DataFrame) -> pd.DataFrame:
        rows = lab["cohort"] == "test"
        if only:
            rows &= lab["histology"] == only
        lab.loc[rows, "histology"] = label
        return lab

    return g


def _genesets(**values: object) -> Callable[[Tables], Tables]:
    def g(t: Tables) -> Tables:
        gs = t["genesets"].copy()
        for col, v in values.items():
            gs[col] = v
        return {**t, "genesets": gs}

    return g


def _class_counts_from_labels(t: Tables, target: str) -> Tables:
    """A clinical target's class counts recomputed from the (expected) labels, as PREFLIGHT counts them."""
    lab = t["raw_labels"]
    rows = [{"target": target, "cohort": coh, "class": str(cls), "n": int(n)}
            for coh in ("train", "test") for cls, n in lab.loc[lab["cohort"] == coh, target].value_counts().items()]
    cc = t["class_counts"]
    cc = pd.concat([cc[cc["target"] != target], pd.DataFrame(rows)], ignore_index=True)
    return {**t, "class_counts": cc.astype(t["class_counts"].dtypes.to_dict())}


def _only_first_test_patient(t: Tables) -> Tables:
    """_one_test_sample: V01 is the test cohort; its class of every target is the one it has in the clean
    cohort (radiomic thresholds are set on the training cohort, which is unchanged)."""
    from radplug.data.binarize import binarize

    targets = binarize(t["raw_labels"], t["raw_features"])[0].set_index("sample_id")
    out = _without_samples(*[f"V{i:02d}" for i in range(2, N_TEST + 1)])(t)
    cc = t["class_counts"]
    test = pd.DataFrame([{"target": tg, "cohort": "test", "class": str(targets.loc["V01", tg]), "n": 1}
                         for tg in cc["target"].unique()])
    out["class_counts"] = pd.concat([cc[cc["cohort"] == "train"], test], ignore_index=True).astype(cc.dtypes.to_dict())
    return out


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
    Case(
        "sheet_duplicate_column",
        _all(lambda c: c.sheet.__setitem__(0, HEADER + ",clinical"),
             lambda c: c.sheet.__setitem__(1, c.sheet[1] + ",test_clin.csv"),
             lambda c: c.sheet.__setitem__(2, c.sheet[2] + ",test_clin.csv")),
        r"samplesheet column\(s\) clinical appear more than once in the header; keep one of each",
    ),
    Case(
        "sheet_duplicate_column_case",
        lambda c: c.sheet.__setitem__(0, HEADER.replace("radiomics", "Clinical")),
        r"samplesheet column\(s\) clinical appear more than once",
    ),
    Case(
        "sheet_semicolon_delimiter",
        lambda c: c.__setattr__("sheet", [line.replace(",", ";") for line in c.sheet]),
        r"samplesheet\.csv: needs a header row and at least two CSV columns; found 1 column\(s\) \(is the "
        r"delimiter right\?\)",
    ),
    Case(
        "sheet_unbalanced_quote",
        _sheet(1, 2, '"train_expr.csv'),
        r"samplesheet\.csv: not a readable CSV file",
    ),
    Case("sheet_role_padded_case", _sheet(1, 1, "Train"), r"row 2, column 'role': role must be 'train' or 'test'"),
    Case("sheet_path_is_folder", _sheet(1, 3, "."), r"row 2, column 'radiomics': radiomics must be"),
    Case("sheet_missing_file_in_subfolder", _sheet(2, 4, "sub/none.csv"), r"sub/none\.csv: file not found"),
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
        expect=_without_samples("T07"),           # the sample the clinical file lacks
    ),
    Case("sample_in_two_cohorts", _test_uses_train_id,
         r"sample id\(s\) T01 appear in more than one cohort \(1 in all; e\.g\. 'T01' in cohort c1 \(train_expr\.csv, "
         r"train_rad\.csv, train_clin\.csv\) and 'T01' in cohort c2 \(test_expr\.csv, test_rad\.csv, "
         r"test_clin\.csv\)\): a patient belongs to one cohort only; remove it from one of them"),
    # ---- duplicate patients by id: within a file (also once case, spaces and - _ . are ignored), across the
    # train/test cohorts, across a cohort's expression/radiomics/clinical files
    Case("sample_in_two_cohorts_case", _rename_sample("test", 0, "t01"),
         r"sample id\(s\) T01/t01 appear in more than one cohort \(ids compared ignoring case, spaces and the "
         r"separators - _ \.\) \(1 in all; e\.g\. 'T01' in cohort c1 \(train_expr\.csv.*\) and 't01' in cohort c2 "
         r"\(test_expr\.csv"),
    Case("sample_in_two_cohorts_separator", _all(_rename_sample("train", 0, "LUNG-01"),
                                                 _rename_sample("test", 0, "lung_01")),
         r"sample id\(s\) LUNG-01/lung_01 appear in more than one cohort \(ids compared ignoring"),
    Case("expression_duplicate_sample_case", _rename_sample("train", 3, "t03", "e"),
         r"train_expr\.csv: 1 sample id\(s\) given twice when case, spaces and the separators - _ \. are ignored: "
         r"'T03' and 't03'; the same patient twice\? Each sample must appear once: remove the repeat"),
    Case("clinical_duplicate_sample_case", _rename_sample("train", 5, "t05", "c"),
         r"train_clin\.csv: 1 sample id\(s\) given twice in column 'sample_id' when case, spaces and the separators "
         r"- _ \. are ignored: 'T05' \(row 6\) and 't05' \(row 7\)"),
    Case("radiomics_duplicate_sample", _dup_radiomics_row,
         r"train_rad\.csv: duplicate sample id\(s\) in column 'sample_id': T02 \(e\.g\. rows \[3, 7\]\)"),
    Case("radiomics_duplicate_sample_separator", _all(_rename_sample("train", 4, "T-05"),
                                                      _rename_sample("train", 5, "T_05", "r")),
         r"train_rad\.csv: 1 sample id\(s\) given twice in column 'sample_id' when .* ignored: 'T-05' \(row 6\) and "
         r"'T_05' \(row 7\)"),
    Case("test_expression_duplicate_sample", _dup_test_expr_row, r"test_expr\.csv: duplicate sample id\(s\) V02"),
    Case("sample_mismatch_spelling", _rename_sample("train", 6, "t07", "c"),
         r"cohort c1: 1 sample\(s\) in the expression file train_expr\.csv but not in the clinical file "
         r"train_clin\.csv, 1 in the clinical file .*; 1 pair\(s\) of them differ only in case, spaces and the "
         r"separators - _ \. \(e\.g\. 'T07' in train_expr\.csv and 't07' in train_clin\.csv\): spell each id the "
         r"same way in every file; fix the ids or pass --allow_sample_mismatch"),
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
        expect=_with_expression(_gene5_is_mean_of_gene5_gene6),
        tol=1e-6,
    ),
    Case(
        "missing_values",
        _nan_cells,
        r"1 gene\(s\) missing in more than 20% of training samples dropped "
        r"\(e\.g\. GENE1\)[\s\S]*2 missing expression value\(s\) filled with the training mean",
        step="validate",
        exit_code=0,
        expect=_with_expression(_missing_then_filled),
        tol=1e-6,
    ),
    Case(
        "raw_log_mix",
        _raw_test,
        r"cohorts mix scales: c2 look raw \(unlogged\) and c1 look log-scale",
        step="validate",
        exit_code=0,
        expect=_with_expression(_test_rows_raw_scale),
        tol=1e-4,                                 # 4 decimals of 2^(x+6) vs of x
    ),
    Case(
        "constant_radiomic_feature",
        _constant_radiomic,
        r"radiomic feature 'GLCM_contrast' is constant in the training cohort: dropped",
        step="validate",
        exit_code=0,
        expect=_glcm_constant_then_dropped,
    ),
    Case(
        "test_missing_genes",
        _test_missing_genes,
        r"test cohort c2: 5 of 40 gene\(s\) the model uses are absent \(e\.g\. GENE1, GENE2, GENE3\); filled "
        r"with the training mean",
        step="validate",
        exit_code=0,
        expect=_with_expression(_test_genes_absent_then_filled),
        tol=1e-6,
    ),
    Case(
        "single_class_test",
        _test_single_class,
        r"clinical target 'histology' has one class in the test cohort",
        step="validate",
        exit_code=0,
        expect=_with_labels(_test_histology("SCC")),
    ),
]

# ---- samplesheet dialect: sheets that `radplug ingest` and the pipeline (its SAMPLESHEET step runs the same
# parser) must both accept, with the same tables as the clean sheet
def _sheet_cells(f: Callable[[list[str]], list[str]]) -> Callable[[Cohort], None]:
    def g(c: Cohort) -> None:
        c.sheet = [",".join(f(line.split(","))) for line in c.sheet]

    return g


def _rename(old: str, new: str) -> Callable[[Cohort], None]:
    """Give a cohort file another name (or folder) and point the sheet at it, CSV-quoted when needed."""

    def g(c: Cohort) -> None:
        c.renames[old] = new
        cell = f'"{new.replace(chr(34), chr(34) * 2)}"' if any(ch in new for ch in ',"') else new
        c.sheet = [line.replace(old, cell) for line in c.sheet]

    return g


def _absolute_paths(c: Cohort) -> None:
    c.sheet = [c.sheet[0]] + [",".join(v if not v.endswith(".csv") else "@ABS@/" + v for v in line.split(","))
                              for line in c.sheet[1:]]


SHEET_ACCEPTED: dict[str, Callable[[Cohort], None]] = {
    "sheet_tab_delimited": lambda c: c.__setattr__("sheet", [line.replace(",", "\t") for line in c.sheet]),
    "sheet_header_spaces_and_case": lambda c: c.sheet.__setitem__(
        0, " Cohort , ROLE ,Expression , radiomics,clinical "),
    "sheet_values_padded": _sheet_cells(lambda cells: [f"  {v} " for v in cells]),
    "sheet_all_quoted": _sheet_cells(lambda cells: [f'"{v}"' for v in cells]),
    "sheet_utf8_bom": lambda c: c.__setattr__("sheet_bytes", lambda t: b"\xef\xbb\xbf" + t.encode()),
    "sheet_crlf": lambda c: c.__setattr__("sheet_bytes", lambda t: t.replace("\n", "\r\n").encode()),
    "sheet_bom_crlf_tab": _all(
        lambda c: c.__setattr__("sheet", [line.replace(",", "\t") for line in c.sheet]),
        lambda c: c.__setattr__("sheet_bytes", lambda t: b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode()),
    ),
    "sheet_latin1": _all(_rename("train_clin.csv", "clin_\u00e9t\u00e9.csv"),
                         lambda c: c.__setattr__("sheet_bytes", lambda t: t.encode("latin-1"))),
    "sheet_quoted_path_with_comma": _rename("train_expr.csv", "train, expr.csv"),
    "sheet_path_with_space_and_quote": _rename("train_rad.csv", "train \"rad\" file.csv"),
    "sheet_path_with_apostrophe": _rename("test_clin.csv", "test_clin_o'brien.csv"),
    "sheet_unicode_path": _rename("test_expr.csv", "données/tëst_éxpr.csv"),
    "sheet_subfolder_path": _rename("test_rad.csv", "sub/dir/test_rad.csv"),
    "sheet_blank_lines": lambda c: c.sheet.extend(["", ""]),
    "sheet_empty_annotation_column": _sheet_cells(lambda cells: [*cells, "annotation" if cells[0] == "cohort" else ""]),
    "sheet_absolute_paths": _absolute_paths,
}


# ---- names: any text is allowed as a feature name (file-safe ids, quoted commands), except these
def _rad_header(name: str, col: int = 1) -> Callable[[Cohort], None]:
    def g(c: Cohort) -> None:
        for cohort in ("train", "test"):
            c.radiomics[cohort][0][col] = name

    return g


NAME_CASES: list[Case] = [
    Case("feature_name_duplicate", _rad_header("GLCM_contrast", 1),
         r"train_rad\.csv: radiomic feature 'GLCM_contrast' is given twice; each feature needs its own name"),
    Case("feature_name_duplicate_case", _rad_header("glcm_CONTRAST", 1),
         r"radiomic feature 'GLCM_contrast' and 'glcm_CONTRAST' differ only in case"),
    Case("feature_name_duplicate_after_trim", _rad_header(" GLCM_contrast ", 1),
         r"radiomic feature 'GLCM_contrast' is given twice"),
    Case("feature_name_reserved", _rad_header("cohort", 1),
         r"radiomic feature name\(s\) cohort are reserved for radplug's own columns"),
    Case("feature_name_is_clinical_target", _rad_header("stage", 1),
         r"radiomic feature name\(s\) stage are also clinical target names"),
    Case("feature_name_empty", _rad_header("  ", 1), r"a radiomic feature column has an empty name"),
    Case("clinical_target_reserved", lambda c: None, r"--clinical_targets: cohort is reserved",
         args=("--clinical-targets", "histology,cohort")),
]
CASES += NAME_CASES


# ---- PREFLIGHT: parameters, gene-set files and targets, checked after INGEST and before anything is trained
# or published. Every case runs `radplug preflight` with PREFLIGHT_ARGS (a valid GMT of the base cohort's
# genes as `custom`) plus its own arguments; a later argument replaces an earlier one.
GOOD_GMT = "".join(f"SET{k}\tx\t" + "\t".join(f"GENE{i}" for i in range(k * 8 + 1, k * 8 + 9)) + "\n"
                   for k in range(4)).encode()
PREFLIGHT_ARGS = ("--models", "enet", "--cv-folds", "3", "--genesets", "custom=sets.gmt")


def _gmt(data: bytes, name: str = "sets.gmt") -> Callable[[Cohort], None]:
    return lambda c: c.files.__setitem__(name, data)


def _good_gmt(c: Cohort) -> None:
    c.files["sets.gmt"] = GOOD_GMT


def _age_target(c: Cohort) -> None:
    rng = np.random.default_rng(5)
    for name in ("train", "test"):
        rows = c.clinical[name]
        rows[0].append("age")
        for r in rows[1:]:
            r.append(f"{rng.uniform(40, 85):.1f}")


def _one_patient_class(c: Cohort) -> None:
    stages = ["IA", "IIB", "IIIA"]
    for i, r in enumerate(c.clinical["train"][1:]):
        r[2] = stages[i % 2]
    c.clinical["train"][5][2] = "IIIA"


def _no_test_class(c: Cohort) -> None:
    for r in c.clinical["test"][1:]:
        if r[1].startswith("Large"):
            r[1] = "Adenocarcinoma, NOS"


def _test_other_genes_partly(n: int) -> Callable[[Cohort], None]:
    """The test cohort's expression file with its first ``n`` genes renamed (ids the training cohort lacks)."""

    def g(c: Cohort) -> None:
        rows = c.expr_rows("test")
        rows[0] = [rows[0][0]] + [f"ENSG{i:011d}" if i < n else gname for i, gname in enumerate(rows[0][1:])]
        c.files["test_expr.csv"] = _csv(rows).encode()

    return g


_test_other_genes = _test_other_genes_partly(N_GENES)


def _test_copy_of_train(c: Cohort) -> None:
    c.expr["test"] = c.expr["train"][:N_TEST].copy()


def _one_test_sample(c: Cohort) -> None:
    c.test_ids = c.test_ids[:1]
    c.expr["test"] = c.expr["test"][:1]
    c.radiomics["test"] = c.radiomics["test"][:2]
    c.clinical["test"] = c.clinical["test"][:2]


def pf(name: str, edit: Callable[[Cohort], None] | None, message: str, *args: str, exit_code: int = 2,
       ingest_args: tuple[str, ...] = (), expect: Callable[[Tables], Tables] | None = None) -> Case:
    """A PREFLIGHT case: the base cohort with a valid GMT, then ``edit``; ``args`` for `radplug preflight`;
    ``expect`` for an accepted one (exit 0)."""
    return Case(name, _all(_good_gmt, edit) if edit else _good_gmt, message, step="preflight",
                exit_code=exit_code, args=ingest_args, preflight_args=args, expect=expect)


PREFLIGHT_CASES: list[Case] = [
    pf("pf_models_stray_comma", None, r"--models ',': an empty name \(a stray comma\?\)[\s\S]*names no model "
       r"family: nothing would be trained", "--models", ","),
    pf("pf_models_trailing_comma", None, r"--models 'enet,': an empty name", "--models", "enet,"),
    pf("pf_models_duplicate", None, r"--models 'enet,enet' lists enet more than once; give each name once",
       "--models", "enet,enet"),
    pf("pf_models_unknown", None, r"unknown model family 'xgboost'\. Available: .*enet", "--models", "enet,xgboost"),
    pf("pf_grid_unknown", None, r"model family 'enet' has no grid preset 'huge'", "--grid", "huge"),
    pf("pf_interpreters_unknown", None, r"--interpreters: unknown interpreter 'shap'; available: masking, "
       r"permutation", "--interpreters", "masking,shap"),
    pf("pf_interpreters_empty_token", None, r"--interpreters 'masking,,permutation': an empty name",
       "--interpreters", "masking,,permutation"),
    pf("pf_seed_negative", None, r"--seed -1: must be an integer from 0 to 4294967295", "--seed", "-1"),
    pf("pf_seed_too_large", None, r"--seed 4294967296: must be an integer from 0", "--seed", "4294967296"),
    pf("pf_cv_folds_one", None, r"--cv_folds 1: cross-validation needs at least 2 folds", "--cv-folds", "1"),
    pf("pf_cv_folds_too_many", None, r"--cv_folds 1000 exceeds the labelled training patients of 5 target\(s\) "
       r"\(e\.g\. 'histology' \(30\)[\s\S]*use at most 30", "--cv-folds", "1000"),
    pf("pf_n_boot_negative", None, r"--n_boot -5: must be 0", "--n-boot", "-5"),
    pf("pf_mask_n_random_negative", None, r"--mask_n_random -1: must be at least 1",
       "--mask-n-random", "-1"),
    pf("pf_set_sizes_inverted", None, r"--max_set_size 3 is below --min_set_size 5: no gene set could pass",
       "--max-set-size", "3"),
    pf("pf_min_minority_out_of_range", None, r"--min_minority 0\.7: must be from 0 to below 0\.5",
       "--min-minority", "0.7"),
    pf("pf_several_problems_at_once", None, r"preflight: 3 problem\(s\) found before any training",
       "--models", "enet,enet", "--seed", "-1", "--cv-folds", "1"),
    # gene-set files
    pf("pf_geneset_no_gene_matches", _gmt(b"S1\tx\tFOO\tBAR\tBAZ\tQUX\tQUUX\n"),
       r"gene-set source custom \([^)]*sets\.gmt\): none of its 1 gene set\(s\) has at least --min_set_size 5 genes"
       r"[\s\S]*0 of its 5 genes are measured \(set genes e\.g\. FOO, BAR, BAZ; expression genes e\.g\. GENE1"),
    pf("pf_geneset_ensembl_ids", _gmt(b"S1\tx\t" + b"\t".join(b"ENSG%011d" % i for i in range(8)) + b"\n"),
       r"0 of its 8 genes are measured \(set genes e\.g\. ENSG00000000000[\s\S]*same identifiers"),
    pf("pf_geneset_sets_too_small", _gmt(b"S1\tx\tGENE1\tGENE2\tGENE3\n"),
       r"none of its 1 gene set\(s\) has at least --min_set_size 5 genes"),
    pf("pf_geneset_file_missing", None, r"gene-set source custom \(nope\.gmt\): nope\.gmt: gene-set file not found",
       "--genesets", "custom=nope.gmt"),
    pf("pf_geneset_unknown_source", None, r"unknown gene-set source 'kegg'\. Available: .*custom",
       "--genesets", "kegg=sets.gmt"),
    pf("pf_geneset_two_field_line", _gmt(b"S1\tGENE1\n"), r"sets\.gmt, line 1: a GMT line needs "
       r"name<TAB>description<TAB>genes"),
    pf("pf_geneset_second_source_bad", _gmt(b"S1\tx\tFOO\tBAR\tBAZ\tQUX\tQUUX\n", "bad.gmt"),
       r"gene-set source custom \([^)]*bad\.gmt\): none of its 1 gene set", "--genesets", "custom=sets.gmt",
       "custom=bad.gmt"),
    pf("pf_geneset_low_coverage", _gmt(GOOD_GMT + b"S9\tx\t" + b"\t".join(b"X%d" % i for i in range(200)) + b"\n"),
       r"gene-set source custom \([^)]*sets\.gmt\): only 32 of its 232 genes \(14%\) are measured; 4 of 5 sets kept",
       exit_code=0, expect=_genesets(sets=5, sets_kept=4, genes=232, genes_measured=32, coverage=32 / 232)),
    # gene-set readers (the expression readers' error quality)
    pf("pf_geneset_empty_file", _gmt(b""), r"sets\.gmt: gene-set file is empty"),
    pf("pf_geneset_only_comments", _gmt(b"# sets\n\n"), r"sets\.gmt: no gene sets found"),
    pf("pf_geneset_truncated_gz", _gmt(gzip.compress(GOOD_GMT * 20)[:60], "sets.gmt.gz"),
       r"sets\.gmt\.gz: a corrupt or truncated gzip file", "--genesets", "custom=sets.gmt.gz"),
    pf("pf_geneset_binary", _gmt(b"\x00\x01PK\x03\x04" * 50, "sets.gmt"), r"looks like a binary file"),
    pf("pf_geneset_set_without_genes", _gmt(GOOD_GMT + b"EMPTY\tx\t\t\n"),
       r"sets\.gmt, line 5: gene set 'EMPTY' lists no genes"),
    pf("pf_geneset_empty_name", _gmt(GOOD_GMT + b"\tx\tGENE1\tGENE2\n"), r"sets\.gmt, line 5: empty gene-set name"),
    pf("pf_geneset_empty_gene_list_txt", _gmt(b"\n\n", "list.txt"), r"list\.txt: gene-set file is empty",
       "--genesets", "custom=list.txt"),
    pf("pf_geneset_table_wrong_columns", _gmt(b"name,symbol_id\nS1,GENE1\n", "sets.csv"),
       r"sets\.csv: a gene-set table needs columns 'set' \(or gene_set\) and 'gene'", "--genesets",
       "custom=sets.csv"),
    pf("pf_geneset_duplicate_name_same_genes", _gmt(GOOD_GMT + GOOD_GMT.split(b"\n")[0] + b"\n"),
       r"1 gene set\(s\) given twice with the same genes, kept once: SET0 \(lines 1, 5\)", exit_code=0,
       expect=same),
    pf("pf_geneset_duplicate_name_other_genes", _gmt(GOOD_GMT + b"SET0\tx\t" + b"\t".join(
        b"GENE%d" % i for i in range(30, 38)) + b"\n"),
       r"1 gene-set name\(s\) repeated with different genes; the later ones renamed: SET0 -> SET0__2 \(line 5\)",
       exit_code=0, expect=_genesets(sets=5, sets_kept=5, genes=37, genes_measured=37)),   # GENE33-37 are new
    pf("pf_geneset_no_description_column", _gmt(GOOD_GMT.replace(b"\tx\t", b"\t")),
       r"sets\.gmt: column 2 holds genes, not descriptions \(e\.g\. 'GENE1' on line 1\)", exit_code=0,
       expect=same),                                # no gene lost (GENE1 included)
    pf("pf_geneset_gz_bom_crlf", _gmt(gzip.compress(b"\xef\xbb\xbf" + GOOD_GMT.replace(b"\n", b"\r\n")),
                                      "sets.gmt.gz"),
       r"preflight passed: 5 target\(s\), 1 gene-set source", "--genesets", "custom=sets.gmt.gz", exit_code=0,
       expect=_genesets(path="sets.gmt.gz")),
    # degenerate cohorts
    pf("pf_test_cohort_no_shared_genes", _test_other_genes, r"test cohort c2 shares 0 of the 40 training genes "
       r"\(less than 50%\)[\s\S]*same gene identifiers"),
    pf("pf_test_cohort_half_genes", _test_other_genes_partly(25), r"test cohort c2 shares 15 of the 40 training genes"),
    pf("pf_duplicate_profile_within_cohort", lambda c: c.expr["train"].__setitem__(4, c.expr["train"][3]),
       r"1 group\(s\) of samples have identical expression profiles within one cohort \(e\.g\. T04 = T05 in cohort "
       r"c1\): the same patient twice under two ids\?"),
    pf("pf_test_cohort_copy_of_train", _test_copy_of_train, r"15 patient\(s\) have identical expression profiles in "
       r"two cohorts \(e\.g\. T01 \(c1\) = V01 \(c2\)\)"),
    pf("pf_one_test_sample", _one_test_sample, r"target 'histology': the test cohort has 1 labelled patient\(s\) and "
       r"1 class\(es\): no test AUC can be estimated", exit_code=0,
       expect=_only_first_test_patient),
    # targets
    pf("pf_continuous_target", _age_target, r"clinical target 'age' looks continuous \(\d+ distinct numbers in 30 "
       r"training samples, [\d.]+ to [\d.]+\); radplug predicts classes", ingest_args=("--clinical-targets",
                                                                                        "histology,age")),
    pf("pf_single_class_target", _single_class, r"clinical target 'histology' has 1 class\(es\) in the training "
       r"cohort \(ADC\)"),
    pf("pf_class_with_one_patient", _one_patient_class, r"target 'stage': training class\(es\) 'III' have a single "
       r"patient; cross-validation needs two or more per class"),
    pf("pf_nested_cv_too_few", None, r"--nested_cv 3 with --cv_folds 5: target 'stage', class 'III' has 7 training "
       r"patients; an outer training part keeps 4 of them, fewer than the 5 inner folds \(each class needs at least "
       r"8 training patients\)[\s\S]*Lower --nested_cv or --cv_folds, or turn nested CV off",
       "--nested-cv", "3", "--cv-folds", "5"),
    pf("pf_nested_cv_one", None, r"--nested_cv 1: give 0 \(off\) or the number of outer folds, at least 2",
       "--nested-cv", "1"),
    pf("pf_cv_folds_reduced", None, r"target 'stage': its smallest training class 'III' has 7 patients: "
       r"cross-validation uses 7 folds for it instead of --cv_folds 10", "--cv-folds", "10", exit_code=0,
       expect=same),
    pf("pf_class_absent_from_test", _no_test_class, r"target 'histology': class\(es\) other have no test patient: "
       r"their test metrics will be NaN", exit_code=0,
       expect=_chain(_with_labels(_test_histology("ADC", only="other")),
                     lambda t: _class_counts_from_labels(t, "histology"))),
]
CASES += PREFLIGHT_CASES


# ---- clinical label texts that must map exactly as the clean texts do: (edit of the variant, edit of the
# clean cohort, `radplug ingest` arguments). Each is compared table by table with the clean cohort.
def _clin_text(mapping: dict[str, str], column: int) -> Callable[[Cohort], None]:
    def g(c: Cohort) -> None:
        for name in ("train", "test"):
            for r in c.clinical[name][1:]:
                r[column] = mapping.get(r[column], r[column])

    return g


def _binary_column(float_in_test: bool) -> Callable[[Cohort], None]:
    def g(c: Cohort) -> None:
        for name in ("train", "test"):
            c.clinical[name][0].append("egfr")
            for i, r in enumerate(c.clinical[name][1:]):
                v = i % 2
                r.append(f"{v}.0" if float_in_test and name == "test" else str(v))

    return g


LABELS_ACCEPTED: dict[str, tuple[Callable[[Cohort], None], Callable[[Cohort], None] | None, tuple[str, ...]]] = {
    "labels_tcga_project_codes": (_clin_text({"Adenocarcinoma, NOS": "LUAD",
                                              "Squamous Cell Carcinoma, NOS": "TCGA-LUSC"}, 1), None, ()),
    "labels_sqcc_adca_abbreviations": (_clin_text({"Adenocarcinoma, NOS": "ADCA",
                                                   "Squamous Cell Carcinoma, NOS": "SqCC"}, 1), None, ()),
    "labels_french_german_spanish": (_clin_text({"Adenocarcinoma, NOS": "Adénocarcinome",
                                                 "Squamous Cell Carcinoma, NOS": "Plattenepithelkarzinom",
                                                 "Large cell carcinoma": "Carcinoma de células grandes"}, 1),
                                     None, ()),
    "labels_stage_tnm_in_parentheses": (_clin_text({"IA": "Stage IA (T1aN0M0)", "IIIA": "Stage IIIA (T1N2M0)",
                                                    "IIB": "(T3N0M0)"}, 2), None, ()),
    "labels_stage_unicode_numerals": (_clin_text({"IA": "Ⅰa", "IIB": "Stage Ⅱb", "IIIA": "Ⅲ", "Stage II": "Ⅱ"}, 2),
                                      None, ()),
    "labels_stage_numeric_codes": (_clin_text({"IA": "1.0", "IIB": "2.0", "IIIA": "3.0", "Stage II": "2"}, 2),
                                   None, ()),
    "labels_binary_target_int_vs_float": (_binary_column(True), _binary_column(False),
                                          ("--clinical-targets", "histology,stage,egfr")),
}


# Cases that also run through real `nextflow run main.nf --input ...` (one per failing step, plus the
# samplesheet check).
# through real `nextflow run` (tests/test_malformed.py), with the process that refuses it there: an INGEST refusal
# whose remedy names a pipeline parameter, and a VALIDATE-level refusal that PREFLIGHT (INGEST -> PREFLIGHT ->
# VALIDATE) already catches, before VALIDATE runs
PIPELINE_CASES = {"sample_mismatch": "INGEST", "single_class_target": "PREFLIGHT"}


def case(name: str) -> Case:
    return next(c for c in CASES if c.name == name)
