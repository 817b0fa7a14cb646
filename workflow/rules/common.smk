"""Config validation, environment, paths, job parameters and the MLflow store set-up shared by
all rules. Which runs, sweep encoders and 002 jobs a config asks for is sslbench.dag's
(unit-tested); the report's inputs, parameters and command are in report.smk."""

import json
import os
import shutil
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from sslbench import dag  # noqa: E402
from sslbench.config import (
    FINETUNE_PROTOCOLS,
    ConfigError,
    check_config_file,
    validate_config,
)  # noqa: E402
from sslbench.provenance import CONFIG_HASH_ENV, config_hash  # noqa: E402
from sslbench.recipes import method_optimizer, method_params, method_views  # noqa: E402

USE_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
if USE_CONDA and not (shutil.which("conda") or shutil.which("mamba")):
    sys.exit(
        "sslbench: --use-conda needs conda (or mamba), which is not installed on this machine; "
        "run `make run` instead, which builds the pinned .venv and runs `snakemake --cores all` in it."
    )

try:
    for configfile_path in workflow.configfiles:
        check_config_file(configfile_path)
    validate_config(
        config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
    )
except ConfigError as err:
    sys.exit(f"sslbench: {err}")

DATA = config["data_dir"]
RESULTS = config["results_dir"]
REPORTS = config["reports_dir"]
LOGS = "logs"
# Path patterns of every output (sslbench.dag.Paths): one folder per trained model under BASE
# (RUN), per encoder of 004's sweep (SUPPRESSION), one file per 002 job (COLLAPSE).
PATHS = dag.paths(config)
BASE = PATHS.base
RUN = PATHS.run
SUPPRESSION = PATHS.suppression
COLLAPSE = PATHS.collapse
META = PATHS.meta

# Jobs inherit these. glibc serves allocations >= 32 MiB with fresh mmaps and unmaps them on
# free, faulting in gigabytes per ResNet step; the tunables keep freed memory in the heap
# (measured: 8 s -> 5.3 s per ResNet-18 step). SSLBENCH_PYTHON is the interpreter of the jobs:
# the one running Snakemake (the .venv), or the rule's conda env under --use-conda.
os.environ["GLIBC_TUNABLES"] = (
    "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"
)
os.environ["SSLBENCH_PYTHON"] = "python" if USE_CONDA else sys.executable
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ.update(
    MLFLOW_TRACKING_URI=config["tracking"]["tracking_uri"],
    MLFLOW_EXPERIMENT_NAME=config["tracking"]["experiment"],
)
# Hash of the whole config of this invocation: every job's MLflow runs and result JSONs carry it
# (tag config_hash) beside their own job_hash, so the runs of one config can be grouped.
os.environ[CONFIG_HASH_ENV] = config_hash(config)


envvars:
    "GLIBC_TUNABLES",
    "SSLBENCH_PYTHON",
    "MLFLOW_DISABLE_TELEMETRY",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    CONFIG_HASH_ENV,


wildcard_constraints:
    dataset=r"[A-Za-z0-9_-]+",
    method=r"[a-z0-9_]+",
    seed=r"\d+",
    protocol="|".join(("pretrain", *sorted(FINETUNE_PROTOCOLS, key=len, reverse=True))),
    regulariser=r"[a-z0-9_]+",
    # τ as Python writes a float into the folder name, exponent included (tau1e-05).
    tau=r"[0-9.]+(?:e[+-]?[0-9]+)?",


def as_json(block):
    """A job's parameters as canonical JSON: a changed value reruns exactly its dependants."""
    return json.dumps(block, sort_keys=True)


def run_id(wildcards, protocol=None):
    """Identity of a trained model; ``protocol`` for rules whose output names it literally."""
    protocol = protocol or wildcards.protocol
    return {
        "dataset": wildcards.dataset,
        "method": wildcards.method,
        "seed": int(wildcards.seed),
        "variant": f"{protocol}-{wildcards.regulariser}",
    }


# The --device / --mixed-precision / --compile / --jobs-per-gpu arguments and GPU resource of
# the jobs that run the network.
DEVICE = config["compute"]["device"]
MIXED_PRECISION = "on" if config["compute"]["mixed_precision"] else "off"
COMPILE = "on" if config["compute"]["compile"] else "off"
JOBS_PER_GPU = config["compute"]["jobs_per_gpu"]
GPUS_PER_JOB = config["compute"]["gpus_per_job"]


