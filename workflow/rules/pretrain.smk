"""Self-supervised pretraining (from scratch, optionally regularised) and regularised
fine-tuning of the pretrained baseline under each fine-tuning protocol (001's, 000's).
"""


rule pretrain:
    input:
        meta=META,
    output:
        model=f"{BASE}/pretrain-{{regulariser}}/model.pt",
        history=f"{BASE}/pretrain-{{regulariser}}/history.json",
    log:
        f"{LOGS}/pretrain/{{dataset}}/{{method}}/seed{{seed}}/{{regulariser}}.log",
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
        cfg=pretrain_params,
        data=lambda wc: f"{DATA}/{wc.dataset}",
        # the CLI stage, named after the rule (suppression.smk reuses this rule)
        stage="pretrain",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli {params.stage:q} --threads {threads} --device {params.device:q} --mixed-precision {params.precision:q} --compile {params.compile:q} --jobs-per-gpu {params.jobs_per_gpu:q} --params {params.cfg:q} --dataset-dir {params.data:q}'
        " --model-out {output.model:q} --history-out {output.history:q} > {log:q} 2>&1"


rule finetune:
    input:
        meta=META,
        pretrained=f"{BASE}/pretrain-none/model.pt",
    output:
        model=f"{RUN}/model.pt",
        history=f"{RUN}/history.json",
        movement=f"{RUN}/movement.json",
    log:
        f"{LOGS}/{{protocol}}/{{dataset}}/{{method}}/seed{{seed}}/{{regulariser}}.log",
    wildcard_constraints:
        protocol="|".join(FINETUNE_PROTOCOLS),
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
        cfg=finetune_params,
        data=lambda wc: f"{DATA}/{wc.dataset}",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli finetune --threads {threads} --device {params.device:q} --mixed-precision {params.precision:q} --compile {params.compile:q} --jobs-per-gpu {params.jobs_per_gpu:q} --params {params.cfg:q}'
        " --dataset-dir {params.data:q} --pretrained {input.pretrained:q}"
        " --model-out {output.model:q} --history-out {output.history:q}"
        " --movement-out {output.movement:q} > {log:q} 2>&1"
