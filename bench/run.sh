#!/usr/bin/env bash
# Runs every benchmark: ours and PyTorch's in one run, same machine, same thread count.
# Usage: bench/run.sh [BUILD_DIR] [THREADS]   (not part of `make test`)
#        SECTIONS=generate bench/run.sh build 2    only some sections: train, generate, attention
set -euo pipefail
build=${1:-build}
threads=${2:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads ATTN_NUM_THREADS=$threads
export OMP_WAIT_POLICY=PASSIVE MKL_NUM_THREADS=$threads
# Both sides load OpenBLAS and both see the same OPENBLAS_CORETYPE (this machine's environment
# sets Haswell, i.e. AVX2 kernels; unset, OpenBLAS picks its AVX-512 Cooperlake kernels here).
want() { [[ ${SECTIONS:-all} == all || ",$SECTIONS," == *",$1,"* ]]; }
echo "# threads $threads, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}, $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

if want train; then
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
fi

if want generate; then
echo "## greedy generation with a KV cache (n_layer 6, d_model 384, 6 heads, vocab 256, 1-token prompts, 256 new tokens)"
ours=$("$build/bench_generate" --runs "${RUNS:-3}" --batch 1,8)
theirs=$(/usr/bin/python3 "$here/bench_generate.py" --runs "${RUNS:-3}" --batch 1,8 --threads "$threads")
echo "$ours"
echo "$theirs"
/usr/bin/python3 - "$ours" "$theirs" <<'PY'
import json, sys
a = {r["batch"]: r for r in map(json.loads, sys.argv[1].splitlines())}
t = {r["batch"]: r for r in map(json.loads, sys.argv[2].splitlines())}
for b in sorted(a):
    print(f"batch {b}: tokens/s  attn {a[b]['tokens_per_s']:.0f}  torch {t[b]['tokens_per_s']:.0f}  "
          f"ratio attn/torch {a[b]['tokens_per_s'] / t[b]['tokens_per_s']:.2f}  "
          f"ms/step attn {a[b]['ms_per_step']:.2f}  torch {t[b]['ms_per_step']:.2f}")
PY
fi

if want attention && [[ -x "$here/run_attention.sh" ]]; then
    echo "## attention forward+backward"
    "$here/run_attention.sh" "$build"
fi
