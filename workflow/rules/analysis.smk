"""Q-Score analysis: both Q-Scores and 000's quality metrics as predictors of correctness."""


rule qscore:
    input:
        meta=f"{DATA}/{{dataset}}/meta.json",
        features=f"{RUN}/features.pt",
        predictions=f"{RUN}/predictions.csv",
    output:
        summary=f"{RUN}/qscore.json",
        scores=f"{RUN}/scores.csv",
    log:
        f"{LOGS}/qscore/{{dataset}}/{{method}}/seed{{seed}}/{{protocol}}-{{regulariser}}.log",
    conda:
        "../envs/sslbench.yaml"
    threads: 1
    params:
        cfg=lambda wc: as_json(run_id(wc) | {"qscore": config["analysis"]["qscore"]}),
        data=lambda wc: f"{DATA}/{wc.dataset}",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli analyse --threads {threads} --params {params.cfg:q} --dataset-dir {params.data:q}'
        " --features-path {input.features:q} --predictions-path {input.predictions:q}"
        " --summary-out {output.summary:q} --scores-out {output.scores:q} > {log:q} 2>&1"
