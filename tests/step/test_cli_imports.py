"""The light steps (radplug.cli.LIGHT_STEPS, the first steps of every run) start without scikit-learn or torch:
each runs as its own process on the -profile test cohort and reports which of them it imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from radplug.cli import LIGHT_STEPS

PROBE = ("import json, sys; from radplug.cli import main; rc = main(sys.argv[1:]); "
         "print(json.dumps({'rc': rc, 'heavy': sorted(m for m in ('sklearn', 'torch') if m in sys.modules)}))")


def _heavy_imports(cwd: Path, *argv: str) -> list[str]:
    """Run ``radplug ARGV`` in a fresh interpreter; the heavy packages it had imported when it finished."""
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["rc"] == 0, proc.stderr[-3000:]
    return out["heavy"]


def test_light_steps_import_neither_sklearn_nor_torch(tmp_path: Path) -> None:
    sim = {"seed": 42, "sim_n_train": 120, "sim_n_test": 60, "sim_n_genes": 400, "sim_n_sets": 12,
           "sim_features_per_group": 1, "sim_group_sizes": "", "sim_signal": 1.3}
    ingest = {"orientation": "auto", "id_column": None, "clinical_targets": "histology,stage",
              "histology_column": None, "collapse": "mean", "allow_sample_mismatch": False,
              "radiomics_id_pattern": None, "radiomics_include": None, "radiomics_exclude": None,
              "radiomics_max_correlation": 1}
    runs = {
        "simulate": ["--outdir", "sim", "--options", json.dumps(sim)],
        "samplesheet": ["--samplesheet", "sim/samplesheet.csv", "--out", "sheet.json"],
        "ingest": ["--samplesheet", "sim/samplesheet.csv", "--outdir", "raw", "--options", json.dumps(ingest)],
        "validate": ["--expression", "raw/raw_expression.parquet", "--labels", "raw/raw_labels.parquet",
                     "--features", "raw/raw_features.parquet", "--outdir", "data",
                     "--options", json.dumps({"max_missing": 0.2})],
    }
    assert set(runs) == LIGHT_STEPS
    for step, argv in runs.items():                       # in this order: each reads what the one before wrote
        assert _heavy_imports(tmp_path, step, *argv) == [], step
    assert (tmp_path / "data" / "expression.parquet").exists()
