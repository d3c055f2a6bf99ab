#!/usr/bin/env bash
# The documented CIFAR-10 runs: each method trains a narrow ResNet-18 (width 16, CIFAR stem)
# for 5 epochs on 90 % of the 50,000 CIFAR-10 training JPEGs and monitors kNN accuracy on the
# held-out 10 % (epoch 0 = the random-init encoder). Usage:
#   bench/cifar10_runs.sh BUILD_DIR CIFAR_TRAIN_DIR OUT_DIR [methods...]
# CIFAR_TRAIN_DIR is train/ of ../shared/data/cifar10-train-jpg.tar.gz, extracted.
# BT_THREADS (default 2) sets the OpenMP and loader threads of each run: the README's figures
# ran two methods side by side with BT_THREADS=1, one core each.
set -euo pipefail
build=${1:?build dir}; data=${2:?cifar10 train dir}; out=${3:?output dir}; shift 3
methods=("$@")
[ ${#methods[@]} -gt 0 ] || methods=(barlow byol simclr simsiam)
threads=${BT_THREADS:-2}
for m in "${methods[@]}"; do
  start=$(date +%s)
  OMP_NUM_THREADS=$threads "$build/tools/bt_train" --method "$m" --data "$data" --val-split 0.1 --width 16 \
    --head-scale 0.25 --batch 256 --epochs 5 --warmup-epochs 1 --threads "$threads" --out "$out/$m"
  echo "$m: $(( $(date +%s) - start )) s" | tee -a "$out/times.txt"
done
