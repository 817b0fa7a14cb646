"""The replication report: a papermill-executed notebook converted to HTML (inputs hidden)."""


rule report:
    input:
        [run_outputs(f"{RUN}/{name}") for name in REPORT_FILES],
        [job["path"] for job in collapse_jobs()],
        notebook="workflow/notebooks/report.ipynb",
        claims="workflow/report/claims.yaml",
    output:
        html=REPORT_HTML,
        notebook=f"{REPORTS}/report.ipynb",
    log:
        f"{LOGS}/report.log",
    conda:
        "../envs/sslbench.yaml"
    params:
        runs=as_json(report_runs()),
        collapse=as_json(collapse_jobs()),
        tmp=".index.tmp",
        reports_dir=lambda wildcards, output: os.path.dirname(output.html),
    shell:
        '("$SSLBENCH_PYTHON" -m papermill {input.notebook:q} {output.notebook:q}'
        " -p runs_json {params.runs:q} -p collapse_json {params.collapse:q}"
        " -p claims_path {input.claims:q} --cwd ."
        ' && "$SSLBENCH_PYTHON" -m jupyter nbconvert --to html --no-input {output.notebook:q}'
        " --output-dir {params.reports_dir:q} --output {params.tmp:q}"
        " && mv {params.reports_dir:q}/{params.tmp:q}.html {output.html:q}) > {log:q} 2>&1"
