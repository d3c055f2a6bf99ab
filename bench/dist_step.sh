#!/usr/bin/env bash
# Data-parallel step time on this machine's cores: one process with 2 OpenMP threads against
# `mpirun -np 2` with 1 thread each, on the same global batch, for every method; and the
# communication volume per step (bytes each rank all-reduces / all-gathers, logged by the
# trainer on every data-parallel epoch line, tools/lib/trainer.cpp). Usage:
#   bench/dist_step.sh BUILD_DIR OUT_DIR [methods...]
# BT_DIST_FLAGS adds bt_train flags (default: the synthetic demo's model, width 16, heads 1/4,
# batch 128, 32×32). The step time is measured between step 5 and the last step (the first
# steps warm caches and the allocator). Prints a Markdown table.
set -euo pipefail
build=${1:?build dir}; out=${2:?output dir}; shift 2
methods=("$@")
[ ${#methods[@]} -gt 0 ] || methods=(barlow byol simsiam simclr)
steps=${BT_DIST_STEPS:-25}
flags=${BT_DIST_FLAGS:-"--width 16 --head-scale 0.25 --batch 128 --image-size 32"}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
mkdir -p "$out"

# Seconds per step between step 5 and the last, from the log's cumulative images/s.
step_seconds() {
  python3 - "$1" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
steps = [l for l in lines if "step" in l]
batch = next(l["config"]["batch"] for l in lines if "config" in l)
t = lambda l: l["step"] * batch / l["images_per_s"]  # seconds since the epoch began
a, b = steps[4], steps[-1]
print(f"{(t(b) - t(a)) / (b['step'] - a['step']):.3f}")
PY
}
comm() {
  python3 - "$1" <<'PY'
import json, sys
e = [json.loads(l) for l in open(sys.argv[1]) if '"epoch"' in l and '"step"' not in l][-1]
mb = lambda k: e[k] / 2**20
print(f"{mb('all_reduce_bytes_per_step'):.2f} | {mb('all_gather_bytes_per_step'):.3f} | {e['collectives_per_step']:.0f}")
PY
}

echo "| method | world 1 × 2 threads (s/step) | world 2 × 1 thread (s/step) | all-reduced MiB/step/rank | all-gathered MiB/step/rank | collectives/step |"
echo "|---|---|---|---|---|---|"
for m in "${methods[@]}"; do
  common="--method $m $flags --epochs 1 --max-steps-per-epoch $steps --val-split 0 --threads 1 --log-every 1"
  # shellcheck disable=SC2086  # flag lists
  OMP_NUM_THREADS=2 "$build/tools/bt_train" $common --out "$out/$m-w1" > "$out/$m-w1.txt" 2>&1
  # shellcheck disable=SC2086
  mpirun -np 2 --bind-to core -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY "$build/tools/bt_train" $common \
    --out "$out/$m-w2" > "$out/$m-w2.txt" 2>&1
  echo "| $m | $(step_seconds "$out/$m-w1/log.jsonl") | $(step_seconds "$out/$m-w2/log.jsonl") | $(comm "$out/$m-w2/log.jsonl") |"
done
