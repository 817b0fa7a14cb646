"""002's fully controlled experiments: content/style DGP, one job per setting × seed."""


rule collapse:
    output:
        COLLAPSE,
    log:
        f"{LOGS}/collapse/{{setting}}/seed{{seed}}.log",
    conda:
        "../envs/sslbench.yaml"
    threads: 1
    params:
        cfg=lambda wc: as_json(
            config["collapse"]["settings"][wc.setting] | {"seed": int(wc.seed)}
        ),
    shell:
        '"$SSLBENCH_PYTHON" -m sslbench.cli collapse --threads {threads} --params {params.cfg:q}'
        " --out {output:q} > {log:q} 2>&1"
