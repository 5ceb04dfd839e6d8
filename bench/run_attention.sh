#!/usr/bin/env bash
# Attention forward+backward, ours against torch.nn.MultiheadAttention (bench/README.md).
# Usage: bench/run_attention.sh [BUILD_DIR] [THREADS]; further options: bench/bench_attention.py -h
set -euo pipefail
build=${1:-build}
threads=${2:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/bench_attention.py" --bin "$build/bench_attention" --threads "$threads" \
    "${@:3}"
