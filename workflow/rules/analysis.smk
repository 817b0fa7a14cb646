"""Per-model analyses: Q-Scores and quality metrics as predictors of correctness (000, 001),
discriminative features, spectra and class-wise views, and GradCAM interpretability (001).
"""


rule qscore:
    input:
        meta=META,
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
            | {"qscore": config["analysis"]["qscore"]}
            | {"linear_probe": config["evaluation"]["linear_probe"]}
        ),
        data=lambda wc: f"{DATA}/{wc.dataset}",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli qscore --threads {threads} --device {params.device:q} --mixed-precision {params.precision:q} --compile {params.compile:q} --jobs-per-gpu {params.jobs_per_gpu:q} --params {params.cfg:q} --dataset-dir {params.data:q}'
        " --features-path {input.features:q} --predictions-path {input.predictions:q}"
        " --summary-out {output.summary:q} --scores-out {output.scores:q} > {log:q} 2>&1"


rule representation:
    input:
        meta=META,
        features=f"{RUN}/features.pt",
        predictions=f"{RUN}/predictions.csv",
    output:
        f"{RUN}/representation.json",
    log:
        f"{LOGS}/representation/{{dataset}}/{{method}}/seed{{seed}}/{{protocol}}-{{regulariser}}.log",
    conda:
        "../envs/sslbench.yaml"
    threads: 1
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
            | {
                key: config["analysis"][key]
                for key in ("qscore", "compression", "classwise")
            }
            | {"linear_probe": config["evaluation"]["linear_probe"]}
        ),
        data=lambda wc: f"{DATA}/{wc.dataset}",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli representation --threads {threads} --device {params.device:q} --mixed-precision {params.precision:q} --compile {params.compile:q} --jobs-per-gpu {params.jobs_per_gpu:q} --params {params.cfg:q}'
        " --dataset-dir {params.data:q} --features-path {input.features:q}"
        " --predictions-path {input.predictions:q} --out {output:q} > {log:q} 2>&1"


rule interpret:
    input:
        meta=META,
        model=f"{RUN}/model.pt",
        features=f"{RUN}/features.pt",
        predictions=f"{RUN}/predictions.csv",
    output:
        summary=f"{RUN}/interpretability.json",
        figure=report(
            f"{RUN}/gradcam.png",
            category="GradCAM galleries (001 Fig. 6)",
            labels={
                "run": "{dataset}/{method}/seed{seed}",
                "model": "{protocol}-{regulariser}",
            },
        ),
    log:
        f"{LOGS}/interpret/{{dataset}}/{{method}}/seed{{seed}}/{{protocol}}-{{regulariser}}.log",
    conda:
        "../envs/sslbench.yaml"
    threads: 1
    params:
        cfg=lambda wc: as_json(
            run_id(wc)
            | {key: config["analysis"][key] for key in ("qscore", "gradcam")}
        ),
        data=lambda wc: f"{DATA}/{wc.dataset}",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli interpret --threads {threads} --params {params.cfg:q}'
        " --dataset-dir {params.data:q} --model-path {input.model:q} --features-path {input.features:q}"
        " --predictions-path {input.predictions:q} --summary-out {output.summary:q}"
        " --figure-out {output.figure:q} > {log:q} 2>&1"
