process SIMULATE {
    tag "seed ${opts.seed}"
    label 'process_single'

    input:
    val(opts)
    path(gmt)

    output:
    path("simulated/samplesheet.csv"), emit: samplesheet
    path("simulated/*.parquet")      , emit: files
    path("simulated/genesets.gmt")   , emit: gmt
    path("simulated/ground_truth.parquet"), emit: truth

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    def gmt_arg = gmt ? "--gmt ${q(gmt)}" : ''
    """
    radplug-simulate --outdir simulated --seed ${opts.seed} --n-train ${opts.n_train} --n-test ${opts.n_test} \\
        --n-genes ${opts.n_genes} --n-sets ${opts.n_sets} --features-per-group ${opts.features_per_group} \\
        --signal ${opts.signal} ${gmt_arg}
    """
}
