"""Linear probe (per-sample correctness) and k-NN accuracy on frozen representations."""


rule evaluate:
    input:
        meta=META,
        features=f"{RUN}/features.pt",
    output:
        metrics=f"{RUN}/eval.json",
        predictions=f"{RUN}/predictions.csv",
    log:
        f"{LOGS}/evaluate/{{dataset}}/{{method}}/seed{{seed}}/{{protocol}}-{{regulariser}}.log",
    conda:
        "../envs/sslbench.yaml"
    threads: config["threads"]
    resources:
        gpu=GPUS_PER_JOB,
    params:
        device=DEVICE,
        precision=MIXED_PRECISION,
        compile=COMPILE,
        jobs_per_gpu=JOBS_PER_GPU,
        cfg=lambda wc: as_json(
            run_id(wc)
            | {"target": config["datasets"][wc.dataset]["target"]}
            | config["evaluation"]
        ),
        data=lambda wc: f"{DATA}/{wc.dataset}",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli evaluate --threads {threads} --device {params.device:q} --mixed-precision {params.precision:q} --compile {params.compile:q} --jobs-per-gpu {params.jobs_per_gpu:q} --params {params.cfg:q} --dataset-dir {params.data:q}'
        " --features-path {input.features:q} --metrics-out {output.metrics:q}"
        " --predictions-out {output.predictions:q} > {log:q} 2>&1"
