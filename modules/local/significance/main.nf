process SIGNIFICANCE {
    label 'process_single'

    input:
    path(masking, stageAs: 'in/masking/*')
    path(null_dist, stageAs: 'in/null/*')
    path(coverage, stageAs: 'in/coverage/*')
    path(dropped, stageAs: 'in/dropped/*')
    path(interpretations, stageAs: 'in/interpretations/*')
    path(modules, stageAs: 'in/modules/*')
    val(opts)

    output:
    path("masking/*.parquet"), emit: tables
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    def interp = interpretations ? "--interpretations in/interpretations/*" : ''
    def compare = modules ? "radplug-modules --masking masking/masking.parquet --modules ${q(modules)} --outdir masking" : ''
    """
    radplug-significance --masking in/masking/* --null in/null/* --coverage in/coverage/* \\
        --dropped in/dropped/* ${interp} --outdir masking --options ${q(groovy.json.JsonOutput.toJson(opts))}
    ${compare}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    mkdir -p masking
    touch masking/masking.parquet masking/masking_null.parquet
    radplug-versions --process '${task.process}' > versions.yml
    """
}
