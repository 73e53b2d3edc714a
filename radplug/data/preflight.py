"""PREFLIGHT: every check that can be made before training, made at once, right after INGEST and before
VALIDATE publishes anything: parameters (ranges, duplicates, empty tokens, unknown names), gene-set files
(parsed, and their coverage of the expression genes) and targets (classes and counts per class per cohort,
against ``--cv_folds``; a continuous column given as a clinical target). All problems are reported together,
each naming the parameter, file, target or class and what to do."""

from __future__ import annotations

import logging

import pandas as pd

from radplug.io import RadplugInputError
from radplug.options import PreflightOptions

log = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1



def _tokens(value: str, param: str, problems: list[str]) -> list[str]:
    """Comma-separated names; empty tokens and duplicates are problems."""
    raw = [t.strip() for t in str(value).split(",")]
    if any(not t for t in raw):
        problems.append(f"--{param} '{value}': an empty name (a stray comma?); give names separated by single "
                        "commas, e.g. --models mlp,enet")
    names = [t for t in raw if t]
    dup = sorted({t for t in names if names.count(t) > 1})
    if dup:
        problems.append(f"--{param} '{value}' lists {', '.join(dup)} more than once; give each name once")
    return list(dict.fromkeys(names))


def check_parameters(p: PreflightOptions) -> list[str]:
    """Problems with the run's parameters (empty when none)."""
    from radplug.plugins import PluginError, get_family, interpreters
    from radplug.training.search import grid

    problems: list[str] = []
    families = _tokens(p.models, "models", problems)
    if not families and not any(pr.startswith("--models") for pr in problems):
        problems.append("--models is empty: name at least one model family (radplug plugins lists them)")
    elif not families:
        problems.append(f"--models '{p.models}' names no model family: nothing would be "
                        "trained; name at least one (radplug plugins lists them)")
    # 'auto' is standard on user data and fast on the embedded cohort (radplug.training.search.resolve_preset)
    presets = ["standard", "fast"] if p.grid == "auto" else [p.grid]
    for fam in families:
        try:
            get_family(fam)
            for preset in presets:
                grid(fam, preset)
        except (PluginError, KeyError, ValueError) as exc:
            problems.append(f"--models / --grid: {str(exc).strip(chr(39))}")
    known = interpreters()
    for name in _tokens(p.interpreters, "interpreters", problems):
        if name not in known:
            problems.append(f"--interpreters: unknown interpreter '{name}'; available: {', '.join(sorted(known))}")
    if not 0 <= p.seed <= MAX_SEED:
        problems.append(f"--seed {p.seed}: must be an integer from 0 to {MAX_SEED}")
    if p.cv_folds < 2:
        problems.append(f"--cv_folds {p.cv_folds}: cross-validation needs at least 2 folds; use "
                        "2 or more (10 is usual)")
    if p.n_boot < 0:
        problems.append(f"--n_boot {p.n_boot}: must be 0 (no bootstrap interval) or more")
    if p.mask_n_random < 1:
        problems.append(f"--mask_n_random {p.mask_n_random}: must be at least 1 (random gene sets drawn first)")
    if p.min_set_size < 1:
        problems.append(f"--min_set_size {p.min_set_size}: must be 1 or more")
    if p.max_set_size < p.min_set_size:
        problems.append(f"--max_set_size {p.max_set_size} is below --min_set_size {p.min_set_size}: no gene set "
                        "could pass")
    if p.nested_cv < 0 or p.nested_cv == 1:
        problems.append(f"--nested_cv {p.nested_cv}: give 0 (off) or the number of outer folds, at least 2 "
                        "(5 is usual)")
    if not 0 <= p.min_minority < 0.5:
        problems.append(f"--min_minority {p.min_minority}: must be from 0 to below 0.5")
    return problems


