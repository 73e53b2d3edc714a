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
    path("cv_${job.job_id}.parquet")    , emit: cv, optional: true       // the search (outer -1)
    path("nested_${job.job_id}.parquet"), emit: nested, optional: true   // one outer fold of nested CV
    tuple val(job.unit), val(job.family), val(job.n_chunks), path("cv_${job.job_id}.parquet"), emit: unit_cv, optional: true
    path("versions.yml")                , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    def outer = (job.outer ?: '-1') as int
    def out = outer >= 0 ? "nested_${job.job_id}.parquet" : "cv_${job.job_id}.parquet"
    def nested = outer >= 0 ? "--outer-fold ${outer}" : ''
    // a group network searched in several chunks gets its per-feature CV once, in FEATURE_CV, after all chunks
    // (the search only; an outer fold of nested CV keeps it in SEARCH, per chunk: radplug.training.nested)
    def feature_cv = job.n_chunks.toString().toInteger() > 1 && outer < 0 ? '--no-feature-cv' : ''
    """
    radplug-search --expression ${expression} --targets ${targets} --tasks ${tasks} --unit ${q(job.unit)} \\
        --family ${q(job.family)} --grid ${q(job.preset)} --chunk ${job.chunk} --n-chunks ${job.n_chunks} \\
        ${feature_cv} ${nested} --out ${q(out)} --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    def stub_out = ((job.outer ?: '-1') as int) >= 0 ? "nested_${job.job_id}.parquet" : "cv_${job.job_id}.parquet"
    """
    touch ${stub_out}
    radplug-versions --process '${task.process}' > versions.yml
    """
}
