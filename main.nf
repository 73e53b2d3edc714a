#!/usr/bin/env nextflow
/*
 * radplug: gene expression -> CT radiomic features and histology, explained by gene-set masking.
 * Entry workflow only: --help/--version, then PIPELINE_INITIALISATION (validation, results-folder check, run
 * summary) -> RADPLUG (workflows/radplug.nf) -> PIPELINE_COMPLETION (summary, report timings).
 */
nextflow.enable.dsl = 2

include { RADPLUG } from './workflows/radplug'
include { PIPELINE_INITIALISATION; PIPELINE_COMPLETION; helpOrVersionShown } from './subworkflows/local/utils_radplug'

workflow {
    if (helpOrVersionShown()) {
        return                       // nothing runs and nothing is published
    }
    PIPELINE_INITIALISATION()
    RADPLUG(params.input ?: '', params.genesets ?: '')
    PIPELINE_COMPLETION()
}
