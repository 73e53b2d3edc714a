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
    tuple val(target), path("${target}.model.pkl"), emit: model

    script:
    """
    radplug-fit --target '${target}' --selection ${selection} --expression ${expression} --targets ${targets} \\
        --tasks ${tasks} --seed ${opts.seed} --device ${opts.device} --class-weight ${opts.class_weight} \\
        --out '${target}.model.pkl'
    """
}
