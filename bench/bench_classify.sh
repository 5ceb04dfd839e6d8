#!/usr/bin/env bash
# bench/bench_classify.sh: text classification end to end on the Debian corpora of data/README.md:
# builds data/corpora/{debdesc,fortunes} if absent, trains attn's Transformer classifier on train
# once per seed of SEEDS (early stopping on dev), scores each model and, with several seeds, their
# ensemble (mean probabilities) on test with `attn eval classify`, runs the TF-IDF + logistic
# regression baseline (bench/classify_baseline.py) on the same split, and prints them all.
#
# Usage: bench/bench_classify.sh [BUILD_DIR] [CORPUS...]     (defaults: build, debdesc fortunes)
# Settings come from the environment (defaults fit a 2-core machine; bench/README.md has the
# figures they gave): D_MODEL 256, LAYERS 2, HEADS 4, MAX_LEN 256, VOCAB 32000, LOWERCASE 1,
# EPOCHS 3, BATCH 32, LR 1e-3, POOL mean, DROPOUT 0.3, WEIGHT_DECAY 0.01, LABEL_SMOOTHING 0.1,
# TOKEN_DROPOUT 0.15, PATIENCE 2, THREADS (all cores), SEEDS "1 2 3 4 5" (one model each; "1": a
# single model), BASELINE 1 (0 skips the baseline, which takes about 3 minutes on debdesc), OUT
# (where models and logs go, default ${TMPDIR:-/tmp}/attn_bench_classify).
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
    --patience "${PATIENCE:-2}" --weight-decay "${WEIGHT_DECAY:-0.01}"
    --label-smoothing "${LABEL_SMOOTHING:-0.1}" --token-dropout "${TOKEN_DROPOUT:-0.15}"
    --threads "$threads")
[[ ${LOWERCASE:-1} != 0 ]] && settings+=(--lowercase)
echo "# $(date -u '+%Y-%m-%d %H:%M') UTC, $threads threads, load $(cut -d' ' -f1-3 /proc/loadavg),$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
read -ra seeds <<<"${SEEDS:-1 2 3 4 5}"
echo "# attn train classify ${settings[*]} --seed S, S in ${seeds[*]}"

for corpus in "${corpora[@]}"; do
    dir=$root/data/corpora/$corpus
    if [[ ! -s $dir/train.tsv ]]; then
        echo "# building $dir with data/make_$corpus.py" >&2
        "$PY" "$root/data/make_$corpus.py" >&2
    fi
    models=()
    t_train=0
    for seed in "${seeds[@]}"; do
        model=$out/$corpus.s$seed.safetensors
        t0=$(date +%s)
        "$bin" train classify --train "$dir/train.tsv" --dev "$dir/dev.tsv" --out "$model" \
            "${settings[@]}" --seed "$seed" >"$out/$corpus.s$seed.train.out" \
            2>"$out/$corpus.s$seed.train.log"
        t1=$(date +%s)
        "$bin" eval classify --model "$model" --data "$dir/test.tsv" --json \
            >"$out/$corpus.s$seed.eval.json"
        echo "$((t1 - t0)) $(($(date +%s) - t1))" >"$out/$corpus.s$seed.time"
        t_train=$((t_train + t1 - t0))
        models+=(--model "$model")
    done
    ensemble=null
    if ((${#seeds[@]} > 1)); then
        t0=$(date +%s)
        "$bin" eval classify "${models[@]}" --data "$dir/test.tsv" --json \
            >"$out/$corpus.ensemble.eval.json"
        echo "$t_train $(($(date +%s) - t0))" >"$out/$corpus.ensemble.time"
        ensemble=$out/$corpus.ensemble
    fi
    baseline=null
    if [[ ${BASELINE:-1} != 0 ]]; then
        "$PY" "$here/classify_baseline.py" "$dir" >"$out/$corpus.baseline.json"
        baseline=$out/$corpus.baseline.json
    fi
    echo "## $corpus"
    for seed in "${seeds[@]}"; do
        echo "train seed $seed: $(cat "$out/$corpus.s$seed.train.out")"
    done
    runs=()
    for seed in "${seeds[@]}"; do runs+=("seed $seed=$out/$corpus.s$seed"); done
    [[ $ensemble != null ]] && runs+=("ensemble of ${#seeds[@]}=$ensemble")
    "$PY" - "$baseline" "${runs[@]}" <<'EOF'
import json, sys
for run in sys.argv[2:]:
    name, stem = run.split("=", 1)
    ev = json.load(open(stem + ".eval.json"))
    train_s, test_s = open(stem + ".time").read().split()
    print("attn %-16s test accuracy %.2f  macro-F1 %.2f  (train %s s, test %s s, %d texts)"
          % (name, 100 * ev["accuracy"], 100 * ev["macro_avg"]["f1"], train_s, test_s, ev["n"]))
if sys.argv[1] != "null":
    b = json.load(open(sys.argv[1]))
    print("TF-IDF + LR           test accuracy %.2f  macro-F1 %.2f  (C %g, %.0f s)"
          % (b["tfidf_lr_test_accuracy"], b["tfidf_lr_test_macro_f1"], b["C"], b["wall_s"]))
    print("majority class        test accuracy %.2f  macro-F1 %.2f"
          % (b["majority_test_accuracy"], b["majority_test_macro_f1"]))
EOF
done
