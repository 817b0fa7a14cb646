"""004's feature-suppression sweep on Trifeature: SimCLR encoders at several temperatures, with
and without IFM, each followed by the linear readout of every factor and its held-out loss.
"""


# pretrain's input, environment, GPU request, device parameters and command, with the sweep's
# outputs, log, one thread, config block and CLI stage.
use rule pretrain as suppression_pretrain with:
    output:
        model=f"{SUPPRESSION}/model.pt",
        history=f"{SUPPRESSION}/history.json",
    log:
        f"{LOGS}/suppression_pretrain/{{dataset}}/tau{{tau}}/{{regulariser}}/seed{{seed}}.log",
    threads: 1
    params:
        cfg=suppression_params,
        stage="suppression_pretrain",


rule suppression_readout:
    input:
        meta=META,
        model=f"{SUPPRESSION}/model.pt",
    output:
        PATHS.suppression_readout,
    log:
        f"{LOGS}/suppression_readout/{{dataset}}/tau{{tau}}/{{regulariser}}/seed{{seed}}.log",
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
            suppression_id(wc)
            | {
                "readout": config["suppression"]["readout"],
                "batch_size": config["features"]["batch_size"],
            }
        ),
        data=lambda wc: f"{DATA}/{wc.dataset}",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli suppression_readout --threads {threads} --device {params.device:q} --mixed-precision {params.precision:q} --compile {params.compile:q} --jobs-per-gpu {params.jobs_per_gpu:q} --params {params.cfg:q}'
        " --dataset-dir {params.data:q} --model-path {input.model:q} --out {output:q} > {log:q} 2>&1"
