#!/usr/bin/env bash
# tests/common/with_isa.sh ISA TEST [ARGS...]: runs a test binary with its kernels capped at ISA
# (ATTN_ISA=generic|avx2|avx512), so that one machine also tests the variants below its best.
# Exits 77 (ctest: skipped) when this CPU cannot run ISA; `attn --version` says what it can.
set -euo pipefail
isa=$1
shift
rank() { case $1 in generic) echo 0 ;; avx2) echo 1 ;; avx512) echo 2 ;; *) echo 9 ;; esac; }
best=$(env -u ATTN_ISA "${ATTN_BIN:?ATTN_BIN is not set}" --version | sed -n 's/^isa: \([a-z0-9]*\).*/\1/p')
if (($(rank "$isa") > $(rank "$best"))); then
    echo "SKIPPED: this CPU runs at most $best, not $isa"
    exit 77
fi
ATTN_ISA=$isa exec "$@"
