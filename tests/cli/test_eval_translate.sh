#!/usr/bin/env bash
# tests/cli/test_eval_translate.sh: `attn eval translate` end to end: a corpus whose BLEU and chrF
# are computed by hand, the JSON, several references, CRLF and standard input, and the documented
# errors (missing files, unequal line counts, invalid UTF-8, no lines, bad command lines).
# ctest sets ATTN_BIN to the built binary.
source "$(dirname "$0")/../common/cli.sh"

# expect STATUS PATTERN -- COMMAND...: exits with STATUS and writes one "attn: ...PATTERN" line.
expect() {
    local want=$1 pattern=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$? lines
    lines=$(wc -l <"$tmp/err")
    if [[ $got -ne $want ]]; then
        fail "$*: exit status $got, expected $want ($(head -c 300 "$tmp/err"))"
    elif [[ $lines -ne 1 ]] || ! grep -Eq "^attn: .*$pattern" "$tmp/err"; then
        fail "$*: expected one 'attn: ...$pattern' line, got: $(head -c 400 "$tmp/err")"
    elif [[ -s $tmp/out ]]; then
        fail "$*: printed on stdout after an error: $(head -c 200 "$tmp/out")"
    fi
}

"$BIN" eval translate --help >"$tmp/help" || fail "eval translate --help: exit status"
for opt in ref json; do grep -q -- "--$opt\b" "$tmp/help" || fail "--help lacks --$opt"; done
grep -q '^Example' "$tmp/help" || fail "--help: no example"
"$BIN" --help | grep -q 'eval translate' || fail "attn --help does not list eval translate"
"$BIN" eval --help | grep -q 'eval translate' || fail "attn eval --help does not list translate"

# By hand: sentence 1 identical (5 tokens, "abcde"), sentence 2 an empty hypothesis against "x y".
# BLEU: every precision 100, BP = exp(1 - 7/5) = 0.670, BLEU = 67.03. chrF: P = 1 and
# R = (5/7 + 4/5 + 3/3 + 2/2 + 1/1) / 5 (order 6: no reference 6-gram), F2 = 5PR / (4P + R) = 92.07.
printf 'a b c d e\n\n' >"$tmp/hyp.txt"
printf 'a b c d e\nx y\n' >"$tmp/ref.txt"
want='BLEU 67.03  chrF 92.07  (4-gram precisions 100.0/100.0/100.0/100.0, BP 0.670, hyp 5 ref 7 tokens)'
got=$("$BIN" eval translate --ref "$tmp/ref.txt" "$tmp/hyp.txt" 2>"$tmp/err") || fail "eval translate: exit status $?"
[[ $got == "$want" ]] || fail "eval translate printed '$got', expected '$want'"
[[ -s $tmp/err ]] && fail "eval translate wrote to stderr: $(cat "$tmp/err")"

# The same with CRLF line ends, and the hypotheses from standard input.
printf 'a b c d e\r\n\r\n' >"$tmp/hyp_crlf.txt"
got=$("$BIN" eval translate --ref "$tmp/ref.txt" "$tmp/hyp_crlf.txt") || fail "CRLF: exit status"
[[ $got == "$want" ]] || fail "CRLF hypotheses gave '$got'"
got=$("$BIN" eval translate --ref "$tmp/ref.txt" - <"$tmp/hyp.txt") || fail "stdin: exit status"
[[ $got == "$want" ]] || fail "hypotheses on stdin gave '$got'"

# JSON: the same numbers, with the counts.
"$BIN" eval translate --ref "$tmp/ref.txt" "$tmp/hyp.txt" --json >"$tmp/out.json" || fail "--json: exit status"
if command -v python3 >/dev/null; then
    python3 - "$tmp/out.json" <<'PY' || fail "--json: $(cat "$tmp/out.json")"
import json, math, sys
d = json.load(open(sys.argv[1]))
b, c = d["bleu"], d["chrf"]
assert d["sentences"] == 2 and d["references"] == 1
assert b["counts"] == [5, 4, 3, 2] == b["totals"] and b["hyp_len"] == 5 and b["ref_len"] == 7
assert abs(b["score"] - 100 * math.exp(-0.4)) < 1e-9 and abs(b["bp"] - math.exp(-0.4)) < 1e-12
r = (5 / 7 + 4 / 5 + 3) / 5
assert abs(c["score"] - 100 * 5 * r / (4 + r)) < 1e-9, c
assert c["hyp"] == [5, 4, 3, 2, 1, 0] and c["ref"] == [7, 5, 3, 2, 1, 0] and c["effective_order"] == 5
PY
fi

# Several references: the second holds both hypotheses exactly. BLEU takes the closest length (5)
# and is 100; chrF keeps per sentence the reference with the best chrF, the first on a tie, and
# the empty hypothesis scores 0 against both, so "x y" stays and chrF is still 92.07 (sacreBLEU's
# rule).
printf 'a b c d e\n\n' >"$tmp/ref2.txt"
got=$("$BIN" eval translate --ref "$tmp/ref.txt" --ref "$tmp/ref2.txt" "$tmp/hyp.txt") || fail "two refs: exit status"
[[ $got == 'BLEU 100.00  chrF 92.07  (4-gram precisions 100.0/100.0/100.0/100.0, BP 1.000, hyp 5 ref 5 tokens)' ]] ||
    fail "two references gave '$got'"

# Errors: a runtime error is exit 1, a bad command line exit 2; one "attn: " line each.
expect 1 "cannot read the translations: .*missing.txt" -- "$BIN" eval translate --ref "$tmp/ref.txt" "$tmp/missing.txt"
expect 1 "cannot read the references: .*missing.txt" -- "$BIN" eval translate --ref "$tmp/missing.txt" "$tmp/hyp.txt"
printf 'a b c d e\nx y\nz\n' >"$tmp/ref3.txt"
expect 1 "hyp.txt' has 2 lines but '.*ref3.txt' has 3" -- "$BIN" eval translate --ref "$tmp/ref3.txt" "$tmp/hyp.txt"
expect 1 "ref3.txt' has 3" -- "$BIN" eval translate --ref "$tmp/ref.txt" --ref "$tmp/ref3.txt" "$tmp/hyp.txt"
printf 'ok\ncaf\xc3\n' >"$tmp/bad.txt"
expect 1 "bad.txt:2: invalid UTF-8 at byte 4 of the line" -- "$BIN" eval translate --ref "$tmp/ref.txt" "$tmp/bad.txt"
expect 1 "bad.txt:2: invalid UTF-8" -- "$BIN" eval translate --ref "$tmp/bad.txt" "$tmp/hyp.txt"
printf 'a\0b\nc\n' >"$tmp/nul.txt"
expect 1 "nul.txt:1: a NUL byte" -- "$BIN" eval translate --ref "$tmp/ref.txt" "$tmp/nul.txt"
: >"$tmp/empty.txt"
expect 1 "has no lines" -- "$BIN" eval translate --ref "$tmp/empty.txt" "$tmp/empty.txt"
expect 2 "--ref FILE is required" -- "$BIN" eval translate "$tmp/hyp.txt"
expect 2 "HYP is required" -- "$BIN" eval translate --ref "$tmp/ref.txt"
expect 2 "" -- "$BIN" eval translate --ref "$tmp/ref.txt" "$tmp/hyp.txt" "$tmp/hyp.txt"
expect 2 "unknown kind 'translation'" -- "$BIN" eval translation

if [[ $failures -ne 0 ]]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "eval translate: all checks passed"
