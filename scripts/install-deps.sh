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
    fortunes-min fortunes    # public-domain demo text
    python3-numpy python3-torch  # fixture regeneration and parity checks in the suite
    python3-sklearn          # reference metrics and the TF-IDF baseline
    python3-sword sword-text-web sword-text-sparv  # public-domain English/Spanish Bibles (data/make_bible.py)
    python3-nltk             # reference BLEU (tests/eval/mt_reference.py)
    espeak-ng flite sox      # speech synthesis (data/make_speech.py; tests/data/test_speech.sh regenerates its samples)
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || echo "install-deps: apt-get update failed; trying with the current lists" >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
