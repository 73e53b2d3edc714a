process SELECT {
    label 'process_single'

    input:
    path(cv_parts, stageAs: 'parts/*')
    val(opts)

    output:
    path("cv/cv_results.parquet"), emit: cv
    path("cv/cv_summary.parquet"), emit: summary
    path("cv/selection.parquet") , emit: selection

    script:
    """
    radplug-select --cv parts/* --models '${opts.models}' --outdir cv
    """
}
