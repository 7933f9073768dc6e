#!/usr/bin/env bash
# Training throughput, Camelid next to PyTorch: the same optimizer step on the same shape, batch, threads and steps.
#
#   bench/training/run.sh --shape stories15m --seq 256 --micro-batch 4 --steps 3 --threads 2
#   bench/training/run.sh --shape tinyllama-1.1b --seq 512 --micro-batch 1 --steps 1 --threads 2 --grad-checkpointing
#
# The arguments go to bench/Camelid.TrainingBenchmarks and to bench/training/torch_step.py alike (--profile to
# Camelid only); both print progress on stderr and a JSON report, which this script turns into a markdown table.
# PyTorch runs when $PYTHON (default /usr/bin/python3) can import torch (Debian: apt-get install python3-torch).
# Debian's torch does its matrix products in the system's libblas.so.3: with only the reference BLAS installed,
# install libopenblas0-openmp, or set TORCH_BLAS_DIR to a folder holding an optimised libblas.so.3 (put first on
# PyTorch's library path only). The two engines run one after the other: each wants the whole machine, and for
# TinyLlama most of its memory.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-/usr/bin/python3}
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

torch_arguments=()
for argument in "$@"; do
    [[ $argument == --profile ]] || torch_arguments+=("$argument")
done

dotnet build "$root/bench/Camelid.TrainingBenchmarks" -c Release -nologo -v quiet >&2
echo "== Camelid" >&2
dotnet "$root/bench/Camelid.TrainingBenchmarks/bin/Release/net10.0/Camelid.TrainingBenchmarks.dll" "$@" --json > "$results/camelid.json"

if import_error=$("$python" -c 'import torch' 2>&1); then
    echo "== PyTorch" >&2
    LD_LIBRARY_PATH="${TORCH_BLAS_DIR:+$TORCH_BLAS_DIR:}${LD_LIBRARY_PATH:-}" \
        "$python" "$root/bench/training/torch_step.py" "${torch_arguments[@]}" --json > "$results/pytorch.json"
else
    echo "PyTorch not run: $python cannot import torch (${import_error##*$'\n'}); on Debian: apt-get install python3-torch" >&2
fi

if ! command -v python3 > /dev/null; then
    cat "$results"/*.json
    exit 0
fi
python3 - "$results"/*.json <<'EOF'
import json, sys

reports = [json.load(open(path)) for path in sys.argv[1:]]
mib = 1 << 20
print()
print("| engine | shape | tokens per step | threads | checkpointing | tokens/s | s per step | forward+backward s | optimizer s | model GFLOP/s | activations MiB | peak RSS MiB |")
print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for r in reports:
    activations = f"{r['activation_bytes'] / mib:.0f}" if r.get("activation_bytes") is not None else ""
    print(f"| {r['runtime']} | {r['shape']} | {r['micro_batch']} × {r['seq']} | {r['threads']} | {'yes' if r['grad_checkpointing'] else 'no'} "
          f"| {r['tokens_per_second_mean']:.1f} ± {r['tokens_per_second_std']:.1f} | {r['step_seconds_mean']:.3f} | {r['forward_backward_seconds_mean']:.3f} "
          f"| {r['optimizer_seconds_mean']:.3f} | {r['model_gflops']:.1f} | {activations} | {r['peak_rss_bytes'] / mib:.0f} |")
by_engine = {r["engine"]: r for r in reports}
if {"camelid", "pytorch"} <= by_engine.keys():
    camelid, torch = by_engine["camelid"], by_engine["pytorch"]
    print()
    print(f"Camelid / PyTorch tokens/s: {camelid['tokens_per_second_mean'] / torch['tokens_per_second_mean']:.2f}")
    print(f"PyTorch BLAS: {torch.get('blas')}")
profile = by_engine.get("camelid", {}).get("profile")
if profile:
    total = sum(row["milliseconds_per_step"] for row in profile)
    print()
    print("Camelid kernel profile (layer 0 replayed kernel by kernel, scaled to the whole step):")
    print()
    print("| phase | kernel | calls per step | ms per call | ms per step | share | GFLOP/s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in profile:
        gflops = f"{row['gflops']:.1f}" if row.get("gflops") is not None else ""
        print(f"| {row['phase']} | {row['kernel']} | {row['calls_per_step']} | {row['milliseconds_per_call']:.2f} | {row['milliseconds_per_step']:.1f} "
              f"| {100 * row['milliseconds_per_step'] / total:.1f} % | {gflops} |")
    categories = {}
    for row in profile:
        categories[row["category"]] = categories.get(row["category"], 0) + row["milliseconds_per_step"]
    print()
    print("; ".join(f"{name} {ms:.0f} ms ({100 * ms / total:.0f} %)" for name, ms in sorted(categories.items(), key=lambda item: -item[1])))
    print(f"replay total {total:.1f} ms; measured forward+backward {1000 * by_engine['camelid']['forward_backward_seconds_mean']:.1f} ms")
loads = ", ".join(f"{r['engine']} {r['load_average']:.2f}" for r in reports if r.get("load_average") is not None)
if loads:
    print(f"1-minute load average at the end of the timed steps: {loads}")
EOF
