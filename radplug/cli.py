"""The ``radplug`` command line: one subcommand per pipeline step, plus plugins, grid and report."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from radplug import __version__
from radplug.io import (
    RadplugInputError,
    read_expression,
    read_parquet,
    safe_id,
    write_expression,
    write_json,
    write_parquet,
)
from radplug.options import (
    BinarizeOptions,
    EvaluateOptions,
    ExtractOptions,
    FeatureCvOptions,
    FitOptions,
    IngestStepOptions,
    MaskOptions,
    NestedOptions,
    PlanOptions,
    PreflightOptions,
    SearchOptions,
    SelectOptions,
    SignificanceOptions,
    SimulateOptions,
    ValidateOptions,
    add_options,
    resolve_options,
)
from radplug.plugins import PluginError

if TYPE_CHECKING:
    from radplug.genesets import PreparedGeneSets
    from radplug.training.final import FinalModel

log = logging.getLogger("radplug")


def _csv_list(s: str) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()]


# --------------------------------------------------------------------------- steps
def cmd_simulate(a: argparse.Namespace) -> None:
    from radplug.data.simulate import PAPER_GROUP_SIZES, simulate_cohort, write_simulated

    o: SimulateOptions = a.options
    sizes = None
    if o.sim_group_sizes == "paper":
        sizes = PAPER_GROUP_SIZES
    elif o.sim_group_sizes:
        try:
            sizes = tuple(int(v) for v in o.sim_group_sizes.split(","))
        except ValueError as exc:
            raise RadplugInputError(f"--sim_group_sizes '{o.sim_group_sizes}': give 7 comma-separated counts "
                                    "(shape, stats, GLCM, GLSZM, RLGL, LoG, wavelet) or 'paper'") from exc
    sim = simulate_cohort(o.sim_n_train, o.sim_n_test, o.sim_n_genes, o.sim_n_sets, o.sim_features_per_group, a.gmt,
                          o.sim_signal, o.seed, group_sizes=sizes)
    write_simulated(sim, a.outdir, o.seed)


def cmd_samplesheet(a: argparse.Namespace) -> None:
    from radplug.data.ingest import normalized_samplesheet

    rows = normalized_samplesheet(a.samplesheet, a.base)
    if a.out:
        write_json(rows, a.out)
    log.info("samplesheet %s: %d cohort(s) (%s)", a.samplesheet, len(rows),
             ", ".join(f"{r['cohort']}: {r['role']}" for r in rows))


def cmd_ingest(a: argparse.Namespace) -> None:
    from radplug.data.ingest import IngestOptions, ingest

    o: IngestStepOptions = a.options
    opts = IngestOptions(orientation=o.orientation, id_column=o.id_column,
                         clinical_targets=tuple(_csv_list(o.clinical_targets)), histology_column=o.histology_column,
                         histology_map=a.histology_map, collapse=o.collapse,
                         allow_sample_mismatch=o.allow_sample_mismatch,
                         radiomics_id_pattern=o.radiomics_id_pattern or None,
                         radiomics_include=o.radiomics_include or None, radiomics_exclude=o.radiomics_exclude or None,
                         radiomics_max_correlation=o.radiomics_max_correlation)
    res = ingest(a.samplesheet, opts)
    out = Path(a.outdir)
    write_expression(res.expression, out / "raw_expression.parquet", "ingest")
    write_parquet(res.labels, out / "raw_labels.parquet", "ingest")
    write_parquet(res.features, out / "raw_features.parquet", "ingest")
    res.histology_mapping.to_csv(out / "histology_mapping.csv", index=False)
    res.label_mapping.to_csv(out / "label_mapping.csv", index=False)
    from radplug.data.radiomics import SELECTION_COLUMNS

    sel = res.radiomics_selection if res.radiomics_selection is not None else pd.DataFrame(columns=SELECTION_COLUMNS)
    sel.to_csv(out / "radiomics_selection.csv", index=False)
    for m in res.messages:
        log.warning(m)


def cmd_preflight(a: argparse.Namespace) -> None:
    from radplug.data.preflight import preflight

    params: PreflightOptions = a.options
    expression = read_expression(a.expression)
    res = preflight(list(expression.columns), read_parquet(a.labels), read_parquet(a.features),
                    _parse_sources(a.genesets), params, a.geneset_paths or None, expression)
    out = Path(a.outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name, tab in res.items():
        tab.to_csv(out / f"preflight_{name}.csv", index=False)
    log.info("preflight passed: %d target(s), %d gene-set source(s)",
             res["class_counts"]["target"].nunique() if len(res["class_counts"]) else 0, len(res["genesets"]))


def cmd_validate(a: argparse.Namespace) -> None:
    from radplug.data.validate import validate

    res = validate(read_expression(a.expression), read_parquet(a.labels), read_parquet(a.features),
                   a.options.max_missing, origin=a.expression)
    out = Path(a.outdir)
    write_expression(res.expression, out / "expression.parquet", "validate")
    write_parquet(res.labels, out / "labels.parquet", "validate")
    write_parquet(res.features, out / "features.parquet", "validate")
    write_parquet(res.report, out / "validation.parquet", "validate")


def cmd_binarize(a: argparse.Namespace) -> None:
    from radplug.data.binarize import binarize
    from radplug.data.radiomics import read_group_overrides
    from radplug.training.search import final_units

    min_minority = a.options.min_minority
    targets, tasks, table = binarize(read_parquet(a.labels), read_parquet(a.features), min_minority,
                                     read_group_overrides(a.group_overrides))
    if tasks.empty:
        raise RadplugInputError("no target left after binarization: every radiomic feature was dropped and no "
                                "clinical target was given")
    out = Path(a.outdir)
    write_parquet(targets, out / "targets.parquet", "binarize", min_minority=min_minority)
    write_parquet(tasks, out / "tasks.parquet", "binarize")
    write_parquet(table, out / "binarization.parquet", "binarize")
    (out / "targets.txt").write_text("".join(f"{t}\n" for t in tasks["target"]))
    (out / "units.json").write_text(json.dumps(final_units(tasks), indent=1) + "\n")   # FIT_FINAL/MASK tasks
    log.info("%d targets kept (%d radiomic features dropped)", len(tasks), int((~table["kept"]).sum()))


def cmd_plan(a: argparse.Namespace) -> None:
    from radplug.training.search import plan_jobs, resolve_preset

    o: PlanOptions = a.options
    preset = resolve_preset(o.grid, a.user_input)
    tasks = read_parquet(a.tasks)
    if a.estimate:
        _print_estimate(a, o, tasks, preset)
    if a.out:
        jobs = plan_jobs(tasks, _csv_list(o.models), preset, o.grid_chunk, o.nested_cv)
        jobs.to_csv(a.out, index=False)
        main_jobs = int((jobs["outer"] < 0).sum())
        log.info("%d SEARCH jobs planned", main_jobs)
        if o.nested_cv:
            from radplug.training.nested import nested_cost

            log.warning(nested_cost(o.nested_cv, o.cv_folds, main_jobs))
    elif not a.estimate:
        raise RadplugInputError("radplug plan: give --out (the jobs CSV), --estimate, or both")


def _print_estimate(a: argparse.Namespace, o: PlanOptions, tasks: pd.DataFrame, preset: str) -> None:
    """The run's cost (radplug.training.estimate) on stdout and in the log."""
    import pyarrow.parquet as pq

    from radplug.training.estimate import describe_estimate, estimate_run

    if a.expression:
        n_genes = len(pq.read_schema(a.expression).names) - 1
    elif a.n_genes:
        n_genes = a.n_genes
    else:
        raise RadplugInputError("radplug plan --estimate needs --expression (or --n-genes)")
    n_train = int(max(sum(json.loads(c).values()) for c in tasks["n_train"]))   # labelled training patients
    est = estimate_run(tasks, _csv_list(o.models), preset, o.grid_chunk, o.cv_folds, n_train, n_genes,
                       o.stack_folds, a.sources)
    text = (f"estimate for grid '{preset}', {len(tasks)} targets, {n_train} training patients, {n_genes} genes, "
            f"{o.cv_folds}-fold CV:\n" + describe_estimate(est))
    if o.nested_cv:   # K more searches, each on the (K - 1)/K of the patients outside one outer fold
        k = o.nested_cv
        inner = estimate_run(tasks, _csv_list(o.models), preset, o.grid_chunk, o.cv_folds, n_train * (k - 1) // k,
                             n_genes, o.stack_folds, a.sources)
        tot = inner[inner["family"] == "all"].iloc[0]
        text += (f"\nwith --nested_cv {k}: {k} x {int(tot['search_tasks'])} more SEARCH tasks "
                 f"({k * int(tot['cv_fits'])} CV fits, about {k * float(tot['search_cpu_hours']):.2f} more CPU hours) "
                 f"and {k} NESTED tasks ({k} refits per target)")
    print(text)
    log.info("%s", text)


