/*
 * REPORTING: every process's versions collated with Nextflow's into pipeline_info/software_versions.yml, and the
 * HTML report of the run.
 */
include { REPORT } from '../../../modules/local/report/main'

workflow REPORTING {
    take:
    versions       // every process's versions.yml
    data_tables    // PREPARE_DATA's tables
    cv_tables      // TRAIN_MODELS' CV, selection and nested-CV tables
    eval_tables    // TRAIN_MODELS' test-cohort tables
    masking_tables // EXPLAIN_MODELS' tables (none when no target reached masking)

    main:
    def workflow_versions = ("\"Workflow\":\n    Nextflow: ${workflow.nextflow.version.toString()}\n" +
                             "    radplug: ${workflow.manifest.version}\n").toString()
    ch_versions_yml = versions.map { it.text }.mix(Channel.of(workflow_versions)).unique()
        .collectFile(name: 'collated_versions.yml', sort: true, newLine: false)
    def params_json = groovy.json.JsonOutput.prettyPrint(groovy.json.JsonOutput.toJson(
        params.findAll { k, v -> !(k in ['help', 'version']) && !k.contains('-') }.collectEntries { k, v -> [k, v?.toString()] }))
    REPORT(data_tables.collect(), cv_tables.collect(), eval_tables.collect(), masking_tables.collect().ifEmpty([]),
           ch_versions_yml, params_json)

    emit:
    report = REPORT.out.report
}
