#!/usr/bin/env bash
# bench/bench_classify.sh: text classification end to end on the Debian corpora of data/README.md:
# builds data/corpora/{debdesc,fortunes} if absent, trains attn's Transformer classifier on train
# (early stopping on dev), scores it on test with `attn eval classify`, runs the TF-IDF + logistic
# regression baseline (bench/classify_baseline.py) on the same split, and prints both.
#
# Usage: bench/bench_classify.sh [BUILD_DIR] [CORPUS...]     (defaults: build, debdesc fortunes)
# Settings come from the environment (defaults fit a 2-core machine; bench/README.md has the
# figures they gave): D_MODEL 256, LAYERS 2, HEADS 4, MAX_LEN 256, VOCAB 32000, LOWERCASE 1,
# EPOCHS 3, BATCH 32, LR 1e-3, POOL mean, DROPOUT 0.3, WEIGHT_DECAY 0.01, LABEL_SMOOTHING 0.1,
# TOKEN_DROPOUT 0, PATIENCE 2, THREADS (all cores), SEED 1, BASELINE 1 (0 skips
# the baseline, which takes about 8 minutes on debdesc), OUT (where models and logs go,
# default ${TMPDIR:-/tmp}/attn_bench_classify).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
shift || true
corpora=("$@")
((${#corpora[@]})) || corpora=(debdesc fortunes)
bin=$build/attn
[[ -x $bin ]] || {
    echo "bench_classify: no $bin (cmake --build $build first)" >&2
    exit 1
}
PY=/usr/bin/python3
threads=${THREADS:-$(nproc)}
out=${OUT:-${TMPDIR:-/tmp}/attn_bench_classify}
mkdir -p "$out"
export OMP_WAIT_POLICY=PASSIVE ATTN_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
export OPENBLAS_NUM_THREADS=$threads

settings=(--d-model "${D_MODEL:-256}" --layers "${LAYERS:-2}" --heads "${HEADS:-4}"
    --max-len "${MAX_LEN:-256}" --vocab-size "${VOCAB:-32000}" --epochs "${EPOCHS:-3}"
    --batch "${BATCH:-32}" --lr "${LR:-1e-3}" --pool "${POOL:-mean}" --dropout "${DROPOUT:-0.3}"
    --patience "${PATIENCE:-2}" --seed "${SEED:-1}" --weight-decay "${WEIGHT_DECAY:-0.01}"
    --label-smoothing "${LABEL_SMOOTHING:-0.1}" --token-dropout "${TOKEN_DROPOUT:-0}"
    --threads "$threads")
[[ ${LOWERCASE:-1} != 0 ]] && settings+=(--lowercase)
echo "# $(date -u '+%Y-%m-%d %H:%M') UTC, $threads threads, load $(cut -d' ' -f1-3 /proc/loadavg),$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "# attn train classify ${settings[*]}"

for corpus in "${corpora[@]}"; do
    dir=$root/data/corpora/$corpus
    if [[ ! -s $dir/train.tsv ]]; then
        echo "# building $dir with data/make_$corpus.py" >&2
        "$PY" "$root/data/make_$corpus.py" >&2
    fi
    model=$out/$corpus.safetensors
    t0=$(date +%s)
    "$bin" train classify --train "$dir/train.tsv" --dev "$dir/dev.tsv" --out "$model" \
        "${settings[@]}" >"$out/$corpus.train.out" 2>"$out/$corpus.train.log"
    t1=$(date +%s)
    "$bin" eval classify --model "$model" --data "$dir/test.tsv" --json >"$out/$corpus.eval.json"
    t2=$(date +%s)
    baseline=null
    if [[ ${BASELINE:-1} != 0 ]]; then
        "$PY" "$here/classify_baseline.py" "$dir" >"$out/$corpus.baseline.json"
        baseline=$out/$corpus.baseline.json
    fi
    echo "## $corpus"
    echo "train: $(cat "$out/$corpus.train.out")"
    "$PY" - "$out/$corpus.eval.json" "$baseline" $((t1 - t0)) $((t2 - t1)) <<'EOF'
import json, sys
ev = json.load(open(sys.argv[1]))
print("attn transformer  test accuracy %.2f  macro-F1 %.2f  (train %d s, test %d s, %d texts)"
      % (100 * ev["accuracy"], 100 * ev["macro_avg"]["f1"], int(sys.argv[3]), int(sys.argv[4]),
         ev["n"]))
if sys.argv[2] != "null":
    b = json.load(open(sys.argv[2]))
    print("TF-IDF + LR       test accuracy %.2f  macro-F1 %.2f  (C %g, %.0f s)"
          % (b["tfidf_lr_test_accuracy"], b["tfidf_lr_test_macro_f1"], b["C"], b["wall_s"]))
    print("majority class    test accuracy %.2f  macro-F1 %.2f"
          % (b["majority_test_accuracy"], b["majority_test_macro_f1"]))
EOF
done
