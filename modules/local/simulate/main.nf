process SIMULATE {
    tag "seed ${opts.seed}"
    label 'process_single'

    input:
    val(opts)
    path(gmt)

    output:
    path("simulated/samplesheet.csv"), emit: samplesheet
    path("simulated/*.parquet")      , emit: files
    path("simulated/genesets.gmt")   , emit: gmt
    path("simulated/ground_truth.parquet"), emit: truth
    path("versions.yml")      , emit: versions

    script:
    def q = { s -> "'" + s.toString().replace("'", "'\\''") + "'" }
    def gmt_arg = gmt ? "--gmt ${q(gmt)}" : ''
    """
    radplug-simulate --outdir simulated ${gmt_arg} --options ${q(groovy.json.JsonOutput.toJson(opts))}
    radplug-versions --process '${task.process}' > versions.yml
    """

    stub:
    """
    mkdir -p simulated
    touch simulated/expression_train.parquet simulated/ground_truth.parquet
    printf 'SIM_SET_001\tstub\tSG00001\tSG00002\n' > simulated/genesets.gmt
    printf 'cohort,role,expression,radiomics,clinical\ntrain,train,expression_train.parquet,,\n' > simulated/samplesheet.csv
    radplug-versions --process '${task.process}' > versions.yml
    """
}
