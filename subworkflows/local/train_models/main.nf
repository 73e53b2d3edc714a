/*
 * TRAIN_MODELS: the model search, the selection, the final models and their test-cohort scores.
 *   PLAN -> SEARCH (per unit x family x grid chunk) -> FEATURE_CV (group networks searched in several chunks)
 *   -> SELECT -> FIT_FINAL -> EVALUATE; with --nested_cv, NESTED per outer fold.
 */
include { PLAN       } from '../../../modules/local/plan/main'
include { SEARCH     } from '../../../modules/local/search/main'
include { FEATURE_CV } from '../../../modules/local/feature_cv/main'
include { SELECT     } from '../../../modules/local/select/main'
include { NESTED     } from '../../../modules/local/nested/main'
include { FIT_FINAL  } from '../../../modules/local/fit_final/main'
include { EVALUATE   } from '../../../modules/local/evaluate/main'
include { stepOptions } from '../utils_radplug/main'

workflow TRAIN_MODELS {
    take:
    expression     // the validated expression table (value channel)
    targets        // BINARIZE's targets table
    tasks          // BINARIZE's tasks table: one row per target, with its unit
    units          // BINARIZE's units.json, {unit: [targets]}: a radiomic group or one clinical target
    plan_context   // [user_input: the run is on --input data, n_sources: gene-set sources] for PLAN's estimate

    main:
    // ---- model search: one task per (unit, family, grid chunk)
    PLAN(tasks, expression, stepOptions('plan'), plan_context)
    // what the run will cost, in the log before SEARCH starts (and in pipeline_info/estimate.txt)
    PLAN.out.estimate.subscribe { f -> log.info("radplug plan --estimate:\n" + f.text.trim()) }
    ch_jobs = PLAN.out.jobs.splitCsv(header: true, quote: '"')
    SEARCH(ch_jobs, expression, targets, tasks, stepOptions('search'))
    // ---- group networks searched in several grid chunks: the per-feature CV of the configuration chosen over all
    //      chunks, once per (group, family), as soon as that unit's chunks are done (one chunk: done in SEARCH)
    ch_group_cv = SEARCH.out.unit_cv
        .filter { unit, family, n, f -> unit.startsWith('group:') && n.toString().toInteger() > 1 }
        .map { unit, family, n, f -> tuple(groupKey("${family}\t${unit}".toString(), n.toString().toInteger()), unit, family, f) }
        .groupTuple()
        .map { key, units, families, files -> tuple(units[0], families[0], files) }
    FEATURE_CV(ch_group_cv, expression, targets, tasks, stepOptions('feature-cv'))
    SELECT(SEARCH.out.cv.mix(FEATURE_CV.out.cv).collect(), tasks, stepOptions('select'))

    // ---- nested CV (--nested_cv K): per outer fold, select from its inner CV, refit, score the held-out part
    ch_outer = SEARCH.out.nested
        .map { f -> [(f.name =~ /^nested_o(\d+)__/)[0][1] as int, f] }
        .groupTuple()
    NESTED(ch_outer, expression, targets, tasks, stepOptions('nested'))

    // ---- final models and the test cohort: one FIT_FINAL task per unit, so that the number of processes grows
    //      with the groups, not with the targets; EVALUATE reads the model files one at a time
    ch_units = units.flatMap { f ->
        new groovy.json.JsonSlurper().parseText(f.text).collect { unit, names -> tuple(unit, names) }
    }
    FIT_FINAL(ch_units, SELECT.out.selection, expression, targets, tasks, stepOptions('fit'))
    EVALUATE(FIT_FINAL.out.model.map { it[2] }.collect(), expression, targets, stepOptions('evaluate'))

    emit:
    models       = FIT_FINAL.out.model              // [unit, its targets, its model files]
    mask_targets = EVALUATE.out.mask_targets        // the targets that go on to masking, one per line
    cv_tables    = SELECT.out.cv.mix(SELECT.out.summary, SELECT.out.selection, NESTED.out.nested)
    eval_tables  = EVALUATE.out.metrics.mix(EVALUATE.out.predictions, EVALUATE.out.chance)
    versions     = PLAN.out.versions.mix(SEARCH.out.versions, FEATURE_CV.out.versions, SELECT.out.versions,
                                         NESTED.out.versions, FIT_FINAL.out.versions, EVALUATE.out.versions)
}
