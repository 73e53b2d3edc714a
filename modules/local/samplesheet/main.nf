process SAMPLESHEET {
    tag "${sheet.name}"
    label 'process_single'

    input:
    path(sheet, stageAs: 'sheet/*')
    val(base)

    output:
    path("samplesheet.json"), emit: json
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-samplesheet --samplesheet ${q(sheet)} --base ${q(base)} --out samplesheet.json
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    // rows whose files exist (the workflow checks and stages them), as the real step writes them
    """
    for f in expr_train.csv rad_train.csv clin_train.csv expr_test.csv rad_test.csv clin_test.csv; do touch \$f; done
    cat > samplesheet.json <<RADPLUG_EOF
[{"cohort": "train", "role": "train", "expression": "\$PWD/expr_train.csv", "radiomics": "\$PWD/rad_train.csv", "clinical": "\$PWD/clin_train.csv", "annotation": ""},
 {"cohort": "test", "role": "test", "expression": "\$PWD/expr_test.csv", "radiomics": "\$PWD/rad_test.csv", "clinical": "\$PWD/clin_test.csv", "annotation": ""}]
RADPLUG_EOF
    radplug-versions --process '${task.process}' > versions.yml
    """
}
