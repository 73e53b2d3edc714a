/*
 * PREPARE_DATA: the cohorts and gene sets, checked and ready for training.
 *   SIMULATE | SAMPLESHEET (-> EXTRACT per image batch -> EXTRACT_JOIN) -> INGEST -> PREFLIGHT -> VALIDATE -> BINARIZE
 */
include { SIMULATE     } from '../../../modules/local/simulate/main'
include { SAMPLESHEET  } from '../../../modules/local/samplesheet/main'
include { EXTRACT      } from '../../../modules/local/extract/main'
include { EXTRACT_JOIN } from '../../../modules/local/extract_join/main'
include { INGEST       } from '../../../modules/local/ingest/main'
include { PREFLIGHT    } from '../../../modules/local/preflight/main'
include { VALIDATE     } from '../../../modules/local/validate/main'
include { BINARIZE     } from '../../../modules/local/binarize/main'
include { stepOptions; optionalFile } from '../utils_radplug/main'

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

workflow PREPARE_DATA {
    take:
    input_sheet    // the samplesheet (--input), or '' for the embedded synthetic cohort
    genesets       // --genesets: comma-separated SOURCE=SPEC, or '' (the simulated collection)

    main:
    ch_versions = Channel.empty()
    // ---- inputs: a samplesheet, or the embedded synthetic cohort
    if (input_sheet) {
        sheet = file(input_sheet, checkIfExists: true)   // workflow-body locals take no `def` (Nextflow's scoping)
        SAMPLESHEET(sheet, sheet.parent.toString())
        batches = imageBatches(sheet)
        if (batches) {
            // ---- EXTRACT: radiomic features from images, one task per batch of patients, joined per cohort
            spec = params.extract_settings.toString()
            settings_file = spec ==~ /.*\.(ya?ml|json)$/ || spec.contains('/') ? file(spec, checkIfExists: true) : []
            EXTRACT(Channel.fromList(batches), settings_file, stepOptions('extract'))
            EXTRACT_JOIN(EXTRACT.out.features.groupTuple())
            ch_versions = ch_versions.mix(EXTRACT.out.versions, EXTRACT_JOIN.out.versions)
            ch_extracted = EXTRACT_JOIN.out.table.toList().map { t -> t.collectEntries { [it[0], it[1]] } }
            // combine() emits a queue channel: .first() makes it a value channel like the other branches, so that
            // INGEST's outputs (and VALIDATE's, BINARIZE's) are read by every SEARCH/FIT_FINAL/MASK task, not by one
            staged = SAMPLESHEET.out.json.combine(ch_extracted)
                .map { json, ex -> stageSamplesheet(json, input_sheet, ex) }.first()
        } else {
            staged = SAMPLESHEET.out.json.map { stageSamplesheet(it, input_sheet) }
        }
        ch_truth = Channel.empty()
        ch_sim_gmt = Channel.empty()
        ch_versions = ch_versions.mix(SAMPLESHEET.out.versions)
    } else {
        SIMULATE(stepOptions('simulate'), optionalFile(params.sim_gmt))
        SAMPLESHEET(SIMULATE.out.samplesheet, SIMULATE.out.samplesheet.map { it.parent.toString() })
        staged = SAMPLESHEET.out.json.map { stageSamplesheet(it, 'simulated samplesheet') }
        ch_truth = SIMULATE.out.truth
        ch_sim_gmt = SIMULATE.out.gmt
        ch_versions = ch_versions.mix(SIMULATE.out.versions, SAMPLESHEET.out.versions)
    }

    INGEST(
        staged.map { it[0] }, staged.map { it[1] }, staged.map { it[2] },
        optionalFile(params.histology_map), stepOptions('ingest')
    )
    // ---- gene-set sources (checked by PREFLIGHT, used by MASK): [name, spec, staged file or []]. A spec that is a
    // local file is staged; anything else (a URL, an MSigDB release, a plugin's own spec) is passed through to the
    // source plugin, which resolves it (radplug.hookspecs.GeneSetSource).
    if (genesets) {
        ch_sources = Channel.fromList(genesets.toString().tokenize(',').collect { geneSetSpec(it) })
    } else if (!input_sheet) {
        ch_sources = ch_sim_gmt.map { ['custom', it.toString(), it] }
    } else {
        error "--genesets is required with --input: e.g. --genesets msigdb_hallmark=h.all.v7.0.symbols.gmt"
    }

    // ---- every check that needs no training, before anything is published (VALIDATE waits for it)
    ch_gs = ch_sources.toList()
    PREFLIGHT(INGEST.out.expression, INGEST.out.labels, INGEST.out.features,
              ch_gs.map { l -> l.findAll { it[2] }.collect { it[2] } },
              ch_gs.map { l -> def i = -1; l.collect { [it[0], it[1], it[2] ? ++i : -1] } },
              stepOptions('preflight'))
    // the expression only once PREFLIGHT has passed, as a value channel
    ch_checked_expression = INGEST.out.expression.combine(PREFLIGHT.out.tables.map { 'ok' }).map { it[0] }.first()
    VALIDATE(ch_checked_expression, INGEST.out.labels, INGEST.out.features,
             INGEST.out.histology_mapping, INGEST.out.label_mapping, INGEST.out.radiomics_selection,
             stepOptions('validate'))
    BINARIZE(VALIDATE.out.labels, VALIDATE.out.features, optionalFile(params.feature_groups),
             stepOptions('binarize'))

    emit:
    expression   = VALIDATE.out.expression          // value channels: every later task reads them
    labels       = VALIDATE.out.labels
    targets      = BINARIZE.out.targets
    tasks        = BINARIZE.out.tasks
    units        = BINARIZE.out.units               // {unit: [targets]}: FIT_FINAL's and MASK's units
    sources      = ch_sources                       // [name, spec, staged file or []] per gene-set source
    tables       = VALIDATE.out.expression.mix(VALIDATE.out.labels, VALIDATE.out.report, VALIDATE.out.label_mapping,
                                               BINARIZE.out.targets, BINARIZE.out.tasks, BINARIZE.out.binarization,
                                               ch_truth)   // for the report
    versions     = ch_versions.mix(INGEST.out.versions, PREFLIGHT.out.versions, VALIDATE.out.versions,
                                   BINARIZE.out.versions)
}
