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
    def id_arg = opts.id_column ? "--id-column ${q(opts.id_column)}" : ''
    def hist_arg = opts.histology_column ? "--histology-column ${q(opts.histology_column)}" : ''
    def mismatch = opts.allow_sample_mismatch ? '--allow-sample-mismatch' : ''
    def rad_id = opts.radiomics_id_pattern ? "--radiomics-id-pattern ${q(opts.radiomics_id_pattern)}" : ''
    def rad_inc = opts.radiomics_include ? "--radiomics-include ${q(opts.radiomics_include)}" : ''
    def rad_exc = opts.radiomics_exclude ? "--radiomics-exclude ${q(opts.radiomics_exclude)}" : ''
    """
    cat > samplesheet.csv <<'RADPLUG_EOF'
${samplesheet_csv}
RADPLUG_EOF
    radplug-ingest --samplesheet samplesheet.csv --outdir . --orientation ${q(opts.orientation)} \\
        --clinical-targets ${q(opts.clinical_targets)} --collapse ${q(opts.collapse)} \\
        --radiomics-max-correlation ${opts.radiomics_max_correlation} \\
        ${map_arg} ${id_arg} ${hist_arg} ${mismatch} ${rad_id} ${rad_inc} ${rad_exc}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    touch raw_expression.parquet raw_labels.parquet raw_features.parquet histology_mapping.csv label_mapping.csv \\
        radiomics_selection.csv
    radplug-versions --process '${task.process}' > versions.yml
    """
}
