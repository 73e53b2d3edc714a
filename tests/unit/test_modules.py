"""Module comparison (published radiogenomic modules vs masking ranks): matching, ranks, statuses, the
`radplug modules` command on real Reactome names, and the pipeline wiring (`--modules`, MASK fan-out per
model x gene-set source) with a real Nextflow run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

from radplug.cli import main
from radplug.explain.modules_compare import compare_modules, pathway_key, read_modules
from radplug.genesets import read_gene_sets
from radplug.io import RadplugInputError, read_parquet, read_provenance, write_parquet

REACTOME = SHARED_DATA / "msigdb" / "c2.cp.reactome.v6.2.symbols.gmt"


def _masking(names: list[str], auc: np.ndarray, target: str = "GLCM_entrop2",
             cls: str = "high") -> pd.DataFrame:
    return pd.DataFrame({"source": "msigdb_reactome", "target": target, "cohort": "test", "class": cls,
                         "gene_set": names, "auc": auc, "ap": auc / 2, "p_value": 1 - auc,
                         "q_value": 1 - auc / 2, "n_genes": 20, "n_present": 18, "coverage": 0.9})


def test_pathway_names_match_across_spellings():
    assert pathway_key("Signaling by Rho GTPases") == pathway_key("REACTOME_SIGNALING_BY_RHO_GTPASES")
    new, old = "GOBP_response_to_tumor_necrosis_factor", "GO_RESPONSE_TO_TUMOR_NECROSIS_FACTOR"
    assert pathway_key(new) == pathway_key(old)
    assert pathway_key("HALLMARK_HYPOXIA") != pathway_key("HALLMARK_GLYCOLYSIS")


def test_read_modules_explodes_and_checks(tmp_path):
    p = tmp_path / "modules.csv"
    p.write_text("module_id,features,pathways\n"
                 "13,LoG_entropy;stats_Energy,Signaling by Rho GTPases|Hemostasis\n"
                 "2,GLCM_entrop2,Hemostasis\n")
    m = read_modules(p)
    assert len(m) == 5 and set(m.columns) == {"module", "feature", "pathway"}
    assert set(m.loc[m["module"] == "13", "feature"]) == {"LoG_entropy", "stats_Energy"}
    bad = tmp_path / "bad.csv"
    bad.write_text("module,feature\n1,x\n")
    with pytest.raises(RadplugInputError, match=r"bad\.csv: a module table needs a 'pathway' column"):
        read_modules(bad)


@pytest.mark.skipif(not REACTOME.exists(), reason="needs ../shared/data/msigdb (real Reactome GMT)")
def test_compare_on_real_reactome_names(tmp_path):
    """All 674 Reactome v6.2 pathways scored; module pathways given in plain words are found and ranked."""
    names = sorted(read_gene_sets(str(REACTOME))["gene_set"].unique())
    assert len(names) == 674
    auc = np.linspace(0.9, 0.4, len(names))                     # rank i+1 for names[i]
    masking = pd.concat([_masking(names, auc), _masking(names, auc[::-1], cls="high", target="stats_Energy")])
    masking["rank"] = masking.groupby(["target", "class"])["auc"].rank(ascending=False, method="min")
    i = names.index("REACTOME_SIGNALING_BY_RHO_GTPASES")
    modules = pd.DataFrame({"module": ["13", "13", "13", "7"],
                            "feature": ["GLCM_entrop2", "GLCM_entrop2", "stats_Energy", "shape_Volume"],
                            "pathway": ["Signaling by Rho GTPases", "No such pathway",
                                        "Signaling by Rho GTPases", "Hemostasis"]})
    res = compare_modules(masking, modules)
    ok = res[res["status"] == "ok"].set_index("feature")
    assert ok.loc["GLCM_entrop2", "rank"] == i + 1 and ok.loc["GLCM_entrop2", "n_sets"] == 674
    assert ok.loc["GLCM_entrop2", "auc"] == pytest.approx(auc[i])
    assert ok.loc["stats_Energy", "rank"] == 674 - i
    assert ok.loc["GLCM_entrop2", "rank_fraction"] == pytest.approx((i + 1) / 674)
    status = res.set_index(["feature", "pathway"])["status"]
    assert status[("GLCM_entrop2", "No such pathway")].startswith("pathway not found")
    assert status[("shape_Volume", "Hemostasis")].startswith("feature not masked")

    # the CLI writes masking/module_comparison.parquet, which the report shows
    results = tmp_path / "res"
    write_parquet(masking, results / "masking" / "masking.parquet", "test")   # a partial, hand-made table
    modules.to_csv(tmp_path / "modules.csv", index=False)
    assert main(["modules", "--masking", str(results / "masking" / "masking.parquet"), "--modules",
                 str(tmp_path / "modules.csv"), "--outdir", str(results / "masking")]) == 0
    out = read_parquet(results / "masking" / "module_comparison.parquet")
    assert len(out) == 4 and (out["status"] == "ok").sum() == 2
    assert read_provenance(results / "masking" / "module_comparison.parquet")["step"] == "modules"
    from radplug.reporting.report import build_report

    html = Path(build_report(results)).read_text()
    assert "Comparison with published modules" in html and "REACTOME_SIGNALING_BY_RHO_GTPASES" in html
