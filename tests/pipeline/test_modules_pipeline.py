"""Published modules and the MASK fan-out through a real `nextflow run` (the step's code:
tests/unit/test_modules.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import read_trace, run_nextflow

from radplug.io import read_parquet
from radplug.training.search import final_units


@pytest.mark.pipeline
def test_pipeline_modules_and_mask_fan_out(test_profile_run, tmp_path):
    """-profile test with two gene-set sources and --modules: one MASK task per (unit with a masked target, source), and
    SIGNIFICANCE writes masking/module_comparison.parquet. Resumes the suite's shared test-profile run: the
    steps before MASK are cached, MASK runs anew (new gene-set inputs), with 50 random sets per size (as
    tests/test_plugins.py's resumed run) instead of the profile's 100: the fan-out and the module table are checked
    here, not the null's resolution."""
    rng = np.random.default_rng(0)
    genes = [f"SG{i:05d}" for i in range(1, 401)]             # the test profile's simulated gene names
    for name, prefix in (("a.gmt", "MYSET_"), ("h.gmt", "HALLMARK_FAKE_")):
        with open(tmp_path / name, "w") as fh:
            for k in range(8):
                members = rng.choice(genes, 10 + 4 * k, replace=False)
                fh.write(f"{prefix}{k}\tdesc\t" + "\t".join(members) + "\n")
    (tmp_path / "modules.csv").write_text("module,feature,pathway\nM1,histology,MYSET_3;Hallmark fake 5\n"
                                          "M2,not_a_feature,MYSET_1\n")
    run = run_nextflow(test_profile_run.launch_dir, "-profile", "test", "-resume",
                       "--genesets", f"custom={tmp_path / 'a.gmt'},msigdb_hallmark={tmp_path / 'h.gmt'}",
                       "--modules", str(tmp_path / "modules.csv"), "--mask_min_auc", "0.5",
                       "--mask_n_random", "50", "--mask_max_random", "200",
                       outdir=str(tmp_path / "res"))
    assert run.returncode == 0, run.log[-6000:]
    masking = read_parquet(tmp_path / "res" / "masking" / "masking.parquet")
    targets = set(masking["target"])
    assert "histology" in targets and set(masking["source"]) == {"custom", "msigdb_hallmark"}
    parts = {p.name for p in (tmp_path / "res" / "masking" / "parts").glob("*.masking.parquet")}
    assert parts == {f"{t}__{s}.masking.parquet" for t in targets for s in ("custom", "msigdb_hallmark")}
    tasks = pd.DataFrame(read_trace(tmp_path / "res"))
    mask_tasks = tasks[tasks["name"].str.contains(r"\bMASK \(")]
    units = final_units(read_parquet(tmp_path / "res" / "data" / "tasks.parquet"))
    masked_units = {u for u, names in units.items() if set(names) & targets}
    assert len(mask_tasks) == 2 * len(masked_units) and (mask_tasks["status"] == "COMPLETED").all()
    comp = read_parquet(tmp_path / "res" / "masking" / "module_comparison.parquet")
    ok = comp[comp["status"] == "ok"]
    assert set(ok["gene_set"]) == {"MYSET_3", "HALLMARK_FAKE_5"}
    assert set(ok["class"]) == {"ADC", "SCC", "other", "micro"}
    assert (ok["rank"] <= ok["n_sets"]).all() and (ok["n_sets"] == 8).all()
    assert comp.loc[comp["feature"] == "not_a_feature", "status"].str.startswith("feature not masked").all()
    assert (tmp_path / "res" / "masking" / "permutation.parquet").exists()