def cmd_search(a: argparse.Namespace) -> None:
    from radplug.training.nested import run_outer_job
    from radplug.training.search import run_job

    o: SearchOptions = a.options
    args = (a.unit, a.family, a.grid, a.chunk, a.n_chunks, read_expression(a.expression),
            read_parquet(a.targets), read_parquet(a.tasks), o.cv_folds, o.seed)
    if a.outer_fold >= 0:
        if not 0 <= a.outer_fold < o.nested_cv:
            raise RadplugInputError(f"--outer-fold {a.outer_fold} needs --nested-cv above it (got {o.nested_cv})")
        res = run_outer_job(*args, a.outer_fold, o.nested_cv, o.device, stack_folds=o.stack_folds,
                            class_weight=o.class_weight)
    else:
        res = run_job(*args, o.device, feature_cv=a.feature_cv, stack_folds=o.stack_folds,
                      class_weight=o.class_weight)
    write_parquet(res, a.out, "search", unit=a.unit, family=a.family, grid=a.grid, chunk=a.chunk, seed=o.seed,
                  outer_fold=a.outer_fold, n_outer=o.nested_cv if a.outer_fold >= 0 else 0)


def cmd_nested(a: argparse.Namespace) -> None:
    from radplug.training.nested import nested_fold

    cv = pd.concat([read_parquet(p) for p in a.cv], ignore_index=True)
    o: NestedOptions = a.options
    if not 0 <= a.outer_fold < o.nested_cv:
        raise RadplugInputError(f"--outer-fold {a.outer_fold} needs --nested-cv above it (got {o.nested_cv})")
    res = nested_fold(cv, _csv_list(o.models), read_expression(a.expression), read_parquet(a.targets),
                      read_parquet(a.tasks), a.outer_fold, o.nested_cv, o.seed, o.device, o.class_weight)
    write_parquet(res, a.out, "nested", outer_fold=a.outer_fold, n_outer=o.nested_cv, seed=o.seed)
    log.info("outer fold %d of %d: %d targets scored on held-out training patients", a.outer_fold + 1,
             o.nested_cv, len(res))


