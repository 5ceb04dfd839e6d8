#!/usr/bin/env bash
# tests/cli/test_classify_errors.sh: bad input to the text-classification commands. Each case
# must exit with the documented status and print exactly one "attn: " line naming the problem
# (the file and line for malformed data); nothing may crash (the ASan build runs this too).
source "$(dirname "$0")/../common/cli.sh"

# expect STATUS PATTERN -- COMMAND...: exit status STATUS, one stderr line "attn: ..." matching
# the extended regular expression PATTERN, and nothing left behind that looks like a crash.
expect() {
    local want=$1 pattern=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$? lines
    lines=$(wc -l <"$tmp/err")
    if [[ $got -ne $want ]]; then
        fail "$*: exit status $got, expected $want ($(head -c 300 "$tmp/err"))"
    else echo "  ok: $(cat "$tmp/err")" >&2; fi; if false; then :
    elif [[ $lines -ne 1 ]] || ! grep -Eq "^attn: .*$pattern" "$tmp/err"; then
        fail "$*: expected one 'attn: ...$pattern' line, got: $(head -c 400 "$tmp/err")"
    fi
}

T=(--vocab-size 280 --max-len 16 --layers 1 --d-model 16 --heads 2 --batch 4 --epochs 1
    --threads 2 --quiet)
printf 'a\tx y z\nb\tu v w\na\tx x\nb\tw w\n' >"$tmp/good.tsv"
"$BIN" train classify --train "$tmp/good.tsv" --out "$tmp/m.safetensors" "${T[@]}" \
    --token-dropout 0.3 >/dev/null || fail "training the model the error cases use"

# --- malformed TSV: FILE:LINE and the reason, for --train, --dev and eval --data --------------
printf 'a\tfine\n\nno tab on this line\n' >"$tmp/notab.tsv"
printf 'a\tfine\n\tno label\n' >"$tmp/nolabel.tsv"
printf 'a\tfine\nb\tfine too\nb\t  \n' >"$tmp/notext.tsv"
expect 1 "$tmp/notab.tsv:3: no tab" -- \
    "$BIN" train classify --train "$tmp/notab.tsv" --out "$tmp/x.safetensors" "${T[@]}"
expect 1 "$tmp/nolabel.tsv:2: empty label" -- \
    "$BIN" train classify --train "$tmp/good.tsv" --dev "$tmp/nolabel.tsv" \
    --out "$tmp/x.safetensors" "${T[@]}"
expect 1 "$tmp/notext.tsv:3: empty text" -- \
    "$BIN" eval classify --model "$tmp/m.safetensors" --data "$tmp/notext.tsv"
[[ -e $tmp/x.safetensors ]] && fail "a checkpoint was written despite bad data"
printf '\n  \n\n' >"$tmp/blank.tsv"
expect 1 "blank.tsv' holds no examples" -- \
    "$BIN" train classify --train "$tmp/blank.tsv" --out "$tmp/x.safetensors" "${T[@]}"
expect 1 "missing.tsv.*No such file" -- \
    "$BIN" eval classify --model "$tmp/m.safetensors" --data "$tmp/missing.tsv"
printf 'a\tone\na\ttwo\n' >"$tmp/onelabel.tsv"
expect 1 "single label \('a'\)" -- \
    "$BIN" train classify --train "$tmp/onelabel.tsv" --out "$tmp/x.safetensors" "${T[@]}"

# --- a checkpoint of another task, or not a checkpoint ----------------------------------------
for i in $(seq 1 40); do echo "some text for a byte-level language model, line $i"; done >"$tmp/lm.txt"
"$BIN" train lm --data "$tmp/lm.txt" --out "$tmp/lm.safetensors" --steps 1 --layers 1 \
    --d-model 16 --heads 2 --context 8 --batch 2 --eval-batches 0 --quiet >/dev/null ||
    fail "training the LM the error cases use"
expect 1 "is a decoder_lm model, not a text classifier" -- \
    "$BIN" classify --model "$tmp/lm.safetensors" "hello"
expect 1 "is a decoder_lm model, not a text classifier" -- \
    "$BIN" eval classify --model "$tmp/lm.safetensors" --data "$tmp/good.tsv"
expect 1 "is a decoder_lm model, not a text classifier" -- \
    "$BIN" attention --model "$tmp/lm.safetensors" --out "$tmp/maps" "hello"
expect 1 "is a classifier model; this command needs a decoder_lm" -- \
    "$BIN" generate --model "$tmp/m.safetensors" --max-new 2
