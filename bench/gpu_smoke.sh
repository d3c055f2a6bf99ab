#!/usr/bin/env bash
# The GPU smoke test (docs/simt.md), one call on a machine with an NVIDIA GPU:
#   1. builds bt for that GPU (its compute capability from nvidia-smi) in build-gpu/
#   2. runs every CUDA/GPU test with BT_REQUIRE_GPU=1 (a test that would skip without a
#      device fails instead) and BT_CUDA_SYNC=1 (faults reported at the kernel that caused them)
#   3. kernel_bench --quick, which lists cuda rows when a device is present
#   4. one short bt_train per method with --device cuda
# and prints a summary table. Everything runs under an 8-minute budget (SMOKE_BUDGET_S).
# Without a GPU it says so and exits 1. Usage: bench/gpu_smoke.sh [build-dir]
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-"$root/build-gpu"}
budget=${SMOKE_BUDGET_S:-480}
start=$SECONDS
declare -a names=() results=() details=()

record() {  # name result detail
  names+=("$1")
  results+=("$2")
  details+=("$3")
}

left() {  # seconds of the budget left (at least 1)
  local l=$((budget - (SECONDS - start)))
  ((l > 0)) || l=1
  echo "$l"
}

summary() {
  echo
  echo "== gpu_smoke summary ($((SECONDS - start)) s of ${budget} s) =="
  printf '%-28s %-6s %s\n' "step" "result" "detail"
  local i failed=0
  for i in "${!names[@]}"; do
    printf '%-28s %-6s %s\n' "${names[$i]}" "${results[$i]}" "${details[$i]}"
    [[ ${results[$i]} == ok ]] || failed=1
  done
  return "$failed"
}

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu_smoke: no GPU on this machine (nvidia-smi not found); nothing was run" >&2
  exit 1
fi
if ! gpu_line=$(nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader 2>/dev/null | head -n 1) ||
  [[ -z $gpu_line ]]; then
  echo "gpu_smoke: no GPU on this machine (nvidia-smi lists none); nothing was run" >&2
  exit 1
fi
gpu_name=${gpu_line%%,*}
cc=$(tr -d ' .' <<<"${gpu_line##*,}")
if ! [[ $cc =~ ^[0-9]+$ ]]; then
  echo "gpu_smoke: cannot read the compute capability from nvidia-smi ('$gpu_line')" >&2
  exit 1
fi
echo "gpu_smoke: $gpu_name, compute capability $cc, build in $build"
logs="$build/smoke-logs"

# 1. Build.
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
mkdir -p "$build"
if timeout "$(left)" cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES="$cc" "${launcher[@]}" >"$build/configure.log" 2>&1 &&
  timeout "$(left)" cmake --build "$build" -j "$(nproc)" >"$build/build.log" 2>&1; then
  record "build (sm_$cc)" ok "$((SECONDS - start)) s"
else
  tail -n 30 "$build/configure.log" "$build/build.log" 2>/dev/null
  record "build (sm_$cc)" FAIL "see $build/build.log"
  summary
  exit 1
fi
mkdir -p "$logs"
if [[ ! -f "$build/kernels/libbt_cuda_kernels.a" ]]; then
  record "nvcc backend" FAIL "bt_cuda_kernels was not built (nvcc not found?)"
  summary
  exit 1
fi

# 2. The CUDA tests, required to run on the GPU.
tests_re='cuda|gpu|simt|device|odr_symbols'
if BT_REQUIRE_GPU=1 BT_CUDA_SYNC=1 timeout "$(left)" ctest --test-dir "$build" -R "$tests_re" \
  --output-on-failure -j 4 >"$logs/ctest.log" 2>&1; then
  record "ctest -R '$tests_re'" ok "$(grep -Eo '[0-9]+% tests passed.*' "$logs/ctest.log" | tail -n 1)"
else
  grep -E 'Failed|\*\*\*' "$logs/ctest.log" | head -n 20
  record "ctest -R '$tests_re'" FAIL "$(grep -Eo 'tests passed, [0-9]+ tests failed.*' "$logs/ctest.log" | tail -n 1) ($logs/ctest.log)"
fi

# 3. kernel_bench: the cuda rows must be there.
timeout "$(left)" "$build/tools/kernel_bench" --quick >"$logs/kernel_bench.log" 2>&1
bench_status=$?
if ((bench_status == 0)); then
  rows=$(grep -cE '^[[:space:]]*cuda' "$logs/kernel_bench.log" || true)
  if ((rows > 0)); then
    record "kernel_bench --quick" ok "$rows cuda rows"
  else
    record "kernel_bench --quick" FAIL "no cuda rows ($logs/kernel_bench.log)"
  fi
else
  tail -n 20 "$logs/kernel_bench.log"
  record "kernel_bench --quick" FAIL "exit status $bench_status ($logs/kernel_bench.log)"
fi

# 4. One short training run per method on the GPU.
for method in barlow byol simsiam simclr; do
  out="$logs/train-$method"
  rm -rf "$out"
  t0=$SECONDS
  if BT_CUDA_SYNC=1 timeout "$(left)" "$build/tools/bt_train" --device cuda --method "$method" --synthetic-size 256 \
    --batch 32 --width 8 --head-scale 0.125 --epochs 1 --max-steps-per-epoch 4 --out "$out" \
    >"$out.log" 2>&1; then
    loss=$(grep -o '"loss":[^,}]*' "$out/log.jsonl" 2>/dev/null | tail -n 1 | cut -d: -f2)
    if [[ -n $loss && $loss != null ]]; then
      record "bt_train $method (cuda)" ok "loss $loss, $((SECONDS - t0)) s"
    else
      record "bt_train $method (cuda)" FAIL "no finite loss in $out/log.jsonl"
    fi
  else
    tail -n 5 "$out.log"
    record "bt_train $method (cuda)" FAIL "see $out.log"
  fi
done

summary
