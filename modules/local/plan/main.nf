process PLAN {
    label 'process_single'

    input:
    path(tasks)
    path(expression)
    val(opts)       // the plan step's pipeline parameters (radplug.options.PlanOptions)
    val(context)    // [user_input: the run is on --input data, n_sources: gene-set sources]

    output:
    path("jobs.csv"), emit: jobs
    path("estimate.txt"), emit: estimate
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-plan --tasks ${tasks} ${context.user_input ? '--user-input' : ''} --sources ${context.n_sources} --out jobs.csv \\
        --estimate --expression ${expression} --options ${q(groovy.json.JsonOutput.toJson(opts))} > estimate.txt
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    def rows = opts.models.toString().tokenize(',').collect { f -> "stub_${f.trim()},each:stub,${f.trim()},${opts.grid},0,1,-1" }
    (0..<((opts.nested_cv ?: 0) as int)).each { k ->
        rows += opts.models.toString().tokenize(',').collect { f -> "o${k}__stub_${f.trim()},each:stub,${f.trim()},${opts.grid},0,1,${k}" }
    }
    """
    printf 'job_id,unit,family,preset,chunk,n_chunks,outer\n${rows.join('\\n')}\n' > jobs.csv
    echo 'estimate (stub run)' > estimate.txt
    radplug-versions --process '${task.process}' > versions.yml
    """
}
