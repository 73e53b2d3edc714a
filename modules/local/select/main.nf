process SELECT {
    label 'process_single'

    input:
    path(cv_parts, stageAs: 'parts/*')
    path(tasks)
    val(opts)

    output:
    path("cv/cv_results.parquet"), emit: cv
    path("cv/cv_summary.parquet"), emit: summary
    path("cv/selection.parquet") , emit: selection
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-select --cv parts/* --tasks ${tasks} --outdir cv --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    mkdir -p cv
    touch cv/cv_results.parquet cv/cv_summary.parquet cv/selection.parquet
    radplug-versions --process '${task.process}' > versions.yml
    """
}
