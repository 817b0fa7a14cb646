#!/usr/bin/env bash
# One GPU window of the paper-scale replication (README "Paper-scale verdicts"), run from the
# repository root on a GPU node without internet, given the offline bundle (`make bundle`) with
# CIFAR-10's ImageFolder tree packed beside it as cifar10.tar.gz:
#   OUT=window COMMIT=$(git rev-parse --short HEAD) bash scripts/window.sh
# 1. installs the bundle into $SITE unless its packages already import (scripts/gpu_node.sh);
# 2. unpacks CIFAR-10 into $DATA;
# 3. runs the slice's DAG ($SLICE, else the first slice without a published pack) up to its
#    analyses (the report is rendered later from the pack, on any CPU), stopping at $DEADLINE
#    seconds so that what finished is packed in time;
# 4. packs it into $OUT/<slice>.tar.gz (python -m sslbench.paper_scale.pack; refused, with its
#    size, when over the slice list's limit) beside $OUT/summary.txt, and the baseline encoder
#    in fp16 ($OUT/<slice>-baseline.pt.part*) for later CPU analyses.
set -uo pipefail
BUNDLE=${BUNDLE:-dist/bundle-py3.12}
OUT=${OUT:-window}
SITE=${SITE:-/tmp/sslbench-site}
DATA=${DATA:-/tmp/sslbench-data}
DEADLINE=${DEADLINE:-470}
JOBS_PER_GPU=${JOBS_PER_GPU:-8}
SLICE=${SLICE:-}
PLAN=${PLAN:-config/paper_scale/slices.yaml}
PROFILE=${PROFILE-profiles/gpu}  # empty: no profile (a CPU)
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
export SSLBENCH_COMMIT=$COMMIT  # every result's provenance names it (the copy's .git may be stale)
# shellcheck source=scripts/gpu_node.sh
source "$(dirname "${BASH_SOURCE[0]}")/gpu_node.sh"
SCRATCH=$(mktemp -d)  # the window's own config layer and manifest facts (not brought back)
trap 'rm -rf "$SCRATCH"' EXIT
started=$SECONDS
install_bundle 90

[ -n "$SLICE" ] || SLICE=$(python3 -m sslbench.paper_scale.slices --plan "$PLAN" next) || {
  echo "no slice to run: $SLICE" | tee -a "$OUT/summary.txt"
  exit 1
}
read -r -a LAYERS <<<"$(python3 -m sslbench.paper_scale.slices --plan "$PLAN" layers "$SLICE")"
LIMIT_MIB=$(python3 -m sslbench.paper_scale.slices --plan "$PLAN" limit)
{
  echo "slice $SLICE, commit $COMMIT, layers ${LAYERS[*]}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import sys, torch; print(sys.version.split()[0], torch.__version__, torch.version.cuda)'
} >>"$OUT/summary.txt" 2>&1

echo "compute: {jobs_per_gpu: $JOBS_PER_GPU}" >"$SCRATCH/window.yaml"
if [ -f "$BUNDLE/cifar10.tar.gz" ]; then  # the slices' CIFAR-10 is this ImageFolder tree
  mkdir -p "$DATA"
  [ -d "$DATA/cifar10" ] || tar -xzf "$BUNDLE/cifar10.tar.gz" -C "$DATA"
  echo "datasets: {cifar10: {path: $DATA/cifar10}}" >>"$SCRATCH/window.yaml"
fi
python3 -m sslbench.paper_scale.slices --plan "$PLAN" overrides "$SLICE" >"$SCRATCH/slice.yaml"
CONFIG=("${LAYERS[@]}" "$SCRATCH/slice.yaml" "$SCRATCH/window.yaml")

dag_started=$SECONDS
step dag "$DEADLINE" python3 -m snakemake ${PROFILE:+--profile "$PROFILE"} --scheduler greedy --cores all \
  --resources gpu="$JOBS_PER_GPU" --keep-going --omit-from report_page report \
  --configfile "${CONFIG[@]}"
dag_rc=$?
dag_seconds=$((SECONDS - dag_started))

python3 - "$SCRATCH/window.json" <<PY
import json, shutil, subprocess, sys
from pathlib import Path
# every job's start-up and stage seconds, from its log
jobs = [line.split(" INFO ", 1)[-1] for log in sorted(Path("logs").rglob("*.log"))
        for line in log.read_text(errors="replace").splitlines() if "start-up" in line]
query = ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"]
gpu = subprocess.run(query, capture_output=True, text=True).stdout.strip() \
    if shutil.which("nvidia-smi") else "none"
json.dump({"commit": "$COMMIT", "gpu": gpu, "dag_exit": $dag_rc, "dag_seconds": $dag_seconds,
           "deadline_seconds": $DEADLINE, "jobs_per_gpu": $JOBS_PER_GPU,
           "window_seconds": $((SECONDS - started)), "job_seconds": jobs}, open(sys.argv[1], "w"))
PY
step pack 60 python3 -m sslbench.paper_scale.pack --slice "$SLICE" --root . \
  --out "$OUT/$SLICE.tar.gz" --configfile "${CONFIG[@]}" --extra "$SCRATCH/window.json" \
  --limit-mib "$LIMIT_MIB"

baseline=$(ls results/*/*/seed*/pretrain-none/model.pt 2>/dev/null | head -1)
if [ -n "$baseline" ]; then
  python3 - "$baseline" "$OUT/$SLICE-baseline.pt" <<'PY'
import sys, torch
saved = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
saved["state_dict"] = {k: v.half() if v.is_floating_point() else v
                       for k, v in saved["state_dict"].items()}
torch.save(saved, sys.argv[2])
PY
  split -b 15M -d "$OUT/$SLICE-baseline.pt" "$OUT/$SLICE-baseline.pt.part" && rm "$OUT/$SLICE-baseline.pt"
fi
echo "window: $((SECONDS - started)) s" | tee -a "$OUT/summary.txt"
ls -la "$OUT"
exit "$dag_rc"  # what finished is packed either way
