#!/usr/bin/env bash
# tests/data/test_split.sh: the corpus conventions of data/README.md.
#  1. The split rule of data/corpus_common.py, sha1("cls-split-v1:" + KEY) mod 10 (0 test, 1 dev,
#     else train), against an independent computation with sha1sum and against pinned values.
#  2. The committed samples (data/samples/*/{train,dev,test}.tsv) are well-formed "label<TAB>text"
#     and, for fortunes (KEY = the text), every line sits in the split its text hashes to.
#  3. make_fortunes.py end to end on a tiny made-up fortune folder; the description flattening
#     and deb822 parsing of make_debdesc.py on a made-up stanza.
source "$(dirname "$0")/../common/script.sh"

# split_sh KEY: the split by sha1sum, reducing the 40 hex digits mod 10 one digit at a time.
split_sh() {
    local hex r=0 i
    hex=$(printf 'cls-split-v1:%s' "$1" | sha1sum | cut -c1-40)
    for ((i = 0; i < 40; i++)); do r=$(((r * 16 + 16#${hex:i:1}) % 10)); done
    case $r in 0) echo test ;; 1) echo dev ;; *) echo train ;; esac
}

# --- 1. the split rule --------------------------------------------------------------------------
# Pinned: these must never change, or every corpus's splits change with them.
declare -A pinned=([abc]=train [glibc]=test [python3-defaults]=test [e]=dev [h]=dev
    ["Art is a jealous mistress."]=test [libfoo]=train)
keys=("${!pinned[@]}" bash zlib "" "héllo wörld" "tab	inside" "a  b" "ünïcödé ✓")
printf '%s\n' "${keys[@]}" >"$tmp/keys"
"$PY" - "$SRC/data" "$tmp/keys" >"$tmp/py_splits" <<'PYEOF' || fail "python split_of failed"
import sys
sys.path.insert(0, sys.argv[1])
from corpus_common import split_of
with open(sys.argv[2], encoding="utf-8") as f:
    for key in f.read().split("\n")[:-1]:
        print(split_of(key))
PYEOF
i=0
while IFS= read -r want; do
    key=${keys[i]}
    got=$(split_sh "$key")
    [[ $got == "$want" ]] || fail "split of '$key': python says $want, sha1sum says $got"
    if [[ -n $key && -n ${pinned[$key]+x} && ${pinned[$key]} != "$want" ]]; then
        fail "split of '$key' is $want, pinned ${pinned[$key]}"
    fi
    i=$((i + 1))
done <"$tmp/py_splits"
[[ $i -eq ${#keys[@]} ]] || fail "python gave $i splits for ${#keys[@]} keys"

# --- 2. the committed samples -------------------------------------------------------------------
for corpus in debdesc fortunes; do
    for split in train dev test; do
        f=$SRC/data/samples/$corpus/$split.tsv
        [[ -s $f ]] || {
            fail "$f missing or empty"
            continue
        }
        lines=$(wc -l <"$f")
        [[ $lines -ge 10 ]] || fail "$f: only $lines lines"
        [[ $(tail -c 1 "$f" | od -An -c | tr -d ' ') == '\n' ]] || fail "$f: no final newline"
        ! grep -q $'\r' "$f" || fail "$f: carriage return"
        bad=$(awk -F'\t' 'NF != 2 || $1 !~ /^[a-z0-9][a-z0-9+.-]*$/ || $2 == "" || $2 ~ /^ | $|  / \
            { print NR; exit }' "$f")
        [[ -z $bad ]] || fail "$f:$bad: not 'label<TAB>flattened text'"
        ! iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1 && fail "$f: not UTF-8"
        if [[ $corpus == fortunes ]]; then
            while IFS=$'\t' read -r _ text; do
                got=$(split_sh "$text")
                [[ $got == "$split" ]] || {
                    fail "$f: '${text:0:40}...' hashes to $got"
                    break
                }
            done <"$f"
        fi
    done
done

# --- 3. the scripts on made-up input ------------------------------------------------------------
mkdir -p "$tmp/fortunes/off"
printf 'Alpha one.\n%%\nAlpha   two\nwith a\ttab.\n%%\n\n%%\nShared text.\n%%\n___\b\b\bwas underlined\n' \
    >"$tmp/fortunes/alpha"
printf 'Beta one.\n%%\nBeta two.\n%%\nShared text.\n%%\nBeta three.\n' >"$tmp/fortunes/beta"
printf 'Gamma only.\n' >"$tmp/fortunes/gamma"      # one entry: under --min-count 2
printf 'x\n' >"$tmp/fortunes/alpha.dat"            # index files are skipped
ln -s alpha "$tmp/fortunes/alpha.u8"               # so are the .u8 links
printf 'Offensive.\n%%\nMore.\n' >"$tmp/fortunes/off/rude" # and sub-folders
"$PY" "$SRC/data/make_fortunes.py" --src "$tmp/fortunes" --out "$tmp/out" --min-count 2 \
    >"$tmp/log" 2>&1 || fail "make_fortunes.py failed: $(cat "$tmp/log")"
cat "$tmp/out"/{train,dev,test}.tsv 2>/dev/null | sort >"$tmp/got"
printf '%s\n' $'alpha\tAlpha one.' $'alpha\tAlpha two with a tab.' $'alpha\twas underlined' \
    $'beta\tBeta one.' $'beta\tBeta three.' $'beta\tBeta two.' | sort >"$tmp/want"
diff "$tmp/want" "$tmp/got" >/dev/null || fail "make_fortunes.py output: $(diff "$tmp/want" "$tmp/got")"
for split in train dev test; do
    while IFS=$'\t' read -r _ text; do
        [[ $(split_sh "$text") == "$split" ]] || fail "make_fortunes.py put '$text' in $split"
    done <"$tmp/out/$split.tsv"
done

"$PY" - "$SRC/data" <<'PYEOF' || fail "make_debdesc.py helpers"
import sys
sys.path.insert(0, sys.argv[1])
from make_debdesc import flatten_description, parse_deb822
text = """Package: libfoo1
Source: foo (1.2-3)
Section: contrib/libs
Description-md5: 0123

Package: foo-doc
Description-en: Foo library - documentation
 The foo library does   things.
 .
 It also has	tabs.
  * a verbatim list item
"""
st = list(parse_deb822(text))
assert len(st) == 2, st
assert st[0]["Source"] == "foo (1.2-3)" and st[0]["Section"] == "contrib/libs", st[0]
got = flatten_description(st[1]["Description-en"])
want = ("Foo library - documentation The foo library does things. It also has tabs. "
        "* a verbatim list item")
assert got == want, got
PYEOF

finish "split"
