#!/usr/bin/env bash
# tests/examples/test_examples.sh: the two programs of examples/ (the README's library examples)
# build, run on committed data and say what they should: a classifier trained on the fortunes
# sample labels a text with one of its labels; a language model trained on the BPE tokens of a
# document predicts held-out text better than chance (8 bits per byte), continues a prompt, and
# its checkpoint carries its tokenizer to `attn eval lm`.
set -u
dir=${ATTN_EXAMPLE_BIN_DIR:?} src=${ATTN_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

s=$src/data/samples/fortunes
"$dir/example_classifier" "$s/train.tsv" "$s/dev.tsv" "$tmp/c.safetensors" \
    "A fool and his money are soon parted." >"$tmp/c.out" 2>"$tmp/c.err" ||
    fail "classifier: exit status $? ($(head -c 300 "$tmp/c.err"))"
grep -Eq '^dev accuracy [0-9.]+  macro-F1 [0-9.]+$' "$tmp/c.out" || fail "classifier: $(cat "$tmp/c.out")"
label=$(sed -n 2p "$tmp/c.out" | cut -f1)
cut -f1 "$s/train.tsv" | grep -qxF "$label" || fail "classifier: '$label' is not a label of the data"
[[ -s $tmp/c.safetensors ]] || fail "classifier: no checkpoint"
"${ATTN_BIN:?}" classify --model "$tmp/c.safetensors" "A fool and his money are soon parted." |
    cut -f1 | grep -qxF "$label" || fail "classifier: attn classify disagrees with the example"

"$dir/example_lm" "$src/docs/ARCHITECTURE.md" "$tmp/lm.safetensors" "The model" >"$tmp/lm.out" \
    2>"$tmp/lm.err" || fail "lm: exit status $? ($(head -c 300 "$tmp/lm.err"))"
bpb=$(sed -n 's/^held-out \([0-9.]*\) bits\/byte$/\1/p' "$tmp/lm.out")
[[ -n $bpb ]] || fail "lm: $(cat "$tmp/lm.out")"
awk -v b="$bpb" 'BEGIN { exit !(b < 6) }' || fail "lm: held-out $bpb bits per byte, no better than chance"
sed -n 2p "$tmp/lm.out" | grep -q '^The model' || fail "lm: the prompt is not continued"
[[ -s $tmp/lm.safetensors ]] || fail "lm: no checkpoint"
"${ATTN_BIN:?}" eval lm --model "$tmp/lm.safetensors" "$src/docs/ARCHITECTURE.md" >"$tmp/eval" ||
    fail "lm: attn eval lm cannot use the example's checkpoint"
grep -q ' bpb ' "$tmp/eval" || fail "lm: attn eval lm: $(cat "$tmp/eval")"
echo "examples passed"
