process MASK {
    // one task per (unit, gene-set source): the unit's targets that EVALUATE passed to masking (mask_targets),
    // one model at a time; the output files are per (target, source)
    tag "${unit} x ${source}"
    label 'process_mask'

    input:
    tuple val(unit), val(mask_targets), path(models, stageAs: 'models/*'), val(source), val(spec), path(geneset_file)
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
    printf '%s\\n' ${mask_targets.collect { q(it) }.join(' ')} > .mask_targets.txt
    radplug-mask --model models/* --only-targets .mask_targets.txt --expression ${expression} --targets ${targets} \\
        --genesets ${q(gs)} --outdir . --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    def stems = mask_targets.collect { t -> "${t}__${source}".replaceAll(/[^A-Za-z0-9._-]/, '_') }
    def files = stems.collect { st -> ['masking', 'null', 'coverage', 'dropped'].collect { "${st}.${it}.parquet" } }.flatten()
    """
    touch ${files.join(' ')}
    radplug-versions --process '${task.process}' > versions.yml
    """
}
