"""Self-supervised pretraining: one job per dataset × method × seed."""


rule pretrain:
    input:
        meta=f"{DATA}/{{dataset}}/meta.json",
    output:
        model=f"{RUN}/model.pt",
        history=f"{RUN}/history.json",
    log:
        f"{LOGS}/pretrain/{{dataset}}/{{method}}/seed{{seed}}.log",
    conda:
        "../envs/sslbench.yaml"
    threads: config["threads"]
    params:
        cfg=pretrain_params,
        data=lambda wc: f"{DATA}/{wc.dataset}",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli pretrain --threads {threads} --params {params.cfg:q} --dataset-dir {params.data:q}'
        " --model-out {output.model:q} --history-out {output.history:q} > {log:q} 2>&1"
