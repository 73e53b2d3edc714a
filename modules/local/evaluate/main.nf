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

    script:
    """
    radplug-evaluate --models models/* --expression ${expression} --targets ${targets} --outdir evaluation \\
        --n-boot ${opts.n_boot} --seed ${opts.seed} --mask-min-auc ${opts.mask_min_auc} \\
        --mask-target-q ${opts.mask_target_q}
    """
}
