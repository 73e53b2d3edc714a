"""REPORT: one self-contained HTML file (no external scripts, styles or fonts), figures as SVG and 300-dpi PNG,
tables as CSV. ``radplug report RESULTS`` rebuilds it from a finished results folder.

Layout: the headline (targets predicted on the test cohort beside the number expected by chance, the best model
of each with its interval, its significant gene sets), a comparison with the paper's numbers where the targets
are the paper's kind, one collapsed view per target (ROC and precision-recall curves, CV by family, masking
ranking and null, permutation importance), then the details and an appendix (inputs, parameters, versions)."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from radplug import __version__
from radplug.io import read_parquet, read_provenance, safe_id

log = logging.getLogger(__name__)

TOP_N = 10
#: Targets (best test AUC first) that get their own figures (ROC, PR, masking null); the rest are in the tables.
TOP_FIGURES = 30
#: Okabe & Ito's colour-blind-safe palette (blue, orange, green, purple, sky blue, vermillion, yellow, black).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
GREY = "#999999"
#: Values reported by Smedley et al. (J. Med. Imaging 2021) on their test cohort (Maastricht, 89 patients).
PAPER = {"histology": {"ADC": 0.86, "SCC": 0.91, "other": 0.71, "micro": 0.77},
         "radiomic_passing": (13, 101), "radiomic_range": (0.42, 0.89),
         "sets": {"HALLMARK_HYPOXIA": "> 0.90 (ADC and SCC)", "HALLMARK_COAGULATION": "> 0.90 (ADC and SCC)",
                  "HALLMARK_KRAS_SIGNALING_UP": "> 0.90 (ADC and SCC)",
                  "GO_NEGATIVE_REGULATION_OF_DNA_BINDING_TRANSCRIPTION_FACTOR_ACTIVITY":
                      "0.79 micro (ADC 0.93, SCC 0.91, other 0.75)"}}


def _read(results: Path, rel: str) -> pd.DataFrame | None:
    """A results table, text columns as Python objects (fast row selection for thousands of targets)."""
    p = results / rel
    if not p.exists():
        return None
    df = read_parquet(p)
    text = [c for c in df.columns if pd.api.types.is_string_dtype(df[c]) and df[c].dtype != object]
    return df.astype({c: object for c in text}) if text else df


def _style() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams.update({"axes.prop_cycle": cycler(color=OKABE_ITO), "svg.fonttype": "none",
                         "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 7.5,
                         "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.spines.top": False,
                         "axes.spines.right": False})


class Figures:
    """Saves each matplotlib figure as SVG (vector, text kept as text) and 300-dpi PNG under ``outdir`` and
    embeds the SVG in the page."""

    def __init__(self, outdir: Path, dpi: int = 300):
        self.outdir, self.dpi = outdir, dpi
        outdir.mkdir(parents=True, exist_ok=True)
        for old in [*outdir.glob("*.svg"), *outdir.glob("*.png")]:   # an earlier build's (e.g. larger --top-n)
            old.unlink()
        self.written: list[str] = []

    def save(self, fig, name: str, caption: str = "", lazy: bool = False) -> str:
        import matplotlib.pyplot as plt

        svg = self.outdir / f"{name}.svg"
        fig.savefig(svg, bbox_inches="tight")
        fig.savefig(self.outdir / f"{name}.png", dpi=self.dpi, bbox_inches="tight")
        plt.close(fig)
        self.written.append(name)
        data = base64.b64encode(svg.read_bytes()).decode()
        label = html.escape(name)
        files = f"figures/{label}.svg, .png (300 dpi)"
        cap = f"{html.escape(caption)} " if caption else ""
        return (f'<figure><img class="fig" alt="{label}" data-figure="{label}"{" loading=lazy" if lazy else ""} '
                f'src="data:image/svg+xml;base64,{data}"><figcaption>{cap}<span class=files>{files}</span>'
                "</figcaption></figure>")


def _duration_seconds(text: object) -> float:
    """Seconds of a Nextflow duration such as '1m 2s', '345ms' or '1h 2m'."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    found = re.findall(r"([\d.]+)\s*(ms|s|m|h|d)\b", str(text))
    return float(sum(float(v) * units[u] for v, u in found)) if found else float("nan")


def _format_number(v: float) -> str:
    if pd.isna(v):
        return ""
    return f"{v:.3g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}"


def _cell(v: object) -> str:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return ""
    return html.escape(str(v))


