"""The replication report: one papermill notebook per paper (workflow/notebooks/<page>.ipynb)
and the index holding every claim, each executed and converted to HTML with inputs hidden.
Editing one notebook reruns only its page (and the index, which links it)."""

from sslbench.report.pages import PAGES  # noqa: E402

REPORT_HTML = f"{REPORTS}/index.html"

# One line describing this run's scale, shown beside the papers' settings in the report.
REPORT_SETTING = (
    f"pretraining {', '.join(config['pretrain']['methods'])}"
    f" on {', '.join(config['pretrain']['datasets'])}:"
    f" {config['pretrain']['backbone']['name']}"
    f" base width {config['pretrain']['backbone']['base_width']}"
    f" ({config['pretrain']['backbone']['stem']} stem),"
    f" {config['pretrain']['epochs']} epochs, batch {config['pretrain']['batch_size']},"
    f" seeds {config['pretrain']['seeds']};"
    f" fine-tunes (001) {config['finetune']['epochs']} epochs"
    f" at lr {config['finetune']['optimizer']['lr']},"
    f" (000) {config['finetune000']['epochs']} epochs"
    f" at lr {config['finetune000']['optimizer']['lr']};"
    f" 002 controlled experiments: seeds {config['collapse']['seeds']};"
    f" 004 sweep: τ {config['suppression']['temperatures']}"
    f" × {config['suppression']['regularisers']},"
    f" {config['suppression']['backbone']['name']}"
    f" base width {config['suppression']['backbone']['base_width']},"
    f" {config['suppression']['epochs']} epochs, seeds {config['suppression']['seeds']}"
)

REPORT_INPUTS = dag.report_inputs(config, PATHS)
# What every report notebook is given (papermill parameters) and how it is turned into HTML.
REPORT_PARAMS = {
    "runs": as_json(dag.report_runs(config, RUN, dag.REPORT_FILES, META)),
    "collapse": as_json(dag.collapse_jobs(config, COLLAPSE)),
    "suppression": as_json(dag.suppression_jobs(config, PATHS.suppression_readout)),
    "tracking_uri": config["tracking"]["tracking_uri"],
    "experiment": config["tracking"]["experiment"],
    "setting": REPORT_SETTING,
    "smoke_test": str(config.get("smoke_test", False)).lower(),
    "reports_dir": lambda wildcards, output: os.path.dirname(output.html),
}
# papermill on a kernel over Unix sockets in a private directory (sslbench.report.execute: pages
# started side by side raced for TCP ports). Parameters go in raw (-r): papermill's -p reads
# number-like strings as numbers (an experiment named "1e3" became 1000.0 and the report found
# none of its runs).
NOTEBOOK_SHELL = (
    '("$SSLBENCH_PYTHON" -m sslbench.report.execute {input.notebook:q} {output.notebook:q}'
    " -r runs_json {params.runs:q} -r collapse_json {params.collapse:q}"
    " -r suppression_json {params.suppression:q} -r claims_path {input.claims:q}"
    " -r tracking_uri {params.tracking_uri:q} -r experiment {params.experiment:q}"
    " -r setting {params.setting:q} -r smoke_test {params.smoke_test} --cwd ."
    ' && "$SSLBENCH_PYTHON" -m nbconvert --to html --no-input {output.notebook:q}'
    " --output-dir {params.reports_dir:q} --output {params.tmp:q}"
    " && mv {params.reports_dir:q}/{params.tmp:q}.html {output.html:q}) > {log:q} 2>&1"
)


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
