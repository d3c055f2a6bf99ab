#!/usr/bin/env bash
# bt against current PyTorch on the same training step, side by side in one run:
#   bench/compare_torch.sh BUILD_DIR OUT_DIR
# For each config (width 16 / batch 256 and width 64 / batch 128, ResNet-18 CIFAR stem, full
# heads, 2 threads) and each method, runs tools/step_bench and bench/torch_step.py as separate
# processes (so each peak RSS is one method's), alternating bt and PyTorch, BT_ROUNDS times
# (default 2), and prints per method the median ms/step, img/s, peak RSS, PyTorch/bt, and
# each side's fraction of the machine's measured fp32 FMA peak (tools/cpu_peak; the step's
# FLOPs are PyTorch's FlopCounterMode count, the same network on both sides).
#
# PyTorch 2.x comes from PyPI into the venv $BT_TORCH_VENV (default ~/.cache/bt/venv-torch),
# installed when absent; it is a developer-side peer, never a dependency of bt.
# BT_LOAD=1 runs everything beside a competing busy process (one core's worth of work).
# BT_CONFIGS overrides the configs ("16x256 64x128"), BT_METHODS the methods.
# BT_PRECISION=bf16 times bt with --precision bf16 against PyTorch in fp32 and under its CPU
# bf16 autocast (two PyTorch columns).
set -euo pipefail
build=${1:?build dir}; out=${2:?output dir}
rounds=${BT_ROUNDS:-2}
configs=(${BT_CONFIGS:-16x256 64x128})
methods=(${BT_METHODS:-barlow byol simclr simsiam})
precision=${BT_PRECISION:-f32}
venv=${BT_TORCH_VENV:-$HOME/.cache/bt/venv-torch}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"

if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "compare_torch: installing PyTorch from PyPI into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch numpy
fi
torch_version=$("$venv/bin/python" -c "import torch; print(torch.__version__)")

export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
load_pid=
if [ "${BT_LOAD:-0}" = 1 ]; then
  python3 -c "while True: pass" & load_pid=$!
  trap 'kill $load_pid 2>/dev/null' EXIT
fi

"$build/tools/cpu_peak" --json >"$out/peak.json"

for cfg in "${configs[@]}"; do
  width=${cfg%x*}; batch=${cfg#*x}
  for r in $(seq 1 "$rounds"); do
    for m in "${methods[@]}"; do
      "$build/tools/step_bench" --methods "$m" --width "$width" --batch "$batch" --repeats 3 \
        --precision "$precision" --json "$out/bt-$cfg-$m-$r.json" >/dev/null
      "$venv/bin/python" "$here/torch_step.py" --methods "$m" --width "$width" --batch "$batch" \
        --repeats 3 --threads 2 --json "$out/torch-$cfg-$m-$r.json" >/dev/null
      if [ "$precision" = bf16 ]; then
        "$venv/bin/python" "$here/torch_step.py" --methods "$m" --width "$width" --batch "$batch" \
          --repeats 3 --threads 2 --bf16 --json "$out/torchbf16-$cfg-$m-$r.json" >/dev/null
      fi
    done
  done
done

python3 - "$out" "$torch_version" "${BT_LOAD:-0}" <<'PY'
import glob, json, statistics, sys
out, version, load = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
peak = json.load(open(f"{out}/peak.json"))
gflops_peak = peak["gflops_all_threads"]
print(f"fp32 FMA peak ({peak['isa']}): {peak['gflops_1_thread']:.0f} GFLOP/s on 1 thread, "
      f"{gflops_peak:.0f} on {peak['threads']}; PyTorch {version}" + (", beside a busy process" if load else ""))
bf16 = bool(glob.glob(f"{out}/torchbf16-*.json"))
extra = " PyTorch bf16 ms | PyTorch bf16 / bt |" if bf16 else ""
print(f"| width / batch | method | bt{' bf16' if bf16 else ''} ms | PyTorch ms | PyTorch / bt |{extra} bt img/s | "
      "bt RSS MiB | PyTorch RSS MiB | bt % peak | PyTorch % peak |")
print("|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if bf16 else ""))
def runs(side, cfg, m):
    return [json.load(open(f))[0] for f in sorted(glob.glob(f"{out}/{side}-{cfg}-{m}-*.json"))]
cfgs = sorted({f.split("/")[-1].split("-")[1] for f in glob.glob(f"{out}/bt-*.json")}, key=lambda c: int(c.split("x")[0]))
for cfg in cfgs:
    for m in sorted({f.split("-")[-2] for f in glob.glob(f"{out}/bt-{cfg}-*.json")}):
        b, t = runs("bt", cfg, m), runs("torch", cfg, m)
        bms = statistics.median(r["ms_per_step"] for r in b)
        tms = statistics.median(r["ms_per_step"] for r in t)
        flops = t[0]["flops_per_step"]
        frac = lambda ms: 100 * flops / (ms / 1000) / 1e9 / gflops_peak
        w, n = cfg.split("x")
        cols = ""
        if bf16:
            t16 = statistics.median(r["ms_per_step"] for r in runs("torchbf16", cfg, m))
            cols = f" {t16:.0f} | {t16 / bms:.2f} |"
        print(f"| {w} / {n} | {m} | {bms:.0f} | {tms:.0f} | {tms / bms:.2f} |{cols} {2 * int(n) / (bms / 1000):.0f} | "
              f"{max(r['peak_rss_mib'] for r in b):.0f} | {max(r['peak_rss_mib'] for r in t):.0f} | "
              f"{frac(bms):.0f} | {frac(tms):.0f} |")
PY