def _table_html(df: pd.DataFrame, table_id: str, max_rows: int | None = None, interactive: bool = False,
                raw: tuple[str, ...] = ()) -> str:
    """An HTML table (sortable by a click on a header); ``interactive`` adds a filter box; ``raw`` columns hold
    HTML already escaped (links)."""
    shown = df if max_rows is None else df.head(max_rows)
    columns = []
    for c in shown.columns:
        col = shown[c]
        if c in raw:
            columns.append(["" if v is None or v != v else str(v) for v in col])
        elif pd.api.types.is_float_dtype(col):
            columns.append([_format_number(v) for v in col])
        else:
            columns.append([_cell(v) for v in col])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = "\n".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in zip(*columns, strict=True))
    body = (f'<table border="0" class="tbl" id="{html.escape(table_id)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>\n{rows}\n</tbody></table>")
    if interactive:
        body = (f'<input class="filter" placeholder="filter rows..." data-table="{table_id}"> '
                f'<span class="count" id="{table_id}-count"></span>' + body)
    if max_rows is not None and len(df) > max_rows:
        body += f"<p>First {max_rows:,} of {len(df):,} rows shown; all are in the CSV table.</p>"
    return body


def _best_folds(cv: pd.DataFrame) -> pd.DataFrame:
    """Fold AUCs of the best configuration of each family per target (group networks, which only choose
    hyperparameters, left out: per-feature/target estimates are compared)."""
    if "cv_kind" in cv:
        cv = cv[cv["cv_kind"] != "group"]
    fold = cv.groupby(["target", "family", "config_id", "fold"])["auc"].mean().reset_index()
    best = (fold.groupby(["target", "family", "config_id"])["auc"].mean().reset_index()
            .sort_values("auc", ascending=False).drop_duplicates(["target", "family"]))
    return fold.merge(best[["target", "family", "config_id"]])


def _fig_cv(fold: pd.DataFrame, targets: list[str], figs: Figures, n_all: int) -> str:
    import matplotlib.pyplot as plt

    fold = fold[fold["target"].isin(targets)]
    targets = [t for t in targets if t in set(fold["target"])]
    families = sorted(fold["family"].unique())
    if not targets or not families:
        return ""
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(targets) * max(1, len(families)) / 2), 4.2))
    width = 0.8 / len(families)
    for j, fam in enumerate(families):
        data = [fold[(fold.target == t) & (fold.family == fam)]["auc"].dropna().to_numpy() for t in targets]
        pos = np.arange(len(targets)) + (j - (len(families) - 1) / 2) * width
        ok = [i for i, d in enumerate(data) if len(d)]
        bp = ax.boxplot([data[i] for i in ok], positions=pos[ok], widths=width * 0.9, patch_artist=True,
                        showfliers=False)
        color = OKABE_ITO[j % len(OKABE_ITO)]
        for b in bp["boxes"]:
            b.set_facecolor(color)
            b.set_alpha(0.8)
        for med in bp["medians"]:
            med.set_color("black")
        ax.plot([], [], color=color, lw=6, label=fam)
    ax.axhline(0.5, color=GREY, lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(targets)))
    ax.set_xticklabels([t[:30] for t in targets], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("CV AUC across folds (best config per family)")
    shown = f" (top {len(targets)} of {n_all} targets by test AUC)" if n_all > len(targets) else ""
    ax.set_title("Training cross-validation by model family" + shown)
    ax.legend(fontsize=8, ncol=len(families), loc="lower right")
    return figs.save(fig, "cv_auc_by_family", "Fold AUCs of each family's best configuration; dashed: chance.")


def _fig_test(overall: pd.DataFrame, figs: Figures, threshold: float, top: int) -> str:
    import matplotlib.pyplot as plt

    m = overall.dropna(subset=["auc"]).sort_values("auc", ascending=False).head(top).iloc[::-1]
    if m.empty:
        return ""
    fig, ax = plt.subplots(figsize=(6.5, max(2.5, 0.32 * len(m) + 1)))
    y = np.arange(len(m))
    err = np.vstack([m["auc"] - m["auc_ci_low"], m["auc_ci_high"] - m["auc"]]).clip(0)
    colors = [OKABE_ITO[0] if a >= threshold else GREY for a in m["auc"]]
    ax.barh(y, m["auc"], xerr=np.nan_to_num(err), color=colors, alpha=0.9, capsize=2)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{t[:35]} ({f})" for t, f in zip(m["target"], m["family"], strict=True)], fontsize=8)
    ax.axvline(0.5, color=GREY, lw=0.8, ls="--")
    ax.axvline(threshold, color=OKABE_ITO[0], lw=0.8, ls=":")
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"test AUC (95% bootstrap CI); blue: AUC >= {threshold:.2f}")
    n_all = int(overall["auc"].notna().sum())
    ax.set_title("Independent test cohort" + (f" (top {len(m)} of {n_all} targets)" if n_all > len(m) else ""))
    return figs.save(fig, "test_auc", "Test AUC of each target's selected model with its 95% bootstrap interval.")


def _fig_heatmap(mask: pd.DataFrame, source: str, figs: Figures, top: int = 15,
                 targets: list[str] | None = None) -> str:
    import matplotlib.pyplot as plt

    m = mask[(mask["source"] == source) & (mask["cohort"] == "test")].copy()
    if targets is not None:
        m = m[m["target"].isin(targets)]
    if m.empty:
        return ""
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
    ax.set_xticklabels([c[:30] for c in mat.columns], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(mat.shape[0]))
    ax.set_yticklabels([s[:45] for s in mat.index], fontsize=7)
    for i in range(mat.shape[0]):
        for j in range(mat.shape[1]):
            if q.iat[i, j] == q.iat[i, j] and q.iat[i, j] < 0.05:
                ax.text(j, i, "*", ha="center", va="center", fontsize=10, color="black")
    fig.colorbar(im, ax=ax, label="masking test AUC")
    ax.set_title(f"Gene-set masking, {source} (* q < 0.05)")
    return figs.save(fig, f"masking_heatmap_{safe_id(source)}",
                     "Masked test AUC of the top gene sets (rows) per target and class (columns).")


