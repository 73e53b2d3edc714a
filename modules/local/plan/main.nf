process PLAN {
    label 'process_single'

    input:
    path(tasks)
    path(expression)
    val(opts)

    output:
    path("jobs.csv"), emit: jobs
    path("estimate.txt"), emit: estimate
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-plan --tasks ${tasks} --models ${q(opts.models)} --grid ${q(opts.grid)} --chunk-size ${opts.grid_chunk} \\
        ${opts.user_input ? '--user-input' : ''} --nested-cv ${opts.nested_cv} --folds ${opts.cv_folds} --out jobs.csv \\
        ${opts.stack_folds ? '--stack-folds' : '--no-stack-folds'} --sources ${opts.n_sources} \\
        --estimate --expression ${expression} > estimate.txt
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
