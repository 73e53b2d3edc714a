/*
 * The radplug workflow, in four subworkflows (subworkflows/local/):
 *   PREPARE_DATA   SIMULATE | SAMPLESHEET (-> EXTRACT -> EXTRACT_JOIN) -> INGEST -> PREFLIGHT -> VALIDATE -> BINARIZE
 *   TRAIN_MODELS   PLAN -> SEARCH (per unit x family x chunk) -> FEATURE_CV -> SELECT (-> NESTED)
 *                  -> FIT_FINAL (per unit) -> EVALUATE
 *   EXPLAIN_MODELS MASK (per unit with a masking target x gene-set source) -> SIGNIFICANCE
 *   REPORTING      collated versions -> REPORT
 * Every module gets its parameters as its step's option group (stepOptions, subworkflows/local/utils_radplug).
 */
include { PREPARE_DATA   } from '../subworkflows/local/prepare_data/main'
include { TRAIN_MODELS   } from '../subworkflows/local/train_models/main'
include { EXPLAIN_MODELS } from '../subworkflows/local/explain_models/main'
include { REPORTING      } from '../subworkflows/local/reporting/main'

workflow RADPLUG {
    take:
    input_sheet    // the samplesheet (--input), or '' for the embedded synthetic cohort
    genesets   // --genesets, or '' (the embedded cohort's simulated collection)

    main:
    PREPARE_DATA(input_sheet, genesets)
    def data = PREPARE_DATA.out
    TRAIN_MODELS(data.expression, data.targets, data.tasks, data.units,
                 [user_input: input_sheet as boolean, n_sources: genesets ? genesets.toString().tokenize(',').size() : 1])
    EXPLAIN_MODELS(TRAIN_MODELS.out.models, TRAIN_MODELS.out.mask_targets, data.expression, data.targets, data.sources)
    REPORTING(data.versions.mix(TRAIN_MODELS.out.versions, EXPLAIN_MODELS.out.versions),
              data.tables, TRAIN_MODELS.out.cv_tables, TRAIN_MODELS.out.eval_tables, EXPLAIN_MODELS.out.tables)

    emit:
    report = REPORTING.out.report
}
