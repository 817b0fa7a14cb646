#!/usr/bin/env bash
# The prepared GPU check (issue: GPU at full speed), run from the repository root on a GPU node
# without internet, given an offline bundle (`make bundle`, docs/pipeline.md "GPU nodes
# without internet") with CIFAR-10's ImageFolder tree packed beside it as cifar10.tar.gz:
#   BUNDLE=.whl-bundle OUT=gpu_check STEPS="benchmark tiny_dag" bash benchmarks/gpu_check.sh
# STEPS (any of, in this order): benchmark — benchmarks/gpu.py (all methods, layouts, compiled
# SimCLR); tiny_dag — the tiny DAG (.test/config/test.yaml) with TINY_JOBS_PER_GPU jobs sharing the
# GPU and the job server on (TINY_JOB_SERVER=false: each job its own process), then every
# job's start-up and stage seconds from its log (tiny_jobs.tsv) and all its logs
# (tiny_logs.tar.gz); cifar10 —
# SimCLR on all of CIFAR-10 through the real DAG (config/gpu_cifar10.yaml, CIFAR_EPOCHS epochs)
# to its linear probe and k-NN. The bundle is installed first unless it already is (a device
# stays warm between two calls). Each step has its own time limit and writes into $OUT.
set -uo pipefail
BUNDLE=${BUNDLE:-.whl-bundle}
OUT=${OUT:-gpu_check}
SITE=${SITE:-/tmp/sslbench-site}
STEPS=${STEPS:-benchmark cifar10 tiny_dag}
CIFAR_EPOCHS=${CIFAR_EPOCHS:-13}
CIFAR_LIMIT=${CIFAR_LIMIT:-210}
TINY_JOBS_PER_GPU=${TINY_JOBS_PER_GPU:-4}
TINY_LIMIT=${TINY_LIMIT:-150}
TINY_JOB_SERVER=${TINY_JOB_SERVER:-true}
STEP_KILL_AFTER=10
# shellcheck source=scripts/gpu_node.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/gpu_node.sh"

wants() { [[ " $STEPS " == *" $1 "* ]]; }

job_times() {  # job_times LOGS_DIR: rule, job, start-up s, stage s of every job that finished
  grep -r "start-up" "$1" | sed -E 's#^[^/]*/([^/]+)/(.*)\.log:.* start-up ([0-9.]+) s .*, stage ([0-9.]+) s#\1\t\2\t\3\t\4#'
}

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import sys, torch; print(sys.version.split()[0], torch.__version__, torch.version.cuda)'
  git rev-parse --short HEAD 2>/dev/null  # a device's copy may carry an older .git: snapshot
  # with readme_figures.py --code-commit when the working tree was newer
  echo "steps: $STEPS"
} >>"$OUT/summary.txt" 2>&1

install_bundle 60

if wants benchmark; then
  step benchmark 170 python3 benchmarks/gpu.py --config config/config.yaml config/gpu_cifar10.yaml \
    --compile --steps 15 --json "$OUT/benchmark.json"
fi

if wants tiny_dag; then
  rm -rf /tmp/sslbench-tiny && mkdir /tmp/sslbench-tiny
  tar -cf - --exclude=./.git --exclude="./$BUNDLE" --exclude=./results --exclude=./logs \
    --exclude=./data --exclude=./mlflow.db --exclude=./mlartifacts --exclude=./.snakemake \
    --exclude="./$(basename "$OUT")" . | tar -xf - -C /tmp/sslbench-tiny
  echo "compute: {jobs_per_gpu: $TINY_JOBS_PER_GPU, job_server: $TINY_JOB_SERVER}" \
    >/tmp/sslbench-tiny/jobs.yaml
  (cd /tmp/sslbench-tiny && step tiny_dag "$TINY_LIMIT" python3 -m snakemake --profile profiles/gpu \
    --scheduler greedy --cores all --resources gpu="$TINY_JOBS_PER_GPU" \
    --configfile config/config.yaml config/gpu.yaml .test/config/test.yaml jobs.yaml)
  echo "tiny_dag settings: jobs_per_gpu $TINY_JOBS_PER_GPU, job_server $TINY_JOB_SERVER" \
    >>"$OUT/summary.txt"
  (cd /tmp/sslbench-tiny && job_times logs) >"$OUT/tiny_jobs.tsv"
  tar -czf "$OUT/tiny_logs.tar.gz" -C /tmp/sslbench-tiny logs  # every job's log, for a failure
fi

if wants cifar10; then
  mkdir -p /tmp/sslbench-data
  [ -d /tmp/sslbench-data/cifar10 ] || tar -xzf "$BUNDLE/cifar10.tar.gz" -C /tmp/sslbench-data
  cat >/tmp/sslbench-cifar.yaml <<EOF
datasets: {cifar10: {path: /tmp/sslbench-data/cifar10}}
pretrain: {methods: [simclr], epochs: $CIFAR_EPOCHS, optimizer: {warmup_epochs: $(((CIFAR_EPOCHS + 9) / 10))}}
finetune: {runs: {lasso: [], qscore: []}}
EOF
  step cifar10 "$CIFAR_LIMIT" python3 -m snakemake --profile profiles/gpu --scheduler greedy \
    --cores all results/cifar10/simclr/seed0/pretrain-none/eval.json \
    --configfile config/config.yaml config/gpu.yaml config/gpu_cifar10.yaml /tmp/sslbench-cifar.yaml
  cp results/cifar10/simclr/seed0/pretrain-none/eval.json "$OUT/cifar10_eval.json" 2>/dev/null
  cp logs/pretrain/cifar10/simclr/seed0/none.log "$OUT/cifar10_pretrain.log" 2>/dev/null
  job_times logs >"$OUT/cifar10_jobs.tsv"
fi
cat "$OUT/summary.txt"
