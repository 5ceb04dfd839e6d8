#!/usr/bin/env bash
# tests/cli/test_cli.sh: the `attn` command line end to end, with tiny models (a few seconds).
# ctest sets ATTN_BIN to the built binary. Exact resume parity is in test_cli_resume.c.
source "$(dirname "$0")/../common/cli.sh"

# A small deterministic text (about 15 KB).
for i in $(seq 1 250); do
    echo "line $i: the quick brown fox jumps over the lazy dog, $((i * 7 % 13)) times."
done >"$tmp/text.txt"
TINY=(--layers 1 --d-model 16 --heads 2 --context 16 --batch 4 --eval-batches 2 --warmup 0
    --schedule constant --threads 2 --quiet)

is_finite() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }

# --- help and version --------------------------------------------------------------------------
"$BIN" --version | grep -Eq '^attn [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
"$BIN" --help >"$tmp/help" || fail "--help exit status"
for c in "train lm" generate "eval lm"; do grep -q "$c" "$tmp/help" || fail "--help lacks '$c'"; done

# help_mentions "COMMAND WORDS" OPTION...: `attn COMMAND --help` exits 0 and names every option.
help_mentions() {
    local words=$1
    shift
    # shellcheck disable=SC2086
    "$BIN" $words --help >"$tmp/help" 2>"$tmp/err" || fail "attn $words --help: exit status"
    grep -q '^Example' "$tmp/help" || fail "attn $words --help: no example"
    for opt in "$@"; do
        grep -q -- "--$opt\b" "$tmp/help" || fail "attn $words --help does not mention --$opt"
    done
}
help_mentions "train lm" data val out resume layers d-model heads d-ff context dropout norm pos \
    act steps batch accum lr min-lr schedule warmup weight-decay clip seed eval-every \
    eval-batches save-every threads quiet
help_mentions generate model prompt max-new temperature top-k top-p seed threads
help_mentions "eval lm" model batch json threads
"$BIN" train lm --help | grep -q 'default: 1000' || fail "train lm --help shows no defaults"

# --- train -------------------------------------------------------------------------------------
ckpt="$tmp/lm.safetensors"
if ! "$BIN" train lm --data "$tmp/text.txt" --out "$ckpt" --steps 6 --seed 5 "${TINY[@]}" \
    >"$tmp/train.out" 2>"$tmp/train.err"; then
    fail "train lm: exit status $? ($(head -c 300 "$tmp/train.err"))"
fi
[[ -s $ckpt ]] || fail "train lm: no checkpoint written"
ls "$tmp" | grep -q '\.tmp\.' && fail "train lm: left a temporary file"
loss=$(grep -o ' loss [^ ]*' "$tmp/train.out" | awk '{print $2}')
val=$(grep -o 'val_loss [^ ]*' "$tmp/train.out" | awk '{print $2}')
is_finite "$loss" || fail "train lm: training loss '$loss' is not a finite number: $(cat "$tmp/train.out")"
is_finite "$val" || fail "train lm: validation loss '$val' is not a finite number"
grep -q '^step 6/6 ' "$tmp/train.out" || fail "train lm: summary does not say step 6/6"
[[ -s $tmp/train.err ]] && fail "train lm --quiet wrote to stderr: $(head -c 300 "$tmp/train.err")"

# Progress and validation lines when not quiet (stderr is a file: plain lines).
"$BIN" train lm --data "$tmp/text.txt" --out "$tmp/p.safetensors" --steps 4 --eval-every 2 \
    "${TINY[@]:0:${#TINY[@]}-1}" >/dev/null 2>"$tmp/progress.err" || fail "train lm (progress)"
grep -q 'step 4/4  loss ' "$tmp/progress.err" || fail "train lm: no progress line for the last step"
grep -q 'step 2  val_loss ' "$tmp/progress.err" || fail "train lm: no validation line at step 2"
grep -q $'\r' "$tmp/progress.err" && fail "train lm: carriage returns although stderr is no TTY"

# Resuming an already finished run trains nothing and keeps the step.
"$BIN" train lm --data "$tmp/text.txt" --out "$ckpt" --steps 6 --resume --quiet \
    >"$tmp/resume.out" || fail "train lm --resume at the end: exit status"
