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
    tuple val(job.unit), val(job.family), val(job.n_chunks), path("cv_${job.job_id}.parquet"), emit: unit_cv
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    // a group network searched in several chunks gets its per-feature CV once, in FEATURE_CV, after all chunks
    def feature_cv = job.n_chunks.toString().toInteger() > 1 ? '--no-feature-cv' : ''
    """
    radplug-search --expression ${expression} --targets ${targets} --tasks ${tasks} --unit ${q(job.unit)} \\
        --family ${q(job.family)} --grid ${q(job.preset)} --chunk ${job.chunk} --n-chunks ${job.n_chunks} \\
        --folds ${opts.folds} --seed ${opts.seed} --device ${q(opts.device)} ${opts.stack_folds ? '--stack-folds' : '--no-stack-folds'} \\
        --class-weight ${q(opts.class_weight)} ${feature_cv} --out ${q("cv_${job.job_id}.parquet")}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    touch ${"cv_${job.job_id}.parquet"}
    radplug-versions --process '${task.process}' > versions.yml
    """
}
