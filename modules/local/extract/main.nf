process EXTRACT {
    tag "${cohort}: ${ids.size() == 1 ? ids[0] : ids[0] + '..' + ids[-1]}"
    label 'process_single'

    input:
    tuple val(cohort), val(batch), val(ids), val(labels), val(sources), path(images, stageAs: 'img/?/*'), path(masks, stageAs: 'msk/?/*')
    path(settings_file)
    val(opts)

    output:
    tuple val(cohort), path("features_${batch}.csv"), path("extraction_${batch}.json"), emit: features
    path("versions.yml")      , emit: versions

    script:
    def imgs = images instanceof List ? images : [images]
    def msks = masks instanceof List ? masks : [masks]
    def quote = { v -> '"' + v.toString().replace('"', '""') + '"' }
    // the staged copies, and the user's paths (image_source, mask_source) for messages and provenance
    def rows = (0..<ids.size()).collect { i ->
        [ids[i], imgs[i], msks[i], labels[i], sources[i][0], sources[i][1]].collect(quote).join(',')
    }
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    // a settings file is staged: the step reads its staged copy
    def options = settings_file ? opts + [extract_settings: settings_file.name] : opts
    """
    cat > manifest.csv <<'RADPLUG_EOF'
sample_id,image,mask,label,image_source,mask_source
${rows.join('\n')}
RADPLUG_EOF
    radplug-extract --manifest manifest.csv --out features_${batch}.csv --info extraction_${batch}.json \\
        --options ${q(groovy.json.JsonOutput.toJson(options))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    touch features_${batch}.csv extraction_${batch}.json
    radplug-versions --process '${task.process}' > versions.yml
    """
}
