process SAMPLESHEET {
    tag "${sheet.name}"
    label 'process_single'

    input:
    path(sheet, stageAs: 'sheet/*')
    val(base)

    output:
    path("samplesheet.json"), emit: json

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    """
    radplug-samplesheet --samplesheet ${q(sheet)} --base ${q(base)} --out samplesheet.json
    """
}
