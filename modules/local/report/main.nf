process REPORT {
    label 'process_single'

    input:
    path(data_files, stageAs: 'results/data/*')
    path(cv_files, stageAs: 'results/cv/*')
    path(evaluation_files, stageAs: 'results/evaluation/*')
    path(masking_files, stageAs: 'results/masking/*')
    path(versions, stageAs: 'versions/collated_versions.yml')
    val(params_json)

    output:
    path("report/*")                               , emit: report
    path("pipeline_info/software_versions.yml")     , emit: versions
    path("pipeline_info/params.json")               , emit: params

    script:
    """
    mkdir -p results/pipeline_info pipeline_info
    cat > pipeline_info/params.json <<'RADPLUG_EOF'
${params_json}
RADPLUG_EOF
    cat ${versions} > pipeline_info/software_versions.yml
    radplug-versions --process '${task.process}' >> pipeline_info/software_versions.yml
    cp pipeline_info/* results/pipeline_info/
    radplug-report results --outdir report
    """

    stub:
    """
    mkdir -p report pipeline_info
    touch report/report.html
    echo '{}' > pipeline_info/params.json
    cat ${versions} > pipeline_info/software_versions.yml
    radplug-versions --process '${task.process}' >> pipeline_info/software_versions.yml
    """
}
