process PREFLIGHT {
    tag "${gs_specs.size()} gene-set source(s)"
    label 'process_single'

    input:
    path(expression)
    path(labels)
    path(features)
    path(gs_files, stageAs: 'genesets/?/*')
    val(gs_specs)      // [name, spec as given, index into gs_files or -1 when the spec is not a local file]
    val(opts)

    output:
    path("preflight/preflight_*.csv"), emit: tables
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    def files = gs_files instanceof List ? gs_files : [gs_files]
    def gs = gs_specs.collect { n, given, i -> q("${n}=${i >= 0 ? files[i] : given}") }.join(' ')
    def shown = gs_specs.collect { q(it[1]) }.join(' ')
    """
    radplug-preflight --expression ${expression} --labels ${labels} --features ${features} --outdir preflight \\
        ${gs ? '--genesets ' + gs + ' --geneset-paths ' + shown : ''} \\
        --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    mkdir -p preflight
    touch preflight/preflight_checks.csv
    radplug-versions --process '${task.process}' > versions.yml
    """
}
