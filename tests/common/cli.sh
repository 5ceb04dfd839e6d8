# tests/common/cli.sh: sourced by the scripts that test the `attn` command line: what
# tests/common/script.sh gives ($SRC, $PY, $tmp, fail, finish), $BIN (the binary ctest names in
# ATTN_BIN) and the checks they share.
source "$(dirname "${BASH_SOURCE[0]}")/script.sh"
BIN=${ATTN_BIN:?ATTN_BIN must name the attn binary}

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