grep -q '^step 6/6 ' "$tmp/resume.out" || fail "train lm --resume at the end: $(cat "$tmp/resume.out")"

# Ctrl-C: the step in progress finishes, the checkpoint is saved, the exit status is 130, and
# --resume carries on from the saved step.
"$BIN" train lm --data "$tmp/text.txt" --out "$tmp/int.safetensors" --steps 100000000 \
    --eval-every 0 "${TINY[@]:0:${#TINY[@]}-1}" >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 200); do # wait (at most 20 s) until training has started
    grep -q '^step *1/' "$tmp/int.err" && break
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
[[ $rc -eq 130 ]] || fail "train lm + SIGINT: exit status $rc, expected 130"
stopped=$(sed -n 's/^attn: interrupted after step \([0-9]*\); saved .*/\1/p' "$tmp/int.err")
if [[ -z $stopped || ! -s $tmp/int.safetensors ]]; then
    fail "train lm + SIGINT: no 'interrupted' line or no checkpoint: $(tail -n 2 "$tmp/int.err")"
else
    "$BIN" train lm --data "$tmp/text.txt" --out "$tmp/int.safetensors" --steps $((stopped + 2)) \
        --resume --quiet >"$tmp/int.out" || fail "train lm --resume after SIGINT: exit status"
    grep -q "^step $((stopped + 2))/$((stopped + 2)) " "$tmp/int.out" ||
        fail "train lm --resume after SIGINT: $(cat "$tmp/int.out")"
fi

# --- generate ----------------------------------------------------------------------------------
"$BIN" generate --model "$ckpt" --max-new 40 --seed 3 >"$tmp/g1" || fail "generate: exit status"
"$BIN" generate --model "$ckpt" --max-new 40 --seed 3 >"$tmp/g2" || fail "generate: exit status"
"$BIN" generate --model "$ckpt" --max-new 40 --seed 4 >"$tmp/g3" || fail "generate: exit status"
[[ $(wc -c <"$tmp/g1") -eq 41 ]] || fail "generate: $(wc -c <"$tmp/g1") bytes, expected 40 + newline"
cmp -s "$tmp/g1" "$tmp/g2" || fail "generate: not deterministic for a seed"
cmp -s "$tmp/g1" "$tmp/g3" && fail "generate: seeds 3 and 4 gave the same text"
"$BIN" generate --model "$ckpt" --prompt "line 7" --max-new 5 --temperature 0 >"$tmp/g4" ||
    fail "generate --prompt: exit status"
[[ $(wc -c <"$tmp/g4") -eq 12 ]] || fail "generate --prompt: expected prompt + 5 bytes + newline"
[[ $(head -c 6 "$tmp/g4") == "line 7" ]] || fail "generate --prompt: the prompt is not echoed"
"$BIN" generate --model "$ckpt" --max-new 0 --seed 1 >"$tmp/g5" || fail "generate --max-new 0"
[[ $(wc -c <"$tmp/g5") -eq 1 ]] || fail "generate --max-new 0: expected only a newline"

# --- eval --------------------------------------------------------------------------------------
"$BIN" eval lm --model "$ckpt" "$tmp/text.txt" >"$tmp/eval" || fail "eval lm: exit status"
read -r w1 tokens w0 bytes w2 eloss w3 ppl w4 bpb <"$tmp/eval"
[[ "$w1 $w0 $w2 $w3 $w4" == "tokens bytes loss ppl bpb" ]] || fail "eval lm: unexpected line '$(cat "$tmp/eval")'"
[[ $tokens -eq $(($(wc -c <"$tmp/text.txt") - 1)) ]] || fail "eval lm: $tokens tokens"
[[ $bytes -eq $tokens ]] || fail "eval lm: a byte-level model's $tokens tokens stand for $bytes bytes"
# A byte-level model's bits per byte are its loss / ln 2.
awk -v l="$eloss" -v b="$bpb" 'BEGIN { d = l / log(2) - b; exit !(d < 0.002 && d > -0.002) }' ||
    fail "eval lm: bpb $bpb is not loss $eloss / ln 2"
