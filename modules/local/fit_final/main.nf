process FIT_FINAL {
    tag "${target}"
    label 'process_search'

    input:
    val(target)
    path(selection)
    path(expression)
    path(targets)
    path(tasks)
    val(opts)

    output:
    tuple val(target), path("model/*.model.pkl"), emit: model
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-fit --target ${q(target)} --selection ${selection} --expression ${expression} --targets ${targets} \\
        --tasks ${tasks} --outdir model --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    mkdir -p model
    touch model/${target.replaceAll(/[^A-Za-z0-9._-]/, '_')}.model.pkl
    radplug-versions --process '${task.process}' > versions.yml
    """
}
