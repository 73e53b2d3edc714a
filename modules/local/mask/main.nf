process MASK {
    tag "${target} x ${source}"
    label 'process_mask'

    input:
    tuple val(target), path(model), val(source), path(geneset_file)
    path(expression)
    path(targets)
    val(opts)

    output:
    path("*.masking.parquet")    , emit: masking, optional: true
    path("*.null.parquet")       , emit: null_dist, optional: true
    path("*.coverage.parquet")   , emit: coverage
    path("*.dropped.parquet")    , emit: dropped
    path("*.permutation.parquet"), emit: permutation, optional: true

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-mask --model ${model} --expression ${expression} --targets ${targets} \\
        --genesets ${q("${source}=${geneset_file}")} --outdir . --min-set-size ${opts.min_set_size} \\
        --max-set-size ${opts.max_set_size} --n-random ${opts.n_random} --max-random ${opts.max_random} \\
        --max-null-sizes ${opts.null_bins} --fdr-scope ${q(opts.fdr_scope)} \\
        --interpreters ${q(opts.interpreters)} --seed ${opts.seed} --device ${q(opts.device)}
    """
}