for x in "$eloss" "$ppl" "$bpb"; do is_finite "$x" || fail "eval lm: '$x' is not finite"; done
"$BIN" eval lm --model "$ckpt" --json --batch 3 "$tmp/text.txt" >"$tmp/eval.json" ||
    fail "eval lm --json: exit status"
grep -Eq '^\{"tokens": [0-9]+, "bytes": [0-9]+, "loss": [0-9.e+-]+, "ppl": [0-9.e+-]+, "bpb": [0-9.e+-]+\}$' \
    "$tmp/eval.json" || fail "eval lm --json: '$(cat "$tmp/eval.json")'"
# --batch changes how windows are grouped, not the figure.
[[ $(printf '%.4f' "$(grep -o '"loss": [^,]*' "$tmp/eval.json" | awk '{print $2}')") == "$eloss" ]] ||
    fail "eval lm: --batch 3 changed the loss"

# --- bad input: one "attn: " line, status 2 for usage and 1 for runtime errors -----------------
printf 'not a checkpoint at all, just some text that is long enough' >"$tmp/bogus.safetensors"
head -c 2000 "$ckpt" >"$tmp/truncated.safetensors"
: >"$tmp/empty.safetensors"
printf '\xff\xff\xff\xff\xff\xff\xff\x7f{}' >"$tmp/hugeheader.safetensors"
printf 'ab' >"$tmp/short.txt"
D=(--data "$tmp/text.txt" --out "$tmp/x.safetensors")
expect_error 2 "no command" -- "$BIN"
expect_error 2 "unknown command" -- "$BIN" frobnicate
expect_error 2 "missing model kind" -- "$BIN" train
expect_error 2 "unknown model kind" -- "$BIN" train gan
expect_error 2 "unknown option" -- "$BIN" train lm "${D[@]}" --bogus 3
expect_error 2 "single-dash option" -- "$BIN" train lm "${D[@]}" -x
expect_error 2 "bad number" -- "$BIN" train lm "${D[@]}" --steps abc
expect_error 2 "trailing junk" -- "$BIN" train lm "${D[@]}" --lr 1e-3x
expect_error 2 "negative steps" -- "$BIN" train lm "${D[@]}" --steps -5
expect_error 2 "huge number" -- "$BIN" train lm "${D[@]}" --layers 99999999999999999999
expect_error 2 "missing value" -- "$BIN" train lm "${D[@]}" --steps
expect_error 2 "heads not dividing d-model" -- "$BIN" train lm "${D[@]}" --heads 5 --d-model 128
expect_error 2 "bad choice" -- "$BIN" train lm "${D[@]}" --norm sideways
expect_error 2 "missing --data" -- "$BIN" train lm --out "$tmp/x.safetensors"
expect_error 2 "missing --out" -- "$BIN" train lm --data "$tmp/text.txt"
expect_error 2 "stray argument" -- "$BIN" train lm "${D[@]}" extra
expect_error 2 "flag with a value" -- "$BIN" train lm "${D[@]}" --quiet=yes
expect_error 1 "missing data file" -- "$BIN" train lm --data "$tmp/nope.txt" --out "$tmp/x.safetensors"
expect_error 1 "data is a directory" -- "$BIN" train lm --data "$tmp" --out "$tmp/x.safetensors"
expect_error 1 "data too short" -- "$BIN" train lm --data "$tmp/short.txt" --out "$tmp/x.safetensors"
expect_error 1 "resume without checkpoint" -- "$BIN" train lm "${D[@]}" --resume
expect_error 2 "resume with another shape" -- "$BIN" train lm --data "$tmp/text.txt" --out "$ckpt" \
    --resume --layers 3
"$BIN" train lm --data "$tmp/text.txt" --out "$tmp/ls.safetensors" --steps 2 "${TINY[@]}" \
    --label-smoothing 0.1 >/dev/null || fail "train lm --label-smoothing: exit status"
/usr/bin/python3 -c 'import json, struct, sys
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]
cfg = json.loads(json.loads(f.read(n))["__metadata__"]["config"])
assert abs(cfg["label_smoothing"] - 0.1) < 1e-6, cfg' "$tmp/ls.safetensors" ||
    fail "train lm --label-smoothing: not in the checkpoint's config"
