"""Split the shared NSCLC-Radiogenomics cohort (../shared/data/nsclc_radiogenomics) into the training and test
cohorts of the `real_nsclc` example samplesheet, every file in its native format: the rows of the PyRadiomics
batch output as PyRadiomics wrote them, the expression with genes as rows, the TCIA clinical table.

    python docs/examples/real_nsclc/split.py ../shared/data/nsclc_radiogenomics real_nsclc
    nextflow run main.nf --input real_nsclc/samplesheet.csv \\
        --genesets msigdb_hallmark=../shared/data/msigdb/h.all.v7.0.symbols.gmt \\
        --clinical_targets 'EGFR mutation status,KRAS mutation status' --radiomics_include preset:paper

Only the 60 patients of the feature table are used (all have RNA-seq and clinical data); 42 train / 18 test,
drawn with a fixed seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = "features_NSCLC.csv"
EXPRESSION = "df_zscore.csv"
CLINICAL = "NSCLCR01Radiogenomic_DATA_LABELS_2018-05-22_1500-shifted.csv"


def split(data: str | Path, out: str | Path, n_train: int = 42, seed: int = 0) -> Path:
    """Write train_/test_ radiomics, expression and clinical files and samplesheet.csv into ``out``."""
    data, out = Path(data), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    feats = pd.read_csv(data / FEATURES, index_col=0)
    ids = feats["Mask"].str.extract(r"(R01-\d+)")[0]          # the case id is only in the image paths
    expr = pd.read_csv(data / EXPRESSION, index_col=0)
    clin = pd.read_csv(data / CLINICAL)
    order = np.random.default_rng(seed).permutation(len(ids))
    rows = []
    for role, part in (("train", order[:n_train]), ("test", order[n_train:])):
        keep = sorted(part)
        feats.iloc[keep].to_csv(out / f"{role}_radiomics.csv")  # unnamed index column, as PyRadiomics writes it
        expr[list(ids.iloc[keep])].to_csv(out / f"{role}_expression.csv")
        clin[clin["Case ID"].isin(ids.iloc[keep])].to_csv(out / f"{role}_clinical.csv", index=False)
        rows.append({"cohort": f"nsclc_{role}", "role": role, "expression": f"{role}_expression.csv",
                     "radiomics": f"{role}_radiomics.csv", "clinical": f"{role}_clinical.csv"})
    pd.DataFrame(rows).to_csv(out / "samplesheet.csv", index=False)
    return out / "samplesheet.csv"


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", help="the nsclc_radiogenomics folder of the shared data")
    p.add_argument("out", help="folder for the cohort files and samplesheet.csv")
    p.add_argument("--n-train", type=int, default=42)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    print(split(a.data, a.out, a.n_train, a.seed))
