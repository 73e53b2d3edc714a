process EVALUATE {
    label 'process_single'

    input:
    path(models, stageAs: 'models/*')
    path(expression)
    path(targets)
    val(opts)

    output:
    path("evaluation/test_metrics.parquet"), emit: metrics
    path("evaluation/predictions.parquet") , emit: predictions
    path("evaluation/mask_targets.txt")    , emit: mask_targets
    path("evaluation/target_chance.parquet"), emit: chance
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-evaluate --models models/* --expression ${expression} --targets ${targets} --outdir evaluation \\
        --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    // every model is a masking target, so that the stub run exercises MASK and SIGNIFICANCE too
    """
    mkdir -p evaluation
    touch evaluation/test_metrics.parquet evaluation/predictions.parquet evaluation/target_chance.parquet
    for f in models/*; do basename "\$f" .model.pkl; done > evaluation/mask_targets.txt
    radplug-versions --process '${task.process}' > versions.yml
    """
}