expect 1 "cannot load model '$tmp/good.tsv'" -- \
    "$BIN" classify --model "$tmp/good.tsv" "hello"
expect 1 "cannot load model .*nothing.safetensors" -- \
    "$BIN" classify --model "$tmp/nothing.safetensors" "hello"

# --- tokenizers: a corrupt file, one without [CLS], invalid UTF-8 for WordPiece ---------------
printf '{"version": "1.0", "model": {"type": "BPE", "vocab": [1, 2' >"$tmp/corrupt.json"
expect 1 "cannot load tokenizer '$tmp/corrupt.json'" -- \
    "$BIN" train classify --train "$tmp/good.tsv" --tokenizer "$tmp/corrupt.json" \
    --out "$tmp/x.safetensors" "${T[@]}"
expect 1 "has no \[CLS\] token" -- \
    "$BIN" train classify --train "$tmp/good.tsv" --out "$tmp/x.safetensors" "${T[@]}" \
    --tokenizer "$SRC/tests/text/fixtures/gpt2_style.json"
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nx\ny\nz\nu\nv\nw\n' >"$tmp/vocab.txt"
printf 'a\tx y\nb\tu v\na\tx \xff y\n' >"$tmp/badutf8.tsv"
expect 1 "$tmp/badutf8.tsv:3: .*UTF-8" -- \
    "$BIN" train classify --train "$tmp/badutf8.tsv" --tokenizer "$tmp/vocab.txt" \
    --out "$tmp/x.safetensors" "${T[@]}"
# A WordPiece vocab.txt with [CLS] trains a model that classifies.
"$BIN" train classify --train "$tmp/good.tsv" --tokenizer "$tmp/vocab.txt" \
    --out "$tmp/wp.safetensors" "${T[@]}" >/dev/null 2>"$tmp/err" || fail "WordPiece: $(cat "$tmp/err")"
"$BIN" classify --model "$tmp/wp.safetensors" "x y" | grep -Eq '^[ab]	' || fail "WordPiece classify"

# A checkpoint whose metadata was damaged: the tokenizer JSON cut short, the labels removed.
"$PY" - "$tmp/m.safetensors" "$tmp" <<'EOF' || fail "rewriting checkpoint metadata"
import json, struct, sys
src, out = sys.argv[1], sys.argv[2]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
def write(path, h):
    text = json.dumps(h).encode()
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + data)
bad = json.loads(json.dumps(header))
bad["__metadata__"]["tokenizer"] = bad["__metadata__"]["tokenizer"][:200]
write(out + "/badtok.safetensors", bad)
nolabels = json.loads(json.dumps(header))
del nolabels["__metadata__"]["labels"]
write(out + "/nolabels.safetensors", nolabels)
badlabels = json.loads(json.dumps(header))
badlabels["__metadata__"]["labels"] = '["a", "a"]'
write(out + "/badlabels.safetensors", badlabels)
EOF
expect 1 "badtok.safetensors': the tokenizer in its metadata is invalid" -- \
    "$BIN" classify --model "$tmp/badtok.safetensors" "x"
expect 1 "nolabels.safetensors' has no labels in its metadata" -- \
    "$BIN" eval classify --model "$tmp/nolabels.safetensors" --data "$tmp/good.tsv"
expect 1 "badlabels.safetensors': the labels in its metadata are invalid" -- \
    "$BIN" attention --model "$tmp/badlabels.safetensors" --out "$tmp/maps" "x"

