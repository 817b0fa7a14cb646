"""The replication report: one papermill notebook per paper (workflow/notebooks/<page>.ipynb)
and the index holding every claim, each executed and converted to HTML with inputs hidden.
Editing one notebook reruns only its page (and the index, which links it)."""


rule report_page:
    input:
        REPORT_INPUTS,
        notebook="workflow/notebooks/{page}.ipynb",
        claims="workflow/report/claims.yaml",
    output:
        html=report(
            f"{REPORTS}/{{page}}.html",
            category="Replication report",
            labels={"page": "{page}"},
        ),
        notebook=f"{REPORTS}/{{page}}.ipynb",
    log:
        f"{LOGS}/report/{{page}}.log",
    wildcard_constraints:
        page="|".join(PAGES),
    conda:
        "../envs/sslbench.yaml"
    params:
        **REPORT_PARAMS,
        tmp=lambda wc: f".{wc.page}.tmp",
    shell:
        NOTEBOOK_SHELL


rule report:
    input:
        REPORT_INPUTS,
        [f"{REPORTS}/{page}.html" for page in PAGES],
        notebook="workflow/notebooks/index.ipynb",
        claims="workflow/report/claims.yaml",
    output:
        # in `snakemake --report` too, so the pages' "← all claims" links have a target
        html=report(
            REPORT_HTML,
            category="Replication report",
            labels={"page": "index"},
        ),
        notebook=f"{REPORTS}/index.ipynb",
    log:
        f"{LOGS}/report/index.log",
    conda:
        "../envs/sslbench.yaml"
    params:
        **REPORT_PARAMS,
        tmp=".index.tmp",
    shell:
        NOTEBOOK_SHELL
