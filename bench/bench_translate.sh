#!/usr/bin/env bash
# bench/bench_translate.sh MODEL [BUILD]: translation quality and speed on the Bible test split
# (not part of make test). Prints, in one run on this machine:
#   - test BLEU and chrF of MODEL (beam 5) and of Apertium's rule-based English->Spanish
#     translator on the same 1000 sources (apertium-eng-spa, installed here if missing);
#   - decoding speed: greedy and beam 5, batched (16) and one sentence at a time, with the KV
#     cache, and without it (the whole prefix recomputed each step) on the first 50 sentences.
# The corpus is built first if data/corpora/bible is missing.
set -euo pipefail
model=${1:?usage: bench/bench_translate.sh MODEL [BUILD]}
build=${2:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
data=$here/data/corpora/bible
[[ -f $data/test.tsv ]] || /usr/bin/python3 "$here/data/make_bible.py"
if ! command -v apertium >/dev/null || [[ ! -d /usr/share/apertium/apertium-eng-spa ]]; then
    sudo=; [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get install -y -qq --no-install-recommends apertium apertium-eng-spa >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cut -f2 "$data/test.tsv" >"$tmp/src.en"
cut -f3 "$data/test.tsv" >"$tmp/ref.es"
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $("$here/$build/attn" --version | tr '\n' ' ')"
echo "# attn (beam 5):"
"$here/$build/attn" eval translate --model "$model" --data "$data/test.tsv" --beam 5 \
    --hyp-out "$tmp/attn.es"
echo "# apertium -u eng-spa:"
s=$(date +%s.%N)
apertium -u eng-spa <"$tmp/src.en" >"$tmp/apertium.es"
echo "# ($(echo "$(date +%s.%N) - $s" | bc) s)"
"$here/$build/attn" eval translate --ref "$tmp/ref.es" "$tmp/apertium.es"
echo "# copying the source:"
"$here/$build/attn" eval translate --ref "$tmp/ref.es" "$tmp/src.en"
echo "# decoding speed:"
"$here/$build/bench_translate" "$model" "$data/test.tsv" --naive 50
