process PLAN {
    label 'process_single'

    input:
    path(tasks)
    val(opts)

    output:
    path("jobs.csv"), emit: jobs

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-plan --tasks ${tasks} --models ${q(opts.models)} --grid ${q(opts.grid)} --chunk-size ${opts.grid_chunk} \\
        ${opts.user_input ? '--user-input' : ''} --nested-cv ${opts.nested_cv} --folds ${opts.cv_folds} --out jobs.csv
    """
}
