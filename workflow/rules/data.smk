"""Dataset preparation: generated Trifeature, ImageFolder trees or torchvision downloads."""


rule prepare_dataset:
    output:
        meta=META,
    log:
        f"{LOGS}/prepare/{{dataset}}.log",
    conda:
        "../envs/sslbench.yaml"
    params:
        cfg=lambda wc: as_json({"dataset_config": config["datasets"][wc.dataset]}),
        out_dir=lambda wc: f"{DATA}/{wc.dataset}",
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli prepare_dataset --params {params.cfg:q} --out-dir {params.out_dir:q} > {log:q} 2>&1'
