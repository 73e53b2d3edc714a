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

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-fit --target ${q(target)} --selection ${selection} --expression ${expression} --targets ${targets} \\
        --tasks ${tasks} --seed ${opts.seed} --device ${q(opts.device)} --class-weight ${q(opts.class_weight)} \\
        --outdir model
    """
}
