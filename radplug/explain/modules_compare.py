"""Comparison with published radiogenomic modules (as the paper did with Grossmann et al. 2017): for each
module's pathways, the masking AUC and rank among all pathways of the same source, for the module's
radiomic feature(s)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from radplug.io import RadplugInputError

COLUMNS = ["module", "feature", "pathway", "gene_set", "source", "target", "cohort", "class", "auc", "ap",
           "rank", "n_sets", "rank_fraction", "p_value", "q_value", "status"]
_ALIASES = {"module": ("module", "module_id", "id"), "feature": ("feature", "features", "radiomic_feature",
                                                                   "radiomic_features", "target"),
            "pathway": ("pathway", "pathways", "gene_set", "gene_sets")}
_COPIED = ("gene_set", "source", "target", "cohort", "class", "auc", "ap", "rank", "n_sets", "p_value",
           "q_value")
_PREFIXES = ("REACTOME_", "HALLMARK_", "GOBP_", "GO_", "KEGG_", "BIOCARTA_")


def pathway_key(name: str) -> str:
    """Name normalised for matching: upper case, non-alphanumerics to ``_``, collection prefix removed
    (``Signaling by Rho GTPases`` and ``REACTOME_SIGNALING_BY_RHO_GTPASES`` match)."""
    key = re.sub(r"[^A-Z0-9]+", "_", str(name).upper()).strip("_")
    for p in _PREFIXES:
        if key.startswith(p):
            return key[len(p):]
    return key


def read_modules(path: str | Path) -> pd.DataFrame:
    """A module table (CSV or TSV): columns module, feature, pathway (aliases: module_id, features,
    radiomic_feature, pathways, gene_set). Cells may hold several values separated by ``;`` or ``|``.
    Returns one row per (module, feature, pathway)."""
    from radplug.data.ingest import read_table

    df = read_table(path)
    lower = {c.lower().strip(): c for c in df.columns}
    cols = {}
    for want, aliases in _ALIASES.items():
        found = next((lower[a] for a in aliases if a in lower), None)
        if found is None:
            raise RadplugInputError(f"{path}: a module table needs a '{want}' column (or one of "
                                    f"{', '.join(aliases[1:])}); found {list(df.columns)}")
        cols[want] = found
    out = df[[cols["module"], cols["feature"], cols["pathway"]]].astype(str)
    out.columns = ["module", "feature", "pathway"]
    for c in ("feature", "pathway"):
        out[c] = out[c].str.split(r"[;|]")
        out = out.explode(c)
        out[c] = out[c].str.strip()
    out = out[(out["pathway"] != "") & (out["feature"] != "")]
    if out.empty:
        raise RadplugInputError(f"{path}: no (module, feature, pathway) rows")
    return out.drop_duplicates().reset_index(drop=True)


def compare_modules(masking: pd.DataFrame, modules: pd.DataFrame, cohorts: tuple[str, ...] = ("test",),
                    sources: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Masking AUC, rank among all sets of the source (1 = best), rank fraction, p and q of every module
    pathway for the module's feature(s). ``masking`` is SIGNIFICANCE's masking table (or a MASK part: ranks
    are recomputed when absent). Pathways or features that were not masked get a row with a ``status``
    saying so, never silently disappear."""
    m = masking[masking["cohort"].isin(cohorts)]
    if sources:
        m = m[m["source"].isin(sources)]
    m = m.copy()
    keys = ["source", "target", "cohort", "class"]
    if "rank" not in m.columns or m["rank"].isna().all():
        m["rank"] = m.groupby(keys)["auc"].rank(ascending=False, method="min")
    m["n_sets"] = m.groupby(keys)["gene_set"].transform("size")
    for c in ("p_value", "q_value", "ap"):
        if c not in m.columns:
            m[c] = np.nan
    m["pkey"] = m["gene_set"].map(pathway_key)
    m["tkey"] = m["target"].str.lower()
    targets = set(m["tkey"])
    by_key = dict(list(m.groupby(["tkey", "pkey"], sort=False)))       # one pass, not one scan per module
    empty = m.iloc[:0]
    rows = []
    for mod in modules.itertuples(index=False):
        base = {"module": mod.module, "feature": mod.feature, "pathway": mod.pathway}
        if mod.feature.lower() not in targets:
            rows.append({**base, "status": "feature not masked (no model reached the masking AUC threshold, "
                                           "or the feature is not a target)"})
            continue
        hit = by_key.get((mod.feature.lower(), pathway_key(mod.pathway)), empty)
        if hit.empty:
            rows.append({**base, "status": "pathway not found among the masked gene sets (name, or dropped "
                                           "by the size filters)"})
            continue
        for h in hit.to_dict("records"):
            rows.append({**base, **{c: h[c] for c in _COPIED}, "rank_fraction": h["rank"] / h["n_sets"],
                         "status": "ok"})
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["rank"] = out["rank"].astype("Int64")
    out["n_sets"] = out["n_sets"].astype("Int64")
    return out.sort_values(["module", "feature", "rank"], na_position="last").reset_index(drop=True)