def check_gene_sets(sources: list[tuple[str, str | None]], genes: list[str], p: PreflightOptions,
                    shown: list[str] | None = None) -> tuple[list[str], list[str], pd.DataFrame]:
    """(problems, warnings, one row per source: sets, sets kept, genes, genes measured) for the gene-set
    sources, each loaded with its plugin and matched against the expression genes as MASK will. ``shown``:
    the path of each source as the user gave it (the pipeline reads staged copies), for messages."""
    from radplug.genesets import prepare_gene_sets
    from radplug.plugins import PluginError, get_source

    problems: list[str] = []
    warnings: list[str] = []
    rows = []
    universe = pd.Index(genes).astype(str)
    upper = set(universe.str.upper())
    for i, (name, path) in enumerate(sources):
        label = shown[i] if shown and i < len(shown) else path
        where = f"gene-set source {name} ({label})" if label else f"gene-set source {name}"
        try:
            source = get_source(name)
            if source.needs_path and not path:
                problems.append(f"{where}: this source needs a file, URL or release: pass --genesets {name}=SPEC "
                                f"(e.g. {name}=sets.gmt)")
                continue
            long = source.load(path)
        except (RadplugInputError, PluginError, ValueError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        except Exception as exc:  # a reader's raw error still names the file
            problems.append(f"{where}: could not be read ({type(exc).__name__}: {exc})")
            continue
        set_genes = pd.Index(long["gene"].astype(str).str.strip().str.upper().unique())
        measured = set_genes[set_genes.isin(upper)]
        prep = prepare_gene_sets(long, universe, p.min_set_size, p.max_set_size)
        n_sets = long["gene_set"].nunique()
        rows.append({"source": name, "path": label or "", "sets": n_sets, "sets_kept": len(prep.members),
                     "genes": len(set_genes), "genes_measured": len(measured),
                     "coverage": len(measured) / max(len(set_genes), 1)})
        if not prep.members:
            eg_sets = ", ".join(map(str, set_genes[:3]))
            eg_expr = ", ".join(map(str, universe[:3]))
            problems.append(
                f"{where}: none of its {n_sets} gene set(s) has at least --min_set_size {p.min_set_size} genes "
                f"(and at most --max_set_size {p.max_set_size}) in the expression data: {len(measured)} of its "
                f"{len(set_genes)} genes are measured (set genes e.g. {eg_sets}; expression genes e.g. "
                f"{eg_expr}). Check that both use the same identifiers (gene symbols), or lower --min_set_size")
        elif len(measured) / max(len(set_genes), 1) < 0.2:
            warnings.append(f"{where}: only {len(measured)} of its {len(set_genes)} genes "
                            f"({len(measured) / len(set_genes):.0%}) are measured; {len(prep.members)} of "
                            f"{n_sets} sets kept")
    return problems, warnings, pd.DataFrame(rows)


def _looks_continuous(values: pd.Series) -> bool:
    """A clinical column of numbers with many distinct values (age, survival days) rather than classes."""
    v = values.dropna().astype(str).str.strip()
    v = v[v != ""]
    if len(v) < 10:
        return False
    num = pd.to_numeric(v, errors="coerce")
    if num.notna().mean() < 0.9:
        return False
    distinct = num.dropna().nunique()
    return distinct > 10 and distinct > 0.3 * len(v)


def check_targets(labels: pd.DataFrame, features: pd.DataFrame, p: PreflightOptions
                  ) -> tuple[list[str], list[str], pd.DataFrame]:
    """(problems, warnings, class counts per target, cohort and class) for the targets as BINARIZE will make
    them (radiomic features binarized on the training cohort, clinical targets as given)."""
    from radplug.data.binarize import binarize

    problems: list[str] = []
    warnings: list[str] = []
    lab = labels.set_index("sample_id")
    train = lab["cohort"] == "train"
    clinical = features[features["kind"] != "radiomic"]
    for name in clinical["name"]:
        col = lab[name]
        if _looks_continuous(col[train]):
            num = pd.to_numeric(col[train], errors="coerce").dropna()
            problems.append(
                f"clinical target '{name}' looks continuous ({num.nunique()} distinct numbers in "
                f"{len(num)} training samples, {num.min():g} to {num.max():g}); radplug predicts classes: "
                "cut it into classes in the clinical table (e.g. above/below the median), or remove it from "
                "--clinical_targets")
            continue
        tr = col[train].dropna()
        if tr.nunique() < 2:
            problems.append(
                f"clinical target '{name}' has {tr.nunique()} class(es) in the training cohort "
                f"({', '.join(map(str, tr.unique()[:3]))}); a classifier needs two or more. Remove it from "
                "--clinical_targets")
    if problems:
        return problems, warnings, pd.DataFrame(columns=["target", "cohort", "class", "n"])
    try:
        targets, tasks, _ = binarize(labels, features, p.min_minority)
    except (ValueError, KeyError) as exc:
        return [f"targets could not be formed: {exc}"], warnings, pd.DataFrame()
    counts = []
    too_many: list[tuple[str, int]] = []
    reduced: list[tuple[str, str, int]] = []
    for t in tasks.itertuples():
        col = targets[t.target]
        for cohort in ("train", "test"):
            vc = col[targets["cohort"] == cohort].value_counts()
            for cls, n in vc.items():
                counts.append({"target": t.target, "cohort": cohort, "class": str(cls), "n": int(n)})
        tr = col[targets["cohort"] == "train"].value_counts()
        if len(tr) and int(tr.min()) < 2:
            single = ", ".join(f"'{c}'" for c, n in tr.items() if n < 2)
            problems.append(f"target '{t.target}': training class(es) {single} have a single patient; "
                            "cross-validation needs two or more per class: merge or drop the class")
        elif len(tr) and p.cv_folds > int(tr.sum()):
            too_many.append((t.target, int(tr.sum())))
        elif len(tr) and int(tr.min()) < p.cv_folds:
            reduced.append((t.target, str(tr.idxmin()), int(tr.min())))
        te = col[targets["cohort"] == "test"].dropna()
        if (targets["cohort"] == "test").any() and te.nunique() < 2:
            warnings.append(f"target '{t.target}': the test cohort has {len(te)} labelled patient(s) and "
                            f"{te.nunique()} class(es): no test AUC can be estimated (left empty, with the reason)")
        if len(te):
            absent = sorted(set(tr.index) - set(te.unique()))
            if absent:
                warnings.append(f"target '{t.target}': class(es) {', '.join(absent)} have no test patient: their "
                                "test metrics will be NaN (the reason is stated in the report)")
            unseen = sorted(set(te.unique()) - set(tr.index))
            if unseen:
                warnings.append(f"target '{t.target}': test class(es) {', '.join(map(str, unseen))} are absent "
                                "from training: those test patients count as unlabelled")
    if too_many:
        eg = ", ".join(f"'{t}' ({n})" for t, n in too_many[:5])
        problems.append(f"--cv_folds {p.cv_folds} exceeds the labelled training patients of {len(too_many)} "
                        f"target(s) (e.g. {eg}); use at most {min(n for _, n in too_many)} (10 is usual)")
    if p.nested_cv >= 2 and not problems:
        from radplug.training.nested import check_nested

        problems += check_nested(pd.DataFrame(counts, columns=["target", "cohort", "class", "n"]), p.nested_cv,
                                 p.cv_folds)
    for target, cls, n in reduced:
        warnings.append(f"target '{target}': its smallest training class '{cls}' has {n} patients: "
                        f"cross-validation uses {n} folds for it instead of --cv_folds {p.cv_folds}")
    return problems, warnings, pd.DataFrame(counts, columns=["target", "cohort", "class", "n"])


def check_cohorts(expression: pd.DataFrame, labels: pd.DataFrame, min_shared: float = 0.5
                  ) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the cohorts themselves: a test cohort that shares too few genes with training
    (its predictions would be the training mean: AUC 0.5 with a confident interval) and patients present twice
    under different ids (identical expression profiles), in two cohorts or within one. Duplicate ids are refused
    earlier, by INGEST."""
    problems: list[str] = []
    warnings: list[str] = []
    lab = labels.set_index("sample_id")
    expr = expression.reindex(lab.index)
    train = (lab["cohort"] == "train").to_numpy()
    measured = expr.notna().to_numpy()
    train_genes = measured[train].any(axis=0)
    n_train_genes = int(train_genes.sum())
    for name in pd.unique(lab.loc[~train, "source_cohort"]):
        rows = (lab["source_cohort"] == name).to_numpy()
        shared = int((measured[rows].any(axis=0) & train_genes).sum())
        if n_train_genes and shared < min_shared * n_train_genes:
            problems.append(
                f"test cohort {name} shares {shared} of the {n_train_genes} training genes (less than "
                f"{min_shared:.0%}): its predictions would be the training mean for the rest. Check that both "
                "cohorts use the same gene identifiers (symbols), or collapse probes with an annotation")
    measured_rows = expr.notna().any(axis=1)           # a patient without expression matches nothing
    values = expr[measured_rows].round(6).fillna(-9.87654321e9)
    keys = pd.util.hash_pandas_object(values, index=False)
    dup = keys[keys.duplicated(keep=False)]
    if len(dup):
        cohorts = lab["source_cohort"]
        across, within = [], []
        for _, ids in sorted(dup.groupby(dup).groups.items(), key=lambda kv: str(min(kv[1]))):
            ids = list(ids)
            if cohorts.loc[ids].nunique() > 1:
                across.append(" = ".join(f"{i} ({cohorts.loc[i]})" for i in ids[:3]))
            else:
                within.append((cohorts.loc[ids[0]], " = ".join(map(str, ids[:3]))))
        if across:
            problems.append(
                f"{len(across)} patient(s) have identical expression profiles in two cohorts (e.g. {across[0]}): "
                "the same patients under other ids? A test cohort must be independent of training; remove them")
        if within:
            problems.append(
                f"{len(within)} group(s) of samples have identical expression profiles within one cohort (e.g. "
                f"{within[0][1]} in cohort {within[0][0]}): the same patient twice under two ids? Its copies would "
                "sit on both sides of a cross-validation split; keep one of each")
    return problems, warnings


def preflight(genes: list[str], labels: pd.DataFrame, features: pd.DataFrame,
              sources: list[tuple[str, str | None]], params: PreflightOptions,
              shown: list[str] | None = None, expression: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Run every check; raise one :class:`RadplugInputError` listing all problems, else return the tables
    (``class_counts``, ``genesets``, ``messages``)."""
    problems = check_parameters(params)
    gs_problems, gs_warnings, gs_table = check_gene_sets(sources, genes, params, shown) if sources else ([], [], None)
    t_problems, t_warnings, counts = check_targets(labels, features, params)
    c_problems, c_warnings = check_cohorts(expression, labels) if expression is not None else ([], [])
    problems += gs_problems + t_problems + c_problems
    warnings = gs_warnings + t_warnings + c_warnings
    for w in warnings:
        log.warning(w)
    if problems:
        lines = "\n".join(f"  - {x}" for x in problems)
        raise RadplugInputError(f"preflight: {len(problems)} problem(s) found before any training:\n{lines}")
    msgs = pd.DataFrame({"level": "warning", "message": warnings})
    return {"class_counts": counts, "genesets": gs_table if gs_table is not None else pd.DataFrame(),
            "messages": msgs}
