#!/usr/bin/env bash
# scripts/demo.sh BIN: train a small byte-level language model on Debian's fortune cookies for
# about a minute, then sample from it and evaluate it. `make demo` runs `scripts/demo.sh build/attn`.
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

# A 4-layer, d_model 128 model over 128-byte contexts; the last 10% of the corpus is held out.
MODEL=(--layers 4 --d-model 128 --heads 4 --context 128 --batch 8)

# How many steps fit in about a minute here: time a few steps first (DEMO_STEPS skips this).
if [[ -z ${DEMO_STEPS:-} ]]; then
    t0=$(date +%s.%N)
    "$BIN" train lm --data "$corpus" --out "$DIR/calibration.safetensors" "${MODEL[@]}" \
        --steps 8 --warmup 0 --eval-batches 0 --quiet >/dev/null
    t1=$(date +%s.%N)
    rm -f "$DIR/calibration.safetensors"
    read -r per_step STEPS < <(awk -v t0="$t0" -v t1="$t1" -v budget="$SECONDS_BUDGET" 'BEGIN {
        t = (t1 - t0) / 8; s = int(budget / t); if (s < 50) s = 50; if (s > 3000) s = 3000
        printf "%.2f %d\n", t, s }')
    echo "== ${per_step} s per step: $STEPS steps for about ${SECONDS_BUDGET} s"
fi

echo "== training (Ctrl-C stops early and still saves)"
start=$(date +%s)
"$BIN" train lm --data "$corpus" --out "$ckpt" "${MODEL[@]}" \
    --steps "$STEPS" --lr 3e-3 --min-lr 3e-4 --warmup 20 --schedule cosine \
    --eval-every $((STEPS / 4 > 0 ? STEPS / 4 : 1)) --eval-batches 4 --save-every 0 --seed 1 ||
    { rc=$?; [[ $rc -eq 130 ]] || exit $rc; }
echo "== trained in $(($(date +%s) - start)) s"

for seed in 1 2 3; do
    echo "== sample (seed $seed)"
    "$BIN" generate --model "$ckpt" --prompt "Q: " --max-new 200 --temperature 0.8 --top-k 40 \
        --seed "$seed"
done

# Held-out text: 32 KB from the start of the corpus's last 10%, which training never saw.
held_out=$DIR/held-out.txt
size=$(wc -c <"$corpus")
dd if="$corpus" of="$held_out" bs=32768 count=1 skip=$((size - size / 10)) iflag=skip_bytes \
    status=none
echo "== evaluation on 32 KB of held-out text"
"$BIN" eval lm --model "$ckpt" "$held_out"