def regulariser_block(name):
    """A regulariser's name and hyper-parameters; a named variant (``regularisers.<name>``
    with a ``kind``) configures the regulariser ``kind``."""
    params = dict(config["regularisers"].get(name, {}))
    return {"name": params.pop("kind", name), "params": params}


def train_block(stage, optimizer=None):
    """A stage's schedule; ``optimizer`` replaces the stage's own (a method's recipe)."""
    return {
        key: stage[key]
        for key in ("epochs", "batch_size", "log_every_steps", "keep_checkpoints")
    } | {"optimizer": optimizer or stage["optimizer"]}


def pretrain_params(wildcards):
    pre = config["pretrain"]
    method = wildcards.method
    return as_json(
        run_id(wildcards, "pretrain")
        | {
            "backbone": pre["backbone"],
            "method_params": method_params(config, method),
            "augment": method_views(config, method),
            "regulariser": regulariser_block(wildcards.regulariser),
            "train": train_block(pre, method_optimizer(config, method)),
        }
    )


def finetune_params(wildcards):
    return as_json(
        run_id(wildcards)
        | {
            "augment": method_views(config, wildcards.method),
            "batch_size": config["features"]["batch_size"],
            "regulariser": regulariser_block(wildcards.regulariser),
            "train": train_block(config[wildcards.protocol]),
        }
    )


def suppression_id(wildcards):
    """Identity of a sweep encoder (its MLflow tags: method simclr, variant names τ and reg)."""
    return {
        "dataset": wildcards.dataset,
        "method": "simclr",
        "seed": int(wildcards.seed),
        "variant": f"suppression-tau{wildcards.tau}-{wildcards.regulariser}",
    }


def suppression_params(wildcards):
    """A pretrain block for SimCLR at the sweep's τ, backbone and schedule."""
    sup = config["suppression"]
    return as_json(
        suppression_id(wildcards)
        | {
            "backbone": sup["backbone"],
            "method_params": method_params(config, "simclr")
            | {"temperature": float(wildcards.tau)},
            "augment": method_views(config, "simclr"),
            "regulariser": regulariser_block(wildcards.regulariser),
            "train": train_block(sup),
        }
    )


def stop_job_server():
    """Ask this run's job server (if one was started) to stop."""
    from sslbench import jobserver

    if jobserver.ENV in os.environ:
        jobserver.stop(Path(os.environ.pop(jobserver.ENV)))


onstart:
    from sslbench import jobserver
    from sslbench.store_location import prepare_store_for_ui
    from sslbench.tracking import TrackingStoreError, init_store

    try:
        init_store(
            config["tracking"]["tracking_uri"],
            config["tracking"]["experiment"],
            Path(config["tracking"]["artifact_root"]),
        )
        prepare_store_for_ui(
            config["tracking"]["tracking_uri"],
            config["tracking"]["experiment"],
            Path(config["tracking"]["artifact_root"]),
        )
    except TrackingStoreError as err:
        sys.exit(f"sslbench: {err}")
    # Jobs started from now on find the server; none under --use-conda (jobs run in the rule's
    # env) or for jobs on other machines (a cluster executor: workflow.local_exec is false).
    if config["compute"]["job_server"] and not USE_CONDA and workflow.local_exec:
        os.environ[jobserver.ENV] = str(
            jobserver.start(Path(LOGS) / "jobserver.log")
        )


onsuccess:
    from sslbench.dvc_cache import cache_generated_data

    stop_job_server()
    # A fresh clone regenerates data.dvc's bytes but not DVC's cache: commit them to it, so
    # `dvc status` is clean and `dvc push` / `dvc pull` work with no extra step. The data
    # lives under the working directory (config data_dir), the project root of `make run`.
    try:
        print(
            f"sslbench: {cache_generated_data(Path.cwd())}",
            file=sys.stderr,
        )
    except (RuntimeError, OSError, ValueError) as err:
        print(f"sslbench: DVC cache not updated: {err}", file=sys.stderr)


onerror:
    stop_job_server()