def cmd_feature_cv(a: argparse.Namespace) -> None:
    from radplug.training.search import feature_cv_job

    cv = pd.concat([read_parquet(p) for p in a.cv], ignore_index=True)
    o: FeatureCvOptions = a.options
    res = feature_cv_job(a.unit, a.family, cv, read_expression(a.expression), read_parquet(a.targets),
                         read_parquet(a.tasks), o.cv_folds, o.seed, o.device, stack_folds=o.stack_folds,
                         class_weight=o.class_weight)
    write_parquet(res, a.out, "feature_cv", unit=a.unit, family=a.family, seed=o.seed)


def cmd_select(a: argparse.Namespace) -> None:
    from radplug.training.search import check_cv_complete, select

    cv = pd.concat([read_parquet(p) for p in a.cv], ignore_index=True)
    cv = cv.sort_values(["unit", "family", "config_id", "target", "fold"]).reset_index(drop=True)
    families = _csv_list(a.options.models)
    if a.tasks:
        check_cv_complete(cv, read_parquet(a.tasks), families)
    summary, selection = select(cv, families)
    out = Path(a.outdir)
    write_parquet(cv, out / "cv_results.parquet", "select")
    write_parquet(summary, out / "cv_summary.parquet", "select")
    write_parquet(selection, out / "selection.parquet", "select")


def cmd_fit(a: argparse.Namespace) -> None:
    from radplug.training.final import fit_final, save_model
    from radplug.training.search import unit_targets

    selection, expression = read_parquet(a.selection), read_expression(a.expression)
    targets, tasks = read_parquet(a.targets), read_parquet(a.tasks)
    names = unit_targets(a.unit, tasks) if a.unit else [a.target]
    if not names:
        raise RadplugInputError(f"radplug fit: unit '{a.unit}' has no target in {a.tasks}; units are "
                                "group:<group> or target:<target> (BINARIZE's units.json)")
    if a.out and len(names) > 1:
        raise RadplugInputError(f"radplug fit: --out names one model file; unit '{a.unit}' has {len(names)} "
                                "targets: use --outdir")
    for target in names:   # one at a time: each model is written and freed before the next is trained
        m = fit_final(target, selection, expression, targets, tasks, a.options.seed, a.options.device,
                      a.options.class_weight)
        save_model(m, a.out or Path(a.outdir) / f"{safe_id(target)}.model.pkl")
        del m
    if a.unit:
        log.info("FIT %s: %d final models written", a.unit, len(names))


