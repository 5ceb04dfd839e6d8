#!/usr/bin/env bash
# scripts/demo.sh BIN: train a small language model on the BPE tokens of Debian's fortune cookies
# (a tokenizer of 2048 tokens learnt from the training text first) for about a minute, then
# sample from it and evaluate it in bits per byte. `make demo` runs `scripts/demo.sh build/attn`.
#
# Environment: DEMO_DIR (default: BIN's folder/demo) holds the corpus and the checkpoint;
# DEMO_SECONDS (default 60) is the training time to aim for: the script times a few steps and
# picks the number of steps from it; DEMO_STEPS sets the steps instead; ATTN_NUM_THREADS the
# threads.
set -euo pipefail

BIN=${1:?usage: scripts/demo.sh path/to/attn}
[[ -x $BIN ]] || { echo "demo: '$BIN' is not an executable (run make build)" >&2; exit 1; }
FORTUNES=/usr/share/games/fortunes
DIR=${DEMO_DIR:-$(dirname "$BIN")/demo}
STEPS=${DEMO_STEPS:-}
SECONDS_BUDGET=${DEMO_SECONDS:-60}
# OpenMP threads that spin while waiting make a busy machine many times slower; sleeping costs
# little on an idle one.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
mkdir -p "$DIR"
corpus=$DIR/fortunes.txt
ckpt=$DIR/fortunes-lm.safetensors

# The corpus: every fortune file (not the .dat indexes, not the .u8 links), with the '%' lines
# that separate fortunes and the backspace overstrikes of old files removed. About 2.5 MB.
if [[ ! -s $corpus ]]; then
    shopt -s nullglob
    files=()
    for f in "$FORTUNES"/*; do
        [[ -f $f && ! -L $f && $f != *.dat ]] && files+=("$f")
    done
    if [[ ${#files[@]} -eq 0 ]]; then
        echo "demo: no fortunes in $FORTUNES (apt-get install fortunes)" >&2
        exit 1
    fi
    cat "${files[@]}" | sed -e 's/.\x08//g' | grep -v '^%$' >"$corpus"
    truncate -s '<3000000' "$corpus" # at most 3 MB
fi
echo "== corpus: $corpus ($(wc -c <"$corpus") bytes from ${FORTUNES})"

# A 4-layer, d_model 128 model over contexts of 128 tokens (about 400 bytes) of a BPE of 2048
# tokens; the last 10% of the corpus is held out (from the tokenizer too).
MODEL=(--vocab-size 2048 --layers 4 --d-model 128 --heads 4 --context 128 --batch 8)

# How many steps fit in about a minute here: time 4 and 16 steps, so that start-up costs cancel
# out (DEMO_STEPS skips this).
seconds_for() { # seconds_for N: wall time of an N-step run
    local t0 t1
    t0=$(date +%s.%N)
    "$BIN" train lm --data "$corpus" --out "$DIR/calibration.safetensors" "${MODEL[@]}" \
        --steps "$1" --warmup 0 --eval-batches 0 --quiet >/dev/null
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
if [[ -z $STEPS ]]; then
    t4=$(seconds_for 4)
    t16=$(seconds_for 16)
    rm -f "$DIR/calibration.safetensors"
    read -r per_step STEPS < <(awk -v a="$t4" -v b="$t16" -v budget="$SECONDS_BUDGET" 'BEGIN {
        t = (b - a) / 12; if (t <= 0) t = b / 16
        s = int(budget / t); if (s < 50) s = 50; if (s > 5000) s = 5000
        printf "%.3f %d\n", t, s }')
    echo "== ${per_step} s per step: $STEPS steps for about ${SECONDS_BUDGET} s"
fi

echo "== training (Ctrl-C stops early and still saves)"
start=$(date +%s)
"$BIN" train lm --data "$corpus" --out "$ckpt" "${MODEL[@]}" \
    --steps "$STEPS" --lr 3e-3 --min-lr 2e-4 --warmup 50 --schedule cosine \
    --eval-every $((STEPS / 4 > 0 ? STEPS / 4 : 1)) --eval-batches 4 --save-every 0 --seed 1 ||
    { rc=$?; [[ $rc -eq 130 ]] || exit $rc; }
echo "== trained in $(($(date +%s) - start)) s"

prompts=("The" "Q: What" "Life is")
for seed in 1 2 3; do
    prompt=${prompts[seed - 1]}
    echo "== sample (seed $seed, prompt \"$prompt\")"
    "$BIN" generate --model "$ckpt" --prompt "$prompt" --max-new 60 --temperature 0.8 \
        --top-k 40 --seed "$seed"
done

# Held-out text: 32 KB from the start of the corpus's last 10%, which training never saw.
held_out=$DIR/held-out.txt
size=$(wc -c <"$corpus")
dd if="$corpus" of="$held_out" bs=32768 count=1 skip=$((size - size / 10)) iflag=skip_bytes \
    status=none
echo "== evaluation on 32 KB of held-out text"
"$BIN" eval lm --model "$ckpt" "$held_out"
