process VALIDATE {
    label 'process_single'

    input:
    path(expression)
    path(labels)
    path(features)
    path(histology_mapping)
    path(label_mapping)
    path(radiomics_selection)
    val(opts)

    output:
    path("data/expression.parquet"), emit: expression
    path("data/labels.parquet")    , emit: labels
    path("data/features.parquet")  , emit: features
    path("data/validation.parquet"), emit: report
    path("data/histology_mapping.csv"), emit: histology_mapping
    path("data/label_mapping.csv"), emit: label_mapping
    path("data/radiomics_selection.csv"), emit: radiomics_selection
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-validate --expression ${expression} --labels ${labels} --features ${features} --outdir data \\
        --options ${q(groovy.json.JsonOutput.toJson(opts))}
    cp ${histology_mapping} data/histology_mapping.csv
    cp ${label_mapping} data/label_mapping.csv
    cp ${radiomics_selection} data/radiomics_selection.csv
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    mkdir -p data
    touch data/expression.parquet data/labels.parquet data/features.parquet data/validation.parquet \
        data/histology_mapping.csv data/label_mapping.csv data/radiomics_selection.csv
    radplug-versions --process '${task.process}' > versions.yml
    """
}
