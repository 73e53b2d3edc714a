process EXTRACT_JOIN {
    tag "${cohort}"
    label 'process_single'

    input:
    tuple val(cohort), path(features, stageAs: 'parts/?/*'), path(infos, stageAs: 'info/?/*')

    output:
    tuple val(cohort), path("${cohort}.radiomics.csv"), emit: table
    path("${cohort}.extraction*")                   , emit: provenance
    path("versions.yml")      , emit: versions

    script:
    """
    radplug-extract-join --features ${features} --info ${infos} --name '${cohort}' --outdir .
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    touch '${cohort}.radiomics.csv' '${cohort}.extraction.json'
    radplug-versions --process '${task.process}' > versions.yml
    """
}
