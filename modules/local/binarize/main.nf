process BINARIZE {
    label 'process_single'

    input:
    path(labels)
    path(features)
    path(group_overrides)
    val(opts)

    output:
    path("targets.parquet")     , emit: targets
    path("tasks.parquet")       , emit: tasks
    path("binarization.parquet"), emit: binarization
    path("targets.txt")         , emit: targets_list
    path("units.json")          , emit: units          // FIT_FINAL/MASK units: {unit: [targets]}
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    def groups = group_overrides ? "--group-overrides ${q(group_overrides)}" : ''
    """
    radplug-binarize --labels ${labels} --features ${features} --outdir . ${groups} \\
        --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    touch targets.parquet tasks.parquet binarization.parquet
    printf 'histology\nstub_feature\n' > targets.txt
    printf '{"target:histology": ["histology"], "group:stub": ["stub_feature"]}\n' > units.json
    radplug-versions --process '${task.process}' > versions.yml
    """
}
