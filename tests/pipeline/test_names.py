"""Safe names: targets and features may be any text. File names use radplug.io.safe_id (published as the `id`
column of data/tasks.parquet), every name passed to a command is quoted, and the tables keep the original
names. A real `nextflow run` with a space, an apostrophe, a slash, a comma and a quote in feature and target
names trains, evaluates and masks them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_nextflow
from malformed_cases import GOOD_GMT, base_cohort, write_cohort

from radplug.io import safe_id

ODD_FEATURES = ["it's a/b volume", 'GLCM contrast, "x"', "stats Entropy (σ)"]
ODD_TARGET = "EGFR status"


def test_safe_id() -> None:
    assert safe_id("GLCM_contrast") == "GLCM_contrast"
    assert safe_id("log-sigma-3-0-mm-3D_glcm_Idm") == "log-sigma-3-0-mm-3D_glcm_Idm"
    ids = [safe_id(n) for n in [*ODD_FEATURES, "it's a_b volume", "it_s a/b volume", "..", ""]]
    assert len(set(ids)) == len(ids)                                   # distinct names, distinct ids
    for i in ids:
        assert i and set(i) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        assert not i.startswith(".")
    assert safe_id("it's a/b volume").startswith("it_s_a_b_volume-")


def _odd_cohort(folder: Path) -> Path:
    c = base_cohort()
    for name in ("train", "test"):
        c.radiomics[name][0][1:] = ODD_FEATURES
        c.clinical[name][0].append(ODD_TARGET)
        for i, r in enumerate(c.clinical[name][1:]):
            r.append("mutant" if i % 3 == 0 else "wild-type")
    c.files["sets.gmt"] = GOOD_GMT
    sheet = write_cohort(c, folder)
    rows = list(csv.reader(io.StringIO((folder / "train_rad.csv").read_text())))
    assert rows[0][1:] == ODD_FEATURES                                # the CSV quoting round-trips
    return sheet


@pytest.mark.pipeline
def test_odd_names_through_the_pipeline(tmp_path: Path) -> None:
    sheet = _odd_cohort(tmp_path / "in")
    r = run_nextflow(tmp_path, "-profile", "test", "--input", str(sheet), "--models", "enet",
                     "--clinical_targets", f"histology,{ODD_TARGET}", "--genesets",
                     f"custom={tmp_path / 'in' / 'sets.gmt'}", "--mask_min_auc", "0", "--interpreters",
                     "masking,permutation", outdir="res", timeout=1800)
    assert r.returncode == 0, r.log[-5000:]
    res = r.outdir
    tasks = pd.read_parquet(res / "data" / "tasks.parquet")
    assert set(ODD_FEATURES + [ODD_TARGET]) <= set(tasks["target"])
    assert (tasks["id"] == tasks["target"].map(safe_id)).all()
    models = sorted(p.name for p in (res / "models").glob("*.model.pkl"))
    assert models == sorted(f"{i}.model.pkl" for i in tasks["id"])
    met = pd.read_parquet(res / "evaluation" / "test_metrics.parquet")
    assert set(ODD_FEATURES + [ODD_TARGET]) <= set(met["target"])
    mask = pd.read_parquet(res / "masking" / "masking.parquet")
    assert set(ODD_FEATURES + [ODD_TARGET]) <= set(mask["target"])
    assert (res / "report" / "report.html").exists()
