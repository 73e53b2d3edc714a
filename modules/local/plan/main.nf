process PLAN {
    label 'process_single'

    input:
    path(tasks)
    val(opts)

    output:
    path("jobs.csv"), emit: jobs

    script:
    """
    radplug-plan --tasks ${tasks} --models '${opts.models}' --grid ${opts.grid} --chunk-size ${opts.grid_chunk} \\
        ${opts.user_input ? '--user-input' : ''} --out jobs.csv
    """
}