expect_error 2 "resume with another label smoothing" -- "$BIN" train lm --data "$tmp/text.txt" \
    --out "$tmp/ls.safetensors" --steps 3 --resume --label-smoothing 0.2
expect_error 1 "resume from a non-checkpoint" -- "$BIN" train lm --data "$tmp/text.txt" \
    --out "$tmp/bogus.safetensors" --resume
expect_error 2 "generate without --model" -- "$BIN" generate --max-new 3
expect_error 2 "generate bad top-p" -- "$BIN" generate --model "$ckpt" --top-p 0
expect_error 2 "generate negative temperature" -- "$BIN" generate --model "$ckpt" --temperature -1
expect_error 1 "generate missing model" -- "$BIN" generate --model "$tmp/nope.safetensors"
expect_error 1 "generate non-checkpoint" -- "$BIN" generate --model "$tmp/bogus.safetensors"
expect_error 1 "generate truncated checkpoint" -- "$BIN" generate --model "$tmp/truncated.safetensors"
expect_error 1 "generate empty checkpoint" -- "$BIN" generate --model "$tmp/empty.safetensors"
expect_error 1 "generate huge header length" -- "$BIN" generate --model "$tmp/hugeheader.safetensors"
expect_error 1 "generate with a text file" -- "$BIN" generate --model "$tmp/text.txt"
# Non-finite models: NaN weights are refused at load; finite weights so large that the logits
# overflow (ln_f of 3e38 makes the last states infinite, their products with the embeddings NaN)
# are refused when sampling, greedy or not, instead of printing token 0 as the "argmax" of NaNs.
/usr/bin/python3 -c 'import json, struct, sys
import numpy as np
src, value, dst = sys.argv[1], float(sys.argv[2]), sys.argv[3]
b = open(src, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
data = bytearray(b[8 + n:])
for name in ("decoder.ln_f.weight", "decoder.ln_f.bias"):
    lo, hi = h[name]["data_offsets"]
    data[lo:hi] = np.full((hi - lo) // 4, value, "<f4").tobytes()
open(dst, "wb").write(b[:8 + n] + bytes(data))' "$ckpt" 3e38 "$tmp/overflow.safetensors"
/usr/bin/python3 -c 'import json, struct, sys
import numpy as np
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
data = bytearray(b[8 + n:]); lo, hi = h["decoder.ln_f.bias"]["data_offsets"]
data[lo:lo + 4] = np.array([np.nan], "<f4").tobytes()
open(sys.argv[2], "wb").write(b[:8 + n] + bytes(data))' "$ckpt" "$tmp/nan.safetensors"
expect_error 1 "generate with NaN weights" -- "$BIN" generate --model "$tmp/nan.safetensors"
grep -q 'NaN' "$tmp/err" || fail "generate with NaN weights: $(cat "$tmp/err")"
expect_error 1 "generate with overflowing logits" -- "$BIN" generate --model "$tmp/overflow.safetensors"
grep -Eq 'logit [0-9]+ of 256 is (NaN|\+inf)' "$tmp/err" ||
    fail "generate with overflowing logits: $(cat "$tmp/err")"
expect_error 1 "generate greedy with overflowing logits" -- "$BIN" generate --model \
    "$tmp/overflow.safetensors" --temperature 0 --prompts "$tmp/short.txt"
expect_error 2 "eval without FILE" -- "$BIN" eval lm --model "$ckpt"
expect_error 2 "eval with two FILEs" -- "$BIN" eval lm --model "$ckpt" "$tmp/text.txt" "$tmp/text.txt"
expect_error 1 "eval missing FILE" -- "$BIN" eval lm --model "$ckpt" "$tmp/nope.txt"
expect_error 1 "eval too short FILE" -- "$BIN" eval lm --model "$ckpt" "$tmp/empty.safetensors"
expect_error 1 "eval truncated checkpoint" -- "$BIN" eval lm --model "$tmp/truncated.safetensors" \
    "$tmp/text.txt"

finish CLI
