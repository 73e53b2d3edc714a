#!/usr/bin/env nextflow
/*
 * radplug: gene expression -> CT radiomic features and histology, explained by gene-set masking.
 * Entry workflow only: parameter help and validation -> the radplug workflow -> completion summary.
 */
nextflow.enable.dsl = 2

include { RADPLUG } from './workflows/radplug'

// ------------------------------------------------------------------ parameter schema
def loadSchema() {
    return new groovy.json.JsonSlurper().parse(file("${projectDir}/nextflow_schema.json").toFile())
}

def schemaProperties(schema) {
    def props = [:]
    schema['$defs'].each { group, spec -> spec.properties.each { name, p -> props[name] = p + [group: spec.title] } }
    return props
}

def helpText(schema) {
    def lines = ["", "radplug ${workflow.manifest.version}: ${workflow.manifest.description}", "",
                 "Usage:  nextflow run main.nf [-profile test|gpu|podman|slurm|...] [--input cohorts.csv] [--outdir results]", ""]
    schema['$defs'].each { group, spec ->
        lines << "${spec.title}:"
        spec.properties.each { name, p ->
            def dflt = p.containsKey('default') ? " [default: ${p.default}]" : ''
            def choices = p.enum ? " (${p.enum.join('|')})" : ''
            lines << String.format("  --%-24s %s%s%s", name, p.description ?: '', choices, dflt)
        }
        lines << ""
    }
    return lines.join('\n')
}

def validateParameters(schema) {
    def props = schemaProperties(schema)
    def errors = []
    params.each { name, value ->
        def key = name.toString()
        if (key.contains('-')) {
            // `--max-missing 0.5` would set params['max-missing'] (and maxMissing), never max_missing: refuse it
            def underscored = key.replace('-', '_')
            errors << (props[underscored] != null ? "--${key}: radplug's parameters are written with underscores: use --${underscored}"
                                                  : "unknown parameter --${key} (see --help)")
            return
        }
        def p = props[key]
        if (p == null) {
            def camelOk = props.keySet().any { it.replaceAll(/_([a-z])/) { m -> m[1].toUpperCase() } == key }
            if (!camelOk) { errors << "unknown parameter --${key} (see --help)" }
            return
        }
        if (value == null) { return }
        switch (p.type) {
            case 'integer':
                if (!(value instanceof Integer || value instanceof Long)) { errors << "--${key} must be an integer, got '${value}'" }
                break
            case 'number':
                if (!(value instanceof Number)) { errors << "--${key} must be a number, got '${value}'" }
                break
            case 'boolean':
                if (!(value instanceof Boolean)) { errors << "--${key} must be true or false, got '${value}'" }
                break
            default:
                if (value instanceof Boolean) { errors << "--${key} needs a value" }
        }
        if (p.enum && !(value.toString() in p.enum)) { errors << "--${key} must be one of ${p.enum.join(', ')}, got '${value}'" }
        if (value instanceof Number && p.minimum != null && value < p.minimum) { errors << "--${key} must be >= ${p.minimum}, got ${value}" }
        if (value instanceof Number && p.maximum != null && value > p.maximum) { errors << "--${key} must be <= ${p.maximum}, got ${value}" }
        if (p.format == 'file-path' && !(value instanceof Boolean) && !value.toString().contains('://') && !file(value.toString()).exists()) {
            errors << "--${key}: file '${value}' does not exist"
        }
    }
    if (params.mask_max_random instanceof Number && params.mask_n_random instanceof Number
            && params.mask_max_random < params.mask_n_random) {
        errors << "--mask_max_random (${params.mask_max_random}) must be at least --mask_n_random (${params.mask_n_random})"
    }
    if (errors) {
        error("Invalid parameters:\n  - " + errors.join('\n  - ') + "\nRun `nextflow run main.nf --help` for the list of parameters.")
    }
}

// A results folder belongs to one run: a new run does not publish into an earlier run's results (its tables and
// report would mix with the new ones). -resume continues that run; --overwrite removes its result folders first.
def checkOutdir() {
    def folders = ['data', 'cv', 'models', 'evaluation', 'masking', 'report']
    def found = folders.findAll { file("${params.outdir}/${it}").exists() }
    if (!found || workflow.resume) { return }
    if (!params.overwrite) {
        error("--outdir ${params.outdir} holds the results of an earlier run (${found.collect { it + '/' }.join(', ')}). " +
              "Use another --outdir, continue that run with -resume, or replace its results with --overwrite.")
    }
    found.each { file("${params.outdir}/${it}").deleteDir() }
    log.warn "--overwrite: removed the earlier run's ${found.collect { it + '/' }.join(', ')} from ${params.outdir}"
}

// ------------------------------------------------------------------ entry
workflow {
    def schema = loadSchema()
    if (params.help) {
        log.info helpText(schema)
        return
    }
    if (params.version) {
        log.info "radplug ${workflow.manifest.version}"
        return
    }
    if (params.validate_params) {
        validateParameters(schema)
    }
    checkOutdir()
    log.info """
    radplug ${workflow.manifest.version}
      input     : ${params.input ?: 'embedded synthetic cohort (seed ' + params.seed + ')'}
      gene sets : ${params.genesets ?: (params.input ? '-' : 'simulated collection')}
      models    : ${params.models} (grid ${params.grid}, ${params.cv_folds}-fold CV${params.nested_cv ? ', nested CV with ' + params.nested_cv + ' outer folds' : ''})
      outdir    : ${params.outdir}
    """.stripIndent()
    if (params.input && params.grid.toString() == 'fast') {
        log.warn "--grid fast on user data (--input) is a smoke test, not a hyperparameter search: " +
                 "use --grid standard (the default with --input) or --grid paper for results"
    }
    if (params.nested_cv instanceof Number && params.nested_cv >= 2) {
        def k = params.nested_cv as int
        log.warn "--nested_cv ${k}: the whole search runs ${k} more times, each on ${k - 1}/${k} of the training cohort " +
                 "(about ${k - 1} x the SEARCH step's cost on top of it; see PLAN's log for the job count), plus ${k} refits per target"
    }
    RADPLUG()
}

workflow.onComplete {
    if (params.help || params.version) {
        return                                   // nothing ran: no report to rebuild, nothing to publish
    }
    if (workflow.success && workflow.stubRun) {
        log.info "radplug stub run finished: every step ran its stub (empty placeholder outputs) in ${workflow.duration}"
    } else if (workflow.success && file("${params.outdir}/report/report.html").exists()) {
        // Rebuild the report with the finished run's task timings (the trace is complete only now); skipped
        // quietly where radplug is not installed on the launching machine (e.g. container-only setups).
        try {
            def proc = ['radplug', '-q', 'report', params.outdir.toString()].execute()
            proc.waitForOrKill(300_000)
            if (proc.exitValue() != 0) { log.warn "report timings not added: ${proc.err.text.trim()}" }
        } catch (Exception e) {
            log.debug "radplug not on PATH: the report keeps no task timings (${e.message})"
        }
        log.info "radplug finished: report at ${params.outdir}/report/report.html (${workflow.duration})"
        def summary = file("${params.outdir}/report/summary.txt")
        if (summary.exists()) { log.info summary.text.trim() }   // the top findings, written by REPORT
    } else if (!workflow.success) {
        log.error "radplug failed: ${workflow.errorMessage ?: 'see the error above'}; fix it and re-run with -resume"
    }
}
