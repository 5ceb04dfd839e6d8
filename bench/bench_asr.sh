#!/usr/bin/env bash
# bench/bench_asr.sh DIGITS_CKPT SENTENCES_CKPT [CORPUS_DIR]: our recognizers (attn train asr) and
# CMU PocketSphinx on the same test audio, in one run (bench/README.md, "Speech recognition: the
# recipe and its result"). Not part of make test. For each task, `attn eval asr` transcribes
# test.tsv greedily and with a prefix beam of 8 and prints WER, CER and the real-time factor
# (compute seconds per second of audio, reading and features included, 2 threads), and the
# beam-8 figures by voice; then beam 8 again with the words of the training list as a lexicon
# (--lexicon: our counterpart of PocketSphinx's digit grammar; words never seen in training
# cannot be transcribed then; LEXICON_LIST=train-all.tsv for models trained on that list); then
# bench/bench_speech_baseline.sh decodes the same files with PocketSphinx (general en-us language
# model, and the digit-loop grammar for digits; BASELINE=0 skips it). CORPUS_DIR defaults to
# data/corpora/speech.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 2 ]] || { echo "usage: bench/bench_asr.sh DIGITS_CKPT SENTENCES_CKPT [CORPUS_DIR]" >&2; exit 2; }
digits=$1 sentences=$2 corpus=${3:-$here/data/corpora/speech}
attn=${ATTN_BIN:-$here/build/attn}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
export ATTN_NUM_THREADS=${ATTN_NUM_THREADS:-2} OMP_WAIT_POLICY=PASSIVE
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $("$attn" --version | tr '\n' ' ')"
for task in digits sentences; do
    ckpt=$digits
    [[ $task == sentences ]] && ckpt=$sentences
    tmp=$(mktemp -d)
    for beam in 1 8; do
        printf 'attn %-9s beam %d  ' "$task" "$beam"
        "$attn" eval asr --model "$ckpt" --data "$corpus/$task/test.tsv" --beam "$beam" \
            --hyp-out "$tmp/hyp"
    done
    lexicon=${LEXICON_LIST:-train.tsv}
    printf 'attn %-9s beam 8 lexicon of %s  ' "$task" "$lexicon"
    "$attn" eval asr --model "$ckpt" --data "$corpus/$task/test.tsv" --beam 8 \
        --lexicon "$corpus/$task/$lexicon" --hyp-out "$tmp/hyp_lex"
    # by voice, beam 8 (the third column of test.tsv names it)
    for voice in kal awb rms slt; do
        paste "$corpus/$task/test.tsv" "$tmp/hyp" | awk -F'\t' -v v="flite:$voice" '$3 == v' >"$tmp/v"
        cut -f2 "$tmp/v" >"$tmp/ref" && cut -f4 "$tmp/v" >"$tmp/h"
        printf 'attn %-9s beam 8  %-4s ' "$task" "$voice"
        "$attn" eval asr --ref "$tmp/ref" --hyp "$tmp/h"
    done
    rm -rf "$tmp"
done
if [[ ${BASELINE:-1} == 0 ]]; then
    echo "# BASELINE=0: PocketSphinx not run (its figures: bench/results-2026-12-02-speech-baseline.txt)"
else
    bash "$here/bench/bench_speech_baseline.sh" "$corpus"
fi