# Weights that are finite but so large that the logits are not (encoder.ln_f of 3e38): an error
# naming the text's line, not class 0. (NaN weights are refused when the model loads.)
"$PY" - "$tmp/m.safetensors" "$tmp/overflow.safetensors" <<'EOF' || fail "writing an overflowing model"
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n]); data = bytearray(raw[8 + n:])
for name in ("encoder.ln_f.weight", "encoder.ln_f.bias"):
    lo, hi = h[name]["data_offsets"]
    data[lo:hi] = np.full((hi - lo) // 4, 3e38, "<f4").tobytes()
open(sys.argv[2], "wb").write(raw[:8 + n] + bytes(data))
EOF
expect 1 "line 1: the model's logit [0-9]+ of 2 is (NaN|[+-]inf)" -- \
    "$BIN" classify --model "$tmp/overflow.safetensors" "x y"
expect 1 "good.tsv: line [0-9]+: the model's logit [0-9]+ of 2 is (NaN|[+-]inf)" -- \
    "$BIN" eval classify --model "$tmp/overflow.safetensors" --data "$tmp/good.tsv"

# --resume: without a state, or with other options than the run it continues
expect 1 "cannot resume.*nothing.resume.safetensors" -- \
    "$BIN" train classify --train "$tmp/good.tsv" --out "$tmp/nothing.safetensors" --resume "${T[@]}"
expect 1 "its run has batch=4 but this one batch=2" -- \
    "$BIN" train classify --train "$tmp/good.tsv" --out "$tmp/m.safetensors" --resume "${T[@]}" \
    --batch 2

# --- usage errors (status 2) ------------------------------------------------------------------
expect 2 "--train FILE is required" -- "$BIN" train classify --out "$tmp/x.safetensors"
expect 2 "--out CKPT is required" -- "$BIN" train classify --train "$tmp/good.tsv"
expect 2 "not divisible by --heads 3" -- \
    "$BIN" train classify --train "$tmp/good.tsv" --out "$tmp/x.safetensors" --heads 3
expect 2 "--max-len: 1 is out of range" -- \
    "$BIN" train classify --train "$tmp/good.tsv" --out "$tmp/x.safetensors" --max-len 1
expect 2 "--token-dropout: 1 is out of range" -- \
    "$BIN" train classify --train "$tmp/good.tsv" --out "$tmp/x.safetensors" --token-dropout 1
expect 2 "unknown option '--bogus'" -- "$BIN" classify --model "$tmp/m.safetensors" --bogus
expect 2 "--model CKPT is required" -- "$BIN" classify "x"
expect 2 "--top: 0 is out of range" -- "$BIN" classify --model "$tmp/m.safetensors" --top 0 x
expect 2 "training options and --dev only apply with --folds" -- \
    "$BIN" eval classify --model "$tmp/m.safetensors" --data "$tmp/good.tsv" --epochs 3
expect 2 "takes no --model" -- \
    "$BIN" eval classify --model "$tmp/m.safetensors" --data "$tmp/good.tsv" --folds 2
expect 2 "--folds 5 needs at least 5 examples" -- \
    "$BIN" eval classify --data "$tmp/good.tsv" --folds 5 "${T[@]}"
expect 2 "one TEXT is required" -- "$BIN" attention --model "$tmp/m.safetensors"
expect 2 "unknown kind 'bogus'" -- "$BIN" train bogus

# --- files that cannot be written -------------------------------------------------------------
mkdir "$tmp/ro" && chmod a-w "$tmp/ro"
if [[ ! -w $tmp/ro ]]; then # (root may write anyway)
    expect 1 "cannot write '$tmp/ro/x.safetensors': $tmp/ro: Permission denied" -- \
        "$BIN" train classify --train "$tmp/good.tsv" --out "$tmp/ro/x.safetensors" "${T[@]}"
fi
# --out naming a directory is refused before any training (attn_file_check_writable), for both
# training commands; nothing is written inside it.
mkdir "$tmp/outdir"
expect 1 "cannot write '$tmp/outdir': it is a directory" -- \
    "$BIN" train classify --train "$tmp/good.tsv" --out "$tmp/outdir" "${T[@]}"
expect 1 "cannot write '$tmp/outdir': it is a directory" -- \
    "$BIN" train lm --data "$tmp/lm.txt" --out "$tmp/outdir" --steps 1 --layers 1 --d-model 16 \
    --heads 2 --context 8 --batch 2 --eval-batches 0 --quiet
[[ -z $(ls -A "$tmp/outdir") ]] || fail "--out DIR: something was written into it"
[[ -e $tmp/outdir.png || -e $tmp/outdir.resume.safetensors ]] && fail "--out DIR: files beside it"
expect 1 "exists and is not a directory" -- \
    "$BIN" attention --model "$tmp/m.safetensors" --out "$tmp/good.tsv" "x"

# --- texts longer than max_len are cut, not refused -------------------------------------------
long=$(printf 'x y z %.0s' $(seq 1 200))
printf 'a\t%s\nb\tu v\n' "$long" >"$tmp/long.tsv"
"$BIN" eval classify --model "$tmp/m.safetensors" --data "$tmp/long.tsv" --json >"$tmp/long.json" ||
    fail "eval classify of a long text"
grep -q '"truncated": 1,' "$tmp/long.json" || fail "long text not reported cut: $(cat "$tmp/long.json")"
"$BIN" attention --model "$tmp/m.safetensors" --out "$tmp/maps" "$long" >"$tmp/att.out" ||
    fail "attention on a long text"
grep -q '^16 tokens (cut to max_len)' "$tmp/att.out" || fail "attention: $(cat "$tmp/att.out")"

finish "classification error"
