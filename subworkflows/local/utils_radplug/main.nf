/*
 * Pipeline utilities: parameter help, validation and the results-folder check before the run (PIPELINE_INITIALISATION),
 * the completion summary after it (PIPELINE_COMPLETION), and the functions every subworkflow uses to hand a module
 * its parameters (stepOptions) or a staged optional file (optionalFile).
 */

// ------------------------------------------------------------------ parameter schema
def loadSchema() {
    return new groovy.json.JsonSlurper().parse(file("${projectDir}/nextflow_schema.json").toFile())
}

def schemaProperties(schema) {
    def props = [:]
    schema['$defs'].each { group, spec -> spec.properties.each { name, p -> props[name] = p + [group: spec.title] } }
    return props
}

// The option group of one radplug step: every pipeline parameter whose schema entry lists that step in
// x-radplug-steps (radplug.options: the step's Options record has exactly these fields), with its value in this run.
// A module passes the group to its step as one JSON argument (--options), so that a new parameter needs the schema,
// nextflow.config and the record only.
def stepOptions(step) {
    def names = loadSchema()['$defs'].collectMany { group, spec ->
        spec.properties.findAll { name, p -> step in (p['x-radplug-steps'] ?: []) }.keySet() as List
    }
    if (!names) { error "stepOptions: no parameter of nextflow_schema.json is taken by the radplug step '${step}'" }
    return names.collectEntries { [it, params[it]] }
}

// A file parameter staged for a module, or [] (no file) when the parameter is not set
def optionalFile(path) {
    return path ? file(path, checkIfExists: true) : []
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

// --help and --version: print and return true (the entry workflow then runs nothing, and publishes nothing)
def helpOrVersionShown() {
    if (params.help) {
        log.info helpText(loadSchema())
        return true
    }
    if (params.version) {
        log.info "radplug ${workflow.manifest.version}"
        return true
    }
    return false
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
        def example = p.default != null && !(p.default instanceof Boolean) ? p.default : (p.minimum ?: 1)
        if (value instanceof Boolean && p.type in ['integer', 'number', 'string']) {
            // `--nested_cv` with no value reads as true
            errors << "--${key} needs a value, e.g. --${key} ${example}"
            return
        }
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
        def range = p.maximum != null ? "between ${p.minimum} and ${p.maximum}" : "${p.minimum} or more"
        if (value instanceof Number && p.minimum != null && value < p.minimum) { errors << "--${key} must be >= ${p.minimum}, got ${value}: give a value ${range} (default ${p.default})" }
        if (value instanceof Number && p.maximum != null && value > p.maximum) { errors << "--${key} must be <= ${p.maximum}, got ${value}: give a value ${range} (default ${p.default})" }
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

// ------------------------------------------------------------------ before the run
workflow PIPELINE_INITIALISATION {
    main:
    if (params.validate_params) {
        validateParameters(loadSchema())
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
}

// ------------------------------------------------------------------ after the run
// The completion summary (a function: inside a workflow's closures `workflow` is not the run's metadata)
def completionSummary() {
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

workflow PIPELINE_COMPLETION {
    main:
    workflow.onComplete {
        completionSummary()
    }
}
