#!/usr/bin/env bash
# bench/bench_speech_baseline.sh [CORPUS_DIR] [LIMIT]: CMU PocketSphinx on the test audio of the
# speech corpora (data/make_speech.py; bench/README.md, "Speech recognition: the PocketSphinx
# baseline"). Not part of make test. Decodes, in one run on this machine:
#   - digits/test with the general en-us language model, and with a digit-loop JSGF grammar
#     (bench/speech_digits.gram);
#   - sentences/test with the general en-us language model;
# and prints WER, CER and sentence error rate of each (bench/wer.py), the decoding time and its
# real-time factor. CORPUS_DIR defaults to data/corpora/speech (built first if missing); LIMIT
# (default: all) decodes only the first LIMIT test utterances of each task.
#
# DECODER=batch (the default) runs `pocketsphinx_batch` once over the list: the models are
# loaded once, each WAV is one utterance, and the running cepstral mean (-cmn live) is carried
# from one file to the next (so a file's result depends on the files before it).
# DECODER=continuous runs `pocketsphinx_continuous -infile WAV` once per file, as a user of the
# command line would: the same models and options, loaded for every file (~1 s of CPU with the
# general language model, counted in the times), the running mean started afresh from -cmninit
# in each file, the audio cut into segments by voice activity (their words joined). The two
# give different hypotheses (bench/README.md); which difference matters was not measured.
# KEEP_HYP=PREFIX keeps the normalised hypotheses as PREFIX.TASK_CONFIG.tsv.
# Installs pocketsphinx and pocketsphinx-en-us (Debian 12: 0.8+5prealpha+1-15) when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:-$here/data/corpora/speech}
limit=${2:-0}
decoder=${DECODER:-batch}
[[ $decoder == continuous || $decoder == batch ]] || { echo "DECODER: continuous or batch" >&2; exit 2; }
py=/usr/bin/python3
[[ -x $py ]] || py=python3
model=/usr/share/pocketsphinx/model/en-us
if ! command -v pocketsphinx_batch >/dev/null || [[ ! -f $model/en-us.lm.bin ]]; then
    sudo=; [[ $(id -u) -ne 0 ]] && sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        pocketsphinx pocketsphinx-en-us >/dev/null
fi
[[ -f $corpus/digits/test.tsv && -f $corpus/sentences/test.tsv ]] ||
    "$py" "$here/data/make_speech.py" --out "$corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# DECODER=$decoder, pocketsphinx $(dpkg-query -W -f='${Version}' pocketsphinx), pocketsphinx-en-us $(dpkg-query -W -f='${Version}' pocketsphinx-en-us)"
# decode TASK NAME ARGS...: decodes TASK's test list with the given language-model arguments
decode() {
    local task=$1 name=$2 file=${2//\//_}
    shift 2
    local dir=$corpus/$task
    if ((limit > 0)); then head -n "$limit" "$dir/test.tsv"; else cat "$dir/test.tsv"; fi >"$tmp/$task.tsv"
    # ids: the path without .wav; the control file lists them relative to the task's folder
    awk -F'\t' '{ sub(/\.wav$/, "", $1); print $1 "\t" $2 }' "$tmp/$task.tsv" >"$tmp/$task.ref"
    cut -f1 "$tmp/$task.ref" >"$tmp/$task.ctl"
    local seconds
    seconds=$(awk -F'\t' -v d="$dir" '{ print d "/" $1 }' "$tmp/$task.tsv" | xargs stat -c %s |
        awk '{ s += ($1 - 44) / 32000 } END { printf "%.1f", s }')
    local start end
    start=$(date +%s.%N)
    if [[ $decoder == batch ]]; then
        pocketsphinx_batch -ctl "$tmp/$task.ctl" -cepdir "$dir" -cepext .wav -adcin yes -adchdr 44 \
            -samprate 16000 -hmm "$model/en-us" -dict "$model/cmudict-en-us.dict" "$@" \
            -hyp "$tmp/$file.hypraw" >"$tmp/$file.log" 2>&1 || {
            tail -20 "$tmp/$file.log" >&2
            exit 1
        }
    else
        : >"$tmp/$file.hypraw"
        while read -r uid; do
            # one line per voice-activity segment; joined with spaces, one line per file
            pocketsphinx_continuous -infile "$dir/$uid.wav" -samprate 16000 -hmm "$model/en-us" \
                -dict "$model/cmudict-en-us.dict" "$@" </dev/null 2>"$tmp/$file.log" | tr '\n' ' ' |
                sed 's/  */ /g; s/^ //; s/ $//' >>"$tmp/$file.hypraw" || {
                tail -20 "$tmp/$file.log" >&2
                exit 1
            }
            echo >>"$tmp/$file.hypraw"
        done <"$tmp/$task.ctl"
    fi
    end=$(date +%s.%N)
    # batch: "words (uttid score)" lines, in control-file order, " (uttid score)" when empty;
    # continuous: one line of words per file, in order
    "$py" - "$decoder" "$tmp/$task.ctl" "$tmp/$file.hypraw" >"$tmp/$file.hyp" <<'PYEOF'
import os, re, sys
ids = [l.rstrip("\n") for l in open(sys.argv[2])]
hyps = [l.rstrip("\n") for l in open(sys.argv[3])]
assert len(ids) == len(hyps), (len(ids), len(hyps))
for uid, line in zip(ids, hyps):
    if sys.argv[1] == "batch":
        m = re.match(r"^(.*?) ?\((\S+) -?[0-9]+\)$", line)
        assert m and os.path.basename(m.group(2)) == os.path.basename(uid), (uid, line)
        line = m.group(1)
    print(uid + "\t" + line)
PYEOF
    "$py" "$here/bench/wer.py" "$tmp/$task.ref" "$tmp/$file.hyp" --name "$name"
    awk -v s="$start" -v e="$end" -v a="$seconds" \
        'BEGIN { printf "%-28s %.1f s of audio decoded in %.1f s (%.2f x real time, one thread)\n", "", a, e - s, (e - s) / a }'
    if [[ -n ${KEEP_HYP:-} ]]; then cp "$tmp/$file.hyp" "$KEEP_HYP.$file.tsv"; fi
}
decode digits digits/general-lm -lm "$model/en-us.lm.bin"
decode digits digits/digit-grammar -jsgf "$here/bench/speech_digits.gram"
decode sentences sentences/general-lm -lm "$model/en-us.lm.bin"
