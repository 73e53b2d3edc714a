"""Clinical normalisation on the real Lung3 table and on hand-checked AJCC cases."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import REPO, SHARED_DATA

from radplug.data.clinical import (
    normalize_histology,
    normalize_stage,
    normalize_stage_text,
    read_histology_map,
    stage_from_tnm,
)

LUNG3 = SHARED_DATA / "lung3" / "Lung3.csv"
needs_lung3 = pytest.mark.skipif(
    not LUNG3.exists(), reason=f"real data not present: {LUNG3} (../shared is absent)"
)
HIST = "characteristics.tag.histology"
TNM = [
    "characteristics.tag.stage.primary.tumor",
    "characteristics.tag.stage.nodes",
    "characteristics.tag.stage.mets",
]


@pytest.fixture(scope="module")
def lung3() -> pd.DataFrame:
    return pd.read_csv(LUNG3, encoding="latin-1")


@needs_lung3
def test_lung3_default_histology(lung3: pd.DataFrame) -> None:
    assert len(lung3) == 89 and lung3[HIST].nunique() == 17
    labels, used = normalize_histology(lung3[HIST])
    assert labels.value_counts().to_dict() == {"ADC": 44, "SCC": 36, "other": 9}
    assert len(used) == 17 and used["n"].sum() == 89
    text = lung3[HIST].str.lower()
    squamous = text.str.contains("squamous")
    adeno = ~squamous & text.str.contains("adeno|acinar|papillary|bronchiolo")
    assert (labels[squamous] == "SCC").all()  # every squamous variant
    assert (labels[adeno] == "ADC").all()  # every adenocarcinoma subtype
    assert (labels[~squamous & ~adeno] == "other").all()


@needs_lung3
def test_lung3_strict_map_gives_paper_counts(lung3: pd.DataFrame) -> None:
    strict = read_histology_map(REPO / "assets" / "histology_map_strict.csv")
    labels, used = normalize_histology(lung3[HIST], strict)
    assert labels.value_counts().to_dict() == {"ADC": 42, "SCC": 33, "other": 14}
    assert set(lung3.loc[labels == "SCC", HIST]) == {"Squamous Cell Carcinoma, NOS"}
    assert (labels[lung3[HIST] == "Solid Type And Acinar"] == "other").all()


@needs_lung3
def test_lung3_stage_for_every_decidable_patient(lung3: pd.DataFrame) -> None:
    stage = normalize_stage(lung3)
    t, n, m = (lung3[c].str.lower() for c in TNM)
    m1 = m == "pm1"
    decisive = m1 | n.isin(["pn2", "pn3"]) | t.str.startswith("pt4")
    unknown = t.str.endswith("x") | n.str.endswith("x")
    assert stage[m1].eq("other").all()
    assert stage[unknown & ~decisive].isna().all()
    assert stage[~(unknown & ~decisive)].notna().all()
    assert set(stage.dropna()) <= {"I", "II", "III", "other"}
    assert int(stage.isna().sum()) == int((unknown & ~decisive).sum()) == 2


@pytest.mark.parametrize(
    ("t", "n", "m", "expected"),
    [
        ("pT1a", "pN0", "pM0", "I"),
        ("pT2", "pN0", "pM0", "I"),
        ("pT2a", "pN0", "pM0", "I"),
        ("pT2b", "pN0", "pM0", "II"),
        ("pT1", "pN1", "pM0", "II"),
        ("pT2b", "pN1", "pM0", "II"),
        ("pT3", "pN0", "pM0", "II"),
        ("pT3", "pN1", "pM0", "III"),
        ("pT1", "pN2", "pM0", "III"),
        ("pT4", "pN0", "pM0", "III"),
        ("pTX", "pN3", "pM0", "III"),
        ("pT4", "pNX", "pM0", "III"),
        ("pT2", "pN0", "pM1", "other"),
        ("pTX", "pNX", "pM1", "other"),
        ("pTis", "pN0", "pM0", "other"),
        ("pTX", "pN0", "pM0", None),
        ("pT3", "pNX", "pM0", None),
        ("pT1", "pNX", "pMX", None),
        ("PT2", "PN2", None, "III"),
        (None, "pN0", "pM0", None),
        ("T1b", "N0", "M0", "I"),
        ("2", "1", "0", "II"),
    ],
)
def test_stage_from_tnm(t, n, m, expected) -> None:
    assert stage_from_tnm(t, n, m) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Stage IIIA", "III"),
        ("IB", "I"),
        ("ii", "II"),
        ("3", "III"),
        ("Stage IV", "other"),
        ("0", "other"),
        ("T2N1M0", "II"),
        ("", None),
        ("NA", None),
        ("unknown", None),
        ("[Not Available]", None),
        ("garbage text", None),
        (float("nan"), None),
    ],
)
def test_stage_text(text, expected) -> None:
    assert normalize_stage_text(text) == expected


def test_histology_missing_stays_missing_and_overrides() -> None:
    values = pd.Series(
        [
            "Adenocarcinoma",
            None,
            "",
            "NA",
            "Adenosquamous carcinoma",
            "Epidermoid carcinoma",
            "non-squamous NSCLC",
            "Large  Cell",
        ]
    )
    labels, _ = normalize_histology(values)
    assert labels.tolist() == ["ADC", None, None, None, "other", "SCC", "other", "other"]
    override = pd.DataFrame({"text": ["large cell", "adenocarcinoma"], "histology": ["SCC", ""]})
    labels, used = normalize_histology(values, override)
    assert labels.tolist()[0] is None and labels.tolist()[-1] == "SCC"  # whitespace/case-insensitive
    assert "override (text)" in set(used["by"])
