/*
 * EXPLAIN_MODELS: gene-set masking (and every other interpreter) of the final models that reach the test-AUC
 * threshold, then the significance of each gene set.
 *   MASK (per unit with a masking target x gene-set source) -> SIGNIFICANCE
 */
include { MASK         } from '../../../modules/local/mask/main'
include { SIGNIFICANCE } from '../../../modules/local/significance/main'
include { stepOptions; optionalFile } from '../utils_radplug/main'

workflow EXPLAIN_MODELS {
    take:
    models         // [unit, its targets, its model files] per unit
    mask_targets   // the targets to explain, one per line (EVALUATE)
    expression     // the validated expression table
    targets        // BINARIZE's targets table
    sources        // [name, spec, staged file or []] per gene-set source

    main:
    // ---- one task per (unit with a target that EVALUATE passed to masking, gene-set source), over that unit's
    //      passed targets
    ch_mask_set = mask_targets.map { f -> [f.readLines()*.trim().findAll { it } as Set] }
    ch_mask_in = models
        .combine(ch_mask_set)
        .map { unit, names, files, chosen -> tuple(unit, names.findAll { it in chosen }, files) }
        .filter { unit, names, files -> names }
        .combine(sources)
    MASK(ch_mask_in, expression, targets, stepOptions('mask'))
    SIGNIFICANCE(MASK.out.masking.collect(), MASK.out.null_dist.collect(), MASK.out.coverage.collect(),
                 MASK.out.dropped.collect(), MASK.out.interpretations.collect().ifEmpty([]),
                 optionalFile(params.modules), stepOptions('significance'))

    emit:
    tables   = SIGNIFICANCE.out.tables
    versions = MASK.out.versions.mix(SIGNIFICANCE.out.versions)
}
