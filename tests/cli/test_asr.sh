#!/usr/bin/env bash
# tests/cli/test_asr.sh: attn train asr, attn transcribe and attn eval asr end to end on the six
# committed sample utterances (data/samples/speech), small enough for a tiny CTC model to learn:
#  1. a tiny model trained 150 steps on them learns them: eval asr --model --data gives WER < 50%
#     and CER < 25% (an untrained or broken model stays at 100%); eval's --hyp-out matches
#     transcribe's lines.
#  2. the checkpoint is self-contained: transcribe works from another directory with the data
#     list gone; --json has file, text (= the plain output), audio_seconds, rtf and words whose
#     times are ordered (start <= end, non-decreasing, within the audio).
#  3. --resume is exact: a run interrupted by SIGINT (exit 130) once its state file exists, then
#     continued with --resume, ends with the same checkpoint and state file, byte for byte, as an
#     uninterrupted run (with dropout and SpecAugment on, so the seeded streams must resume too).
#  4. bad input: one "attn: " line and exit 1 for a missing wav (named; also in a train list), an
#     empty file, a header-only WAV, a text file named .wav, a train list line without a TAB
#     (FILE:LINE named), a checkpoint of another task ("not a speech recognizer"), --out naming
#     a directory (refused before training), eval --ref/--hyp with different line counts;
#     documented behaviour with exit 0: 1 s of digital silence and a file shorter than 25 ms
#     print an empty line, 8 kHz and 48 kHz files are resampled, a stereo file is mixed (same
#     text as mono); a bad file among good ones still lets the others print.
#  5. eval asr --ref --hyp on a hand-computed case (ref "a b c", hyp "a x c d": WER 66.67%, S 1
#     I 1 N 3; CER 60.00%, S 1 I 2 N 5) and its --json parsed by python's json.
# Skips (77) without sox. About 20 s of CPU on 2 threads.
set -u
BIN=${ATTN_BIN:?ATTN_BIN must name the attn binary}
SRC=${ATTN_SOURCE_DIR:?ATTN_SOURCE_DIR must name the source tree}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN") # absolute: the test runs in its temp dir
SRC=$(cd "$SRC" && pwd)
command -v sox >/dev/null || { echo "sox not installed: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
export ATTN_NUM_THREADS=${ATTN_NUM_THREADS:-2}

# the six utterances, copied into $tmp/data with one list (paths relative to the list's folder)
mkdir -p "$tmp/data" "$tmp/elsewhere"
for corpus in digits sentences; do
    for split in train dev test; do
        while IFS=$'\t' read -r path text _; do
            cp "$SRC/data/samples/speech/$corpus/$path" "$tmp/data/${corpus}_$split.wav"
            printf '%s\t%s\n' "${corpus}_$split.wav" "$text" >>"$tmp/data/all.tsv"
        done <"$SRC/data/samples/speech/$corpus/$split.tsv"
    done
done
[[ $(wc -l <"$tmp/data/all.tsv") -eq 6 ]] || fail "sample lists: $(cat "$tmp/data/all.tsv")"
cd "$tmp" || exit 1

# 1. a tiny CTC model learns the six utterances
M=(--dec-layers 0 --pad-ms 0 --global-cmvn --layers 1 --d-model 32 --heads 2 --conv-channels 4 --max-frames 4000 --lr 3e-3 --warmup 10
   --no-specaugment --dropout 0)
"$BIN" train asr --train data/all.tsv --dev data/all.tsv --out "$tmp/asr.safetensors" "${M[@]}" \
    --steps 150 --eval-every 50 >train.out 2>train.err ||
    fail "train asr: exit status $? ($(tail -c 300 train.err))"
grep -Eq '^steps 150  loss [0-9.]+  dev_wer [0-9.]+% \(step [0-9]+\)  utterances 6 ' train.out ||
    fail "train asr summary: $(cat train.out)"
grep -q 'dev_wer .*(best)' train.err || fail "train asr: no dev lines on stderr"
[[ -s asr.resume.safetensors ]] || fail "train asr: no asr.resume.safetensors"
"$BIN" eval asr --model asr.safetensors --data data/all.tsv --hyp-out hyp.txt >eval.out 2>eval.err ||
    fail "eval asr --model --data: exit status $? ($(cat eval.err))"
wer=$(sed -n 's/^WER \([0-9.]*\)%.*/\1/p' eval.out)
cer=$(sed -n 's/.*  CER \([0-9.]*\)%.*/\1/p' eval.out)
grep -q 'sentences 6 .*RTF [0-9.]' eval.out || fail "eval asr output: $(cat eval.out)"
awk -v w="${wer:-100}" -v c="${cer:-100}" 'BEGIN { exit !(w < 50 && c < 25) }' ||
    fail "the six utterances were not learned: $(cat eval.out)"

# 2. self-contained: another directory, the data list gone; JSON
cp asr.safetensors elsewhere/model.safetensors
mv data/all.tsv data/all.tsv.away
(cd elsewhere && "$BIN" transcribe --model model.safetensors ../data/digits_train.wav \
    ../data/digits_dev.wav ../data/digits_test.wav ../data/sentences_train.wav \
    ../data/sentences_dev.wav ../data/sentences_test.wav >../tr.out 2>../tr.err) ||
    fail "transcribe from another directory: exit status $? ($(cat tr.err))"
mv data/all.tsv.away data/all.tsv
cmp -s tr.out hyp.txt || fail "transcribe vs eval --hyp-out: $(paste tr.out hyp.txt)"
(cd elsewhere && "$BIN" transcribe --model model.safetensors --json ../data/digits_train.wav \
    ../data/sentences_train.wav >../tr.json 2>../tr.err) || fail "transcribe --json: exit $?"
/usr/bin/python3 - tr.json tr.out <<'PY' || fail "transcribe --json: $(head -c 600 tr.json)"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
plain = open(sys.argv[2]).read().split("\n")
assert len(rows) == 2, rows
for r, want, name in zip(rows, (plain[0], plain[3]), ("digits_train", "sentences_train")):
    assert r["file"].endswith(name + ".wav"), r
    assert r["text"] == want, (r["text"], want)
    assert 0.5 < r["audio_seconds"] < 2 and r["rtf"] >= 0, r
    assert [w["word"] for w in r["words"]] == r["text"].split(), r
    last = 0.0
    for w in r["words"]:
        assert last <= w["start"] <= w["end"] <= r["audio_seconds"] + 0.05, r
        last = w["start"]
PY

# 3. --resume is exact (a joint CTC / attention model): SIGINT once the state file exists, --resume, cmp with a straight run
head -n 1 data/all.tsv >data/one.tsv
R=(--train data/all.tsv --dev data/one.tsv --dec-layers 1 --layers 1 --d-model 32 --heads 2 --conv-channels 4
   --max-frames 3000 --lr 3e-3 --warmup 10 --steps 30 --dropout 0.1 --eval-every 10 --quiet)
"$BIN" train asr "${R[@]}" --out straight.safetensors >/dev/null 2>straight.err ||
    fail "train asr (straight): exit status $? ($(cat straight.err))"
"$BIN" train asr "${R[@]}" --out cut.safetensors >/dev/null 2>cut.err &
pid=$!
while [[ ! -s cut.resume.safetensors ]] && kill -0 $pid 2>/dev/null; do sleep 0.05; done
kill -INT $pid 2>/dev/null
wait $pid
st=$?
if [[ $st -eq 130 ]]; then
    grep -q '^attn: interrupted after step' cut.err || fail "SIGINT: $(cat cut.err)"
    "$BIN" train asr "${R[@]}" --out cut.safetensors --resume >/dev/null 2>resume.err ||
        fail "train asr --resume: exit status $? ($(cat resume.err))"
else
    [[ $st -eq 0 ]] || fail "train asr (to interrupt): exit status $st ($(cat cut.err))"
    echo "note: the run ended before SIGINT; resume not exercised" >&2
fi
cmp -s straight.safetensors cut.safetensors ||
    fail "--resume: the checkpoint differs from the uninterrupted run's"
cmp -s straight.resume.safetensors cut.resume.safetensors ||
    fail "--resume: the state file differs from the uninterrupted run's"

# 3a. --lexicon: every word of every transcript is one of the lexicon's, for the CTC model's
#     prefix search (beam 4 and 1) and the joint model's search; a list line with a tab gives its
#     transcript's words; a word the labels cannot spell is one error line
cut -f2 data/all.tsv | tr ' ' '\n' | sed '/^$/d' | sort -u >words.txt
head -n 3 words.txt >few.txt
in_lexicon() { # FILE LEXICON: every word of FILE is a word of LEXICON
    awk 'NR == FNR { for (i = 1; i <= NF; i++) w[$i] = 1; next }
         { for (i = 1; i <= NF; i++) if (!($i in w)) { print "not in the lexicon: " $i; exit 1 } }' "$2" "$1"
}
for args in "asr.safetensors --beam 4 --lexicon data/all.tsv" "asr.safetensors --beam 1 --lexicon few.txt" \
    "straight.safetensors --beam 3 --lexicon few.txt" "straight.safetensors --beam 2 --lexicon words.txt"; do
    read -r -a a <<<"$args"
    lex=${a[-1]}; [[ $lex == data/all.tsv ]] && lex=words.txt
    "$BIN" eval asr --model "${a[@]}" --data data/all.tsv --hyp-out lex.txt >lex.out 2>lex.err ||
        fail "eval asr --model $args: exit status $? ($(cat lex.err))"
    in_lexicon lex.txt "$lex" || fail "eval asr --model $args: $(cat lex.txt)"
    [[ $args == *"--beam 4"* ]] && { grep -q . lex.txt || fail "--lexicon: every transcript empty"; }
done
printf '%s\ntw\xce\xa9o\n' "$(head -n 1 words.txt)" >bad_lexicon.txt
"$BIN" transcribe --model asr.safetensors --lexicon bad_lexicon.txt data/digits_train.wav \
    >/dev/null 2>lex.err
[[ $? -eq 1 && $(wc -l <lex.err) -eq 1 ]] && grep -q "^attn: --lexicon: .*'tw.*not one of the model's labels" lex.err ||
    fail "--lexicon with an unknown character: $(cat lex.err)"

# 3b. audio longer than the model's context goes through in windows: a model of 48 positions
#     (195 frames, 1.95 s) cuts the six samples joined (about 7 s) into four
"$BIN" train asr --train data/all.tsv --out short.safetensors --dec-layers 0 --layers 1 \
    --d-model 16 --heads 2 --conv-channels 2 --max-len 48 --steps 1 --quiet >/dev/null 2>short.err ||
    fail "train asr --max-len 48: exit status $? ($(cat short.err))"
sox data/*.wav long.wav 2>/dev/null || fail "sox: cannot join the samples"
"$BIN" transcribe --model short.safetensors --json long.wav >long.out 2>long.err ||
    fail "transcribe of a long file: exit status $? ($(cat long.err))"
/usr/bin/python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["windows"] >= 3 and j["audio_seconds"] > 5, j' long.out || fail "long file: $(cat long.out)"

# 4. bad input
expect() { # status, message part, command...
    local want=$1 msg=$2
    shift 2
    "$@" >out 2>err
    local got=$?
    [[ $got -eq $want ]] || fail "$*: exit $got, expected $want"
    grep -q -- "$msg" err || fail "$*: no '$msg' in: $(head -c 300 err)"
    [[ $(wc -l <err) -eq 1 && $(head -c 6 err) == "attn: " ]] ||
        fail "$*: not one 'attn: ' line: $(head -c 300 err)"
}
T=(--model asr.safetensors)
: >empty.wav
head -c 44 data/digits_train.wav >header-only.wav
echo "this is not audio" >text.wav
expect 1 "gone.wav: No such file" "$BIN" transcribe "${T[@]}" gone.wav
expect 1 "empty.wav" "$BIN" transcribe "${T[@]}" empty.wav
expect 1 "header-only.wav: holds no audio" "$BIN" transcribe "${T[@]}" header-only.wav
expect 1 "text.wav: not audio" "$BIN" transcribe "${T[@]}" text.wav
# a bad file among good ones: the others still print, then exit 1
"$BIN" transcribe "${T[@]}" data/digits_train.wav gone.wav data/sentences_train.wav >out 2>err
st=$?
[[ $st -eq 1 && $(wc -l <out) -eq 2 && $(sed -n 1p out) == "$(sed -n 1p tr.out)" ]] ||
    fail "transcribe good bad good: exit $st, out: $(cat out)"
printf 'digits_train.wav\teight nine eight\ngone.wav\tone two\n' >data/missing.tsv
expect 1 "gone.wav" "$BIN" eval asr "${T[@]}" --data data/missing.tsv
expect 1 "gone.wav" "$BIN" train asr --train data/missing.tsv --out x.safetensors "${M[@]}" \
    --steps 1 --quiet
[[ $(grep -o 'gone.wav' err | wc -l) -eq 1 ]] || fail "train asr: the missing file named twice: $(cat err)"
printf 'digits_train.wav\teight nine eight\nno tab here\n' >data/notab.tsv
expect 1 "notab.tsv:2:" "$BIN" train asr --train data/notab.tsv --out x.safetensors "${M[@]}" \
    --steps 1 --quiet
mkdir -p dir.safetensors
start=$SECONDS
expect 1 "is a directory" "$BIN" train asr --train data/all.tsv --out dir.safetensors "${M[@]}" \
    --steps 100 --quiet
[[ $((SECONDS - start)) -le 2 ]] || fail "--out DIR: refused only after $((SECONDS - start)) s"
printf 'a b c\nd e\n' >ref2.txt
printf 'a b c\n' >hyp1.txt
expect 1 "has 2 lines but" "$BIN" eval asr --ref ref2.txt --hyp hyp1.txt
"$BIN" train classify --train "$SRC/data/samples/fortunes/train.tsv" --out cls.safetensors \
    --vocab-size 280 --max-len 16 --layers 1 --d-model 16 --heads 2 --epochs 1 --quiet \
    >/dev/null 2>&1 || fail "train classify for the wrong-model case"
expect 1 "not a speech recognizer" "$BIN" transcribe --model cls.safetensors data/digits_train.wav
expect 1 "not a speech recognizer" "$BIN" eval asr --model cls.safetensors --data data/all.tsv
# documented behaviour, exit 0 and one line each
sox -n -r 16000 -c 1 silence.wav trim 0 1
sox data/digits_train.wav short.wav trim 0 0.02
sox data/digits_train.wav -r 8000 r8k.wav
sox data/digits_train.wav -r 48000 r48k.wav
sox data/digits_train.wav -c 2 stereo.wav
for f in silence short r8k r48k stereo; do
    "$BIN" transcribe "${T[@]}" $f.wav >$f.out 2>$f.err || fail "transcribe $f.wav: exit $? ($(cat $f.err))"
    [[ $(wc -l <$f.out) -eq 1 ]] || fail "transcribe $f.wav: $(wc -l <$f.out) lines for 1"
done
[[ -z $(cat silence.out) ]] || fail "1 s of silence: '$(cat silence.out)', not an empty line"
[[ -z $(cat short.out) ]] || fail "20 ms of audio: '$(cat short.out)', not an empty line"
[[ $(cat stereo.out) == "$(sed -n 1p tr.out)" ]] ||
    fail "stereo (two equal channels): '$(cat stereo.out)' vs mono '$(sed -n 1p tr.out)'"

# 5. eval asr --ref --hyp, by hand
printf 'a b c\n' >ref.txt
printf 'a x c d\n' >hyp.txt
"$BIN" eval asr --ref ref.txt --hyp hyp.txt >wer.out || fail "eval asr --ref --hyp: exit $?"
grep -q '^WER 66.67%  (S 1, D 0, I 1, N 3)  CER 60.00%  (S 1, D 0, I 2, N 5)' wer.out ||
    fail "eval asr --ref --hyp: $(cat wer.out)"
"$BIN" eval asr --ref ref.txt --hyp hyp.txt --json >wer.json || fail "eval asr --json: exit $?"
/usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
w, c = r["wer"], r["cer"]
assert abs(w["rate"] - 200 / 3) < 1e-3 and (w["substitutions"], w["deletions"], w["insertions"], w["ref_len"]) == (1, 0, 1, 3), r
assert abs(c["rate"] - 60) < 1e-3 and (c["substitutions"], c["insertions"], c["ref_len"]) == (1, 2, 5), r' \
    wer.json || fail "eval asr --json: $(cat wer.json)"

[[ $failures -eq 0 ]] || { echo "$failures asr check(s) failed" >&2; exit 1; }
echo "all asr checks passed"