def _fig_null(mask: pd.DataFrame, null: pd.DataFrame, source: str, figs: Figures, max_panels: int = 12,
              target: str | None = None) -> str:
    """Per masked target (test cohort; the positive class or the micro-average): the random-set null AUCs
    as a histogram and every real set as a tick, significant sets in colour, the unmasked model's AUC dashed.
    With ``target``, that target's classes only (its per-target view)."""
    import matplotlib.pyplot as plt

    m = mask[(mask["source"] == source) & (mask["cohort"] == "test") & mask["p_value"].notna()]
    n = null[(null["source"] == source) & (null["cohort"] == "test")]
    if target is not None:
        m, n = m[m["target"] == target], n[n["target"] == target]
        keys = sorted({(target, c) for c in m["class"]}, key=lambda k: (k[1] != "micro", str(k[1])))
    else:
        qmin = m.groupby(["target", "class"], sort=True)["q_value"].min()
        n_classes = m.groupby("target")["class"].nunique()
        keys = [(t, c) for t, c in qmin.index if c == "micro" or n_classes[t] == 1]
        keys = sorted(keys, key=lambda k: np.nan_to_num(qmin[k], nan=2.0))
    keys = keys[:max_panels]
    if not keys or n.empty:
        return ""
    cols = min(3, len(keys))
    rows = int(np.ceil(len(keys) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.6 * rows), squeeze=False)
    for ax, (tgt, cls) in zip(axes.ravel(), keys, strict=False):
        g = m[(m["target"] == tgt) & (m["class"] == cls)]
        vals = n[(n["target"] == tgt) & (n["class"] == cls)]["auc"].dropna()
        ax.hist(vals, bins=40, color="#bbbbbb", density=True, label=f"{len(vals)} random sets")
        sig = g["call"] == "significant" if "call" in g else g["q_value"] < 0.05
        y0 = ax.get_ylim()[1]
        ax.plot(g.loc[~sig, "auc"], np.full((~sig).sum(), y0 * 0.05), "|", color=OKABE_ITO[0], ms=10, label="sets")
        ax.plot(g.loc[sig, "auc"], np.full(sig.sum(), y0 * 0.12), "|", color=OKABE_ITO[5], ms=12, mew=2,
                label="q < 0.05")
        if "auc_full" in g and g["auc_full"].notna().any():
            ax.axvline(g["auc_full"].iloc[0], color="black", ls="--", lw=0.8, label="unmasked model")
        ax.set_title(f"{tgt} ({cls})"[:50], fontsize=9)
        ax.set_xlabel("test AUC", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(keys):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Masking AUC of each {source} set against its random-set null", fontsize=10)
    fig.tight_layout()
    name = f"masking_null_{safe_id(source)}" + (f"_{safe_id(target)}" if target is not None else "")
    return figs.save(fig, name, "Grey: AUCs of random gene sets of matched size; ticks: the real sets "
                     "(vermillion: q < 0.05); dashed: the unmasked model.", lazy=target is not None)


def _curve_data(pred: pd.DataFrame, classes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels and probabilities of one target's test patients: patients x classes, in the model's order."""
    lab = pred.pivot(index="sample_id", columns="class", values="label")
    prob = pred.pivot(index="sample_id", columns="class", values="probability")
    order = [c for c in classes if c in lab.columns] + [c for c in lab.columns if c not in classes]
    return lab[order].astype(int), prob[order].astype(float)


def _fig_roc_pr(target: str, pred: pd.DataFrame, classes: list[str], prior: np.ndarray | None,
                positive: str | None, figs: Figures) -> tuple[str, str]:
    """ROC and precision-recall curves of one target on the test cohort (scikit-learn's displays): the positive
    class of a binary target with the prior-only baseline (diagonal / prevalence); for a multiclass target each
    class one-vs-rest, the micro average, and the micro curve of the prior-only model (training class
    frequencies as every patient's probabilities)."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    lab, prob = _curve_data(pred, classes)
    tid = safe_id(target)
    out = []
    for kind, display in (("roc", RocCurveDisplay), ("pr", PrecisionRecallDisplay)):
        fig, ax = plt.subplots(figsize=(3.9, 3.6))
        drawn = 0
        if lab.shape[1] == 2:
            pos = positive if positive in lab.columns else lab.columns[1]
            y = lab[pos].to_numpy()
            if 0 < y.sum() < len(y):
                display.from_predictions(y, prob[pos].to_numpy(), name=f"{pos}", ax=ax,
                                         curve_kwargs={"color": OKABE_ITO[0], "lw": 1.8}, plot_chance_level=True,
                                         chance_level_kw={"label": "prior only", "color": GREY, "ls": "--"})
                drawn += 1
        else:
            for k, c in enumerate(lab.columns):
                y = lab[c].to_numpy()
                if 0 < y.sum() < len(y):
                    display.from_predictions(y, prob[c].to_numpy(), name=str(c), ax=ax,
                                             curve_kwargs={"color": OKABE_ITO[(k + 1) % len(OKABE_ITO)], "lw": 1.2})
                    drawn += 1
            Y = lab.to_numpy()
            if 0 < Y.sum() < Y.size and drawn:
                display.from_predictions(Y.ravel(), prob.to_numpy().ravel(), name="micro-average", ax=ax,
                                         curve_kwargs={"color": "black", "lw": 2})
                if prior is not None and len(prior) == Y.shape[1]:
                    display.from_predictions(Y.ravel(), np.tile(prior, (Y.shape[0], 1)).ravel(),
                                             name="prior only (micro)", ax=ax,
                                             curve_kwargs={"color": GREY, "ls": "--", "lw": 1.2})
        if not drawn:
            plt.close(fig)
            out.append("")
            continue
        if kind == "roc":
            ax.set_xlabel("false positive rate (1 - specificity)")
            ax.set_ylabel("true positive rate (sensitivity)")
        else:
            ax.set_xlabel("recall (sensitivity)")
            ax.set_ylabel("precision (positive predictive value)")
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.legend(loc="lower right" if kind == "roc" else "lower left", fontsize=7)
        ax.set_title(f"{target[:40]}: {'ROC' if kind == 'roc' else 'precision-recall'} (test cohort)", fontsize=9)
        out.append(figs.save(fig, f"{kind}_{tid}", lazy=True))
    return out[0], out[1]


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


def _overall(metrics: pd.DataFrame | None) -> pd.DataFrame:
    """One metrics row per target: the binary row, or the micro-average of a multiclass target."""
    if metrics is None or metrics.empty:
        return pd.DataFrame(columns=["target", "family", "config_id", "cv_auc", "auc", "auc_ci_low", "auc_ci_high"])
    return metrics[metrics["averaging"] != "one-vs-rest"].drop_duplicates("target")


def _significant_sets(mask: pd.DataFrame | None) -> pd.DataFrame:
    """Significant gene-set associations on the test cohort (call == significant, else q < 0.05), best first."""
    if mask is None or mask.empty:
        return pd.DataFrame(columns=["target", "class", "source", "gene_set", "auc", "q_value"])
    test = mask[mask["cohort"] == "test"]
    sig = test[test["call"] == "significant"] if "call" in test else test[test["q_value"] < 0.05]
    return sig.sort_values(["q_value", "auc"], ascending=[True, False])


def _overview(overall: pd.DataFrame, sig: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """One row per target with a test AUC, best first: model, CV and test AUC with CI, q, significant sets."""
    rows = []
    empty = sig.head(0)
    sig_of = dict(tuple(sig.groupby("target", sort=False))) if len(sig) else {}
    for r in overall.sort_values("auc", ascending=False, na_position="last").itertuples():
        s = sig_of.get(r.target, empty)
        top = "; ".join(f"{gs} [{c}] q={_format_number(q)}"
                        for gs, c, q in zip(s["gene_set"].head(3), s["class"].head(3), s["q_value"].head(3),
                                            strict=True))
        ci = (f"{r.auc_ci_low:.2f}-{r.auc_ci_high:.2f}" if pd.notna(r.auc_ci_low) and pd.notna(r.auc_ci_high)
              else "")
        rows.append({"target": r.target, "test_auc": r.auc, "ci95": ci, "auc_q": getattr(r, "auc_q", np.nan),
                     "passes": bool(pd.notna(r.auc) and r.auc >= threshold), "model": f"{r.family} {r.config_id}",
                     "cv_auc": r.cv_auc, "n_test": r.n, "significant_sets": len(s),
                     "top_sets": top + (f"; +{len(s) - 3} more" if len(s) > 3 else "")})
    return pd.DataFrame(rows, columns=["target", "test_auc", "ci95", "auc_q", "passes", "model", "cv_auc", "n_test",
                                       "significant_sets", "top_sets"])


def _linked(ov: pd.DataFrame) -> pd.DataFrame:
    """The overview with each target a link to its per-target view."""
    out = ov.copy()
    out["target"] = [f'<a href="#target-{html.escape(safe_id(t))}">{html.escape(str(t))}</a>' for t in ov["target"]]
    out["passes"] = np.where(ov["passes"], "yes", "")
    return out


def _headline_html(ov: pd.DataFrame, overall: pd.DataFrame, chance: pd.DataFrame | None, sig: pd.DataFrame,
                   threshold: float, notes: str, top: int) -> str:
    n_auc = int(overall["auc"].notna().sum()) if len(overall) else 0
    passing = ov[ov["passes"]]
    cards = [(f"{len(passing)} of {n_auc}", f"targets reach test AUC &ge; {threshold:.2f}")]
    if chance is not None and len(chance):
        row = chance.iloc[0]
        cards.append((f"{row['expected_by_chance']:.1f}", "would by chance alone (label permutation)"))
        cards.append((f"{int(row['significant_q05'])}", "targets at test-AUC q &lt; 0.05"))
    cards.append((f"{len(sig)}", "significant gene-set / target associations (q &lt; 0.05)"))
    out = ["<div class=cards>" + "".join(f"<div class=card><b>{v}</b><span>{t}</span></div>" for v, t in cards)
           + "</div>", notes]
    shown = passing if len(passing) else ov.head(5)
    title = (f"Targets predicted on the independent test cohort (AUC &ge; {threshold:.2f})" if len(passing)
             else f"No target reaches {threshold:.2f}; the best five")
    cols = ["target", "test_auc", "ci95", "auc_q", "model", "cv_auc", "significant_sets", "top_sets"]
    out.append(f"<h3>{title}</h3><p>Best model per target (the family and configuration chosen by CV), its test AUC "
               "with the 95% bootstrap interval and label-permutation q-value, and the gene sets that carry the "
               "prediction (masking, q &lt; 0.05, best three). Click a target for its curves.</p>")
    out.append(_table_html(_linked(shown)[cols], "tbl-headline", max_rows=top, raw=("target",)))
    if len(shown) > top:
        out.append(f'<p>All {len(ov):,} targets: <a href="#targets">per-target results</a>.</p>')
    return "\n".join(out)


def _paper_cohort(labels: pd.DataFrame | None, simulated: bool) -> str:
    if simulated:
        return "simulated cohort: not comparable"
    src = " ".join(map(str, labels["source_cohort"].unique())).lower() if labels is not None and \
        "source_cohort" in labels else ""
    if any(k in src for k in ("lung3", "gse58661", "maastricht")):
        return "same test cohort as the paper (Lung3); training cohort may differ"
    return "different cohort"


def _paper_comparison(metrics: pd.DataFrame | None, tasks: pd.DataFrame | None, mask: pd.DataFrame | None,
                      labels: pd.DataFrame | None, simulated: bool) -> pd.DataFrame:
    """The paper's reported test values beside this run's, where the run's targets are the paper's kind
    (histology, stage, radiomic features); empty when none is."""
    from radplug.data.radiomics import AERTS_NAMES
    from radplug.explain.modules_compare import pathway_key

    if metrics is None or metrics.empty:
        return pd.DataFrame()
    cohort = _paper_cohort(labels, simulated)
    rows = []

    def ours(target: str, cls: str) -> str:
        m = metrics[(metrics["target"] == target) & (metrics["class"].astype(str) == cls)]
        if m.empty or pd.isna(m["auc"].iloc[0]):
            return "not estimable" if len(m) else "class not in this run"
        r = m.iloc[0]
        return f"{r['auc']:.2f} ({r['auc_ci_low']:.2f}-{r['auc_ci_high']:.2f})"

    if "histology" in set(metrics["target"]):
        for cls, val in PAPER["histology"].items():
            rows.append({"quantity": f"histology test AUC, {'micro-average' if cls == 'micro' else cls}",
                         "paper": f"{val:.2f}", "this run (95% CI)": ours("histology", cls), "cohort": cohort})
    if "stage" in set(metrics["target"]):
        rows.append({"quantity": "stage test AUC, micro-average", "paper": "poorly predicted by every model",
                     "this run (95% CI)": ours("stage", "micro"), "cohort": cohort})
    if tasks is not None and "source" in tasks:
        rad = set(tasks.loc[tasks["source"] == "radiomic", "target"])
        ov = metrics[(metrics["averaging"] == "binary") & metrics["target"].isin(rad)]
        if len(ov):
            known = {n for names in AERTS_NAMES.values() for n in names}
            aerts = sum(t in known for t in rad)
            names = (f"Aerts-style names ({aerts} of {len(rad)})" if aerts else
                     "other feature definitions (not Aerts et al.'s)")
            k, n = PAPER["radiomic_passing"]
            lo, hi = PAPER["radiomic_range"]
            rows.append({"quantity": "radiomic features at test AUC >= 0.70", "paper": f"{k} of {n}",
                         "this run (95% CI)": f"{int((ov['auc'] >= 0.7).sum())} of {len(ov)}",
                         "cohort": f"{cohort}; {names}"})
            rows.append({"quantity": "radiomic feature test AUC range", "paper": f"{lo:.2f}-{hi:.2f}",
                         "this run (95% CI)": f"{ov['auc'].min():.2f}-{ov['auc'].max():.2f}",
                         "cohort": f"{cohort}; {names}"})
    if rows and mask is not None and len(mask) and "histology" in set(mask["target"]):
        test = mask[(mask["cohort"] == "test") & (mask["target"] == "histology")].copy()
        test["key"] = test["gene_set"].map(pathway_key)
        for name, val in PAPER["sets"].items():
            g = test[test["key"] == pathway_key(name)]
            if len(g):
                text = ", ".join(f"{r['class']} {r['auc']:.2f}" + (f" (q={_format_number(r['q_value'])})"
                                                                    if pd.notna(r.get("q_value")) else "")
                                 for _, r in g.iterrows())
                rows.append({"quantity": f"masking test AUC, histology, {name}", "paper": val,
                             "this run (95% CI)": text, "cohort": cohort})
    return pd.DataFrame(rows)


def _rows_by(df: pd.DataFrame | None, cols: tuple[str, ...], keys: list[str]) -> dict[tuple, tuple[str, list[str]]]:
    """The rows of ``df`` rendered as HTML once, grouped by ``keys``: {key values: (header row, rows)}. Renders
    per-target tables for thousands of targets in one pass."""
    if df is None or df.empty:
        return {}
    cols = tuple(c for c in cols if c in df)
    rendered = []
    for c in cols:
        col = df[c]
        rendered.append([_format_number(v) for v in col] if pd.api.types.is_float_dtype(col)
                        else [_cell(v) for v in col])
    rows = ["<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in zip(*rendered, strict=True)]
    head = "<thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr></thead>"
    out: dict[tuple, tuple[str, list[str]]] = {}
    for key, row in zip(zip(*[df[k] for k in keys], strict=True), rows, strict=True):
        out.setdefault(key, (head, []))[1].append(row)
    return out


def _rows_table(part: tuple[str, list[str]] | None, table_id: str) -> str:
    if not part:
        return ""
    head, rows = part
    return (f'<table border="0" class="tbl" id="{html.escape(table_id)}">{head}<tbody>\n' + "\n".join(rows)
            + "\n</tbody></table>")


TARGET_METRICS = ("class", "averaging", "n", "n_pos", "auc", "auc_ci_low", "auc_ci_high", "auc_prior", "ap",
                  "accuracy", "auc_p", "auc_q", "note")
TARGET_CV = ("family", "config_id", "folds", "mean", "sd", "min", "median", "max", "selected")
TARGET_MASK = ("class", "rank", "gene_set", "auc", "auc_full", "coverage", "p_value", "q_value", "call", "note")
TARGET_PERM = ("source", "class", "rank", "gene_set", "auc_drop", "auc_drop_sd", "auc", "auc_full", "note")


def _target_view(t: str, ov_row: pd.Series | None, tables: dict[str, dict], sources: list[str],
                 mask: pd.DataFrame | None, null: pd.DataFrame | None, curves: tuple[str, str] | None,
                 figs: Figures, draw: bool, top: int) -> str:
    """The body of one target's collapsed view (inside a <template>: built in the page when opened). ``tables``:
    rows rendered by :func:`_rows_by` (metrics, cv, perm by target; mask by target and source); ``mask`` and
    ``null`` are the target's rows for its null figure (drawn when ``draw``)."""
    tid = safe_id(t)
    parts = []
    if curves is not None:
        roc, pr = curves
        if roc or pr:
            parts.append(f"<div class=curves>{roc}{pr}</div>")
        else:
            parts.append("<p class=warn>No ROC or precision-recall curve: the test cohort has a single class "
                         "for this target (see the note below).</p>")
    elif ov_row is not None:
        parts.append(f"<p>Curves are drawn for the top {top} targets by test AUC; this one is in the tables "
                     "(rebuild with <code>radplug report RESULTS --top-n N</code> for more).</p>")
    if (t,) in tables["metrics"]:
        parts.append("<h4>Test cohort</h4>" + _rows_table(tables["metrics"][(t,)], f"tbl-t-{tid}-test"))
    if (t,) in tables["cv"]:
        parts.append("<h4>Cross-validation AUC by family (best configuration of each)</h4>"
                     + _rows_table(tables["cv"][(t,)], f"tbl-t-{tid}-cv"))
    for source in sources:
        if (t, source) in tables["mask"]:
            parts.append(f"<h4>Masking ranking, {html.escape(source)} (top {TOP_N} per class)</h4>"
                         + _rows_table(tables["mask"][(t, source)], f"tbl-t-{tid}-mask-{safe_id(source)}"))
            if draw and mask is not None and null is not None and len(null):
                parts.append(_fig_null(mask, null, source, figs, target=t))
    if (t,) in tables["perm"]:
        parts.append("<h4>Permutation importance (top 5 per class)</h4>"
                     + _rows_table(tables["perm"][(t,)], f"tbl-t-{tid}-perm"))
    return "\n".join(parts)


def _summary_line(overall: pd.DataFrame, chance: pd.DataFrame | None, sig: pd.DataFrame, threshold: float) -> str:
    """One line for the end of the run's log: targets passing, chance, the best targets, the top gene sets."""
    ov = overall.dropna(subset=["auc"]).sort_values("auc", ascending=False)
    text = f"radplug summary: {int((ov['auc'] >= threshold).sum())} of {len(ov)} targets at test AUC >= {threshold:.2f}"
    if chance is not None and len(chance):
        text += f" ({chance.iloc[0]['expected_by_chance']:.1f} expected by chance)"
    if len(ov):
        text += "; best: " + ", ".join(
            f"{r.target} {r.auc:.2f} [{r.auc_ci_low:.2f}-{r.auc_ci_high:.2f}] ({r.family})"
            for r in ov.head(3).itertuples())
    if len(sig):
        text += f"; {len(sig)} significant gene-set associations, top: " + ", ".join(
            f"{t}/{c}: {g} (q={_format_number(q)})"
            for t, c, g, q in zip(sig["target"].head(3), sig["class"].head(3), sig["gene_set"].head(3),
                                  sig["q_value"].head(3), strict=True))
    else:
        text += "; no significant gene-set association"
    return text


def build_report(results: str | Path, outdir: str | Path | None = None, top_n: int | None = None) -> Path:
    """Build report/report.html, report/figures/*.svg|png, report/tables/*.csv and report/summary.txt (the run's
    one-line summary) from a results folder. ``top_n``: targets (best test AUC first) drawn in figures."""
    _style()
    top_n = TOP_FIGURES if top_n is None else max(0, int(top_n))
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
    predictions = _read(results, "evaluation/predictions.parquet")
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
    if chance is not None and len(chance):
        threshold = float(chance.iloc[0]["threshold"])
    else:
        try:
            threshold = float(params.get("mask_min_auc", 0.7))
        except (TypeError, ValueError):
            threshold = 0.7
    simulated = truth is not None or (bool(params) and not params.get("input"))

    overall = _overall(metrics)
    sig = _significant_sets(mask)
    ov = _overview(overall, sig, threshold)
    ov.to_csv(tables_dir / "targets_overview.csv", index=False)
    ranked = list(ov["target"])
    drawn = set(ranked[:top_n])
    folds = _best_folds(cv) if cv is not None and len(cv) else None

    sections: list[tuple[str, str, str]] = []   # (id, title, html)

    # --- headline
    sections.append(("headline", "Headline", _headline_html(ov, overall, chance, sig, threshold,
                                                           _intro(metrics, mask, chance), top_n)))

    # --- paper comparison
    paper = _paper_comparison(metrics, tasks, mask, labels, simulated)
    if len(paper):
        paper.to_csv(tables_dir / "paper_comparison.csv", index=False)
        sections.append(("paper", "Comparison with the paper", "<p>Smedley et al., J. Med. Imaging 8(3):031906 "
                         "(2021): test cohort of 89 patients (Maastricht, GSE58661), training 262 (Moffitt). Values "
                         "from a different cohort are not a replication: cohort size, platform and labels differ."
                         "</p>" + _table_html(paper, "tbl-paper")))

    # --- per-target views
    classes_of = ({r.target: json.loads(r.classes) for r in tasks.itertuples()}
                  if tasks is not None and "classes" in tasks else {})
    def by_target(df: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
        return {} if df is None or "target" not in df else dict(tuple(df.groupby("target", sort=False)))

    cv_agg = mask_top = perm_top = None
    if folds is not None and len(folds):
        cv_agg = (folds.groupby(["target", "family", "config_id"])["auc"]
                  .agg(folds="size", mean="mean", sd="std", min="min", median="median", max="max").reset_index())
        if selection is not None:
            chosen = set(zip(*[selection.loc[selection["selected"], c] for c in ("target", "family")], strict=True))
            cv_agg["selected"] = ["yes" if k in chosen else "" for k in zip(cv_agg["target"], cv_agg["family"],
                                                                           strict=True)]
        cv_agg = cv_agg.sort_values(["target", "mean"], ascending=[True, False])
    if mask is not None and len(mask):
        mask_top = (mask[mask["cohort"] == "test"].sort_values(["target", "source", "class", "rank"])
                    .groupby(["target", "source", "class"]).head(TOP_N))
    if perm is not None and len(perm):
        perm_top = (perm.sort_values(["target", "source", "class", "rank"])
                    .groupby(["target", "source", "class"]).head(5))
    split = {name: by_target(df) for name, df in (("mask", mask), ("null", null), ("pred", predictions))}
    tables = {"metrics": _rows_by(metrics, TARGET_METRICS, ["target"]), "cv": _rows_by(cv_agg, TARGET_CV, ["target"]),
              "mask": _rows_by(mask_top, TARGET_MASK, ["target", "source"]),
              "perm": _rows_by(perm_top, TARGET_PERM, ["target"])}
    sources = sorted(mask["source"].unique()) if mask is not None and len(mask) else []

    def part(name: str, t: str) -> pd.DataFrame | None:
        return split[name].get(t)

    views = []
    ranked_set = set(ranked)
    ov_rows = {r["target"]: r for _, r in ov.iterrows()}
    for t in ranked + [x for x in classes_of if x not in ranked_set]:
        ov_row = ov_rows.get(t)
        curves = None
        if t in drawn and part("pred", t) is not None:
            pred = part("pred", t)
            if len(pred):
                classes = classes_of.get(t, sorted(pred["class"].unique()))
                prior = None
                if targets is not None and t in targets:
                    train = targets.loc[targets["cohort"] == "train", t].dropna().astype(str)
                    if len(train):
                        prior = train.value_counts(normalize=True).reindex(classes).fillna(0).to_numpy()
                pos = overall.loc[overall["target"] == t, "class"]
                curves = _fig_roc_pr(t, pred, classes, prior, str(pos.iloc[0]) if len(pos) else None, figs)
        body = _target_view(t, ov_row, tables, sources, part("mask", t), part("null", t), curves, figs, t in drawn,
                            top_n)
        if ov_row is not None:
            ci = f" [{ov_row['ci95']}]" if ov_row["ci95"] else ""
            summ = (f"<b>{html.escape(str(t))}</b> <span class=auc>test AUC {_format_number(ov_row['test_auc'])}"
                    f"{ci}</span> {html.escape(ov_row['model'])}"
                    + (f" &middot; {ov_row['significant_sets']} significant gene sets" if ov_row["significant_sets"]
                       else ""))
        else:
            summ = f"<b>{html.escape(str(t))}</b> no test AUC"
        views.append(f'<details class=target id="target-{html.escape(safe_id(t))}" '
                     f'data-target="{html.escape(str(t).lower())}"><summary>{summ}</summary>'
                     f"<template>{body}</template></details>")
    if views:
        parts = [f"<p>{len(views):,} targets, best test AUC first. Open one for its ROC and precision-recall curves "
                 f"on the test cohort (the top {top_n}), its CV AUC by family, its masking ranking with q-values "
                 "and null, and permutation importance where it ran.</p>",
                 "<h3>All targets</h3>" + _table_html(_linked(ov), "tbl-targets", interactive=True, raw=("target",)),
                 '<h3>Per-target views</h3><input class="filter" placeholder="filter targets..." '
                 'data-details="target-views"> <span class="count" id="target-views-count"></span>'
                 '<div id="target-views">' + "\n".join(views) + "</div>"]
        sections.append(("targets", "Per-target results", "\n".join(parts)))

    # --- models
    parts = []
    if folds is not None and len(folds):
        order = ranked + sorted(set(folds["target"]) - set(ranked))
        parts.append(_fig_cv(folds, order[:top_n], figs, len(set(folds["target"]))))
    if selection is not None:
        sel = selection[["target", "family", "config_id", "auc_mean", "auc_sd", "ap_mean", "n_folds", "selected"]]
        sel.to_csv(tables_dir / "model_comparison.csv", index=False)
        piv = selection.pivot_table(index="target", columns="family", values="auc_mean").round(3)
        piv.to_csv(tables_dir / "cv_auc_by_family.csv")
        parts.append("<h3>Mean CV AUC by family (best configuration of each)</h3>"
                     + _table_html(piv.reset_index(), "tbl-cv-family", interactive=len(piv) > 20))
    if chance is not None and len(chance):
        parts.append(f"<p id=chance>{html.escape(_chance_sentence(chance.iloc[0]))} Each target's test-AUC "
                     "p-value (<code>auc_p</code>, label permutation) and q-value (<code>auc_q</code>, "
                     "Benjamini-Hochberg over the run's targets) are in the table below.</p>")
    if metrics is not None and len(metrics):
        parts.append(_fig_test(overall, figs, threshold, top_n))
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
        drawn_sets = prov.get("random_sets_drawn")
        parts.append("<p>p-values: sequential Monte Carlo against random gene sets of matched size (valid by "
                     "construction; see docs/masking.md). q-values: Benjamini-Hochberg within each family of "
                     f"tests ({html.escape(fam)})"
                     + (f"; {int(drawn_sets):,} random gene sets were drawn in all" if drawn_sets else "")
                     + ". A target whose masked predictions saturate is marked <em>saturated</em> and gets no "
                     "q-value: masking cannot rank its sets (see permutation importance).</p>")
        top_targets = ranked[:top_n]
        for source in sorted(mask["source"].unique()):
            parts.append(f"<h3>Source: {html.escape(source)}</h3>")
            calls = _calls_table(mask, source)
            calls.to_csv(tables_dir / f"masking_calls_{source}.csv", index=False)
            parts.append("<h4>Calls per target (test cohort)</h4>"
                         + _table_html(calls, f"tbl-calls-{source}", interactive=len(calls) > 20))
            parts.append(_fig_heatmap(mask, source, figs, targets=top_targets))
            if null is not None and len(null):
                parts.append(_fig_null(mask, null, source, figs))
            top = (mask[(mask["source"] == source) & (mask["cohort"] == "test")]
                   .sort_values(["target", "class", "rank"]).groupby(["target", "class"]).head(TOP_N))
            cols = [c for c in ["target", "class", "rank", "gene_set", "auc", "auc_full", "ap", "n_genes",
                                "n_present", "coverage", "p_value", "n_random", "q_value", "call", "note"]
                    if c in top]
            top[cols].to_csv(tables_dir / f"masking_top{TOP_N}_{source}.csv", index=False)
            parts.append(f"<h4>Top {TOP_N} gene sets per target (test cohort)</h4>"
                         + _table_html(top[cols], f"tbl-top-{source}", max_rows=5000, interactive=True))
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
                         + _table_html(ptop, "tbl-permutation", max_rows=5000, interactive=len(ptop) > 50))
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

    # --- data
    parts = []
    if labels is not None:
        counts = labels.groupby(["cohort", "source_cohort"]).size().rename("samples").reset_index()
        parts.append("<h3>Cohorts</h3>" + _table_html(counts, "tbl-cohorts"))
    if targets is not None and tasks is not None:
        cls_rows = []
        by_cohort = [(cohort, g) for cohort, g in targets.groupby("cohort")]   # split once: 1,000s of columns
        for t in tasks["target"]:
            if t not in targets:
                continue
            for cohort, g in by_cohort:
                vc = g[t].value_counts()
                missing = int(g[t].isna().sum())
                text = ", ".join(f"{k}: {v}" for k, v in vc.items()) + (f" (unlabelled: {missing})" if missing else "")
                cls_rows.append({"target": t, "cohort": cohort, "classes": text})
        if cls_rows:
            cls = (pd.DataFrame(cls_rows).pivot(index="target", columns="cohort", values="classes")
                   .reindex(list(tasks["target"])).reset_index())
            cls.to_csv(tables_dir / "class_counts.csv", index=False)
            parts.append("<h3>Samples per class</h3>"
                         + _table_html(cls, "tbl-classes", max_rows=5000, interactive=len(cls) > 20))
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
    sections.append(("data", "Data", "\n".join(parts)))

    # --- appendix: inputs, parameters, versions, timings
    parts = []
    if params:
        inputs = {"input": params.get("input") or "embedded synthetic cohort (seed {})".format(params.get("seed")),
                  "gene sets": params.get("genesets") or "simulated collection (custom)",
                  "models": f"{params.get('models')} (grid {params.get('grid')}, {params.get('cv_folds')}-fold CV)"}
        parts.append("<h3>Inputs</h3>" + _table_html(pd.DataFrame(list(inputs.items()), columns=["", "value"]),
                                                     "tbl-inputs"))
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
    sections.append(("appendix", "Appendix: inputs, parameters and versions", "\n".join(parts)))

    nav = " | ".join(f'<a href="#{sid}">{html.escape(t)}</a>' for sid, t, _ in sections)
    body = "\n".join(f'<section id="{sid}"><h2>{html.escape(t)}</h2>{h}</section>' for sid, t, h in sections)
    page = _PAGE.format(version=__version__, nav=nav, body=body)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    summary = _summary_line(overall, chance, sig, threshold)
    (out / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    log.info("report written to %s (%d figures as SVG and 300-dpi PNG)", path, len(figs.written))
    log.info("%s", summary)
    return path


def _nested_html(nested: pd.DataFrame, selection: pd.DataFrame | None, metrics: pd.DataFrame | None,
                 tables_dir: Path) -> str:
    """The nested-CV section: per target the selected configuration's CV AUC (optimistic), the nested-CV AUC
    and the test AUC side by side (tables/estimates.csv; per outer fold: tables/nested_cv.csv)."""
    from radplug.training.nested import nested_summary

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
    """The headline's sentences: targets passing beside chance, metrics that cannot be estimated, saturation."""
    lines = []
    if chance is not None and len(chance):
        lines.append(_chance_sentence(chance.iloc[0]))
    elif metrics is not None and len(metrics):
        m = metrics[metrics["averaging"] != "one-vs-rest"]
        lines.append(f"{int((m['auc'] >= 0.7).sum())} of {len(m)} targets reach a test AUC of at least 0.70.")
    if metrics is not None and len(metrics):
        undefined = _undefined_metrics(metrics)
        if len(undefined):
            listed = "; ".join(f"{r.target} / {r['class']}: {r.note}" for _, r in undefined.head(5).iterrows())
            lines.append(f"{len(undefined)} metric row(s) cannot be estimated on the test cohort and are left "
                         f"empty: {listed}" + (" (and more, see below)." if len(undefined) > 5 else "."))
    if mask is not None and len(mask):
        test = mask[mask["cohort"] == "test"]
        if "saturated" in test and test["saturated"].any():
            sat = sorted(test.loc[test["saturated"], "target"].unique())
            more = f" and {len(sat) - 10} more (the masking table's saturated column)" if len(sat) > 10 else ""
            lines.append(f"Saturated (masking cannot rank sets) for {len(sat)} target(s): {', '.join(sat[:10])}"
                         f"{more}.")
    return "".join(f"<p class=lead>{html.escape(x)}</p>" for x in lines)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>radplug report</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px;
       color: #222; padding: 0 1em; }}
h1 {{ border-bottom: 2px solid #0072B2; margin-bottom: 0.2em; }}
h2 {{ margin-top: 2em; border-bottom: 1px solid #ccc; }}
#headline h2 {{ margin-top: 0.5em; }}
nav {{ margin: 1em 0; }} .lead {{ font-size: 1.05em; }} .warn {{ color: #8c510a; }}
.sub {{ color: #555; margin-top: 0; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 0.8em; margin: 0.5em 0 1em; }}
.card {{ border: 1px solid #cfd8e3; border-left: 4px solid #0072B2; padding: 0.5em 0.9em; min-width: 10em; }}
.card b {{ display: block; font-size: 1.6em; }} .card span {{ font-size: 0.85em; color: #444; }}
img.fig {{ max-width: 100%; display: block; margin: 0.5em 0; }}
figure {{ margin: 0.5em 0 1em; }} figcaption {{ font-size: 0.8em; color: #555; max-width: 60em; }}
.files {{ color: #888; }} .curves {{ display: flex; flex-wrap: wrap; gap: 1em; }}
details.target {{ border: 1px solid #e2e2e2; margin: 0.2em 0; padding: 0.2em 0.6em; }}
details.target[open] {{ background: #fbfbfb; }} details.target summary {{ cursor: pointer; }}
.auc {{ color: #0072B2; }}
table.tbl {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }}
table.tbl th, table.tbl td {{ border: 1px solid #ddd; padding: 3px 6px; text-align: left; }}
table.tbl th {{ background: #f3f3f3; cursor: pointer; position: sticky; top: 0; }}
section {{ content-visibility: auto; contain-intrinsic-size: auto 1200px; }}   /* lay out a section when shown */
#headline {{ content-visibility: visible; }}
input.filter {{ padding: 3px; width: 20em; }} pre {{ background: #f7f7f7; padding: 0.5em; overflow-x: auto; }}
</style></head><body>
<h1>radplug report</h1><p class=sub>radplug {version}. Gene expression &rarr; CT radiomic features and histology,
explained by gene-set masking (Smedley et al., J. Med. Imaging 2021).</p>
<nav>{nav}</nav>
{body}
<script>
function fillView(d) {{
  var t = d.querySelector(":scope > template");
  if (t) {{ d.appendChild(t.content.cloneNode(true)); t.remove(); }}
}}
document.querySelectorAll("details.target").forEach(function (d) {{
  d.addEventListener("toggle", function () {{ if (d.open) fillView(d); }});
}});
function openHash() {{
  var el = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (el && el.tagName === "DETAILS") {{ el.open = true; fillView(el); el.scrollIntoView(); }}
}}
window.addEventListener("hashchange", openHash); openHash();
document.querySelectorAll("input.filter").forEach(function (box) {{
  var id = box.dataset.table || box.dataset.details, count = document.getElementById(id + "-count");
  var container = document.getElementById(id);
  function items() {{
    return box.dataset.table ? container.tBodies[0].rows : container.querySelectorAll(":scope > details");
  }}
  function text(el) {{
    return box.dataset.table ? el.textContent.toLowerCase() : el.dataset.target;
  }}
  function apply() {{
    var q = box.value.toLowerCase(), shown = 0, rows = items();
    for (var i = 0; i < rows.length; i++) {{
      var ok = text(rows[i]).indexOf(q) >= 0;
      rows[i].style.display = ok ? "" : "none"; if (ok) shown++;
    }}
    count.textContent = shown + (box.dataset.table ? " rows" : " targets");
  }}
  box.addEventListener("input", apply);
  count.textContent = items().length + (box.dataset.table ? " rows" : " targets");   // no style writes at load
}});
document.addEventListener("click", function (ev) {{
  var th = ev.target.closest("table.tbl th");
  if (!th) return;
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
</script>
</body></html>
"""
