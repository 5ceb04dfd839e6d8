#!/usr/bin/env bash
# tests/parity/test_regenerate.sh: regenerates every parity fixture with PyTorch into a temporary
# folder and runs every parity test binary against it, so the committed fixtures cannot drift
# from tests/parity/make_fixtures.py. Without PyTorch it is skipped (exit 77, which ctest reports
# as skipped): the C tests still check the committed fixtures.
# Environment (set by tests/CMakeLists.txt): ATTN_SOURCE_DIR, ATTN_TEST_BIN_DIR.
set -euo pipefail

PYTHON=/usr/bin/python3
src=${ATTN_SOURCE_DIR:?ATTN_SOURCE_DIR is not set}
bin=${ATTN_TEST_BIN_DIR:?ATTN_TEST_BIN_DIR is not set}

if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo "SKIPPED: $PYTHON cannot import torch; the committed fixtures are checked by the C tests"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PYTHON" "$src/tests/parity/make_fixtures.py" "$tmp"

shopt -s nullglob
tests=("$bin"/parity_test_*)
if [ ${#tests[@]} -eq 0 ]; then
    echo "FAIL: no parity test binaries in $bin" >&2
    exit 1
fi
failed=0
for t in "${tests[@]}"; do
    [ -x "$t" ] || continue
    echo "== $(basename "$t") on the regenerated fixtures"
    if ! ATTN_FIXTURES="$tmp" "$t"; then
        echo "FAIL: $(basename "$t")" >&2
        failed=1
    fi
done
exit $failed
