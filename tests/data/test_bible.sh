#!/usr/bin/env bash
# tests/data/test_bible.sh: the English/Spanish parallel corpus of data/make_bible.py.
#  1. The committed samples (data/samples/bible/{train,dev,test}.tsv) are "ref<TAB>en<TAB>es":
#     three fields, none empty, flattened, OSIS-style refs, each ref once over the three files;
#     and they respect the split rule where a sample can show it: by sha1("bible-split-v1:" +
#     ref) (sha1sum here), every test ref sorts before every dev ref, every dev ref before every
#     train ref.
#  2. render_osis on made-up OSIS: notes, titles, Strong's tags, added words, chapter ends.
#  3. Where the SWORD modules are installed (python3-sword sword-text-web sword-text-sparv):
#     make_bible.py --out TMP, the full split rule on its output (1000 test, 1000 dev, the rest
#     train, by the hash ranks), and the samples drawn again from it (make_samples.py's rule)
#     equal the committed ones byte for byte. Otherwise exit 77 (skipped) after 1 and 2.
source "$(dirname "$0")/../common/script.sh"
split_hash() { printf 'bible-split-v1:%s' "$1" | sha1sum | cut -c1-40; }

# --- 1. the committed samples -------------------------------------------------------------------
declare -A lo hi
for split in test dev train; do
    f=$SRC/data/samples/bible/$split.tsv
    [[ -s $f ]] || {
        fail "$f missing or empty"
        continue
    }
    lines=$(wc -l <"$f")
    [[ $lines -ge 10 ]] || fail "$f: only $lines lines"
    [[ $(tail -c 1 "$f" | od -An -c | tr -d ' ') == '\n' ]] || fail "$f: no final newline"
    ! grep -q $'\r' "$f" || fail "$f: carriage return"
    iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1 || fail "$f: not UTF-8"
    bad=$(awk -F'\t' 'NF != 3 || $1 !~ /^[1-4]?[A-Z][A-Za-z]*\.[1-9][0-9]*\.[1-9][0-9]*$/ ||
        $2 == "" || $3 == "" || $2 ~ /^ | $|  / || $3 ~ /^ | $|  / { print NR; exit }' "$f")
    [[ -z $bad ]] || fail "$f:$bad: not 'ref<TAB>english<TAB>spanish', flattened"
    cut -f1 "$f" >>"$tmp/refs"
    lo[$split]=ffffffffffffffffffffffffffffffffffffffff
    hi[$split]=0000000000000000000000000000000000000000
    while IFS=$'\t' read -r ref _; do
        h=$(split_hash "$ref")
        [[ $h < ${lo[$split]} ]] && lo[$split]=$h
        [[ $h > ${hi[$split]} ]] && hi[$split]=$h
    done <"$f"
done
dups=$(sort "$tmp/refs" 2>/dev/null | uniq -d | head -3 | tr '\n' ' ')
[[ -z $dups ]] || fail "refs in more than one sample line: $dups"
if [[ -n ${hi[test]:-} && -n ${lo[dev]:-} && -n ${hi[dev]:-} && -n ${lo[train]:-} ]]; then
    [[ ${hi[test]} < ${lo[dev]} ]] || fail "a test ref hashes after a dev ref (${hi[test]} > ${lo[dev]})"
    [[ ${hi[dev]} < ${lo[train]} ]] || fail "a dev ref hashes after a train ref (${hi[dev]} > ${lo[train]})"
fi
# Pinned: the rule itself must never change (printf 'bible-split-v1:Gen.1.1' | sha1sum).
[[ $(split_hash Gen.1.1) == $("$PY" -c 'import hashlib; print(hashlib.sha1(b"bible-split-v1:Gen.1.1").hexdigest())') ]] ||
    fail "sha1sum and python disagree"

# --- 2. render_osis on made-up markup -----------------------------------------------------------
"$PY" - "$SRC/data" <<'PYEOF' || fail "render_osis"
import sys
sys.path.insert(0, sys.argv[1])
from make_bible import render_osis
cases = [
    # a footnote glued between two words (WEB Gen.1.1): the space comes back
    ('<w lemma="strong:H0430">God</w><note placement="foot"><reference type="annotateRef">1:1 '
     '</reference>The Hebrew word.</note><w lemma="strong:H1254">created</w> all.',
     "God created all."),
    # ... but not before punctuation, nor twice
    ("the word<note>n</note>, and<note>n</note> more<note>n</note>.", "the word, and more."),
    ("said,<note>x</note>\u201cHello.\u201d<note>y</note>", "said, \u201cHello.\u201d"),
    # red letters, lines, a canonical psalm title kept, an editors' heading skipped
    ('<div type="x-milestone" subType="x-preverse" sID="p1"/><title type="section">Heading'
     '</title><title canonical="true" type="psalm">A Psalm.</title><lg/><l level="1"/>Yahweh,'
     '<l eID="a"/><l/>hear.<l type="selah"/>Selah.<l eID="b"/><q who="Jesus" marker="">Yes</q>',
     "A Psalm. Yahweh, hear. Selah. Yes"),
    # added words (RV1909): a word boundary at a <w>, none inside a word
    ('hay <w lemma="strong:H8033">all\u00ed</w><transChange type="added">tambi\u00e9n</transChange>'
     '<w lemma="strong:H0916">bdelio</w> y pregunt\u00e1ndo<transChange type="added">le</transChange>,',
     "hay all\u00ed tambi\u00e9n bdelio y pregunt\u00e1ndole,"),
    # multi-lemma Strong's numbers vanish (SWORD's own filter leaves "<G5547>" behind)
    ('<w lemma="strong:G2424 G5547">Jesucristo</w> &amp; \u00b6 <speaker>Beloved</speaker> fin.',
     "Jesucristo & fin."),
    # nothing after the chapter's end (the WEB's glossary after Rev.22.21)
    ('Amen. <chapter eID="Rev.22"/><div eID="g" type="book"/> <title>Glossary</title> Abba...',
     "Amen."),
    ("", ""),
]
for raw, want in cases:
    got = render_osis(raw)
    assert got == want, (raw, got, want)
try:
    render_osis("<unknownElement>x</unknownElement>")
    raise AssertionError("an unknown element was accepted")
except ValueError:
    pass
PYEOF

# --- 3. the real corpus, where the modules are installed ----------------------------------------
if ! "$PY" -c 'import Sword' 2>/dev/null || [[ ! -e /usr/share/sword/mods.d/engWEB2015eb.conf ||
    ! -e /usr/share/sword/mods.d/spaRV1909eb.conf ]]; then
    if [[ $failures -ne 0 ]]; then
        echo "$failures failure(s)" >&2
        exit 1
    fi
    echo "data/test_bible: samples ok; SKIPPED the rebuild: no python3-sword sword-text-web sword-text-sparv"
    exit 77
fi
"$PY" "$SRC/data/make_bible.py" --out "$tmp/bible" >"$tmp/log" 2>&1 ||
    fail "make_bible.py failed: $(cat "$tmp/log")"
"$PY" - "$SRC/data" "$tmp/bible" "$SRC/data/samples/bible" <<'PYEOF' || fail "the rebuilt corpus"
import hashlib, os, sys
sys.path.insert(0, sys.argv[1])
from make_samples import sample_lines
out, samples = sys.argv[2], sys.argv[3]
lines = {}
for split in ("train", "dev", "test"):
    with open(os.path.join(out, split + ".tsv"), encoding="utf-8") as f:
        lines[split] = f.read().split("\n")[:-1]
refs = {s: [l.split("\t", 1)[0] for l in lines[s]] for s in lines}
n = sum(len(r) for r in refs.values())
assert 30000 <= n <= 32000, n
assert len(set(sum(refs.values(), []))) == n, "a ref twice"
rank = sorted(sum(refs.values(), []),
              key=lambda r: hashlib.sha1(("bible-split-v1:" + r).encode()).hexdigest())
assert set(refs["test"]) == set(rank[:1000]), "test is not the first 1000 by hash"
assert set(refs["dev"]) == set(rank[1000:2000]), "dev is not the next 1000 by hash"
assert set(refs["train"]) == set(rank[2000:]), "train is not the rest"
for split in lines:
    with open(os.path.join(samples, split + ".tsv"), encoding="utf-8") as f:
        committed = f.read().split("\n")[:-1]
    drawn = sample_lines(lines[split], 40)
    assert drawn == committed, "%s sample differs from the rebuilt corpus (first: %r)" % (
        split, next((a for a, b in zip(drawn, committed) if a != b), None))
PYEOF

echo "data/test_bible: $(tail -1 "$tmp/log" | tr -s ' ')"
finish "Bible corpus"
