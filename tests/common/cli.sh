# tests/common/cli.sh: sourced by the scripts that test the `attn` command line: $BIN (the binary
# ctest names in ATTN_BIN), a temporary folder $tmp removed at exit, and the checks they share.
set -u
BIN=${ATTN_BIN:?ATTN_BIN must name the attn binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect_error STATUS DESCRIPTION -- COMMAND...: the command exits with STATUS and writes exactly
# one line to stderr, starting with "attn: " (kept in $tmp/err, stdout in $tmp/out); stdin is
# empty.
expect_error() {
    local want=$1 what=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    local got=$?
    if [[ $got -ne $want ]]; then
        fail "$what: exit status $got, expected $want ($(head -c 300 "$tmp/err"))"
    elif [[ $(wc -l <"$tmp/err") -ne 1 ]] || ! head -n 1 "$tmp/err" | grep -q '^attn: '; then
        fail "$what: expected one 'attn: ' line on stderr, got: $(head -c 300 "$tmp/err")"
    fi
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
