#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU and driver, run as it is from the repository root:
#   tools/gpu_check.sh [PUBLISH_DIR]
# With the .NET SDK it publishes the CLI and the benchmarks self-contained into PUBLISH_DIR (default
# out/gpu-check); without it, PUBLISH_DIR must already hold such a publish (made elsewhere with this script or
# `dotnet publish Cli -c Release -r linux-x64 --self-contained -o DIR`, and the same for Benchmarks into DIR/bench).
# Steps (meant to take under 8 minutes; never timed on a GPU): devices; selftest --device cuda (float32 and
# float64); the training demo (1500 iterations of a tiny encoder on phantoms) twice, checkpoints compared bit for bit; GEMM/conv timings, with PyTorch's
# CUDA timings beside them when python3 with torch.cuda is present. Exits non-zero on the first failed step.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/gpu-check}"

if command -v dotnet > /dev/null; then
  echo "== publishing (self-contained) into $out"
  dotnet publish Cli -c Release -r linux-x64 --self-contained -o "$out" > "$out.publish.log" 2>&1 || { tail -n 20 "$out.publish.log"; exit 1; }
  dotnet publish Benchmarks -c Release -r linux-x64 --self-contained -o "$out/bench" >> "$out.publish.log" 2>&1 || { tail -n 20 "$out.publish.log"; exit 1; }
elif [ ! -x "$out/ilgpuseg" ]; then
  echo "no .NET SDK and no publish at $out (expected $out/ilgpuseg): publish on another machine and copy it here" >&2
  exit 1
fi
ilgpuseg="$out/ilgpuseg"

echo "== devices"
"$ilgpuseg" devices

echo "== selftest --device cuda (float32 and float64)"
time "$ilgpuseg" selftest --device cuda

echo "== the training demo twice on cuda, same seed (bitwise equal checkpoints)"
# The demo (train without --data) writes its phantoms and checkpoints under $TMPDIR/ilgpuseg-demo.
runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT
for r in a b; do
  mkdir -p "$runs/$r"
  TMPDIR="$runs/$r" "$ilgpuseg" train --device cuda > "$runs/$r.log" 2>&1 || { tail -n 20 "$runs/$r.log"; exit 1; }
  tail -n 4 "$runs/$r.log"
done
if cmp "$runs/a/ilgpuseg-demo/checkpoints/checkpoint.safetensors" "$runs/b/ilgpuseg-demo/checkpoints/checkpoint.safetensors"; then
  echo "checkpoints are bitwise equal"
else
  echo "FAIL: two same-seed runs on cuda gave different checkpoints" >&2
  exit 1
fi

echo "== GEMM / conv timings (ILGPU on cuda, float32)"
bench="$out/bench/IlgpuSeg.Benchmarks"
[ -x "$bench" ] && "$bench" device --device cuda || echo "(benchmarks not published at $out/bench: skipped)"

if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2> /dev/null; then
  echo "== PyTorch on the same GPU (float32, median of 5)"
  python3 - <<'PY'
import statistics, time, torch
import torch.nn.functional as F
def timed(f):
    f(); torch.cuda.synchronize(); ts = []
    for _ in range(5):
        t = time.perf_counter(); f(); torch.cuda.synchronize(); ts.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ts)
print("| op | shape | ms | GFLOP/s |\n|---|---|---:|---:|")
for n in (256, 512, 1024, 2048):
    a, b = torch.rand(n, n, device="cuda"), torch.rand(n, n, device="cuda")
    ms = timed(lambda: a @ b); print(f"| matmul | {n}×{n}×{n} | {ms:.2f} | {2 * n ** 3 / ms / 1e6:.1f} |")
for (N, C, H, W, O, K, S, P, D) in [(2, 64, 64, 64, 64, 3, 1, 1, 1), (2, 256, 33, 33, 256, 3, 1, 2, 2), (2, 1024, 33, 33, 256, 1, 1, 0, 1), (2, 3, 256, 256, 64, 7, 2, 3, 1)]:
    x, w = torch.rand(N, C, H, W, device="cuda"), torch.rand(O, C, K, K, device="cuda")
    ho, wo = (H + 2 * P - D * (K - 1) - 1) // S + 1, (W + 2 * P - D * (K - 1) - 1) // S + 1
    ms = timed(lambda: F.conv2d(x, w, stride=S, padding=P, dilation=D))
    print(f"| conv2d forward | {N}×{C}×{H}×{W} → {O}, {K}×{K} s{S} p{P} d{D} | {ms:.2f} | {2 * N * O * ho * wo * C * K * K / ms / 1e6:.1f} |")
PY
else
  echo "(PyTorch with CUDA not found: no reference timings)"
fi
echo "== gpu_check done"
