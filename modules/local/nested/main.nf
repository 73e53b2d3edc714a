process NESTED {
    tag "outer fold ${outer}"
    label 'process_search'

    input:
    tuple val(outer), path(cv_parts, stageAs: 'parts/*')
    path(expression)
    path(targets)
    path(tasks)
    val(opts)

    output:
    path("cv/nested_o${outer}.parquet"), emit: nested
    path("versions.yml")               , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    mkdir -p cv
    radplug-nested --cv parts/* --expression ${expression} --targets ${targets} --tasks ${tasks} \\
        --outer-fold ${outer} --out cv/nested_o${outer}.parquet --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    mkdir -p cv
    touch cv/nested_o${outer}.parquet
    radplug-versions --process '${task.process}' > versions.yml
    """
}