def cmd_evaluate(a: argparse.Namespace) -> None:
    from radplug.training.chance import target_chance
    from radplug.training.final import evaluate, load_model

    o: EvaluateOptions = a.options
    targets = read_parquet(a.targets)
    # models in target order, loaded one at a time (evaluate frees each after predicting): the order comes from
    # the file names (<safe_id(target)>.model.pkl); a file named otherwise is opened once to read its target
    by_id = {safe_id(t): t for t in targets.columns}
    order = []
    for p in a.models:
        stem = Path(p).name.removesuffix(".model.pkl")
        order.append((by_id[stem] if stem in by_id else load_model(p).target, str(p)))
    models = (load_model(p) for _, p in sorted(order))
    met, pred = evaluate(models, read_expression(a.expression), targets, o.n_boot, o.seed)
    met, chance = target_chance(met, pred, o.mask_min_auc, seed=o.seed)
    out = Path(a.outdir)
    write_parquet(met, out / "test_metrics.parquet", "evaluate", n_boot=o.n_boot, seed=o.seed,
                  auc_permutations=chance["permutations"], auc_q_family="every target of the run (overall rows)")
    write_parquet(pred, out / "predictions.parquet", "evaluate")
    write_parquet(pd.DataFrame([chance]), out / "target_chance.parquet", "evaluate")
    overall = met[met["averaging"] != "one-vs-rest"]
    passing = overall["auc"] >= o.mask_min_auc
    chosen = sorted(overall.loc[passing & (overall["auc_q"] <= o.mask_target_q), "target"].unique())
    (out / "mask_targets.txt").write_text("".join(f"{t}\n" for t in chosen))
    log.info("%d of %d targets reach test AUC >= %.2f; %.1f would by chance alone (label permutation at this "
             "test cohort's size and class balance); %d have a test-AUC q-value < 0.05",
             int(passing.sum()), len(overall), o.mask_min_auc, chance["expected_by_chance"],
             int((overall["auc_q"] < 0.05).sum()))
    if o.mask_target_q < 1:
        log.info("%d targets also reach test-AUC q <= %g and go on to masking", len(chosen), o.mask_target_q)
    else:
        log.info("%d targets go on to masking", len(chosen))


def _parse_sources(specs: list[str]) -> list[tuple[str, str | None]]:
    out = []
    for spec in specs:
        name, _, path = spec.partition("=")
        out.append((name.strip(), path.strip() or None))
    return out


def cmd_mask(a: argparse.Namespace) -> None:
    from radplug.explain.interpret import interpreter_names
    from radplug.genesets import prepare_gene_sets, source_info
    from radplug.plugins import get_source
    from radplug.reporting.progress import Progress
    from radplug.training.final import load_model

    o: MaskOptions = a.options
    names = interpreter_names(o.interpreters)   # unknown names fail before anything is read
    only = None
    if a.only_targets:
        only = {t.strip() for t in Path(a.only_targets).read_text(encoding="utf-8").splitlines() if t.strip()}
    expression, targets = read_expression(a.expression), read_parquet(a.targets)
    sources = []   # each source is loaded once and used for every model
    for name, path in _parse_sources(a.genesets):
        src = get_source(name)
        long = src.load(path)
        sources.append((name, path, long, source_info(src, long)))
    progress = Progress("MASK: models", len(a.model), log, every=0)
    done = 0
    for model_path in a.model:   # one model in memory at a time
        model = load_model(model_path)
        if only is not None and model.target not in only:
            progress.step(f"{model.target} (not a masking target)")
            continue
        for name, path, long, info in sources:
            prep = prepare_gene_sets(long, model.genes, o.min_set_size, o.max_set_size)
            if not prep.members:
                raise SystemExit(f"radplug mask: no gene set of source {name} ({path}) has between "
                                 f"{o.min_set_size} and {o.max_set_size} of the {len(model.genes)} genes of the "
                                 f"{model.target} model: check that the gene identifiers match (symbols) or widen "
                                 "--min_set_size/--max_set_size")
            _mask_one(a, model, expression, targets, names, name, prep, info)
        done += 1
        progress.step(model.target)
        del model
    if only is not None and done < len(only):
        log.warning("MASK: %d of the %d targets in %s had no model among --model", len(only) - done, len(only),
                    a.only_targets)


