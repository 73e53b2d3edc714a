process SIGNIFICANCE {
    label 'process_single'

    input:
    path(masking, stageAs: 'in/masking/*')
    path(null_dist, stageAs: 'in/null/*')
    path(coverage, stageAs: 'in/coverage/*')
    path(dropped, stageAs: 'in/dropped/*')
    path(permutation, stageAs: 'in/permutation/*')
    path(modules, stageAs: 'in/modules/*')
    val(opts)

    output:
    path("masking/*.parquet"), emit: tables

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    def perm = permutation ? "--permutation in/permutation/*" : ''
    def compare = modules ? "radplug-modules --masking masking/masking.parquet --modules ${q(modules)} --outdir masking" : ''
    """
    radplug-significance --masking in/masking/* --null in/null/* --coverage in/coverage/* \\
        --dropped in/dropped/* ${perm} --fdr-scope ${opts.fdr_scope} --outdir masking
    ${compare}
    """
}
