process INGEST {
    tag "${n_cohorts} cohort(s)"
    label 'process_single'

    input:
    val(samplesheet_csv)
    val(n_cohorts)
    path(files, stageAs: 'inputs/?/*')
    path(histology_map)
    val(opts)

    output:
    path("raw_expression.parquet"), emit: expression
    path("raw_labels.parquet")    , emit: labels
    path("raw_features.parquet")  , emit: features
    path("histology_mapping.csv") , emit: histology_mapping
    path("label_mapping.csv")     , emit: label_mapping
    path("radiomics_selection.csv"), emit: radiomics_selection
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    def map_arg = histology_map ? "--histology-map ${q(histology_map)}" : ''
    """
    cat > samplesheet.csv <<'RADPLUG_EOF'
${samplesheet_csv}
RADPLUG_EOF
    radplug-ingest --samplesheet samplesheet.csv --outdir . ${map_arg} \\
        --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    touch raw_expression.parquet raw_labels.parquet raw_features.parquet histology_mapping.csv label_mapping.csv \\
        radiomics_selection.csv
    radplug-versions --process '${task.process}' > versions.yml
    """
}
