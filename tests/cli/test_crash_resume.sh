#!/usr/bin/env bash
# tests/cli/test_crash_resume.sh: runs killed outright (SIGKILL at random moments, so some land in
# the middle of a save) and continued with --resume end exactly where an uninterrupted run does,
# byte for byte, for `attn train lm --save-every 1` and `attn train classify`; and the temporaries
# a killed save leaves (CKPT.tmp.<pid>) are gone after the next successful save. A run killed
# before its first checkpoint is started again. Prints the kill times, to replay a failure.
source "$(dirname "$0")/../common/cli.sh"
TRIALS=6
[[ -n ${ATTN_SANITIZED:-} ]] && TRIALS=2

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# kill_at MS COMMAND...: runs the command in the background and sends it SIGKILL after MS
# milliseconds (if it is still running); returns 0 when it was killed, 1 when it ended first.
kill_at() {
    local ms=$1
    shift
    "$@" >/dev/null 2>&1 &
    local pid=$!
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    if kill -KILL "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        return 0
    fi
    wait "$pid"
    return 1
}

# crash_and_resume NAME STRAIGHT_MS CKPT RESUME_TEST -- COMMAND...: kills COMMAND (which writes
# CKPT) three times at random moments within the straight run's duration, then finishes it with
# --resume when RESUME_TEST (a file) exists, else from the start.
crash_and_resume() {
    local name=$1 span=$2 ckpt=$3 state=$4
    shift 5
    local kills=() k ms
    for k in 1 2 3; do
        ms=$((RANDOM % (span > 1 ? span : 1) + 1))
        local resume=()
        [[ -s $state ]] && resume=(--resume)
        if kill_at "$ms" "$@" "${resume[@]}"; then kills+=("${ms}ms${resume[*]:+(resumed)}"); fi
    done
    local resume=()
    [[ -s $state ]] && resume=(--resume)
    echo "$name: killed at ${kills[*]:-(never: the run was faster)}; finishing ${resume[*]:-from scratch}" >&2
    "$@" "${resume[@]}" >/dev/null 2>"$tmp/finish.err" ||
        fail "$name: finishing the run: $(head -c 300 "$tmp/finish.err")"
    ls "$(dirname "$ckpt")" | grep -q "^$(basename "$ckpt").tmp\." &&
        fail "$name: a temporary of $ckpt is left after the last save: $(ls "$(dirname "$ckpt")")"
    [[ $state != "$ckpt" ]] && ls "$(dirname "$state")" | grep -q "^$(basename "$state").tmp\." &&
        fail "$name: a temporary of $state is left after the last save"
}

# --- attn train lm --save-every 1 -------------------------------------------------------------
for i in $(seq 1 200); do echo "line $i: a text for a language model that is killed"; done >"$tmp/text.txt"
LM=(--data "$tmp/text.txt" --steps 40 --save-every 1 --eval-every 10 --eval-batches 1
    --layers 1 --d-model 16 --heads 2 --context 16 --batch 4 --dropout 0.1 --seed 3
    --threads 2 --quiet)
t0=$(now_ms)
"$BIN" train lm "${LM[@]}" --out "$tmp/lm.safetensors" >/dev/null || fail "train lm: exit status"
span=$(($(now_ms) - t0))
for trial in $(seq 1 "$TRIALS"); do
    out="$tmp/lm$trial/lm.safetensors"
    mkdir "$tmp/lm$trial"
    crash_and_resume "train lm, trial $trial" "$span" "$out" "$out" -- \
        "$BIN" train lm "${LM[@]}" --out "$out"
    cmp -s "$tmp/lm.safetensors" "$out" ||
        fail "train lm, trial $trial: the resumed checkpoint differs from the uninterrupted one"
done

# --- attn train classify ------------------------------------------------------------------------
words=(cat dog cow duck red blue green black one two three four)
RANDOM=5
for i in $(seq 0 89); do
    k=$((i % 3))
    printf '%s\t%s %s %s\n' "c$k" "${words[k * 4 + RANDOM % 4]}" "${words[k * 4 + RANDOM % 4]}" \
        "${words[k * 4 + RANDOM % 4]}"
done >"$tmp/train.tsv"
head -n 30 "$tmp/train.tsv" >"$tmp/dev.tsv"
printf '%s\n' '[PAD]' '[UNK]' '[CLS]' '[SEP]' '[MASK]' "${words[@]}" >"$tmp/vocab.txt"
CLS=(--train "$tmp/train.tsv" --dev "$tmp/dev.tsv" --tokenizer "$tmp/vocab.txt" --epochs 6
    --patience 0 --max-len 8 --layers 1 --d-model 16 --heads 2 --batch 4 --bucket 2
    --dropout 0.1 --token-dropout 0.1 --seed 3 --threads 2 --quiet)
t0=$(now_ms)
"$BIN" train classify "${CLS[@]}" --out "$tmp/cls.safetensors" >/dev/null ||
    fail "train classify: exit status"
span=$(($(now_ms) - t0))
RANDOM=$$
for trial in $(seq 1 "$TRIALS"); do
    out="$tmp/cls$trial/cls.safetensors"
    mkdir "$tmp/cls$trial"
    crash_and_resume "train classify, trial $trial" "$span" "$out" \
        "$tmp/cls$trial/cls.resume.safetensors" -- "$BIN" train classify "${CLS[@]}" --out "$out"
    cmp -s "$tmp/cls.safetensors" "$out" ||
        fail "train classify, trial $trial: the best model differs from the uninterrupted run's"
    cmp -s "$tmp/cls.resume.safetensors" "$tmp/cls$trial/cls.resume.safetensors" ||
        fail "train classify, trial $trial: the final state differs from the uninterrupted run's"
done

finish "crash and resume"
