# tests/common/script.sh: sourced by the test scripts: $SRC (the source tree), $PY (Debian's
# python3, else the first on PATH), a temporary folder $tmp removed at exit (made writable
# first, for tests that take write permission away), fail and finish.
set -u
SRC=${ATTN_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# finish WHAT: the script's verdict and exit status.
finish() {
    if [[ $failures -ne 0 ]]; then
        echo "$failures $1 check(s) failed" >&2
        exit 1
    fi
    echo "all $1 checks passed"
    exit 0
}
