#!/usr/bin/env bash
# tests/cli/test_translate.sh: attn train translate, attn translate and attn eval translate end to
# end on a word-for-word toy language (number words, English -> Spanish) that a tiny model
# learns in seconds, so the test can demand it was learned; then bad input.
set -u
BIN=${ATTN_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

/usr/bin/python3 - "$tmp" <<'PY'
import random, sys
en = "one two three four five six seven eight".split()
es = "uno dos tres cuatro cinco seis siete ocho".split()
for name, n, seed in (("train", 600, 1), ("dev", 40, 2)):
    r = random.Random(seed)
    with open(f"{sys.argv[1]}/{name}.tsv", "w") as f:
        for i in range(n):
            w = [r.randrange(8) for _ in range(r.randint(2, 5))]
            f.write(f"r{i}\t{' '.join(en[x] for x in w)}\t{' '.join(es[x] for x in w)}\n")
PY
M=(--d-model 32 --heads 2 --d-ff 64 --layers 2 --dec-layers 2 --max-len 24 --dropout 0
   --label-smoothing 0 --norm pre --vocab-size 300 --max-tokens 512 --schedule cosine --lr 3e-3
   --warmup 30)
steps=1200
[[ -n ${ATTN_SANITIZED:-} ]] && steps=200
"$BIN" train translate --train "$tmp/train.tsv" --dev "$tmp/dev.tsv" --out "$tmp/mt.safetensors" \
    "${M[@]}" --steps $steps --eval-every 300 >"$tmp/train.out" 2>"$tmp/train.err" ||
    fail "train translate: exit status $? ($(tail -c 300 "$tmp/train.err"))"
grep -Eq "^steps $steps  loss [0-9.]+  dev_bleu [0-9.]+ \(step [0-9]+\)  pairs 600" "$tmp/train.out" ||
    fail "train translate summary: $(cat "$tmp/train.out")"
grep -q 'dev_bleu .*(best)' "$tmp/train.err" || fail "train translate: no dev lines"
cut -f2 "$tmp/dev.tsv" >"$tmp/src.txt"
cut -f3 "$tmp/dev.tsv" >"$tmp/ref.txt"
"$BIN" translate --model "$tmp/mt.safetensors" --beam 4 <"$tmp/src.txt" >"$tmp/hyp.txt" ||
    fail "translate: exit status $?"
[[ $(wc -l <"$tmp/hyp.txt") -eq 40 ]] || fail "translate: $(wc -l <"$tmp/hyp.txt") lines for 40"
"$BIN" eval translate --ref "$tmp/ref.txt" "$tmp/hyp.txt" >"$tmp/eval.out" || fail "eval translate"
bleu=$(sed -n 's/^BLEU \([0-9.]*\) .*/\1/p' "$tmp/eval.out")
if [[ -z ${ATTN_SANITIZED:-} ]]; then
    awk -v b="$bleu" 'BEGIN { exit !(b >= 80) }' || fail "the toy language was not learned: BLEU $bleu"
fi
# translate and score in one go: the same BLEU
"$BIN" eval translate --model "$tmp/mt.safetensors" --data "$tmp/dev.tsv" --beam 4 \
    --hyp-out "$tmp/hyp2.txt" >"$tmp/eval2.out" || fail "eval translate --model --data"
cmp -s "$tmp/hyp.txt" "$tmp/hyp2.txt" || fail "eval translate --model: other translations"
[[ $(sed -n 's/^BLEU \([0-9.]*\) .*/\1/p' "$tmp/eval2.out") == "$bleu" ]] ||
    fail "eval translate --model: BLEU $(cat "$tmp/eval2.out") vs $bleu"
# empty lines stay, in place; files as arguments; n-best and JSON
printf 'one two\n\nthree four\n' >"$tmp/three.txt"
"$BIN" translate --model "$tmp/mt.safetensors" --batch 2 "$tmp/three.txt" >"$tmp/three.out" ||
    fail "translate FILE"
[[ $(wc -l <"$tmp/three.out") -eq 3 && -z $(sed -n 2p "$tmp/three.out") ]] ||
    fail "translate: empty lines not kept: $(cat "$tmp/three.out")"
"$BIN" translate --model "$tmp/mt.safetensors" --beam 3 --n-best 2 --json "$tmp/three.txt" \
    >"$tmp/nbest.json" || fail "translate --json"
/usr/bin/python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 3 and all(len(r["translations"]) == 2 for r in rows), rows
assert rows[0]["translations"][0]["score"] >= rows[0]["translations"][1]["score"], rows' \
    "$tmp/nbest.json" || fail "translate --n-best --json: $(head -c 300 "$tmp/nbest.json")"

# a line longer than the context (--max-len 24) is cut with a note; characters never seen in
# training and invalid UTF-8 go through the byte-level BPE's bytes: one line out each, exit 0
{
    for i in $(seq 60); do printf 'one two '; done
    printf '\n\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82 three\n\xff\xfe four \xc3\n'
} >"$tmp/odd.txt"
"$BIN" translate --model "$tmp/mt.safetensors" --beam 2 "$tmp/odd.txt" >"$tmp/odd.out" \
    2>"$tmp/odd.err" || fail "translate odd lines: exit status $?"
[[ $(wc -l <"$tmp/odd.out") -eq 3 ]] || fail "translate odd lines: $(wc -l <"$tmp/odd.out") lines for 3"
grep -q "note: 1 line(s) longer than the model's context were cut" "$tmp/odd.err" ||
    fail "translate: no note for the long line: $(head -c 300 "$tmp/odd.err")"

expect() { # status, message part, command...
    local want=$1 msg=$2
    shift 2
    "$@" >/dev/null 2>"$tmp/err"
    local got=$?
    [[ $got -eq $want ]] || fail "$*: exit $got, expected $want"
    grep -q -- "$msg" "$tmp/err" || fail "$*: no '$msg' in: $(head -c 300 "$tmp/err")"
}
expect 2 "required" "$BIN" translate
expect 2 "go together" "$BIN" eval translate --model "$tmp/mt.safetensors"
expect 2 "is more than --beam" "$BIN" translate --model "$tmp/mt.safetensors" --beam 2 --n-best 3
expect 1 "cannot load model" "$BIN" translate --model "$tmp/nope.safetensors"
printf 'r1\tonly two columns\n' >"$tmp/bad.tsv"
expect 1 "bad.tsv:1: 3 columns needed" "$BIN" train translate --train "$tmp/bad.tsv" \
    --out "$tmp/x.safetensors"
expect 1 "is a directory" "$BIN" train translate --train "$tmp/train.tsv" --out "$tmp"
"$BIN" train classify --train "$ATTN_SOURCE_DIR/data/samples/fortunes/train.tsv" \
    --out "$tmp/c.safetensors" --vocab-size 280 --max-len 16 --layers 1 --d-model 16 --heads 2 \
    --epochs 1 --quiet >/dev/null 2>&1 || fail "train classify for the wrong-model case"
expect 1 "not a translator" "$BIN" translate --model "$tmp/c.safetensors"

[[ $failures -eq 0 ]] || { echo "$failures translate check(s) failed" >&2; exit 1; }
echo "all translate checks passed"
