/*
 * EXPLAIN_MODELS: gene-set masking (and every other interpreter) of the final models that reach the test-AUC
 * threshold, then the significance of each gene set.
 *   MASK (per model x gene-set source) -> SIGNIFICANCE
 */
include { MASK         } from '../../../modules/local/mask/main'
include { SIGNIFICANCE } from '../../../modules/local/significance/main'
include { stepOptions; optionalFile } from '../utils_radplug/main'

workflow EXPLAIN_MODELS {
    take:
    models         // [target, model file] per target
    mask_targets   // the targets to explain, one per line (EVALUATE)
    expression     // the validated expression table
    targets        // BINARIZE's targets table
    sources        // [name, spec, staged file or []] per gene-set source

    main:
    // ---- one task per (model, gene-set source)
    ch_mask_in = models
        .join(mask_targets.splitText().map { it.trim() }.filter { it }.map { [it] })
        .combine(sources)
    MASK(ch_mask_in, expression, targets, stepOptions('mask'))
    SIGNIFICANCE(MASK.out.masking.collect(), MASK.out.null_dist.collect(), MASK.out.coverage.collect(),
                 MASK.out.dropped.collect(), MASK.out.interpretations.collect().ifEmpty([]),
                 optionalFile(params.modules), stepOptions('significance'))

    emit:
    tables   = SIGNIFICANCE.out.tables
    versions = MASK.out.versions.mix(SIGNIFICANCE.out.versions)
}
