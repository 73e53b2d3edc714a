process FEATURE_CV {
    tag "${family}__${unit}"
    label 'process_search'

    input:
    tuple val(unit), val(family), path(cv_parts, stageAs: 'parts/*')
    path(expression)
    path(targets)
    path(tasks)
    val(opts)

    output:
    path("featurecv_*.parquet"), emit: cv
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    def out = "featurecv_${family}__${unit.replace(':', '-')}.parquet"
    """
    radplug-feature-cv --cv parts/* --expression ${expression} --targets ${targets} --tasks ${tasks} \\
        --unit ${q(unit)} --family ${q(family)} --out ${q(out)} --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    touch ${"'featurecv_${family}__${unit.replace(':', '-')}.parquet'"}
    radplug-versions --process '${task.process}' > versions.yml
    """
}