def _mask_one(a: argparse.Namespace, model: FinalModel, expression: pd.DataFrame, targets: pd.DataFrame,
              names: list[str], name: str, prep: PreparedGeneSets, info: dict) -> None:
    """Every interpreter of one model over one gene-set source: the per-(target, source) output files."""
    from radplug.explain.interpret import run_interpreter, saturated_classes
    from radplug.hookspecs import InterpretRequest

    out = Path(a.outdir)
    o: MaskOptions = a.options
    options = {"n_random": o.mask_n_random, "max_random": o.mask_max_random, "null_bins": o.mask_null_bins,
               "fdr_scope": o.mask_fdr_scope}
    stem = f"{safe_id(model.target)}__{safe_id(name)}"
    write_parquet(prep.coverage.assign(source=name), out / f"{stem}.coverage.parquet", "mask")
    write_parquet(prep.dropped.assign(source=name), out / f"{stem}.dropped.parquet", "mask")
    request = InterpretRequest(model, expression, targets, prep.members, prep.coverage, name, o.seed,
                               o.device, options)
    todo = list(names)
    while todo:
        interp = todo.pop(0)
        res = run_interpreter(interp, request)
        if interp == "masking":
            real = res.table
            real["source_version"] = info["version"]
            meta = {"source": name, **res.metadata}
            write_parquet(real, out / f"{stem}.masking.parquet", "mask", **meta,
                          source_license=info["license"], source_citation=info["citation"])
            write_parquet(res.extra["null"], out / f"{stem}.null.parquet", "mask", **meta)
            saturated = saturated_classes(real)
            if saturated and "permutation" not in names:
                log.warning("%s x %s: masking is saturated for class(es) %s; running gene-set permutation "
                            "importance, which does not saturate", model.target, name, ", ".join(saturated))
                todo.append("permutation")
        else:
            write_parquet(res.table, out / f"{stem}__{safe_id(interp)}.interpretation.parquet", "mask",
                          source=name, interpreter=interp, **res.metadata)


def cmd_significance(a: argparse.Namespace) -> None:
    from radplug.explain.masking import FDR_FAMILIES, significance

    o: SignificanceOptions = a.options
    real = pd.concat([read_parquet(p) for p in a.masking], ignore_index=True)
    null = pd.concat([read_parquet(p) for p in a.null], ignore_index=True)
    res = significance(real, fdr_scope=o.mask_fdr_scope)
    out = Path(a.outdir)
    drawn = int(res.loc[res["cohort"] == "test"].drop_duplicates(["source", "target", "null_bin"])["null_drawn"]
                .sum()) if "null_drawn" in res else 0
    write_parquet(res, out / "masking.parquet", "significance", fdr_scope=o.mask_fdr_scope,
                  fdr_family=",".join(FDR_FAMILIES[o.mask_fdr_scope]), fdr_method="Benjamini-Hochberg",
                  random_sets_drawn=drawn)
    write_parquet(null, out / "masking_null.parquet", "significance")
    test = res[res["cohort"] == "test"]
    log.info("masking significance: %d tests in families of (%s); %d random sets drawn; %d significant at "
             "q < 0.05; %d saturated and %d implausible rows", int(test["p_value"].notna().sum()),
             ", ".join(FDR_FAMILIES[o.mask_fdr_scope]), drawn, int((test["call"] == "significant").sum()),
             int(test["saturated"].sum()), int(test["implausible"].sum()))
    for kind, files in (("coverage", a.coverage), ("dropped", a.dropped)):
        tabs = [t for t in (read_parquet(p) for p in files) if len(t)]
        if tabs:
            tab = pd.concat(tabs, ignore_index=True).drop_duplicates(["source", "gene_set"])
            write_parquet(tab, out / f"geneset_{kind}.parquet", "significance")
    # every other interpreter's rows, one table per interpreter (masking/<name>.parquet)
    by_interpreter: dict[str, list[pd.DataFrame]] = {}
    for p in a.interpretations:
        tab = read_parquet(p)
        if len(tab):
            by_interpreter.setdefault(str(tab["interpreter"].iloc[0]), []).append(tab)
    for interp, tabs in sorted(by_interpreter.items()):
        write_parquet(pd.concat(tabs, ignore_index=True), out / f"{safe_id(interp)}.parquet", "significance",
                      interpreter=interp)
        log.info("interpreter %s: %d rows from %d task(s)", interp, sum(len(t) for t in tabs), len(tabs))


def cmd_modules(a: argparse.Namespace) -> None:
    from radplug.explain.modules_compare import compare_modules, read_modules

    res = compare_modules(read_parquet(a.masking), read_modules(a.modules), tuple(_csv_list(a.cohorts)))
    write_parquet(res, Path(a.outdir) / "module_comparison.parquet", "modules", modules=str(a.modules))
    log.info("module comparison: %d rows, %d matched", len(res), int((res["status"] == "ok").sum()))


def cmd_extract(a: argparse.Namespace) -> None:
    from radplug.data.extract import extract_cases, read_image_manifest, write_extraction

    cases = read_image_manifest(a.manifest)
    o: ExtractOptions = a.options
    write_extraction(extract_cases(cases, o.extractor, o.extract_settings), a.out, a.info, a.settings_out)


