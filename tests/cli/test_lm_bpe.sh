#!/usr/bin/env bash
# tests/cli/test_lm_bpe.sh: `attn train lm` on BPE tokens end to end, with tiny models (a few
# seconds): --vocab-size and --tokenizer, the tokenizer stored in the checkpoint (read back here
# from the safetensors header by hand), `attn eval lm`'s bytes and bits per byte recomputed from
# it, exact resume with a tokenizer (4 steps + 4 resumed, cmp'd with 8 straight ones), `attn
# generate` through the model's tokenizer, and the errors of the new options. ctest sets ATTN_BIN.
source "$(dirname "$0")/../common/cli.sh"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3) || { echo "no python3: skipped"; exit 77; }
# One thread: these models are too small to gain from two, and on a busy machine two lose.
export ATTN_NUM_THREADS=1

# export_tokenizers CKPT FILE [CKPT FILE]...: the "tokenizer" metadata of each CKPT (a
# safetensors file: an 8-byte little-endian header length, then a JSON header whose
# "__metadata__" holds it) into FILE.
export_tokenizers() {
    "$PY" - "$@" <<'EOF'
import json, struct, sys
for ckpt, path in zip(sys.argv[1::2], sys.argv[2::2]):
    with open(ckpt, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    with open(path, "w", encoding="utf-8") as out:
        out.write(header["__metadata__"]["tokenizer"])
EOF
}

# A small deterministic text (about 15 KB), with some UTF-8.
for i in $(seq 1 250); do
    echo "line $i: the quick brown fox jumps over the lazy dog, $((i * 7 % 13)) times. café"
done >"$tmp/text.txt"
head -n 20 "$tmp/text.txt" | sed 's/fox/cat/' >"$tmp/held.txt"
TINY=(--layers 1 --d-model 16 --heads 2 --context 16 --batch 4 --eval-batches 2 --warmup 0
    --schedule constant)

# --- train lm --vocab-size ---------------------------------------------------------------------
ckpt="$tmp/bpe.safetensors"
"$BIN" train lm --data "$tmp/text.txt" --out "$ckpt" --vocab-size 300 "${TINY[@]}" --steps 6 \
    --seed 5 --quiet >"$tmp/train.out" 2>"$tmp/train.err" ||
    fail "train lm --vocab-size: exit status $? ($(head -c 300 "$tmp/train.err"))"
[[ -s $tmp/train.err ]] && fail "train lm --vocab-size --quiet wrote to stderr: $(head -c 300 "$tmp/train.err")"
grep -Eq '^step 6/6  loss [0-9.]+  val_loss [0-9.]+  val_bpb [0-9.]+  tokens ' "$tmp/train.out" ||
    fail "train lm --vocab-size: summary '$(cat "$tmp/train.out")'"
val_loss=$(grep -o 'val_loss [^ ]*' "$tmp/train.out" | awk '{print $2}')
val_bpb=$(grep -o 'val_bpb [^ ]*' "$tmp/train.out" | awk '{print $2}')
# BPE tokens stand for more than a byte on average: fewer bits per byte than per token
awk -v l="${val_loss:-0}" -v b="${val_bpb:-0}" 'BEGIN { exit !(b > 0 && b < l / log(2)) }' ||
    fail "train lm --vocab-size: val_bpb $val_bpb is not below val_loss $val_loss / ln 2"

"$BIN" tokenizer train --vocab-size 300 --out "$tmp/tok.json" "$tmp/text.txt" >/dev/null ||
    fail "tokenizer train: exit status"
tckpt="$tmp/tok.safetensors"
"$BIN" train lm --data "$tmp/text.txt" --out "$tckpt" --tokenizer "$tmp/tok.json" "${TINY[@]}" \
    --steps 4 --quiet >"$tmp/tok.out" 2>"$tmp/tok.err" ||
    fail "train lm --tokenizer: exit status ($(head -c 300 "$tmp/tok.err"))"
grep -q '^step 4/4 .* val_bpb ' "$tmp/tok.out" || fail "train lm --tokenizer: '$(cat "$tmp/tok.out")'"
export_tokenizers "$ckpt" "$tmp/stored.json" "$tckpt" "$tmp/tok_stored.json" ||
    fail "a checkpoint has no tokenizer metadata"
grep -q '"BPE"' "$tmp/stored.json" || fail "the stored tokenizer is not a BPE: $(head -c 200 "$tmp/stored.json")"

# --- eval lm: bytes and bits per byte ------------------------------------------------------------
"$BIN" eval lm --model "$ckpt" "$tmp/held.txt" >"$tmp/eval" || fail "eval lm: exit status"
read -r w1 tokens w0 bytes w2 eloss w3 ppl w4 bpb <"$tmp/eval"
[[ "$w1 $w0 $w2 $w3 $w4" == "tokens bytes loss ppl bpb" ]] || fail "eval lm: unexpected line '$(cat "$tmp/eval")'"
# tokens: the ids of the whole file (one TEXT argument, its last newline kept), less the first,
# which is not predicted
held=$(cat "$tmp/held.txt"; echo x)
"$BIN" tokenizer encode --tokenizer "$tmp/stored.json" --ids "${held%x}" >"$tmp/held.ids" ||
    fail "tokenizer encode of the held-out text"
n_ids=$(wc -w <"$tmp/held.ids")
[[ $tokens -eq $((n_ids - 1)) ]] || fail "eval lm: $tokens tokens, expected $n_ids - 1"
first=$(awk '{print $1}' "$tmp/held.ids")
[[ $(tr ' ' '\n' <"$tmp/held.ids" | sort -n | tail -n 1) -lt 300 ]] ||
    fail "the stored tokenizer has ids beyond 300: $(head -c 200 "$tmp/held.ids")"
"$BIN" tokenizer decode --tokenizer "$tmp/stored.json" "$first" >"$tmp/first" || fail "decode $first"
first_bytes=$(($(wc -c <"$tmp/first") - 1)) # less the newline decode adds
[[ $first_bytes -ge 2 ]] || fail "the first token ('$(cat "$tmp/first")') is a single byte: no merge tested"
[[ $bytes -eq $(($(wc -c <"$tmp/held.txt") - first_bytes)) ]] ||
    fail "eval lm: $bytes bytes, expected $(wc -c <"$tmp/held.txt") less the first token's $first_bytes"
awk -v l="$eloss" -v n="$tokens" -v m="$bytes" -v b="$bpb" \
    'BEGIN { want = l * n / log(2) / m; d = want - b; exit !(d < 0.0001 * n / m + 0.00051 && d > -0.0001 * n / m - 0.00051) }' ||
    fail "eval lm: bpb $bpb is not loss $eloss x $tokens / ln 2 / $bytes"
awk -v l="$eloss" -v p="$ppl" 'BEGIN { d = exp(l) - p; exit !(d < 0.01 * p && d > -0.01 * p) }' ||
    fail "eval lm: ppl $ppl is not exp($eloss)"

# --- train lm --tokenizer: the stored tokenizer is the file's ----------------------------------
"$BIN" tokenizer encode --tokenizer "$tmp/tok.json" --ids <"$tmp/text.txt" >"$tmp/ids.file"
"$BIN" tokenizer encode --tokenizer "$tmp/tok_stored.json" --ids <"$tmp/text.txt" >"$tmp/ids.stored"
[[ -s $tmp/ids.file ]] && cmp -s "$tmp/ids.file" "$tmp/ids.stored" ||
    fail "train lm --tokenizer: the stored tokenizer encodes the text differently from the file"
# --resume with the same tokenizer is accepted
"$BIN" train lm --data "$tmp/text.txt" --out "$tckpt" --tokenizer "$tmp/tok.json" --steps 5 \
    --resume --quiet >"$tmp/tok.out" 2>"$tmp/tok.err" ||
    fail "train lm --resume --tokenizer (the same): $(head -c 300 "$tmp/tok.err")"
grep -q '^step 5/5 ' "$tmp/tok.out" || fail "train lm --resume --tokenizer: '$(cat "$tmp/tok.out")'"

# --- exact resume with a tokenizer ---------------------------------------------------------------
# 4 steps, then --resume (with the same --vocab-size, which is accepted) to 8, is byte for byte the
# uninterrupted 8-step run: the tokenizer is learnt once and read back from the checkpoint. The
# schedule is constant, so the first run's shorter length does not change a learning rate.
R=(--data "$tmp/text.txt" --vocab-size 300 "${TINY[@]}" --save-every 4 --eval-every 4 --seed 9
    --dropout 0.1 --quiet)
"$BIN" train lm "${R[@]}" --steps 8 --out "$tmp/straight.safetensors" >/dev/null ||
    fail "train lm (straight 8 steps): exit status"
"$BIN" train lm "${R[@]}" --steps 4 --out "$tmp/resumed.safetensors" >/dev/null ||
    fail "train lm (first 4 steps): exit status"
"$BIN" train lm "${R[@]}" --steps 8 --out "$tmp/resumed.safetensors" --resume >"$tmp/res.out" ||
    fail "train lm --resume (last 4 steps): exit status"
grep -q '^step 8/8 ' "$tmp/res.out" || fail "train lm --resume: '$(cat "$tmp/res.out")'"
cmp -s "$tmp/straight.safetensors" "$tmp/resumed.safetensors" ||
    fail "train lm --vocab-size: 4 steps + 4 resumed differ from 8 straight steps"

# --- generate ------------------------------------------------------------------------------------
G=(--model "$ckpt" --prompt "the" --max-new 20)
"$BIN" generate "${G[@]}" --seed 3 >"$tmp/g1" || fail "generate: exit status"
"$BIN" generate "${G[@]}" --seed 3 >"$tmp/g2" || fail "generate: exit status"
"$BIN" generate "${G[@]}" --seed 4 >"$tmp/g3" || fail "generate: exit status"
cmp -s "$tmp/g1" "$tmp/g2" || fail "generate: not deterministic for a seed"
cmp -s "$tmp/g1" "$tmp/g3" && fail "generate: seeds 3 and 4 gave the same text"
[[ $(head -c 3 "$tmp/g1") == "the" ]] || fail "generate: the prompt is not echoed: '$(head -c 40 "$tmp/g1")'"
# 20 tokens of which most stand for a byte or more (the 5 special tokens for none)
[[ $(wc -c <"$tmp/g1") -ge 20 ]] || fail "generate: only $(wc -c <"$tmp/g1") bytes for 20 tokens"
printf 'the\nline 3: the\nquick brown\n' >"$tmp/prompts.txt"
"$BIN" generate --model "$ckpt" --prompts "$tmp/prompts.txt" --max-new 20 --seed 3 >"$tmp/gp" ||
    fail "generate --prompts: exit status"
[[ $(wc -l <"$tmp/gp") -eq 3 ]] || fail "generate --prompts: $(wc -l <"$tmp/gp") lines for 3 prompts"
# line 1 is what --prompt "the" prints after the prompt, up to its first newline
[[ "$(head -n 1 "$tmp/gp")" == "$(tail -c +4 "$tmp/g1" | head -n 1)" ]] ||
    fail "generate --prompts: line 1 '$(head -n 1 "$tmp/gp")' is not --prompt's '$(tail -c +4 "$tmp/g1" | head -n 1)'"

# --- errors --------------------------------------------------------------------------------------
X=(--data "$tmp/text.txt" --out "$tmp/x.safetensors" --steps 2 "${TINY[@]}" --quiet)
expect_error 2 "--tokenizer and --vocab-size" -- "$BIN" train lm "${X[@]}" --tokenizer "$tmp/tok.json" \
    --vocab-size 300
expect_error 2 "--vocab-size below 262" -- "$BIN" train lm "${X[@]}" --vocab-size 100
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nquick\nbrown\nfox\n##s\n' >"$tmp/vocab.txt"
expect_error 1 "a WordPiece --tokenizer" -- "$BIN" train lm "${X[@]}" --tokenizer "$tmp/vocab.txt"
grep -q 'WordPiece' "$tmp/err" || fail "a WordPiece --tokenizer: the message does not say why: $(cat "$tmp/err")"
expect_error 1 "a missing --tokenizer" -- "$BIN" train lm "${X[@]}" --tokenizer "$tmp/nope.json"
[[ -e $tmp/x.safetensors ]] && fail "a refused run wrote its checkpoint"
expect_error 2 "--resume with another --vocab-size" -- "$BIN" train lm --data "$tmp/text.txt" \
    --out "$ckpt" --steps 8 --resume --vocab-size 320 --quiet
expect_error 2 "--resume with another --tokenizer" -- "$BIN" train lm --data "$tmp/text.txt" \
    --out "$ckpt" --steps 8 --resume --tokenizer "$tmp/tok.json" --quiet
"$BIN" train lm --data "$tmp/text.txt" --out "$tmp/bytes.safetensors" --steps 2 "${TINY[@]}" \
    --quiet >/dev/null || fail "train lm (bytes): exit status"
expect_error 2 "--resume with --tokenizer on a byte-level checkpoint" -- "$BIN" train lm \
    --data "$tmp/text.txt" --out "$tmp/bytes.safetensors" --steps 3 --resume \
    --tokenizer "$tmp/tok.json" --quiet
expect_error 2 "--resume with --vocab-size on a byte-level checkpoint" -- "$BIN" train lm \
    --data "$tmp/text.txt" --out "$tmp/bytes.safetensors" --steps 3 --resume --vocab-size 300 \
    --quiet

finish "lm on BPE tokens"
