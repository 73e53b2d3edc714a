process MASK {
    tag "${target} x ${source}"
    label 'process_mask'

    input:
    tuple val(target), path(model), val(source), val(spec), path(geneset_file)
    path(expression)
    path(targets)
    val(opts)

    output:
    path("*.masking.parquet")    , emit: masking, optional: true
    path("*.null.parquet")       , emit: null_dist, optional: true
    path("*.coverage.parquet")   , emit: coverage
    path("*.dropped.parquet")    , emit: dropped
    path("*.interpretation.parquet"), emit: interpretations, optional: true
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    // a local gene-set file is staged; any other spec (a URL, a release) goes to the source plugin unchanged
    def gs = geneset_file ? "${source}=${geneset_file}" : "${source}=${spec}"
    """
    radplug-mask --model ${model} --expression ${expression} --targets ${targets} \\
        --genesets ${q(gs)} --outdir . --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    def stem = "${target}__${source}".replaceAll(/[^A-Za-z0-9._-]/, '_')
    """
    touch ${stem}.masking.parquet ${stem}.null.parquet ${stem}.coverage.parquet ${stem}.dropped.parquet
    radplug-versions --process '${task.process}' > versions.yml
    """
}
