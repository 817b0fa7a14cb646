# sslbench: `make run` sets up the pinned .venv and runs the default pipeline;
# `make test` sets up and runs lint + the whole test suite (what CI runs);
# `make test-fast` runs the unit tests only (no DAG, fault-injection, SLURM or slow tests).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sslbench-installed

.PHONY: setup run test test-fast lint browser cluster ui bundle clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

run: setup
	$(BIN)/snakemake --cores all

# MLflow UI on http://127.0.0.1:5000 (loopback only, telemetry off, opening on the runs table;
# see src/sslbench/ui.py).
ui: setup
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/python -m sslbench.ui

# Headless Chromium for the report test (Debian package; needs root or sudo).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# Single-node SLURM for the cluster test (Debian packages; needs root or sudo).
cluster:
	@command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	    slurmctld slurmd slurm-client munge >/dev/null; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint --cores 1

test: setup browser cluster lint
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/python -m pytest

FAST := not integration and not reliability and not cluster and not slow

# One OpenMP thread: the unit tests' models are tiny, and two threads spin-wait for each other
# when other work shares the 2-core machine (as the one_thread fixture of tests/conftest.py says).
test-fast: setup
	MLFLOW_DISABLE_TELEMETRY=true OMP_NUM_THREADS=1 $(BIN)/python -m pytest -m "$(FAST)"

# Offline wheel bundle for a GPU node without internet (scripts/bundle.py; docs/pipeline.md
# "GPU nodes without internet"): `make bundle BUNDLE_PYTHON=3.12 BUNDLE_SKINNY=1`.
# BUNDLE_PLATFORM empty means manylinux x86_64 (glibc 2.17-2.28); BUNDLE_PROVIDED are what the
# node already has.
BUNDLE_PYTHON ?= 3.12
BUNDLE_PLATFORM ?=
BUNDLE_PROVIDED ?= torch torchvision numpy
BUNDLE_OUT ?= dist/bundle-py$(BUNDLE_PYTHON)
BUNDLE_DATA ?=
BUNDLE_SKINNY ?=

bundle: setup
	$(BIN)/python scripts/bundle.py --python $(BUNDLE_PYTHON) --out $(BUNDLE_OUT) \
	  --provided $(BUNDLE_PROVIDED) \
	  $(if $(BUNDLE_PLATFORM),--platform $(BUNDLE_PLATFORM)) \
	  $(if $(BUNDLE_DATA),--data $(BUNDLE_DATA)) $(if $(BUNDLE_SKINNY),--skinny)

clean:
	rm -rf results logs reports/*.html reports/*.ipynb mlflow.db mlartifacts .snakemake
