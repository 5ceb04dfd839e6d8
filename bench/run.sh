#!/usr/bin/env bash
# Runs every benchmark: ours and PyTorch's in one run, same machine, same thread count.
# Usage: bench/run.sh [BUILD_DIR] [THREADS]   (not part of `make test`)
#        SECTIONS=generate bench/run.sh build 2    only some sections: sgemm, train, generate, attention
#        PROFILES=native bench/run.sh build 2      only some CPU profiles (below)
#
# Profiles: `native` runs as the environment says (our kernels at the best ISA the CPU has,
# OpenBLAS with whatever OPENBLAS_CORETYPE is set). `avx2`, run where the CPU has AVX-512, is how
# an AVX2-only machine runs: our kernels capped with ATTN_ISA=avx2 and, for both sides,
# OPENBLAS_CORETYPE=Haswell (PyTorch 1.13 from Debian uses its AVX2 kernels on either).
set -euo pipefail
build=${1:-build}
threads=${2:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads ATTN_NUM_THREADS=$threads
export OMP_WAIT_POLICY=PASSIVE MKL_NUM_THREADS=$threads
want() { [[ ${SECTIONS:-all} == all || ",$SECTIONS," == *",$1,"* ]]; }
best=$(env -u ATTN_ISA "$build/attn" --version | sed -n 's/^isa: \([a-z0-9]*\).*/\1/p')
profiles=${PROFILES:-native$([[ $best == avx512 ]] && echo " avx2")}
echo "# $(date -u +%Y-%m-%d), threads $threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), best ISA $best"

sgemm_ceiling=0
section_sgemm() {
    echo "## SGEMM through attn_gemm (OpenBLAS): the machine's ceiling, and the training step's GEMMs alone"
    local out
    out=$("$build/bench_sgemm" --reps 3)
    echo "$out"
    sgemm_ceiling=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["square_4096_gflops"])' "$out")
}

section_train() {
    echo "## decoder-only training step (n_layer 6, d_model 384, 6 heads, context 256, vocab 8192, batch 8)"
    local ours theirs
    ours=$("$build/bench_train" --steps "${STEPS:-5}")
    theirs=$(/usr/bin/python3 "$here/bench_train.py" --steps "${STEPS:-5}" --threads "$threads")
    echo "$ours"
    echo "$theirs"
    /usr/bin/python3 - "$ours" "$theirs" "$sgemm_ceiling" <<'PY'
import json, sys
a, t, ceiling = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
print(f"tokens/s  attn {a['tokens_per_s']:.0f}  torch {t['tokens_per_s']:.0f}  "
      f"ratio attn/torch {a['tokens_per_s'] / t['tokens_per_s']:.2f}  "
      f"peak MB attn {a['peak_mb']:.0f}  torch {t['peak_mb']:.0f}")
if ceiling > 0:
    print(f"attn step {a['gflops']:.0f} GFLOP/s ({a['gflop']:.0f} GFLOP a step) = "
          f"{100 * a['gflops'] / ceiling:.0f}% of the SGEMM ceiling {ceiling:.0f} GFLOP/s")
PY
}

section_generate() {
    echo "## greedy generation with a KV cache (n_layer 6, d_model 384, 6 heads, vocab 256, 1-token prompts, 256 new tokens)"
    local ours theirs
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
}

section_attention() {
    echo "## attention forward+backward"
    "$here/run_attention.sh" "$build" "$threads"
}

for profile in $profiles; do
    (
        case $profile in
        native) ;;
        avx2) export ATTN_ISA=avx2 OPENBLAS_CORETYPE=Haswell ;;
        *) echo "bench/run.sh: unknown profile '$profile' (known: native, avx2)" >&2; exit 2 ;;
        esac
        echo
        echo "# profile $profile: attn kernels $("$build/attn" --version | sed -n 's/^isa: //p'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}"
        want sgemm && section_sgemm
        want train && section_train
        want generate && section_generate
        want attention && section_attention
        true
    )
done
