#!/usr/bin/env bash
# The prepared GPU check (issue: GPU at full speed), run from the repository root on a GPU node
# without internet, given an offline bundle (`make bundle`, README "GPU nodes without
# internet") with CIFAR-10's ImageFolder tree packed beside it as cifar10.tar.gz:
#   BUNDLE=.whl-bundle OUT=gpu_check bash benchmarks/gpu_check.sh
# 1. installs the bundle; 2. benchmarks/gpu.py (all methods, layouts, compiled SimCLR);
# 3. SimCLR on all of CIFAR-10 through the real DAG (config/gpu_cifar10.yaml, CIFAR_EPOCHS
#    epochs) to its linear probe and k-NN; 4. the tiny DAG (config/test.yaml) on the GPU with
#    TINY_JOBS_PER_GPU jobs sharing it. Each step has its own time limit and writes into $OUT.
set -uo pipefail
BUNDLE=${BUNDLE:-.whl-bundle}
OUT=${OUT:-gpu_check}
SITE=${SITE:-/tmp/sslbench-site}
CIFAR_EPOCHS=${CIFAR_EPOCHS:-13}
TINY_JOBS_PER_GPU=${TINY_JOBS_PER_GPU:-4}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export PYTHONPATH="$SITE:$PWD/src" PYTHONUNBUFFERED=1 MLFLOW_DISABLE_TELEMETRY=true

step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $OUT/NAME.log, time it
  local name=$1 limit=$2
  shift 2
  local started=$SECONDS
  # -k: on SIGTERM Snakemake waits for its running jobs; KILL 10 s later
  timeout -k 10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  echo "$name: exit $? after $((SECONDS - started)) s" | tee -a "$OUT/summary.txt"
}

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import sys, torch; print(sys.version.split()[0], torch.__version__, torch.version.cuda)'
  git rev-parse --short HEAD 2>/dev/null
} >"$OUT/summary.txt" 2>&1

step install 60 bash "$BUNDLE/install.sh" "$SITE"
python3 -c "import snakemake, mlflow, lightly, papermill" 2>/dev/null ||  # the node lacks a
  step install_all 60 python3 -m pip install --no-index --no-deps --target "$SITE" \
    "$BUNDLE"/wheels/*.whl  # package install.sh expects: install every wheel anyway
step benchmark 170 python3 benchmarks/gpu.py --config config/config.yaml config/gpu_cifar10.yaml \
  --compile --steps 15 --json "$OUT/benchmark.json"

mkdir -p /tmp/sslbench-data && tar -xzf "$BUNDLE/cifar10.tar.gz" -C /tmp/sslbench-data
cat >/tmp/sslbench-cifar.yaml <<EOF
datasets: {cifar10: {path: /tmp/sslbench-data/cifar10}}
pretrain: {methods: [simclr], epochs: $CIFAR_EPOCHS, optimizer: {warmup_epochs: 2}}
finetune: {runs: {lasso: [], qscore: []}}
EOF
step cifar10 210 python3 -m snakemake --profile profiles/gpu --scheduler greedy --cores all \
  results/cifar10/simclr/seed0/pretrain-none/eval.json \
  --configfile config/config.yaml config/gpu.yaml config/gpu_cifar10.yaml /tmp/sslbench-cifar.yaml
cp results/cifar10/simclr/seed0/pretrain-none/eval.json "$OUT/cifar10_eval.json" 2>/dev/null
grep -h "img/s" logs/pretrain/cifar10/simclr/seed0/none.log | tail -3 >>"$OUT/cifar10.log"

rm -rf /tmp/sslbench-tiny && mkdir /tmp/sslbench-tiny
tar -cf - --exclude=./.git --exclude="./$BUNDLE" --exclude=./results --exclude=./logs \
  --exclude=./data --exclude=./mlflow.db --exclude=./mlartifacts --exclude=./.snakemake \
  --exclude="./$(basename "$OUT")" . | tar -xf - -C /tmp/sslbench-tiny
cat >/tmp/sslbench-tiny/jobs.yaml <<EOF
compute: {jobs_per_gpu: $TINY_JOBS_PER_GPU}
EOF
(cd /tmp/sslbench-tiny && step tiny_dag 130 python3 -m snakemake --profile profiles/gpu \
  --scheduler greedy --cores all --resources gpu="$TINY_JOBS_PER_GPU" \
  --configfile config/config.yaml config/gpu.yaml config/test.yaml jobs.yaml)
cat "$OUT/summary.txt"