def cmd_extract_join(a: argparse.Namespace) -> None:
    from radplug.data.extract import join_extractions, read_extraction, write_extraction

    if len(a.features) != len(a.info):
        raise RadplugInputError(f"extract-join: {len(a.features)} feature file(s) but {len(a.info)} info file(s)")
    parts = [read_extraction(f, i) for f, i in zip(a.features, a.info, strict=True)]
    out = Path(a.outdir)
    write_extraction(join_extractions(parts), out / f"{a.name}.radiomics.csv", out / f"{a.name}.extraction.json",
                     out / f"{a.name}.extraction_settings.yaml")


def cmd_report(a: argparse.Namespace) -> None:
    from radplug.reporting.report import build_report

    path = build_report(a.results, a.outdir, top_n=a.top_n)
    print(path)


def cmd_plugins(a: argparse.Namespace) -> None:
    from radplug.plugins import provided

    rows = []
    kinds = ("model_family", "geneset_source", "interpreter", "feature_extractor")
    for kind in kinds:
        for p in provided(kind):
            r = p.record
            rows.append({"kind": kind, "name": r.name, "plugin": p.plugin, "package": p.package,
                         "version": p.version, "summary": getattr(r, "summary", "") or getattr(r, "description", "")})
    if a.json:
        print(json.dumps(rows, indent=2))
        return
    for kind in kinds:
        print({"model_family": "model families:", "geneset_source": "gene-set sources:",
               "interpreter": "interpreters:", "feature_extractor": "feature extractors:"}[kind])
        for r in (r for r in rows if r["kind"] == kind):
            print(f"  {r['name']:<18} {r['package']} {r['version']} [{r['plugin']}]  {r['summary']}")


def cmd_grid(a: argparse.Namespace) -> None:
    from radplug.plugins import model_families
    from radplug.training.search import grid

    fams = [a.family] if a.family else list(model_families())
    for f in fams:
        g = grid(f, a.preset)
        if a.count:
            print(f"{f}\t{len(g)}")
        else:
            for i, cfg in enumerate(g):
                print(f"{f}\t{i}\t{json.dumps(cfg)}")


def cmd_check_plugin(a: argparse.Namespace) -> None:
    from radplug.conformance import check_extractor, check_family, check_interpreter, check_source
    from radplug.plugins import feature_extractors, geneset_sources, interpreters

    if a.family in feature_extractors():
        kind, results = "feature extractor", check_extractor(a.family, a.seed, a.preset)
    elif a.family in interpreters():
        kind, results = "interpreter", check_interpreter(a.family, a.seed)
    elif a.family in geneset_sources():
        kind, results = "gene-set source", check_source(a.family, a.seed, a.spec)
    else:
        kind, results = "model family", check_family(a.family, a.seed, a.preset)
    if a.json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        for r in results:
            print(f"{'PASS' if r.passed else 'FAIL'}  {r.check}" + (f": {r.detail}" if r.detail else ""))
    failed = [r.check for r in results if not r.passed]
    if failed:
        raise PluginError(f"{kind} '{a.family}' fails {len(failed)} conformance check(s): "
                          f"{'; '.join(failed)}")


