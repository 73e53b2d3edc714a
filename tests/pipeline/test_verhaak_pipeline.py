"""Real data through the real pipeline: the Verhaak TCGA glioblastoma table (genes as rows, a 'Subtype' row,
one label with a stray carriage return), split here into expression + clinical files and a seeded, stratified
train/test split, predicted with --clinical_targets Subtype (no radiomics, no histology/stage)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA, run_nextflow
from sklearn.model_selection import train_test_split

GBM = SHARED_DATA / "verhaak_gbm" / "TCGA_unified_CORE_ClaNC840.txt"
SIGNATURES = {"PN": "Proneural", "NL": "Neural", "CL": "Classical", "MES": "Mesenchymal"}

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.skipif(not GBM.exists(), reason=f"real data not present: {GBM} (../shared is absent)"),
]


def _split_verhaak(folder: Path) -> tuple[Path, Path, dict[str, str]]:
    """Write train/test GCT expression files, TSV clinical files (labels verbatim, stray CR included), a GMT
    of the 4 subtype signatures (column 2) and the samplesheet."""
    # split on LF only, as a naive reader would: the last field of each CRLF line keeps its CR
    rows = [ln.split("\t") for ln in GBM.read_bytes().decode("latin-1").split("\n") if ln.strip()]
    rows = [r if r[0] == "Subtype" else [*r[:-1], r[-1].rstrip("\r")] for r in rows]
    header, subtype, genes = rows[0], rows[1], rows[2:]
    samples, labels = header[2:], subtype[2:]
    assert subtype[0] == "Subtype" and len(samples) == 173 and len(genes) == 840
    assert sum(lab != lab.strip() for lab in labels) == 1  # the stray carriage return
    clean = [lab.strip() for lab in labels]
    idx = np.arange(len(samples))
    tr, te = train_test_split(idx, test_size=1 / 3, stratify=clean, random_state=7)
    for name, sel in (("train", tr), ("test", te)):
        sel = sorted(sel)
        gct = [
            "#1.2",
            f"{len(genes)}\t{len(sel)}",
            "\t".join(["NAME", "Description", *(samples[i] for i in sel)]),
        ]
        gct += ["\t".join([g[0], g[1] or "na", *(g[2 + i] for i in sel)]) for g in genes]
        (folder / f"gbm_{name}.gct").write_text("\r\n".join(gct) + "\r\n")
        (folder / f"gbm_{name}_clinical.tsv").write_text(
            "sample_id\tSubtype\n" + "".join(f"{samples[i]}\t{labels[i]}\n" for i in sel)
        )
    gmt = folder / "subtypes.gmt"
    gmt.write_text(
        "".join(
            f"VERHAAK_{full.upper()}\tsignature {code}\t"
            + "\t".join(g[0] for g in genes if g[1] == code)
            + "\n"
            for code, full in SIGNATURES.items()
        )
    )
    sheet = folder / "samplesheet.csv"
    sheet.write_text(
        "cohort,role,expression,clinical\n"
        "tcga_train,train,gbm_train.gct,gbm_train_clinical.tsv\n"
        "tcga_test,test,gbm_test.gct,gbm_test_clinical.tsv\n"
    )
    return sheet, gmt, {samples[i]: clean[i] for i in te}


def test_verhaak_subtypes_through_pipeline(tmp_path: Path) -> None:
    data = tmp_path / "in"
    data.mkdir()
    sheet, gmt, test_labels = _split_verhaak(data)
    outdir = tmp_path / "res"
    r = run_nextflow(tmp_path, "-profile", "test", "--input", str(sheet), "--clinical_targets", "Subtype",
                     "--genesets", f"custom={gmt}", "--models", "mlp,enet", "--grid", "fast",
                     "--mask_n_random", "50", outdir=str(outdir))
    assert r.returncode == 0, r.log[-8000:]

    labels = pd.read_parquet(outdir / "data" / "labels.parquet")
    assert sorted(labels["Subtype"].unique()) == sorted(SIGNATURES.values())  # stray CR removed
    assert labels.set_index("sample_id").loc[list(test_labels), "Subtype"].to_dict() == test_labels
    assert (labels["cohort"] == "test").sum() == len(test_labels) == 58
    feats = pd.read_parquet(outdir / "data" / "features.parquet")
    assert feats.to_dict("records") == [{"name": "Subtype", "kind": "clinical"}]
    expr = pd.read_parquet(outdir / "data" / "expression.parquet")
    assert expr.shape[0] == 173 and 800 < expr.shape[1] <= 841
    assert (outdir / "data" / "histology_mapping.csv").exists()

    sel = pd.read_parquet(outdir / "cv" / "selection.parquet")
    best = sel[(sel["target"] == "Subtype") & sel["selected"]]
    assert len(best) == 1 and best["family"].iloc[0] in ("mlp", "enet")
    assert best["auc_mean"].iloc[0] >= 0.90, sel
    met = pd.read_parquet(outdir / "evaluation" / "test_metrics.parquet")
    sub = met[met["target"] == "Subtype"]
    assert len(sub) and set(sub["class"].dropna()) >= set(SIGNATURES.values())
    overall = sub[sub["averaging"] != "one-vs-rest"]
    assert overall["auc"].iloc[0] >= 0.85, overall
    assert (outdir / "report" / "report.html").exists()
    print(
        f"Verhaak Subtype: CV micro AUC {best['auc_mean'].iloc[0]:.3f} ({best['family'].iloc[0]}), "
        f"test micro AUC {overall['auc'].iloc[0]:.3f}"
    )
