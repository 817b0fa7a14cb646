# Sourced from the repository root by the scripts a GPU node without internet runs
# (scripts/window.sh, benchmarks/gpu_check.sh), with BUNDLE (the offline bundle), SITE (where it
# installs) and OUT (what comes back) set: the environment of the node's jobs, a timed step
# that logs into $OUT, and the bundle's install.
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export PYTHONPATH="$SITE:$PWD/src" PYTHONUNBUFFERED=1 MLFLOW_DISABLE_TELEMETRY=true
# nbconvert finds its HTML templates under <prefix>/share/jupyter; an install with --target
# puts them under $SITE
export JUPYTER_PATH="$SITE/share/jupyter"
export GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736
STEP_KILL_AFTER=${STEP_KILL_AFTER:-20}  # on SIGTERM Snakemake waits for its jobs; then KILL

step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $OUT/NAME.log, time it
  local name=$1 limit=$2
  shift 2
  local begun=$SECONDS
  timeout -k "$STEP_KILL_AFTER" "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  echo "$name: exit $rc after $((SECONDS - begun)) s" | tee -a "$OUT/summary.txt"
  return $rc
}

installed() { PYTHONPATH=$SITE python3 -c "import snakemake, mlflow, lightly, papermill" 2>/dev/null; }

install_bundle() {  # install_bundle SECONDS: the bundle into $SITE unless it imports already
  installed && return 0  # a device stays warm between two calls
  step install "$1" bash "$BUNDLE/install.sh" "$SITE"
  installed ||
    step install_all "$1" python3 -m pip install --no-index --no-deps --target "$SITE" \
      "$BUNDLE"/wheels/*.whl  # a package install.sh expects is missing: install every wheel
}