def cmd_versions(a: argparse.Namespace) -> None:
    from radplug.versions import software_versions

    sys.stdout.write(software_versions(a.process))


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="radplug", description="Radiogenomic models and gene-set masking.")
    p.add_argument("--version", action="version", version=f"radplug {__version__}")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("simulate", help="write a synthetic cohort with planted gene-set associations")
    s.add_argument("--outdir", required=True)
    s.add_argument("--gmt", default=None, help="use this GMT's genes and sets instead of simulated names")
    add_options(s, SimulateOptions)
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("samplesheet", help="check a cohort samplesheet (the pipeline's one parser) and write it "
                                          "normalised, as JSON, paths resolved")
    s.add_argument("--samplesheet", required=True)
    s.add_argument("--base", default=None, help="folder relative paths are resolved against (default: the sheet's)")
    s.add_argument("--out", default=None, help="JSON file of the normalised rows")
    s.set_defaults(func=cmd_samplesheet)

    s = sub.add_parser("ingest", help="read a cohort samplesheet into raw tables")
    s.add_argument("--samplesheet", required=True)
    s.add_argument("--outdir", required=True)
    s.add_argument("--histology-map", default=None, help="CSV text -> histology class (--histology_map)")
    add_options(s, IngestStepOptions)
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("preflight", help="check parameters, gene-set files and targets before any training")
    for f in ("expression", "labels", "features", "outdir"):
        s.add_argument(f"--{f}", required=True)
    s.add_argument("--genesets", nargs="*", default=[], help="SOURCE=PATH ...")
    s.add_argument("--geneset-paths", nargs="*", default=[],
                   help="each source's path as the user gave it, for messages (the pipeline reads staged copies)")
    add_options(s, PreflightOptions)
    s.set_defaults(func=cmd_preflight)

    s = sub.add_parser("validate", help="check and clean the ingested tables")
    for f in ("expression", "labels", "features", "outdir"):
        s.add_argument(f"--{f}", required=True)
    add_options(s, ValidateOptions)
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("binarize", help="2-means binarization of radiomic features")
    for f in ("labels", "features", "outdir"):
        s.add_argument(f"--{f}", required=True)
    s.add_argument("--group-overrides", default=None, help="CSV feature -> group (--feature_groups)")
    add_options(s, BinarizeOptions)
    s.set_defaults(func=cmd_binarize)

    s = sub.add_parser("plan", help="list SEARCH jobs (unit x family x grid chunk)")
    s.add_argument("--tasks", required=True)
    s.add_argument("--user-input", action="store_true",
                   help="the run is on user data (--input): 'auto' means standard, and 'fast' is warned about")
    s.add_argument("--out", default=None, help="jobs CSV (required unless --estimate)")
    s.add_argument("--estimate", action="store_true",
                   help="print the run's cost first: SEARCH tasks, CV fits, largest task's memory, rough CPU hours")
    s.add_argument("--expression", default=None, help="with --estimate: the expression table (for its gene count)")
    s.add_argument("--n-genes", type=int, default=None, help="with --estimate and no --expression: genes")
    s.add_argument("--sources", type=int, default=1, help="with --estimate: gene-set sources (MASK tasks)")
    add_options(s, PlanOptions)
    s.set_defaults(func=cmd_plan)

    s = sub.add_parser("search", help="cross-validate one chunk of one family's grid on one unit")
    for f in ("expression", "targets", "tasks", "unit", "family", "out"):
        s.add_argument(f"--{f}", required=True)
    s.add_argument("--grid", default="fast")
    s.add_argument("--chunk", type=int, default=0)
    s.add_argument("--n-chunks", type=int, default=1)
    s.add_argument("--outer-fold", type=int, default=-1,
                   help="nested CV: search on the training patients outside this outer fold of --nested-cv (-1: all)")
    s.add_argument("--no-feature-cv", dest="feature_cv", action="store_false",
                   help="group units: skip the per-feature CV of the chunk's best configuration (the pipeline "
                        "runs it once per group, after every chunk, with `radplug feature-cv`)")
    add_options(s, SearchOptions)
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("feature-cv", help="per-feature CV of the configuration a group network chose (all chunks)")
    s.add_argument("--cv", nargs="+", required=True, help="the SEARCH results of the unit's chunks")
    for f in ("expression", "targets", "tasks", "unit", "family", "out"):
        s.add_argument(f"--{f}", required=True)
    add_options(s, FeatureCvOptions)
    s.set_defaults(func=cmd_feature_cv)

    s = sub.add_parser("nested", help="nested CV, one outer fold: select from its inner CV, refit, score the "
                                      "held-out part")
    s.add_argument("--cv", nargs="+", required=True, help="the outer fold's SEARCH tables")
    for f in ("expression", "targets", "tasks", "out"):
        s.add_argument(f"--{f}", required=True)
    s.add_argument("--outer-fold", type=int, required=True, help="the outer fold, 0 .. --nested-cv - 1")
    add_options(s, NestedOptions)
    s.set_defaults(func=cmd_nested)

    s = sub.add_parser("select", help="pick the best family and configuration per target")
    s.add_argument("--cv", nargs="+", required=True)
    s.add_argument("--tasks", default=None, help="BINARIZE's tasks table: every target must have CV results")
    s.add_argument("--outdir", required=True)
    add_options(s, SelectOptions)
    s.set_defaults(func=cmd_select)

    s = sub.add_parser("fit", help="retrain the selected model of one target, or of every target of one unit, on "
                                   "the training cohort")
    which = s.add_mutually_exclusive_group(required=True)
    which.add_argument("--target", help="one target")
    which.add_argument("--unit", help="every target of a unit: group:<radiomic group> or target:<clinical target> "
                                      "(BINARIZE's units.json; one FIT_FINAL task per unit)")
    for f in ("selection", "expression", "targets", "tasks"):
        s.add_argument(f"--{f}", required=True)
    out = s.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", help="the model file")
    out.add_argument("--outdir", help="folder of the model file, named <target id>.model.pkl (radplug.io.safe_id)")
    add_options(s, FitOptions)
    s.set_defaults(func=cmd_fit)

    s = sub.add_parser("evaluate", help="score final models on the test cohort")
    s.add_argument("--models", nargs="+", required=True)
    for f in ("expression", "targets", "outdir"):
        s.add_argument(f"--{f}", required=True)
    add_options(s, EvaluateOptions)
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("mask", help="gene-set masking of models (one at a time) over gene-set sources")
    s.add_argument("--model", nargs="+", required=True, help="model files (FIT_FINAL's, e.g. one unit's)")
    s.add_argument("--only-targets", help="a file of target names, one a line: mask only the models of these "
                                          "targets (EVALUATE's mask_targets.txt, or a unit's part of it)")
    for f in ("expression", "targets", "outdir"):
        s.add_argument(f"--{f}", required=True)
    s.add_argument("--genesets", nargs="+", required=True, help="SOURCE=PATH (e.g. custom=sets.gmt)")
    add_options(s, MaskOptions)
    s.set_defaults(func=cmd_mask)

    s = sub.add_parser("significance", help="BH q-values, saturation and calls for masking scores")
    s.add_argument("--masking", nargs="+", required=True)
    s.add_argument("--null", nargs="+", required=True)
    s.add_argument("--coverage", nargs="*", default=[])
    s.add_argument("--dropped", nargs="*", default=[])
    s.add_argument("--interpretations", nargs="*", default=[],
                   help="tables of the interpreters other than masking (MASK's *.interpretation.parquet)")
    s.add_argument("--outdir", required=True)
    add_options(s, SignificanceOptions)
    s.set_defaults(func=cmd_significance)

    s = sub.add_parser("modules", help="masking AUC and rank of published modules' pathways")
    s.add_argument("--masking", required=True, help="masking.parquet written by the significance step")
    s.add_argument("--modules", required=True, help="CSV/TSV with columns module, feature, pathway")
    s.add_argument("--cohorts", default="test", help="comma-separated cohorts to report (default: test)")
    s.add_argument("--outdir", required=True)
    s.set_defaults(func=cmd_modules)

    s = sub.add_parser("extract", help="radiomic features from the images and masks of an image manifest")
    s.add_argument("--manifest", required=True, help="CSV: sample_id, image, mask[, label]")
    s.add_argument("--out", required=True, help="feature table (CSV: sample_id + features)")
    s.add_argument("--info", required=True, help="provenance JSON (extractor, version, settings, per-patient time)")
    s.add_argument("--settings-out", default=None, help="also write the settings used as YAML")
    add_options(s, ExtractOptions)
    s.set_defaults(func=cmd_extract)

    s = sub.add_parser("extract-join", help="join per-batch extractions into one radiomics table")
    s.add_argument("--features", nargs="+", required=True)
    s.add_argument("--info", nargs="+", required=True)
    s.add_argument("--name", required=True, help="output prefix (the cohort)")
    s.add_argument("--outdir", required=True)
    s.set_defaults(func=cmd_extract_join)

    s = sub.add_parser("report", help="(re)build the HTML report from a finished results folder")
    s.add_argument("results", help="the pipeline's --outdir")
    s.add_argument("--outdir", default=None, help="where to write report/ (default: RESULTS/report)")
    s.add_argument("--top-n", dest="top_n", type=int, default=None,
                   help="targets (best test AUC first) drawn in figures: ROC, PR, masking null (default: 30)")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("plugins", help="list model families, gene-set sources, interpreters and feature extractors")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_plugins)

    s = sub.add_parser("grid", help="show a family's hyperparameter grid")
    s.add_argument("--family", default=None)
    s.add_argument("--preset", default="paper")
    s.add_argument("--count", action="store_true")
    s.set_defaults(func=cmd_grid)

    s = sub.add_parser("check-plugin", help="conformance check of a model family, interpreter, gene-set source "
                       "or feature extractor")
    s.add_argument("family", help="model family, interpreter, gene-set source or feature extractor name")
    s.add_argument("--spec", default=None, help="for a gene-set source: what --genesets NAME=SPEC would pass")
    s.add_argument("--preset", default=None, help="grid preset to take the configuration from (default fast)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_check_plugin)

    s = sub.add_parser("versions", help="software versions (YAML) for pipeline_info")
    s.add_argument("--process", default="RADPLUG")
    s.set_defaults(func=cmd_versions)
    return p


# Steps that never import scikit-learn (the first ones of every run): they skip importing it for its
# ConvergenceWarning filter, 0.7 CPU s of each such task's start (tests/step/test_cli_imports.py runs each).
LIGHT_STEPS = frozenset({"simulate", "samplesheet", "ingest", "validate"})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    if args.command not in LIGHT_STEPS:
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        warnings.filterwarnings("once", category=ConvergenceWarning)
    try:
        args.options = resolve_options(args)   # the step's Options record (radplug.options), None for other commands
        args.func(args)
    except (RadplugInputError, PluginError, ValueError) as exc:
        print(f"radplug {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
