"""sslbench: replicate five papers on how self-supervised representations fail.

Stages: prepare dataset → pretrain / fine-tune → features → evaluate (linear probe, k-NN) →
analyses (Q-Scores, discriminative features, spectra, GradCAM) → report; beside them 002's
controlled experiments (collapse) and 004's feature-suppression sweep. See README.md; the
config is config/config.yaml.
"""

from snakemake.utils import min_version

min_version("9.27")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/collapse.smk"
include: "workflow/rules/suppression.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        REPORT_HTML,
