process SEARCH {
    tag "${job.job_id}"
    label 'process_search'

    input:
    val(job)
    path(expression)
    path(targets)
    path(tasks)
    val(opts)

    output:
    path("cv_${job.job_id}.parquet"), emit: cv

    script:
    """
    radplug-search --expression ${expression} --targets ${targets} --tasks ${tasks} --unit '${job.unit}' \\
        --family ${job.family} --grid ${job.preset} --chunk ${job.chunk} --n-chunks ${job.n_chunks} \\
        --folds ${opts.folds} --seed ${opts.seed} --device ${opts.device} ${opts.stack_folds ? '--stack-folds' : ''} \\
        --class-weight ${opts.class_weight} \\
        --out cv_${job.job_id}.parquet
    """
}
