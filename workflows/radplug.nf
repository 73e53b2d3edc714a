/*
 * The radplug workflow: SIMULATE | SAMPLESHEET -> INGEST -> PREFLIGHT -> VALIDATE -> BINARIZE -> PLAN
 *   -> SEARCH (fan-out) -> FEATURE_CV (per group network, after its chunks) -> SELECT
 *   -> FIT_FINAL (per unit) -> EVALUATE -> MASK (per unit with a masking target x gene-set source)
 *   -> SIGNIFICANCE -> REPORT
 * Image manifests in the samplesheet's radiomics column first go through EXTRACT (per batch) -> EXTRACT_JOIN.
 */
include { SIMULATE     } from '../modules/local/simulate/main'
include { SAMPLESHEET  } from '../modules/local/samplesheet/main'
include { INGEST       } from '../modules/local/ingest/main'
include { PREFLIGHT    } from '../modules/local/preflight/main'
include { VALIDATE     } from '../modules/local/validate/main'
include { BINARIZE     } from '../modules/local/binarize/main'
include { PLAN         } from '../modules/local/plan/main'
include { SEARCH       } from '../modules/local/search/main'
include { SELECT       } from '../modules/local/select/main'
include { NESTED       } from '../modules/local/nested/main'
include { FEATURE_CV   } from '../modules/local/feature_cv/main'
include { FIT_FINAL    } from '../modules/local/fit_final/main'
include { EVALUATE     } from '../modules/local/evaluate/main'
include { MASK         } from '../modules/local/mask/main'
include { SIGNIFICANCE } from '../modules/local/significance/main'
include { REPORT       } from '../modules/local/report/main'
include { EXTRACT      } from '../modules/local/extract/main'
include { EXTRACT_JOIN } from '../modules/local/extract_join/main'

// The samplesheet is parsed by radplug alone (SAMPLESHEET: `radplug samplesheet`, the parser `radplug ingest`
// uses): it emits the rows as JSON, paths resolved. Here each file is only checked and staged, and INGEST gets
// the sheet rewritten (every field quoted) so that each file points at its staged copy inputs/<i>/<name>; a
// cohort in `extracted` (cohort -> radiomics table made by EXTRACT) gets that table in place of its image manifest.
def stageSamplesheet(json, sheet_name, extracted = [:]) {
    def columns = ['expression', 'radiomics', 'clinical', 'annotation']
    def header = ['cohort', 'role'] + columns
    def rows = new groovy.json.JsonSlurper().parseText(json.text)
    def files = []
    def quote = { s -> '"' + s.toString().replace('"', '""') + '"' }
    def lines = [header.join(',')]
    rows.each { row ->
        lines << header.collect { col ->
            def v = row[col]
            if (col in columns && v) {
                def f = file(v)
                if (col == 'radiomics' && extracted[row.cohort]) { f = extracted[row.cohort] }
                if (!f.exists()) {
                    error "${sheet_name}, cohort ${row.cohort}, column '${col}': ${row['given_' + col]}: file not found (looked for ${v}); fix the path (relative paths are relative to the samplesheet's folder)"
                }
                files << f
                return quote("inputs/${files.size()}/${f.name}")
            }
            return quote(v ?: '')
        }.join(',')
    }
    return [lines.join('\n'), rows.size(), files]
}

// Image manifests in a samplesheet's radiomics column (a CSV whose header has image and mask columns), as one
// [cohort, batch, ids, labels, sources, images, masks] per batch of --extract_batch patients; paths relative to the
// manifest; sources: each patient's [image, mask] paths as resolved here, which EXTRACT's messages name.
def imageBatches(sheet) {
    def batches = []
    sheet.splitCsv(header: true).each { row ->
        def v = row.find { k, x -> k.toString().trim().toLowerCase() == 'radiomics' }?.value?.toString()?.trim()
        def mf = !v ? null : (v.startsWith('/') || v.contains('://') ? file(v) : sheet.parent.resolve(v))
        if (!mf?.exists()) { return }
        def header = mf.withReader { it.readLine() }?.replace('\uFEFF', '')?.toLowerCase()?.split(',')*.trim()
        if (!('image' in header && 'mask' in header)) { return }
        // PyRadiomics batch output also has Image and Mask columns, with diagnostics_* and feature columns
        if (header.any { it ==~ /^(diagnostics_|(original|log-sigma-|wavelet-|square|logarithm|exponential|gradient|lbp-)[^_]*_).*/ }) { return }
        def patients = mf.splitCsv(header: true).collect { r ->
            def rec = r.collectEntries { k, x -> [k.toString().trim().toLowerCase(), x?.toString()?.trim() ?: ''] }
            def files = ['image', 'mask'].collect { col ->
                def p = rec[col]
                def f = !p ? null : (p.startsWith('/') || p.contains('://') ? file(p) : mf.parent.resolve(p))
                if (!f?.exists()) {
                    error "Image manifest ${mf}, patient ${rec.sample_id ?: '?'}: ${col} '${p}' does not exist"
                }
                f
            }
            [rec.sample_id, rec.label ?: '1', files[0], files[1], [files[0].toString(), files[1].toString()]]
        }
        patients.collate(params.extract_batch as int).eachWithIndex { b, i ->
            batches << [row.cohort, "${row.cohort}_${i + 1}", b*.get(0), b*.get(1), b*.get(4), b*.get(2), b*.get(3)]
        }
    }
    return batches
}

