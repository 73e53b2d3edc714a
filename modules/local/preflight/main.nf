process PREFLIGHT {
    tag "${gs_names.size()} gene-set source(s)"
    label 'process_single'

    input:
    path(expression)
    path(labels)
    path(features)
    path(gs_files, stageAs: 'genesets/?/*')
    val(gs_names)
    val(gs_paths)
    val(opts)

    output:
    path("preflight/preflight_*.csv"), emit: tables

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    def files = gs_files instanceof List ? gs_files : [gs_files]
    def gs = [gs_names, files].transpose().collect { n, f -> q("${n}=${f}") }.join(' ')
    def shown = gs_paths.collect { q(it) }.join(' ')
    """
    radplug-preflight --expression ${expression} --labels ${labels} --features ${features} --outdir preflight \\
        ${gs ? '--genesets ' + gs + ' --geneset-paths ' + shown : ''} --models ${q(opts.models)} --grid ${q(opts.grid)} \\
        --cv-folds ${opts.cv_folds} --seed ${opts.seed} --n-boot ${opts.n_boot} --mask-n-random ${opts.n_random} \\
        --interpreters ${q(opts.interpreters)} --min-set-size ${opts.min_set_size} \\
        --max-set-size ${opts.max_set_size} --min-minority ${opts.min_minority} --nested-cv ${opts.nested_cv}
    """
}
