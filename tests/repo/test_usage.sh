#!/usr/bin/env bash
# tests/repo/test_usage.sh: the "Basic usage" code at the top of include/attn/attn.h compiles
# against the public headers (the lines indented by four spaces inside the comment, in a main()).
set -eu
src=${ATTN_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
    echo '#include <stdio.h>'
    echo '#include "attn/attn.h"'
    echo 'int main(void) {'
    sed -n 's/^ \*     //p' "$src/include/attn/attn.h" | grep -v '^attn/'
    echo 'return 0; }'
} >"$tmp/usage.c"
[[ $(wc -l <"$tmp/usage.c") -gt 10 ]] || { echo "FAIL: no usage code found in attn.h" >&2; exit 1; }
${CC:-cc} -std=c11 -Wall -Wextra -Werror -Wno-unused -I"$src/include" -c "$tmp/usage.c" \
    -o "$tmp/usage.o" || { echo "FAIL: attn.h's usage code does not compile" >&2; exit 1; }
echo "attn.h's usage code compiles"
