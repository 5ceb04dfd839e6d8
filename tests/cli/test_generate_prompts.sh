#!/usr/bin/env bash
# tests/cli/test_generate_prompts.sh: `attn generate --prompts FILE` (a few seconds): one output
# line per prompt, each what a lone `attn generate --prompt LINE` prints after its prompt up to
# its first newline, whatever --batch; bad input is one "attn: " line and a non-zero status.
source "$(dirname "$0")/../common/cli.sh"

# expect_silent_error: expect_error, and nothing on stdout.
expect_silent_error() {
    expect_error "$@"
    [[ -s $tmp/out ]] && fail "$2: wrote to stdout: $(head -c 100 "$tmp/out")"
}

# A model that has learnt the lines of its text well enough to end them with a newline.
for i in $(seq 1 250); do
    echo "line $i: the quick brown fox jumps over the lazy dog, $((i * 7 % 13)) times."
done >"$tmp/text.txt"
ckpt="$tmp/lm.safetensors"
"$BIN" train lm --data "$tmp/text.txt" --out "$ckpt" --steps 300 --seed 5 --layers 1 \
    --d-model 32 --heads 2 --context 32 --batch 8 --eval-batches 2 --warmup 0 \
    --schedule constant --lr 3e-3 --threads 2 --quiet >/dev/null || fail "train lm: exit status"

# Prompts of many lengths, up to the whole context (32 bytes); an empty line; a CRLF line.
printf '%s\n' "line 7" "the quick brown" "" "l" "line 1" "line 20: the quick brown fox ju" \
    "fox jumps" >"$tmp/prompts.txt"
printf 'over the\r\n' >>"$tmp/prompts.txt"
mapfile -t prompts < <(sed 's/\r$//' "$tmp/prompts.txt")

# check_against_alone OPTIONS...: --prompts output line i == the lone run's continuation of line i.
check_against_alone() {
    "$BIN" generate --model "$ckpt" --prompts "$tmp/prompts.txt" --threads 2 "$@" \
        >"$tmp/batched" || fail "generate --prompts $*: exit status"
    [[ $(wc -l <"$tmp/batched") -eq ${#prompts[@]} ]] ||
        fail "generate --prompts $*: $(wc -l <"$tmp/batched") lines for ${#prompts[@]} prompts"
    mapfile -t got <"$tmp/batched"
    for i in "${!prompts[@]}"; do
        local p=${prompts[$i]} alone cont
        alone=$("$BIN" generate --model "$ckpt" --prompt "$p" --threads 2 "$@") ||
            fail "generate --prompt '$p' $*: exit status"
        cont=${alone#"$p"}
        cont=${cont%%$'\n'*}
        [[ ${got[$i]} == "$cont" ]] ||
            fail "generate --prompts $*: line $((i + 1)) '${got[$i]}', alone '$cont'"
    done
}
check_against_alone --max-new 60 --temperature 0 --batch 8
check_against_alone --max-new 60 --temperature 0.8 --seed 11 --batch 3
check_against_alone --max-new 5 --top-k 5 --seed 2 --batch 1
grep -q '[a-z]' "$tmp/batched" || fail "generate --prompts: no text generated"

# The newline ends a continuation: with a long --max-new every line ends well before it.
"$BIN" generate --model "$ckpt" --prompts "$tmp/prompts.txt" --max-new 500 --temperature 0 \
    >"$tmp/long" || fail "generate --prompts --max-new 500: exit status"
[[ $(wc -L <"$tmp/long") -lt 500 ]] || fail "generate --prompts: a continuation ignored the newline"
"$BIN" generate --model "$ckpt" --prompts "$tmp/prompts.txt" --max-new 0 >"$tmp/none" ||
    fail "generate --prompts --max-new 0: exit status"
[[ $(tr -d '\n' <"$tmp/none" | wc -c) -eq 0 && $(wc -l <"$tmp/none") -eq ${#prompts[@]} ]] ||
    fail "generate --prompts --max-new 0: expected ${#prompts[@]} empty lines"

# --help names the options.
"$BIN" generate --help >"$tmp/help" || fail "generate --help: exit status"
for opt in prompts batch; do
    grep -q -- "--$opt\b" "$tmp/help" || fail "generate --help does not mention --$opt"
done

# Bad input.
: >"$tmp/empty.txt"
{
    echo "fine"
    printf 'x%.0s' $(seq 1 33)
    echo
} >"$tmp/too_long.txt"
expect_silent_error 1 "missing prompts file" -- "$BIN" generate --model "$ckpt" --prompts "$tmp/nope.txt"
expect_silent_error 1 "prompts file is a directory" -- "$BIN" generate --model "$ckpt" --prompts "$tmp"
expect_silent_error 1 "empty prompts file" -- "$BIN" generate --model "$ckpt" --prompts "$tmp/empty.txt"
expect_silent_error 1 "prompt longer than the context" -- "$BIN" generate --model "$ckpt" \
    --prompts "$tmp/too_long.txt"
grep -q 'line 2 has 33 bytes' "$tmp/err" || fail "too long prompt: message '$(cat "$tmp/err")'"
expect_silent_error 2 "--prompt and --prompts" -- "$BIN" generate --model "$ckpt" --prompt x \
    --prompts "$tmp/prompts.txt"
expect_silent_error 2 "--batch 0" -- "$BIN" generate --model "$ckpt" --prompts "$tmp/prompts.txt" --batch 0
expect_silent_error 1 "prompts with a missing model" -- "$BIN" generate --model "$tmp/nope.safetensors" \
    --prompts "$tmp/prompts.txt"

finish "generate --prompts"
