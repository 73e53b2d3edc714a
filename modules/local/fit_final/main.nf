process FIT_FINAL {
    // one task per unit (BINARIZE's units.json: a radiomic group, or one clinical target): every target of the
    // unit is retrained in turn, one model file per target
    tag "${unit}"
    label 'process_search'

    input:
    tuple val(unit), val(unit_targets)
    path(selection)
    path(expression)
    path(targets)
    path(tasks)
    val(opts)

    output:
    tuple val(unit), val(unit_targets), path("model/*.model.pkl"), emit: model
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-fit --unit ${q(unit)} --selection ${selection} --expression ${expression} --targets ${targets} \\
        --tasks ${tasks} --outdir model --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    def files = unit_targets.collect { t -> "model/${t.replaceAll(/[^A-Za-z0-9._-]/, '_')}.model.pkl" }
    """
    mkdir -p model
    touch ${files.join(' ')}
    radplug-versions --process '${task.process}' > versions.yml
    """
}
