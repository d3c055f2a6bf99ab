#!/usr/bin/env bash
# The multi-GPU part of the GPU smoke test: the NCCL backend (engine/dist/nccl_group.cpp) on
# every GPU of the machine. Skips (exit 0) with fewer than 2 GPUs. Usage:
#   bench/gpu_smoke_multi.sh BUILD_DIR [OUT_DIR]
# 1. `mpirun -np NGPU bt_train --device cuda` runs a few steps of each method (one GPU per rank:
#    CUDA_VISIBLE_DEVICES = the rank's local rank, so each rank's device 0 is its own GPU).
# 2. Equivalence: the same 5 steps with every BatchNorm synchronised give the losses of one
#    process on one GPU, within 1e-3 (float32, cuBLAS/cuDNN and NCCL sum in other orders).
set -euo pipefail
build=${1:?build dir}; out=${2:-$(mktemp -d)}
ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
if [ "${ngpu:-0}" -lt 2 ]; then
  echo "gpu_smoke_multi: skipped, ${ngpu:-0} GPU(s) (needs 2 or more)"
  exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exe="$build/tools/bt_train"
# One GPU per rank, chosen by the rank's index on its node.
# shellcheck disable=SC2016  # expanded by each rank's own shell
per_rank_gpu=(bash -c 'CUDA_VISIBLE_DEVICES=$OMPI_COMM_WORLD_LOCAL_RANK exec "$@"' _)
batch=$((8 * ngpu))
tiny="--width 8 --head-scale 0.05 --batch $batch --synthetic-size $((batch * 10)) --image-size 16 --epochs 1
      --val-split 0 --log-every 1 --dist-timeout 120"
mkdir -p "$out"
fail=0
for m in barlow byol simsiam simclr; do
  # shellcheck disable=SC2086  # flag lists
  if mpirun -np "$ngpu" --oversubscribe "${per_rank_gpu[@]}" "$exe" --device cuda --method "$m" $tiny \
      --max-steps-per-epoch 3 --out "$out/$m-run" > "$out/$m-run.txt" 2>&1; then
    echo "ok   $m: $ngpu ranks, NCCL, 3 steps"
  else
    echo "FAIL $m: $ngpu ranks (log: $out/$m-run.txt)"; tail -5 "$out/$m-run.txt"; fail=1
  fi
  # shellcheck disable=SC2086
  CUDA_VISIBLE_DEVICES=0 "$exe" --device cuda --method "$m" $tiny --sync-bn all --lr 0.01 \
    --max-steps-per-epoch 5 --out "$out/$m-w1" > "$out/$m-w1.txt" 2>&1 || { echo "FAIL $m: world 1"; fail=1; continue; }
  # shellcheck disable=SC2086
  mpirun -np "$ngpu" --oversubscribe "${per_rank_gpu[@]}" "$exe" --device cuda --method "$m" $tiny --sync-bn all \
    --lr 0.01 --max-steps-per-epoch 5 --out "$out/$m-wk" > "$out/$m-wk.txt" 2>&1 || { echo "FAIL $m: world $ngpu"; fail=1; continue; }
  if python3 - "$out/$m-w1/log.jsonl" "$out/$m-wk/log.jsonl" <<'PY'; then
import json, sys
loss = lambda p: [json.loads(l)["loss"] for l in open(p) if '"step"' in l]
a, b = loss(sys.argv[1]), loss(sys.argv[2])
bad = [(i + 1, x, y) for i, (x, y) in enumerate(zip(a, b)) if abs(x - y) > 1e-3 * max(1.0, abs(x))]
print(f"     losses world 1 {[round(x, 5) for x in a]}\n     losses world K {[round(y, 5) for y in b]}")
sys.exit(1 if bad or len(a) != len(b) else 0)
PY
    echo "ok   $m: world $ngpu equals world 1 over 5 steps"
  else
    echo "FAIL $m: world $ngpu differs from world 1"; fail=1
  fi
done
exit $fail
