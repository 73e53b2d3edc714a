"""REPORT: one self-contained HTML file (no external scripts, styles or fonts), figures as PNG and SVG,
tables as CSV. ``radplug report RESULTS`` rebuilds it from a finished results folder."""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from radplug import __version__
from radplug.io import read_parquet, read_provenance

log = logging.getLogger(__name__)

TOP_N = 10


def _read(results: Path, rel: str) -> pd.DataFrame | None:
    p = results / rel
    return read_parquet(p) if p.exists() else None


class Figures:
    """Saves each matplotlib figure as PNG and SVG and keeps the PNG for embedding."""

    def __init__(self, outdir: Path):
        self.outdir = outdir
        outdir.mkdir(parents=True, exist_ok=True)

    def save(self, fig, name: str) -> str:
        import matplotlib.pyplot as plt

        fig.savefig(self.outdir / f"{name}.svg", bbox_inches="tight")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        (self.outdir / f"{name}.png").write_bytes(buf.getvalue())
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode()
        label = html.escape(name)
        return f'<img class="fig" alt="{label}" data-figure="{label}" src="data:image/png;base64,{data}">'


def _duration_seconds(text: object) -> float:
    """Seconds of a Nextflow duration such as '1m 2s', '345ms' or '1h 2m'."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    found = re.findall(r"([\d.]+)\s*(ms|s|m|h|d)\b", str(text))
    return float(sum(float(v) * units[u] for v, u in found)) if found else float("nan")


def _format_number(v: float) -> str:
    if pd.isna(v):
        return ""
    return f"{v:.3g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}"


def _table_html(df: pd.DataFrame, table_id: str, max_rows: int | None = None, interactive: bool = False) -> str:
    shown = df if max_rows is None else df.head(max_rows)
    fmt = shown.copy()
    for c in fmt.columns:
        if pd.api.types.is_float_dtype(fmt[c]):
            fmt[c] = fmt[c].map(_format_number)
    body = fmt.to_html(index=False, escape=True, border=0, classes="tbl", table_id=table_id)
    if interactive:
        body = (f'<input class="filter" placeholder="filter rows..." data-table="{table_id}"> '
                f'<span class="count" id="{table_id}-count"></span>' + body)
    return body


def _fig_cv(cv: pd.DataFrame, figs: Figures) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "cv_kind" in cv:   # group networks only choose hyperparameters; compare per-feature/target estimates
        cv = cv[cv["cv_kind"] != "group"]
    fold = (cv.groupby(["target", "family", "config_id", "fold"])["auc"].mean().reset_index())
    best = (fold.groupby(["target", "family", "config_id"])["auc"].mean().reset_index()
            .sort_values("auc", ascending=False).drop_duplicates(["target", "family"]))
    fold = fold.merge(best[["target", "family", "config_id"]])
    targets = sorted(fold["target"].unique())
    families = sorted(fold["family"].unique())
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(targets) * max(1, len(families)) / 2), 4.2))
    width = 0.8 / len(families)
    for j, fam in enumerate(families):
        data = [fold[(fold.target == t) & (fold.family == fam)]["auc"].dropna().to_numpy() for t in targets]
        pos = np.arange(len(targets)) + (j - (len(families) - 1) / 2) * width
        ok = [i for i, d in enumerate(data) if len(d)]
        bp = ax.boxplot([data[i] for i in ok], positions=pos[ok], widths=width * 0.9, patch_artist=True,
                        showfliers=False)
        color = plt.cm.tab10(j)
        for b in bp["boxes"]:
            b.set_facecolor(color)
            b.set_alpha(0.7)
        ax.plot([], [], color=color, lw=6, label=fam)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(targets)))
    ax.set_xticklabels(targets, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("CV AUC across folds (best config per family)")
    ax.set_title("Training cross-validation by model family")
    ax.legend(fontsize=8, ncol=len(families), loc="lower right")
    return figs.save(fig, "cv_auc_by_family")


def _fig_test(metrics: pd.DataFrame, figs: Figures) -> str:
    import matplotlib.pyplot as plt

    m = metrics[metrics["averaging"] != "one-vs-rest"].sort_values("auc")
    fig, ax = plt.subplots(figsize=(6.5, max(2.5, 0.32 * len(m) + 1)))
    y = np.arange(len(m))
    err = np.vstack([m["auc"] - m["auc_ci_low"], m["auc_ci_high"] - m["auc"]]).clip(0)
    colors = ["#1b7837" if a >= 0.7 else "#999999" for a in m["auc"]]
    ax.barh(y, m["auc"], xerr=np.nan_to_num(err), color=colors, alpha=0.85, capsize=2)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{t} ({f})" for t, f in zip(m["target"], m["family"], strict=True)], fontsize=8)
    ax.axvline(0.5, color="grey", lw=0.8, ls="--")
    ax.axvline(0.7, color="#1b7837", lw=0.8, ls=":")
    ax.set_xlim(0, 1)
    ax.set_xlabel("test AUC (95% bootstrap CI); green: AUC >= 0.70")
    ax.set_title("Independent test cohort")
    return figs.save(fig, "test_auc")


def _fig_heatmap(mask: pd.DataFrame, source: str, figs: Figures, top: int = 15) -> str:
    import matplotlib.pyplot as plt

    m = mask[(mask["source"] == source) & (mask["cohort"] == "test")].copy()
    m["column"] = np.where(m["class"].isin(["high"]), m["target"], m["target"] + ":" + m["class"])
    keep = (m.sort_values("auc", ascending=False).groupby("column").head(5)["gene_set"].unique())
    if len(keep) > top:
        order = m[m.gene_set.isin(keep)].groupby("gene_set")["auc"].max().sort_values(ascending=False)
        keep = order.index[:top]
    sub = m[m["gene_set"].isin(keep)]
    mat = sub.pivot_table(index="gene_set", columns="column", values="auc")
    q = sub.pivot_table(index="gene_set", columns="column", values="q_value")
    mat = mat.loc[mat.max(axis=1).sort_values(ascending=False).index]
    q = q.reindex_like(mat)
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * mat.shape[1] + 4), max(3, 0.3 * mat.shape[0] + 1.5)))
    im = ax.imshow(mat.to_numpy(), cmap="RdBu_r", vmin=0.3, vmax=1.0, aspect="auto")
    ax.set_xticks(range(mat.shape[1]))
    ax.set_xticklabels(mat.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(mat.shape[0]))
    ax.set_yticklabels([s[:45] for s in mat.index], fontsize=7)
    for i in range(mat.shape[0]):
        for j in range(mat.shape[1]):
            if q.iat[i, j] == q.iat[i, j] and q.iat[i, j] < 0.05:
                ax.text(j, i, "*", ha="center", va="center", fontsize=10, color="black")
    fig.colorbar(im, ax=ax, label="masking test AUC")
    ax.set_title(f"Gene-set masking, {source} (* q < 0.05)")
    return figs.save(fig, f"masking_heatmap_{source}")


def _fig_null(mask: pd.DataFrame, null: pd.DataFrame, source: str, figs: Figures, max_panels: int = 12) -> str:
    """Per masked target (test cohort; the positive class or the micro-average): the random-set null AUCs
    as a histogram and every real set as a tick, significant sets in colour, the unmasked model's AUC dashed."""
    import matplotlib.pyplot as plt

    m = mask[(mask["source"] == source) & (mask["cohort"] == "test") & mask["p_value"].notna()]
    n = null[(null["source"] == source) & (null["cohort"] == "test")]
    keys = [(t, c) for (t, c), g in m.groupby(["target", "class"], sort=True)
            if g["class"].iloc[0] == "micro" or not (m["target"] == t).sum() > len(g)]
    keys = sorted(keys, key=lambda k: m[(m.target == k[0]) & (m["class"] == k[1])]["q_value"].min())[:max_panels]
    if not keys or n.empty:
        return ""
    cols = min(3, len(keys))
    rows = int(np.ceil(len(keys) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.6 * rows), squeeze=False)
    for ax, (target, cls) in zip(axes.ravel(), keys, strict=False):
        g = m[(m["target"] == target) & (m["class"] == cls)]
        vals = n[(n["target"] == target) & (n["class"] == cls)]["auc"].dropna()
        ax.hist(vals, bins=40, color="#bbbbbb", density=True, label=f"{len(vals)} random sets")
        sig = g["call"] == "significant" if "call" in g else g["q_value"] < 0.05
        y0 = ax.get_ylim()[1]
        ax.plot(g.loc[~sig, "auc"], np.full((~sig).sum(), y0 * 0.05), "|", color="#2166ac", ms=10, label="sets")
        ax.plot(g.loc[sig, "auc"], np.full(sig.sum(), y0 * 0.12), "|", color="#b2182b", ms=12, mew=2,
                label="q < 0.05")
        if "auc_full" in g and g["auc_full"].notna().any():
            ax.axvline(g["auc_full"].iloc[0], color="black", ls="--", lw=0.8, label="unmasked model")
        ax.set_title(f"{target} ({cls})"[:50], fontsize=9)
        ax.set_xlabel("test AUC", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(keys):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Masking AUC of each {source} set against its random-set null", fontsize=10)
    fig.tight_layout()
    return figs.save(fig, f"masking_null_{source}")


def _calls_table(mask: pd.DataFrame, source: str) -> pd.DataFrame:
    """One row per masked target and class (test cohort): sets tested, calls, random sets drawn, notes."""
    m = mask[(mask["source"] == source) & (mask["cohort"] == "test")]
    rows = []
    for (target, cls), g in m.groupby(["target", "class"], sort=True):
        drawn = int(g.drop_duplicates("null_bin")["null_drawn"].sum()) if "null_drawn" in g else 0
        rows.append({"target": target, "class": cls, "sets": len(g),
                     "unmasked_auc": round(float(g["auc_full"].iloc[0]), 3) if "auc_full" in g else np.nan,
                     "significant": int((g["call"] == "significant").sum()) if "call" in g
                     else int((g["q_value"] < 0.05).sum()),
                     "best_q": g["q_value"].min(), "random_sets_drawn": drawn,
                     "note": "; ".join(sorted({x for x in g.get("note", pd.Series(dtype=str)) if x
                                               and x.startswith("saturated")}))})
    return pd.DataFrame(rows)


def _extraction_html(results: Path, tables_dir: Path) -> list[str]:
    """Radiomic feature extraction (EXTRACT): extractor, version and settings per cohort, from extraction/."""
    infos = sorted((results / "extraction").glob("*.extraction.json")) if (results / "extraction").exists() else []
    if not infos:
        return []
    rows, settings = [], []
    for path in infos:
        info = json.loads(path.read_text())
        cohort = path.name[: -len(".extraction.json")]
        secs = [p["seconds"] for p in info.get("patients", [])]
        rows.append({"cohort": cohort, "extractor": info.get("extractor"), "version": info.get("extractor_version"),
                     "settings": info.get("settings_source"), "patients": info.get("n_patients"),
                     "features": info.get("n_features"), "median s/patient": float(np.median(secs)) if secs else None})
        settings.append(f"# {cohort}: {info.get('settings_source')}\n" + json.dumps(info.get("settings"), indent=2))
    table = pd.DataFrame(rows)
    table.to_csv(tables_dir / "extraction.csv", index=False)
    return ["<h3>Radiomic feature extraction</h3><p>Features computed from images by EXTRACT (files under "
            "<code>extraction/</code>).</p>" + _table_html(table, "tbl-extraction"),
            "<h4>Extraction settings</h4><pre>" + html.escape("\n\n".join(settings)) + "</pre>"]


def build_report(results: str | Path, outdir: str | Path | None = None) -> Path:
    """Build report/report.html, report/figures/*.png|svg and report/tables/*.csv from a results folder."""
    results = Path(results)
    out = Path(outdir) if outdir else results / "report"
    figs = Figures(out / "figures")
    tables_dir = out / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    labels = _read(results, "data/labels.parquet")
    tasks = _read(results, "data/tasks.parquet")
    targets = _read(results, "data/targets.parquet")
    binar = _read(results, "data/binarization.parquet")
    validation = _read(results, "data/validation.parquet")
    cv = _read(results, "cv/cv_results.parquet")
    selection = _read(results, "cv/selection.parquet")
    metrics = _read(results, "evaluation/test_metrics.parquet")
    mask = _read(results, "masking/masking.parquet")
    null = _read(results, "masking/masking_null.parquet")
    chance = _read(results, "evaluation/target_chance.parquet")
    perm = _read(results, "masking/permutation.parquet")
    coverage = _read(results, "masking/geneset_coverage.parquet")
    modules = _read(results, "masking/module_comparison.parquet")
    truth = _read(results, "data/ground_truth.parquet")
    nested_parts = sorted((results / "cv").glob("nested_o*.parquet")) if (results / "cv").exists() else []
    nested = pd.concat([read_parquet(p) for p in nested_parts], ignore_index=True) if nested_parts else None
    params_path = results / "pipeline_info" / "params.json"
    params = json.loads(params_path.read_text()) if params_path.exists() else {}
    versions_path = results / "pipeline_info" / "software_versions.yml"
    versions = versions_path.read_text() if versions_path.exists() else f"radplug: {__version__}"
    traces = sorted((results / "pipeline_info").glob("execution_trace*.txt")) \
        if (results / "pipeline_info").exists() else []
    trace_path = traces[-1] if traces else None      # the newest: this run's (names carry the launch time)

    sections: list[tuple[str, str, str]] = []   # (id, title, html)

    # --- run summary
    parts = []
    if params:
        inputs = {"input": params.get("input") or "embedded synthetic cohort (seed {})".format(params.get("seed")),
                  "gene sets": params.get("genesets") or "simulated collection (custom)",
                  "models": f"{params.get('models')} (grid {params.get('grid')}, {params.get('cv_folds')}-fold CV)"}
        parts.append("<h3>Inputs</h3>" + _table_html(pd.DataFrame(list(inputs.items()), columns=["", "value"]),
                                                     "tbl-inputs"))
    if labels is not None:
        counts = labels.groupby(["cohort", "source_cohort"]).size().rename("samples").reset_index()
        parts.append("<h3>Cohorts</h3>" + _table_html(counts, "tbl-cohorts"))
    if targets is not None and tasks is not None:
        cls_rows = []
        for t in tasks.itertuples():
            for cohort, g in targets.groupby("cohort"):
                vc = g[t.target].value_counts()
                missing = int(g[t.target].isna().sum())
                text = ", ".join(f"{k}: {v}" for k, v in vc.items()) + (f" (unlabelled: {missing})" if missing else "")
                cls_rows.append({"target": t.target, "cohort": cohort, "classes": text})
        if cls_rows:
            cls = (pd.DataFrame(cls_rows).pivot(index="target", columns="cohort", values="classes")
                   .reindex(list(tasks["target"])).reset_index())
            cls.to_csv(tables_dir / "class_counts.csv", index=False)
            parts.append("<h3>Samples per class</h3>" + _table_html(cls, "tbl-classes"))
    if binar is not None:
        binar.to_csv(tables_dir / "binarization.csv", index=False)
        dropped = binar[~binar["kept"]]
        parts.append(f"<p>{int(binar['kept'].sum())} of {len(binar)} radiomic features kept after 2-means "
                     f"binarization; {len(dropped)} dropped for a minority class under the threshold.</p>")
    if validation is not None and len(validation):
        parts.append("<h3>Input checks</h3>" + _table_html(validation, "tbl-validation"))
    parts.extend(_extraction_html(results, tables_dir))
    label_map_path = results / "data" / "label_mapping.csv"
    if label_map_path.exists():
        lm = pd.read_csv(label_map_path, dtype={"label": object}, keep_default_na=False)
        lm["label"] = lm["label"].replace("", "missing")
        odd = lm[lm["label"].isin(["other", "missing"])]
        if len(odd):
            odd.to_csv(tables_dir / "labels_other_or_missing.csv", index=False)
            parts.append("<h3 id=labels-other-missing>Label texts mapped to other or missing</h3><p class=warn>"
                         "Check these: each clinical text below became the class <code>other</code> or was left "
                         "missing (those samples are left out of that target). Map a text with "
                         "<code>--histology_map</code> if it is wrong.</p>"
                         + _table_html(odd[["target", "cohort", "column", "text", "label", "by", "n"]],
                                       "tbl-labels-odd"))
    if params:
        prm = pd.DataFrame([{"parameter": k, "value": json.dumps(v) if not isinstance(v, str) else v}
                            for k, v in sorted(params.items())])
        prm.to_csv(tables_dir / "parameters.csv", index=False)
        parts.append("<h3>Parameters</h3>" + _table_html(prm, "tbl-params"))
    parts.append("<h3>Software versions</h3><pre>" + html.escape(versions) + "</pre>")
    if trace_path is not None:
        try:
            trace = pd.read_csv(trace_path, sep="\t")
            cols = [c for c in ("name", "status", "realtime", "%cpu", "peak_rss") if c in trace.columns]
            if "name" in trace:
                t = trace.assign(process=trace["name"].str.split(" ").str[0].str.split(":").str[-1],
                                 seconds=trace.get("realtime", pd.Series(dtype=str)).map(_duration_seconds))
                summ = (t.groupby("process", sort=False)
                        .agg(tasks=("name", "size"), total_s=("seconds", "sum"), longest_s=("seconds", "max"))
                        .reset_index())
                parts.append("<h3>Tasks and time per process</h3><p>Task run times from the Nextflow trace "
                             "(cached tasks count as in the run that made them).</p>"
                             + _table_html(summ, "tbl-timings"))
            trace[cols].to_csv(tables_dir / "timings.csv", index=False)
        except Exception as exc:  # a trace file is informative only
            log.warning("could not read %s: %s", trace_path, exc)
    sections.append(("summary", "Run summary", "\n".join(parts)))

    # --- models
    parts = []
    if cv is not None and len(cv):
        parts.append(_fig_cv(cv, figs))
    if selection is not None:
        sel = selection[["target", "family", "config_id", "auc_mean", "auc_sd", "ap_mean", "n_folds", "selected"]]
        sel.to_csv(tables_dir / "model_comparison.csv", index=False)
        piv = selection.pivot_table(index="target", columns="family", values="auc_mean").round(3)
        piv.to_csv(tables_dir / "cv_auc_by_family.csv")
        parts.append("<h3>Mean CV AUC by family (best configuration of each)</h3>"
                     + _table_html(piv.reset_index(), "tbl-cv-family"))
    if chance is not None and len(chance):
        parts.append(f"<p id=chance>{html.escape(_chance_sentence(chance.iloc[0]))} Each target's test-AUC "
                     "p-value (<code>auc_p</code>, label permutation) and q-value (<code>auc_q</code>, "
                     "Benjamini-Hochberg over the run's targets) are in the table below.</p>")
    if metrics is not None and len(metrics):
        parts.append(_fig_test(metrics, figs))
        metrics.to_csv(tables_dir / "test_metrics.csv", index=False)
        parts.append("<h3>Test cohort performance</h3>" + _table_html(metrics, "tbl-test", interactive=True))
        undefined = _undefined_metrics(metrics)
        if len(undefined):
            undefined.to_csv(tables_dir / "undefined_metrics.csv", index=False)
            parts.append("<h3 id=undefined-metrics>Metrics that cannot be estimated</h3><p class=warn>These "
                         "AUC/AP values are left empty (NaN), never given a number or a confidence interval, "
                         "and the masking and permutation tables carry the same reason in their "
                         "<code>note</code> column.</p>" + _table_html(undefined, "tbl-undefined"))
    if nested is not None and len(nested):
        parts.append(_nested_html(nested, selection, metrics, tables_dir))
    sections.append(("models", "Model comparison and test performance", "\n".join(parts)))

    # --- masking
    parts = []
    if mask is not None and len(mask):
        mask.to_csv(tables_dir / "masking_all.csv", index=False)
        prov = read_provenance(results / "masking/masking.parquet")
        fam = prov.get("fdr_family", "source,target,cohort,class").replace(",", " x ")
        drawn = prov.get("random_sets_drawn")
        parts.append("<p>p-values: sequential Monte Carlo against random gene sets of matched size (valid by "
                     "construction; see docs/masking.md). q-values: Benjamini-Hochberg within each family of "
                     f"tests ({html.escape(fam)})"
                     + (f"; {int(drawn):,} random gene sets were drawn in all" if drawn else "")
                     + ". A target whose masked predictions saturate is marked <em>saturated</em> and gets no "
                     "q-value: masking cannot rank its sets (see permutation importance).</p>")
        for source in sorted(mask["source"].unique()):
            parts.append(f"<h3>Source: {html.escape(source)}</h3>")
            calls = _calls_table(mask, source)
            calls.to_csv(tables_dir / f"masking_calls_{source}.csv", index=False)
            parts.append("<h4>Calls per target (test cohort)</h4>" + _table_html(calls, f"tbl-calls-{source}"))
            parts.append(_fig_heatmap(mask, source, figs))
            if null is not None and len(null):
                parts.append(_fig_null(mask, null, source, figs))
            top = (mask[(mask["source"] == source) & (mask["cohort"] == "test")]
                   .sort_values(["target", "class", "rank"]).groupby(["target", "class"]).head(TOP_N))
            cols = [c for c in ["target", "class", "rank", "gene_set", "auc", "auc_full", "ap", "n_genes",
                                "n_present", "coverage", "p_value", "n_random", "q_value", "call", "note"]
                    if c in top]
            top[cols].to_csv(tables_dir / f"masking_top{TOP_N}_{source}.csv", index=False)
            parts.append(f"<h4>Top {TOP_N} gene sets per target (test cohort)</h4>"
                         + _table_html(top[cols], f"tbl-top-{source}", interactive=True))
        if truth is not None:
            chk = truth.merge(mask[mask["cohort"] == "test"], on=["target", "class", "gene_set"], how="left")
            chk = chk[["target", "class", "gene_set", "auc", "rank", "q_value"]]
            chk.to_csv(tables_dir / "planted_recovery.csv", index=False)
            parts.append("<h3>Planted associations (simulated cohort)</h3><p>Rank of each planted gene set "
                         "among all sets for its target and class; empty when the target was not masked.</p>"
                         + _table_html(chk, "tbl-planted"))
        if perm is not None and len(perm):
            perm.to_csv(tables_dir / "permutation_importance.csv", index=False)
            ptop = perm.sort_values(["target", "class", "rank"]).groupby(["target", "class", "source"]).head(5)
            parts.append("<h3>Permutation importance (top 5 per target)</h3>"
                         + _table_html(ptop, "tbl-permutation"))
        if coverage is not None:
            coverage.to_csv(tables_dir / "geneset_coverage.csv", index=False)
        if modules is not None and len(modules):
            modules.to_csv(tables_dir / "module_comparison.csv", index=False)
            parts.append("<h3>Comparison with published modules</h3>" + _table_html(modules, "tbl-modules"))
        cols = [c for c in ["source", "target", "class", "cohort", "gene_set", "auc", "ap", "rank", "n_present",
                            "coverage", "p_value", "q_value", "call", "note"] if c in mask]
        parts.append("<h3>All masking results</h3><p>Click a column header to sort; type to filter.</p>"
                     + _table_html(mask[cols], "tbl-masking-all", max_rows=5000, interactive=True))
    else:
        parts.append("<p>No masking results: no model reached the masking threshold "
                     "(<code>--mask_min_auc</code>), or masking was turned off.</p>")
    sections.append(("masking", "Gene-set masking", "\n".join(parts)))

    nav = " | ".join(f'<a href="#{sid}">{html.escape(t)}</a>' for sid, t, _ in sections)
    body = "\n".join(f'<section id="{sid}"><h2>{html.escape(t)}</h2>{h}</section>' for sid, t, h in sections)
    page = _PAGE.format(version=__version__, nav=nav, body=body, intro=_intro(metrics, mask, chance))
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    log.info("report written to %s", path)
    return path


def _nested_html(nested: pd.DataFrame, selection: pd.DataFrame | None, metrics: pd.DataFrame | None,
                 tables_dir: Path) -> str:
    """The nested-CV section: per target the selected configuration's CV AUC (optimistic), the nested-CV AUC
    and the test AUC side by side (tables/estimates.csv; per outer fold: tables/nested_cv.csv)."""
    from radplug.nested import nested_summary

    est = nested_summary(nested, selection, metrics)
    est.to_csv(tables_dir / "estimates.csv", index=False)
    nested.to_csv(tables_dir / "nested_cv.csv", index=False)
    k = int(nested["outer_fold"].nunique())
    gap = est["optimism"].mean() if "optimism" in est else float("nan")
    shown = est.copy()
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            shown[c] = shown[c].round(3)
    return ("<h3 id=nested-cv>CV estimates: selected configuration vs nested CV</h3><p><code>cv_auc</code> is the "
            "selected configuration's mean CV AUC: the best of its grid (and of the families) on the very folds that "
            f"chose it, so it is <b>optimistic</b>. <code>nested_auc</code> is the mean over {k} outer folds of the "
            "AUC of the model the whole protocol (search, selection, refit) chose without seeing that fold: an "
            "unbiased estimate of the protocol on new patients of the training population. <code>optimism</code> = "
            f"cv_auc - nested_auc (mean {gap:+.3f} here). <code>test_auc</code> is the independent test cohort; for "
            "multiclass targets compare it with <code>auc_prior</code>, the prior-only micro AUC. "
            "<code>nested_families</code>: the family each outer fold chose.</p>"
            + _table_html(shown, "tbl-nested"))


def _chance_sentence(row: pd.Series) -> str:
    return (f"{int(row['passing'])} of {int(row['targets'])} targets reach a test AUC of at least "
            f"{row['threshold']:.2f}; {row['expected_by_chance']:.1f} would by chance alone (label permutation at "
            f"this test cohort's size and class balance); {int(row['significant_q05'])} have a test-AUC "
            "q-value below 0.05.")


def _undefined_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    """Rows of the test metrics whose AUC cannot be estimated, with the reason (EVALUATE's ``note``)."""
    if "note" not in metrics.columns:
        return pd.DataFrame(columns=["target", "class", "averaging", "n", "n_pos", "note"])
    bad = metrics[metrics["note"].fillna("").astype(str) != ""]
    return bad[["target", "class", "averaging", "n", "n_pos", "note"]].reset_index(drop=True)


def _intro(metrics: pd.DataFrame | None, mask: pd.DataFrame | None, chance: pd.DataFrame | None = None) -> str:
    lines = []
    if metrics is not None and len(metrics):
        m = metrics[metrics["averaging"] != "one-vs-rest"]
        good = m[m["auc"] >= 0.7]
        lines.append(f"{len(good)} of {len(m)} targets reach a test AUC of at least 0.70"
                     + (": " + ", ".join(f"{t} ({a:.2f})" for t, a in zip(good.target, good.auc, strict=True))
                        if len(good) else "."))
        undefined = _undefined_metrics(metrics)
        if len(undefined):
            lines.append(f"{len(undefined)} metric row(s) cannot be estimated on the test cohort and are left "
                         "empty: " + "; ".join(f"{r.target} / {r['class']}: {r.note}"
                                               for _, r in undefined.iterrows()) + ".")
    if chance is not None and len(chance):
        lines.append(_chance_sentence(chance.iloc[0]))
    if mask is not None and len(mask):
        test = mask[mask["cohort"] == "test"]
        sig = test[test["call"] == "significant"] if "call" in test else test[test["q_value"] < 0.05]
        lines.append(f"{len(sig)} gene set / target associations are significant on the test cohort (q < 0.05).")
        if "saturated" in test and test["saturated"].any():
            sat = sorted(test.loc[test["saturated"], "target"].unique())
            lines.append(f"Saturated (masking cannot rank sets): {', '.join(sat)}.")
    return "".join(f"<p class=lead>{html.escape(x)}</p>" for x in lines)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>radplug report</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px;
       color: #222; padding: 0 1em; }}
h1 {{ border-bottom: 2px solid #1b7837; }} h2 {{ margin-top: 2em; border-bottom: 1px solid #ccc; }}
nav {{ margin-bottom: 1em; }} .lead {{ font-size: 1.1em; }} .warn {{ color: #8c510a; }}
img.fig {{ max-width: 100%; display: block; margin: 1em 0; }}
table.tbl {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }}
table.tbl th, table.tbl td {{ border: 1px solid #ddd; padding: 3px 6px; text-align: left; }}
table.tbl th {{ background: #f3f3f3; cursor: pointer; position: sticky; top: 0; }}
input.filter {{ padding: 3px; width: 20em; }} pre {{ background: #f7f7f7; padding: 0.5em; }}
</style></head><body>
<h1>radplug report</h1><p>radplug {version}. Gene expression &rarr; CT radiomic features and histology,
explained by gene-set masking (Smedley et al., J. Med. Imaging 2021).</p>
{intro}
<nav>{nav}</nav>
{body}
<script>
document.querySelectorAll("input.filter").forEach(function (box) {{
  var table = document.getElementById(box.dataset.table);
  var count = document.getElementById(box.dataset.table + "-count");
  function apply() {{
    var q = box.value.toLowerCase(), shown = 0, rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {{
      var ok = rows[i].textContent.toLowerCase().indexOf(q) >= 0;
      rows[i].style.display = ok ? "" : "none"; if (ok) shown++;
    }}
    count.textContent = shown + " rows";
  }}
  box.addEventListener("input", apply); apply();
}});
document.querySelectorAll("table.tbl th").forEach(function (th) {{
  th.addEventListener("click", function () {{
    var table = th.closest("table"), idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var asc = th.dataset.sort !== "asc"; th.dataset.sort = asc ? "asc" : "desc";
    rows.sort(function (a, b) {{
      var x = a.cells[idx].textContent, y = b.cells[idx].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    }});
    rows.forEach(function (r) {{ body.appendChild(r); }});
  }});
}});
</script>
</body></html>
"""