// One --genesets entry, NAME=SPEC or NAME: [name, spec, file] where file is the staged local file, or [] when the
// spec is a URL, a release or empty (the source plugin resolves those in PREFLIGHT and MASK).
def geneSetSpec(entry) {
    def parts = entry.trim().split('=', 2)
    def name = parts[0].trim()
    def spec = parts.size() == 2 ? parts[1].trim() : ''
    if (!name) { error "--genesets: '${entry}' has no source name; write SOURCE=SPEC (e.g. msigdb_hallmark=h.all.v7.0.symbols.gmt)" }
    def looksLocal = spec && !(spec ==~ /^[A-Za-z][A-Za-z0-9+.-]*:\/\/.*/) &&
        (spec.contains('/') || spec ==~ /.*\.(gmt|gmx|csv|tsv|txt|grp|gz|list)$/ || file(spec).exists())
    return [name, spec, looksLocal ? file(spec, checkIfExists: true) : []]
}

def optionalFile(path) {
    return path ? file(path, checkIfExists: true) : []
}

workflow RADPLUG {
    main:
    def seed = params.seed
    ch_versions = Channel.empty()   // every process's versions.yml, collated into pipeline_info/ by REPORT

    // ---- inputs: a samplesheet, or the embedded synthetic cohort
    if (params.input) {
        def sheet = file(params.input, checkIfExists: true)
        SAMPLESHEET(sheet, sheet.parent.toString())
        def batches = imageBatches(sheet)
        if (batches) {
            // ---- EXTRACT: radiomic features from images, one task per batch of patients, joined per cohort
            def spec = params.extract_settings.toString()
            def settings_file = spec ==~ /.*\.(ya?ml|json)$/ || spec.contains('/') ? file(spec, checkIfExists: true) : []
            EXTRACT(Channel.fromList(batches), settings_file, [extractor: params.extractor, settings: spec])
            EXTRACT_JOIN(EXTRACT.out.features.groupTuple())
            ch_versions = ch_versions.mix(EXTRACT.out.versions, EXTRACT_JOIN.out.versions)
            ch_extracted = EXTRACT_JOIN.out.table.toList().map { t -> t.collectEntries { [it[0], it[1]] } }
            // combine() emits a queue channel: .first() makes it a value channel like the other branches, so that
            // INGEST's outputs (and VALIDATE's, BINARIZE's) are read by every SEARCH/FIT_FINAL/MASK task, not by one
            staged = SAMPLESHEET.out.json.combine(ch_extracted)
                .map { json, ex -> stageSamplesheet(json, params.input, ex) }.first()
        } else {
            staged = SAMPLESHEET.out.json.map { stageSamplesheet(it, params.input) }
        }
        ch_truth = Channel.empty()
        ch_sim_gmt = Channel.empty()
        ch_versions = ch_versions.mix(SAMPLESHEET.out.versions)
    } else {
        SIMULATE(
            [seed: seed, n_train: params.sim_n_train, n_test: params.sim_n_test, n_genes: params.sim_n_genes,
             n_sets: params.sim_n_sets, features_per_group: params.sim_features_per_group,
             group_sizes: params.sim_group_sizes, signal: params.sim_signal],
            optionalFile(params.sim_gmt)
        )
        SAMPLESHEET(SIMULATE.out.samplesheet, SIMULATE.out.samplesheet.map { it.parent.toString() })
        staged = SAMPLESHEET.out.json.map { stageSamplesheet(it, 'simulated samplesheet') }
        ch_truth = SIMULATE.out.truth
        ch_sim_gmt = SIMULATE.out.gmt
        ch_versions = ch_versions.mix(SIMULATE.out.versions, SAMPLESHEET.out.versions)
    }

    INGEST(
        staged.map { it[0] }, staged.map { it[1] }, staged.map { it[2] },
        optionalFile(params.histology_map),
        [orientation: params.orientation, clinical_targets: params.clinical_targets, collapse: params.collapse,
         id_column: params.id_column, histology_column: params.histology_column,
         allow_sample_mismatch: params.allow_sample_mismatch, radiomics_id_pattern: params.radiomics_id_pattern,
         radiomics_include: params.radiomics_include, radiomics_exclude: params.radiomics_exclude,
         radiomics_max_correlation: params.radiomics_max_correlation]
    )
    // ---- gene-set sources (checked by PREFLIGHT, used by MASK): [name, spec, staged file or []]. A spec that is a
    // local file is staged; anything else (a URL, an MSigDB release, a plugin's own spec) is passed through to the
    // source plugin, which resolves it (radplug.hookspecs.GeneSetSource).
    if (params.genesets) {
        ch_sources = Channel.fromList(params.genesets.toString().tokenize(',').collect { geneSetSpec(it) })
    } else if (!params.input) {
        ch_sources = ch_sim_gmt.map { ['custom', it.toString(), it] }
    } else {
        error "--genesets is required with --input: e.g. --genesets msigdb_hallmark=h.all.v7.0.symbols.gmt"
    }

    // ---- every check that needs no training, before anything is published (VALIDATE waits for it)
    ch_gs = ch_sources.toList()
    PREFLIGHT(INGEST.out.expression, INGEST.out.labels, INGEST.out.features,
              ch_gs.map { l -> l.findAll { it[2] }.collect { it[2] } },
              ch_gs.map { l -> def i = -1; l.collect { [it[0], it[1], it[2] ? ++i : -1] } },
              [models: params.models, grid: params.grid, cv_folds: params.cv_folds, seed: seed, n_boot: params.n_boot,
               n_random: params.mask_n_random, interpreters: params.interpreters, min_set_size: params.min_set_size,
               max_set_size: params.max_set_size, min_minority: params.min_minority, nested_cv: params.nested_cv])
    def after_preflight = { ch -> ch.combine(PREFLIGHT.out.tables.map { 'ok' }).map { it[0] }.first() }   // a value channel
    VALIDATE(after_preflight(INGEST.out.expression), INGEST.out.labels, INGEST.out.features,
             INGEST.out.histology_mapping, INGEST.out.label_mapping, INGEST.out.radiomics_selection,
             [max_missing: params.max_missing])
    BINARIZE(VALIDATE.out.labels, VALIDATE.out.features, optionalFile(params.feature_groups),
             [min_minority: params.min_minority])

    // ---- model search: one task per (unit, family, grid chunk)
    PLAN(BINARIZE.out.tasks, VALIDATE.out.expression,
         [models: params.models, grid: params.grid, grid_chunk: params.grid_chunk,
          user_input: params.input as boolean, nested_cv: params.nested_cv, cv_folds: params.cv_folds,
          stack_folds: params.stack_folds, n_sources: params.genesets ? params.genesets.toString().tokenize(',').size() : 1])
    // what the run will cost, in the log before SEARCH starts (and in pipeline_info/estimate.txt)
    PLAN.out.estimate.subscribe { f -> log.info("radplug plan --estimate:\n" + f.text.trim()) }
    ch_jobs = PLAN.out.jobs.splitCsv(header: true, quote: '"')
    def fit_opts = [folds: params.cv_folds, seed: seed, device: params.device, stack_folds: params.stack_folds,
                    class_weight: params.class_weight, nested_cv: params.nested_cv]
    SEARCH(ch_jobs, VALIDATE.out.expression, BINARIZE.out.targets, BINARIZE.out.tasks, fit_opts)
    // ---- group networks searched in several grid chunks: the per-feature CV of the configuration chosen over all
    //      chunks, once per (group, family), as soon as that unit's chunks are done (one chunk: done in SEARCH)
    ch_group_cv = SEARCH.out.unit_cv
        .filter { unit, family, n, f -> unit.startsWith('group:') && n.toString().toInteger() > 1 }
        .map { unit, family, n, f -> tuple(groupKey("${family}\t${unit}".toString(), n.toString().toInteger()), unit, family, f) }
        .groupTuple()
        .map { key, units, families, files -> tuple(units[0], families[0], files) }
    FEATURE_CV(ch_group_cv, VALIDATE.out.expression, BINARIZE.out.targets, BINARIZE.out.tasks, fit_opts)
    SELECT(SEARCH.out.cv.mix(FEATURE_CV.out.cv).collect(), [models: params.models])

    // ---- nested CV (--nested_cv K): per outer fold, select from its inner CV, refit, score the held-out part
    ch_outer = SEARCH.out.nested
        .map { f -> [(f.name =~ /^nested_o(\d+)__/)[0][1] as int, f] }
        .groupTuple()
    NESTED(ch_outer, VALIDATE.out.expression, BINARIZE.out.targets, BINARIZE.out.tasks,
           fit_opts + [models: params.models, n_outer: params.nested_cv])

    // ---- final models and the test cohort: one FIT_FINAL task per unit (a radiomic group, or a clinical target),
    //      so that the number of processes grows with the groups, not with the targets (BINARIZE's units.json)
    ch_units = BINARIZE.out.units.flatMap { f ->
        new groovy.json.JsonSlurper().parseText(f.text).collect { unit, names -> tuple(unit, names) }
    }
    FIT_FINAL(ch_units, SELECT.out.selection, VALIDATE.out.expression, BINARIZE.out.targets, BINARIZE.out.tasks,
              fit_opts)
    // EVALUATE reads the model files one at a time (radplug evaluate)
    EVALUATE(FIT_FINAL.out.model.map { it[2] }.collect(), VALIDATE.out.expression, BINARIZE.out.targets,
             [n_boot: params.n_boot, seed: seed, mask_min_auc: params.mask_min_auc, mask_target_q: params.mask_target_q])

    // ---- gene-set masking: one task per (unit with a target that EVALUATE passed to masking, gene-set source),
    //      over that unit's passed targets
    ch_mask_set = EVALUATE.out.mask_targets.map { f -> [f.readLines()*.trim().findAll { it } as Set] }
    ch_mask_in = FIT_FINAL.out.model
        .combine(ch_mask_set)
        .map { unit, names, models, chosen -> tuple(unit, names.findAll { it in chosen }, models) }
        .filter { unit, names, models -> names }
        .combine(ch_sources)
    MASK(ch_mask_in, VALIDATE.out.expression, BINARIZE.out.targets,
         [min_set_size: params.min_set_size, max_set_size: params.max_set_size, n_random: params.mask_n_random,
          max_random: params.mask_max_random, null_bins: params.mask_null_bins, fdr_scope: params.mask_fdr_scope,
          interpreters: params.interpreters, seed: seed, device: params.device])
    SIGNIFICANCE(MASK.out.masking.collect(), MASK.out.null_dist.collect(), MASK.out.coverage.collect(),
                 MASK.out.dropped.collect(), MASK.out.interpretations.collect().ifEmpty([]),
                 optionalFile(params.modules), [fdr_scope: params.mask_fdr_scope])

    // ---- report
    ch_versions = ch_versions.mix(INGEST.out.versions, PREFLIGHT.out.versions, VALIDATE.out.versions,
                                  FEATURE_CV.out.versions,
                                  BINARIZE.out.versions, PLAN.out.versions, SEARCH.out.versions, SELECT.out.versions,
                                  FIT_FINAL.out.versions, EVALUATE.out.versions, MASK.out.versions,
                                  SIGNIFICANCE.out.versions, NESTED.out.versions)
    def workflow_versions = ("\"Workflow\":\n    Nextflow: ${workflow.nextflow.version.toString()}\n" +
                             "    radplug: ${workflow.manifest.version}\n").toString()
    ch_versions_yml = ch_versions.map { it.text }.mix(Channel.of(workflow_versions)).unique()
        .collectFile(name: 'collated_versions.yml', sort: true, newLine: false)
    ch_data = VALIDATE.out.expression.mix(VALIDATE.out.labels, VALIDATE.out.report, VALIDATE.out.label_mapping,
                                          BINARIZE.out.targets,
                                          BINARIZE.out.tasks, BINARIZE.out.binarization, ch_truth).collect()
    ch_cv = SELECT.out.cv.mix(SELECT.out.summary, SELECT.out.selection, NESTED.out.nested).collect()
    ch_eval = EVALUATE.out.metrics.mix(EVALUATE.out.predictions, EVALUATE.out.chance).collect()
    ch_masking = SIGNIFICANCE.out.tables.collect().ifEmpty([])
    def params_json = groovy.json.JsonOutput.prettyPrint(groovy.json.JsonOutput.toJson(
        params.findAll { k, v -> !(k in ['help', 'version']) && !k.contains('-') }.collectEntries { k, v -> [k, v?.toString()] }))
    REPORT(ch_data, ch_cv, ch_eval, ch_masking, ch_versions_yml, params_json)
}
