process VALIDATE {
    label 'process_single'

    input:
    path(expression)
    path(labels)
    path(features)
    val(opts)

    output:
    path("data/expression.parquet"), emit: expression
    path("data/labels.parquet")    , emit: labels
    path("data/features.parquet")  , emit: features
    path("data/validation.parquet"), emit: report

    script:
    """
    radplug-validate --expression ${expression} --labels ${labels} --features ${features} --outdir data \\
        --max-missing ${opts.max_missing}
    """
}
