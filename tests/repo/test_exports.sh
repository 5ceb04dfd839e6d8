#!/usr/bin/env bash
# tests/repo/test_exports.sh: libattn.so exports exactly the public API: every function it
# defines for others starts with attn_, and every ATTN_API function of include/attn is there.
set -u
lib=${ATTN_SHARED_LIB:?} src=${ATTN_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort -u >"$tmp/exported"
grep -ho '^ATTN_API [^(]*(' "$src"/include/attn/*.h | grep -o 'attn_[a-z0-9_]*($' | tr -d '(' |
    sort -u >"$tmp/declared"
bad=0
if grep -v '^attn_' "$tmp/exported" >"$tmp/foreign"; then
    echo "FAIL: libattn.so exports $(wc -l <"$tmp/foreign") names without the attn_ prefix:" \
        "$(head -n 8 "$tmp/foreign" | tr '\n' ' ')" >&2
    bad=1
fi
if comm -23 "$tmp/exported" "$tmp/declared" | grep . >"$tmp/extra"; then
    echo "FAIL: exported but not declared ATTN_API in include/attn: $(tr '\n' ' ' <"$tmp/extra")" >&2
    bad=1
fi
if comm -13 "$tmp/exported" "$tmp/declared" | grep . >"$tmp/missing"; then
    echo "FAIL: declared ATTN_API but not in libattn.so: $(tr '\n' ' ' <"$tmp/missing")" >&2
    bad=1
fi
[[ $bad -eq 0 ]] || exit 1
echo "libattn.so exports the $(wc -l <"$tmp/declared") functions of include/attn and nothing else"
