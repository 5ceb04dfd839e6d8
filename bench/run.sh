#!/usr/bin/env bash
# Runs every benchmark: ours and PyTorch's in one run, same machine, same thread count.
# Usage: bench/run.sh [BUILD_DIR] [THREADS]   (not part of `make test`)
set -euo pipefail
build=${1:-build}
threads=${2:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads ATTN_NUM_THREADS=$threads
export OMP_WAIT_POLICY=PASSIVE MKL_NUM_THREADS=$threads
# Both sides load OpenBLAS and both see the same OPENBLAS_CORETYPE (this machine's environment
# sets Haswell, i.e. AVX2 kernels; unset, OpenBLAS picks its AVX-512 Cooperlake kernels here).
echo "# threads $threads, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}, $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

echo "## decoder-only training step (n_layer 6, d_model 384, 6 heads, context 256, vocab 8192, batch 8)"
ours=$("$build/bench_train" --steps "${STEPS:-5}")
theirs=$(/usr/bin/python3 "$here/bench_train.py" --steps "${STEPS:-5}" --threads "$threads")
echo "$ours"
echo "$theirs"
/usr/bin/python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"tokens/s  attn {a['tokens_per_s']:.0f}  torch {t['tokens_per_s']:.0f}  "
      f"ratio attn/torch {a['tokens_per_s'] / t['tokens_per_s']:.2f}  "
      f"peak MB attn {a['peak_mb']:.0f}  torch {t['peak_mb']:.0f}")
PY

if [[ -x "$here/run_attention.sh" ]]; then
    echo "## attention forward+backward"
    "$here/run_attention.sh" "$build"
fi
