#!/usr/bin/env bash
# The documented CIFAR-10 runs: each method trains a narrow ResNet-18 (width 16, CIFAR stem) on
# 90 % of the 50,000 CIFAR-10 training JPEGs and monitors kNN accuracy on the held-out 10 %
# (epoch 0 = the random-init encoder). Usage:
#   bench/cifar10_runs.sh BUILD_DIR CIFAR_TRAIN_DIR OUT_DIR [methods...]
# CIFAR_TRAIN_DIR is train/ of ../shared/data/cifar10-train-jpg.tar.gz, extracted.
# BT_THREADS (default 2) sets the OpenMP and loader threads of each run. The README's figures:
# Barlow Twins and SimCLR ran side by side with BT_THREADS=1 (one core each); BYOL and SimSiam
# ran alone with BT_THREADS=2 (both cores), which buys them more epochs in the same 30 minutes.
set -euo pipefail
build=${1:?build dir}; data=${2:?cifar10 train dir}; out=${3:?output dir}; shift 3
methods=("$@")
[ ${#methods[@]} -gt 0 ] || methods=(barlow byol simclr simsiam)
threads=${BT_THREADS:-2}

# Per-method schedule (everything else is the method's recipe, docs/design.md §5).
schedule() {
  case $1 in
    barlow | simclr) echo "--head-scale 0.25 --batch 256 --epochs 5 --warmup-epochs 1" ;;
    byol) echo "--head-scale 0.25 --batch 128 --epochs 8 --warmup-epochs 1" ;;
    # No target network to run: SimSiam's step is cheaper than BYOL's, so 10 epochs fit.
    simsiam) echo "--head-scale 0.25 --batch 128 --epochs 10 --warmup-epochs 1" ;;
    *) echo "unknown method $1" >&2; exit 1 ;;
  esac
}

for m in "${methods[@]}"; do
  start=$(date +%s)
  # shellcheck disable=SC2046  # the schedule is a list of flags
  OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=passive "$build/tools/bt_train" --method "$m" --data "$data" \
    --val-split 0.1 --width 16 $(schedule "$m") --threads "$threads" --out "$out/$m"
  echo "$m: $(( $(date +%s) - start )) s" | tee -a "$out/times.txt"
done
