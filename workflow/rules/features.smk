"""Feature extraction: h (before the projector) and z (after) for train and test."""


rule features:
    input:
        meta=META,
        model=f"{RUN}/model.pt",
    output:
        f"{RUN}/features.pt",
    log:
        f"{LOGS}/features/{{dataset}}/{{method}}/seed{{seed}}/{{protocol}}-{{regulariser}}.log",
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
        cfg=lambda wc: as_json(config["features"]),
        data=lambda wc: f"{DATA}/{wc.dataset}",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli features --threads {threads} --device {params.device:q} --mixed-precision {params.precision:q} --compile {params.compile:q} --jobs-per-gpu {params.jobs_per_gpu:q} --params {params.cfg:q} --dataset-dir {params.data:q}'
        " --model-path {input.model:q} --out {output:q} > {log:q} 2>&1"
