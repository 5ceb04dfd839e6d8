#!/usr/bin/python3
"""data/make_bible.py: the "bible" English/Spanish parallel corpus (data/README.md).

Reads two public-domain Bibles that Debian 12 packages as SWORD modules, through the SWORD
library's Python bindings (python3-sword), and writes train/dev/test.tsv with lines
"ref<TAB>english<TAB>spanish", one verse per line:

- English: the World English Bible (sword-text-web, module engWEB2015eb, versification NRSVA).
- Spanish: the Reina-Valera 1909 (sword-text-sparv, module spaRV1909eb, versification KJV).

Steps:
1. Every verse of each module, in its own versification, as raw OSIS (SWORD's own plain-text
   filter glues words together where footnotes were, so the markup is rendered here,
   render_osis). Text after a chapter's end marker is cut (the WEB's glossary sits after
   Rev.22.21).
2. English references are converted into the Spanish module's versification (KJV) with SWORD
   (VerseKey.positionFrom); refs are OSIS ids of that versification, "Gen.1.1", "1John.3.16".
3. Dropped, each counted by reason: verses only one side has (books or verses the other
   versification lacks), verses empty on either side, the chapters whose verse divisions
   differ between the two modules (find_misaligned: the Spanish module keeps the Hebrew-style
   divisions of RV1909 in a few chapters although it declares KJV, leaving verses empty), and
   pairs whose lengths disagree (length_outliers: boundaries moved without an empty verse,
   RV1909's subscriptions after the epistles).
4. Split: the refs sorted by sha1("bible-split-v1:" + ref) in hexadecimal; the first 1000 are
   test, the next 1000 dev, the rest train. Each file lists its verses in Bible order.

Usage: /usr/bin/python3 data/make_bible.py [--out DIR] [--sword-path DIR]
Needs the Debian packages python3-sword sword-text-web sword-text-sparv (scripts/install-deps.sh).
Deterministic: same modules -> byte-identical output.
"""
import argparse
import hashlib
import html
import math
import os
import re
import sys
from collections import Counter, OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_common import collapse_whitespace  # noqa: E402

EN_MODULE, ES_MODULE = "engWEB2015eb", "spaRV1909eb"
PACKAGES = "python3-sword sword-text-web sword-text-sparv"
SPLIT_SALT = "bible-split-v1:"
N_TEST, N_DEV = 1000, 1000
SPLITS = ("train", "dev", "test")

# --- OSIS rendering ------------------------------------------------------------------------------
# Every element the two modules use (checked over all their verses), by what its tags mean for
# the text. An element not listed stops the script, so that new markup is looked at, not guessed.
SKIPPED = {"note", "speaker"}  # footnotes and cross-references; WEB's "Beloved"/"Lover" labels
BLOCK = {"div", "chapter", "l", "lg", "lb", "list", "item", "milestone", "p", "title"}  # a space
INLINE = {"w", "q", "transChange", "seg", "name", "rdg", "reference", "catchWord", "hi",
          "divineName", "foreign"}  # the content stays, the tags go
_TOKEN = re.compile(r"<[^>]*>|[^<]+")
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z]+)([^>]*?)(/?)\s*>$")
_OPENING = "“‘([¿¡"  # punctuation that a word may follow with a space, and precedes one without
_NO_SPACE_AFTER = "“‘([¿¡—–-"
GAP, WORD_GAP = "\x00", "\x01"  # where a note was; where a <w> met a <transChange>


def render_osis(raw):
    """The plain text of one verse of OSIS markup (as the two modules write it): notes and
    speaker labels dropped with their content; word (<w>, Strong's numbers), red-letter (<q>),
    added-word (<transChange>) and similar tags dropped, their content kept; block tags (lines,
    paragraphs, canonical psalm titles) become spaces; entities decoded; pilcrows removed.
    Where a note sat between two words with no space (WEB: "God<note>..</note>created") a space
    is put back, but not before punctuation; the same where a <w> meets a <transChange> (RV1909:
    "allí</w><transChange>también"), but not inside a word ("preguntándo<transChange>le")."""
    out = []
    skip = 0  # depth inside skipped elements
    prev_tags = set()  # the tags met since the last text
    titles = []  # open <title>s: True for a skipped one
    for tok in _TOKEN.findall(raw):
        if not tok.startswith("<"):
            if skip:
                continue
            if "w" in prev_tags and "transChange" in prev_tags:
                out.append(WORD_GAP)
            prev_tags = set()
            out.append(html.unescape(tok).replace("¶", " "))
            continue
        m = _TAG.match(tok)
        if not m:
            raise ValueError("unreadable tag %r" % tok)
        closing, name, attrs, empty = m.group(1), m.group(2), m.group(3), m.group(4)
        if name == "chapter" and "eID=" in attrs:
            break  # the chapter is over: what follows belongs to no verse (WEB's glossary)
        if name == "title" and not empty:
            # a heading added by the editors is skipped like a note; a canonical title (a
            # psalm's superscription, verse 1 of the Hebrew and of RV1909) is text
            if not closing:
                titles.append('canonical="true"' not in attrs)
            if titles and titles[-1]:
                name = "note"
            if closing and titles:
                titles.pop()
        if name in SKIPPED:
            if empty:
                continue
            if closing:
                skip -= 1
                if skip == 0:
                    out.append(GAP)
            else:
                skip += 1
            continue
        if skip:
            continue
        if name in BLOCK:
            out.append(" ")
        elif name not in INLINE:
            raise ValueError("unknown OSIS element <%s> in %r" % (name, raw[:200]))
        prev_tags.add(name)
    if skip:
        raise ValueError("unclosed <note> in %r" % raw[:200])
    return resolve_gaps("".join(out))


_GAPS = re.compile("[%s%s]+" % (GAP, WORD_GAP))


def resolve_gaps(text):
    """Turns the gap marks of render_osis into a space or nothing, then collapses whitespace."""

    def one(m):
        before = text[m.start() - 1] if m.start() > 0 else " "
        after = text[m.end()] if m.end() < len(text) else " "
        if before.isspace() or after.isspace():
            return ""
        if WORD_GAP in m.group(0) and GAP not in m.group(0):
            return " " if before.isalnum() and after.isalnum() else ""
        if (after.isalnum() or after in _OPENING) and before not in _NO_SPACE_AFTER:
            return " "
        return ""

    return collapse_whitespace(_GAPS.sub(one, text))


# --- reading the modules -------------------------------------------------------------------------
def open_module(mgr, name):
    mod = mgr.getModule(name)
    if mod is None:
        sys.exit("make_bible: no SWORD module %s (apt-get install %s)" % (name, PACKAGES))
    return mod


def new_key(v11n, ref="Gen.1.1"):
    import Sword

    key = Sword.VerseKey()
    key.setVersificationSystem(v11n)
    key.setIntros(False)  # no book/chapter introductions (verse 0): verses only
    key.setText(ref)
    return key


def read_verses(mod):
    """OrderedDict OSIS ref -> rendered text of every verse of the module's versification, in
    Bible order (empty where the module has no text)."""
    key = new_key(mod.getConfigEntry("Versification"))
    verses = OrderedDict()
    while True:
        mod.setKey(key)
        ref = key.getOSISRef()
        try:
            verses[ref] = render_osis(mod.getRawEntry())
        except ValueError as e:
            sys.exit("make_bible: %s %s: %s" % (mod.getName(), ref, e))
        key.increment(1)
        if ord(key.popError()):
            return verses


def convert_refs(refs, src_v11n, dst_v11n):
    """{ref in src_v11n: ref in dst_v11n, or None where dst has no such verse}, by SWORD's
    versification mapping (VerseKey.positionFrom); a verse mapped onto a range is None too."""
    out = {}
    for ref in refs:
        dst = new_key(dst_v11n)  # a fresh key: a mapping onto a range leaves bounds set
        dst.positionFrom(new_key(src_v11n, ref))
        error = ord(dst.popError())
        out[ref] = None if error or dst.isBoundSet() else dst.getOSISRef()
    return out


# --- chapters whose verse divisions differ -------------------------------------------------------
def chapter_of(ref):
    return ref.rsplit(".", 1)[0]


def length_model(pairs):
    """(c, s2) of Gale and Church's length model over aligned pairs (en, es): es length ~ c * en
    length, with variance s2 per English character."""
    l1 = [len(en) for en, _ in pairs]
    l2 = [len(es) for _, es in pairs]
    c = sum(l2) / sum(l1)
    s2 = sum((b - c * a) ** 2 / a for a, b in zip(l1, l2)) / len(l1)
    return c, s2


def length_delta(en, es, c, s2):
    """Gale and Church's normalised length difference of a pair: about N(0, 1) when aligned."""
    a, b = len(en), len(es)
    return (b - c * a) / math.sqrt(s2 * (a + b / c) / 2)


def find_misaligned(refs, en, es):
    """The chapters whose verse divisions differ between the two modules: {chapter: why}.

    RV1909 keeps its own (Hebrew-style) verse divisions in a few chapters although the module
    declares KJV, and leaves the KJV verses it has no text for empty: Num.12.16 is empty
    because its text opens RV1909's chapter 13, shifting all of Num 13 by one verse; 2Sam.20.26
    is empty because its text ends 2Sam.20.25. So:
    - a chapter with a verse empty in Spanish but not in English is misaligned somewhere before
      that verse (where the merge is, the text would have to tell): dropped whole;
    - when the empty verses end their chapter, the next chapter of the book is tested for a
      shift: its Spanish verses against the English ones moved down by the number of empty
      verses, by the summed squared length differences (length_delta) over the chapter; when
      the shift fits better, that chapter is dropped too.
    A verse empty in English (the WEB omits Luke.17.36, Acts.8.37, ...) is only that verse."""
    chapters = list(OrderedDict((chapter_of(r), None) for r in refs))
    verses = OrderedDict((ch, []) for ch in chapters)
    for r in refs:
        verses[chapter_of(r)].append(r)
    merged = [ch for ch in chapters if any(en[r] and not es[r] for r in verses[ch])]
    ok = [(en[r], es[r]) for r in refs if en[r] and es[r] and chapter_of(r) not in merged]
    c, s2 = length_model(ok)
    why = OrderedDict((ch, "merged") for ch in merged)
    for ch in merged:
        k = 0
        while k < len(verses[ch]) and not es[verses[ch][-1 - k]] and en[verses[ch][-1 - k]]:
            k += 1
        nxt = chapters[chapters.index(ch) + 1] if ch != chapters[-1] else None
        if not k or nxt is None or nxt.split(".")[0] != ch.split(".")[0] or nxt in why:
            continue
        en_seq = [en[r] for r in verses[ch][-k:] + verses[nxt]]
        es_seq = [es[r] for r in verses[nxt]]
        cost = {}
        for shift in (0, k):
            pairs = [(en_seq[k - shift + i], t) for i, t in enumerate(es_seq)]
            cost[shift] = sum(length_delta(a, b, c, s2) ** 2 for a, b in pairs if a and b)
        if cost[k] < cost[0]:
            why[nxt] = "shifted"
    return why, (c, s2)


BIG_DELTA, BOUNDARY_DELTA, MAX_PER_CHAPTER = 5.0, 2.5, 3


def length_outliers(refs, en, es, c, s2):
    """{ref: why} of the pairs (refs: those left, in Bible order) whose lengths disagree, where a
    verse boundary differs without an empty verse to show it (Judg.14.19-20: RV1909 ends verse
    19 where the WEB's 18 ends) or one side has words the other lacks (RV1909's subscriptions
    after the epistles, "La primera á los Corintios fué enviada de Filipos...", the WEB's
    Rom.14.23 with the doxology of Rom.16.25-27):
    - |length_delta| > BIG_DELTA (5): "lengths differ";
    - two neighbours of one chapter with deltas of opposite signs, both beyond BOUNDARY_DELTA
      (2.5), the mark of a boundary moved between them: "boundary moved";
    - a chapter with MAX_PER_CHAPTER (3) or more of these: the whole chapter (1Kgs.22 and
      1Chr.21 are shifted over many verses), "chapter shifted"."""
    delta = {r: length_delta(en[r], es[r], c, s2) for r in refs}
    why = OrderedDict()
    for r in refs:
        if abs(delta[r]) > BIG_DELTA:
            why[r] = "lengths differ"
    for r1, r2 in zip(refs, refs[1:]):
        if chapter_of(r1) == chapter_of(r2) and delta[r1] * delta[r2] < 0 \
                and min(abs(delta[r1]), abs(delta[r2])) > BOUNDARY_DELTA:
            why.setdefault(r1, "boundary moved")
            why.setdefault(r2, "boundary moved")
    per_chapter = Counter(chapter_of(r) for r in why)
    for r in refs:
        if per_chapter[chapter_of(r)] >= MAX_PER_CHAPTER:
            why[r] = "chapter shifted"
    return why


# --- splitting and writing -----------------------------------------------------------------------
def split_hash(ref):
    return hashlib.sha1((SPLIT_SALT + ref).encode("utf-8")).hexdigest()


def split_refs(refs):
    """{split: set of refs}: sorted by split_hash, the first N_TEST test, next N_DEV dev."""
    ranked = sorted(refs, key=split_hash)
    return {"test": set(ranked[:N_TEST]), "dev": set(ranked[N_TEST:N_TEST + N_DEV]),
            "train": set(ranked[N_TEST + N_DEV:])}


def write_split(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for ref, en, es in rows:
            if not en or not es or any(ch in s for s in (ref, en, es) for ch in "\t\n\r"):
                raise ValueError("pair not flat: %r" % ref)
            f.write("%s\t%s\t%s\n" % (ref, en, es))
    os.replace(tmp, path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "corpora", "bible"),
                    help="output folder (data/corpora/bible)")
    ap.add_argument("--sword-path", default="/usr/share/sword/",
                    help="SWORD library folder, the packages' (%(default)s)")
    ap.add_argument("--verbose", action="store_true", help="list every dropped verse")
    args = ap.parse_args()
    try:
        import Sword
    except ImportError:
        sys.exit("make_bible: no Python module Sword (apt-get install %s)" % PACKAGES)

    mgr = Sword.SWMgr(args.sword_path)
    en_mod, es_mod = open_module(mgr, EN_MODULE), open_module(mgr, ES_MODULE)
    en_v11n, es_v11n = en_mod.getConfigEntry("Versification"), es_mod.getConfigEntry("Versification")
    en_own, es = read_verses(en_mod), read_verses(es_mod)

    dropped = OrderedDict()  # reason -> list of refs (English refs for English-only verses)
    en_to_es = convert_refs(en_own, en_v11n, es_v11n)
    es_books = set(r.split(".")[0] for r in es)
    en = {}
    for ref, text in en_own.items():
        target = en_to_es[ref]
        if target is None or target.split(".")[0] != ref.split(".")[0]:
            why = ("English only: book not in %s" % es_v11n if ref.split(".")[0] not in es_books
                   else "English only: verse not in %s" % es_v11n)
            dropped.setdefault(why, []).append(ref)
        elif target in en:
            sys.exit("make_bible: %s and another verse map onto %s %s" % (ref, es_v11n, target))
        else:
            en[target] = text
    refs = list(es)
    only_es = [r for r in refs if r not in en]
    for r in only_es:
        en[r] = ""
    dropped["Spanish only: verse not in %s" % en_v11n] = only_es
    bad_chapters, (c, s2) = find_misaligned(refs, en, es)
    dropped["both empty"] = [r for r in refs if r not in only_es and not en[r] and not es[r]]
    dropped["English empty"] = [r for r in refs if r not in only_es and not en[r] and es[r]]
    dropped["Spanish empty"] = [r for r in refs if en[r] and not es[r]]
    for kind, label in (("merged", "in a chapter with a merged Spanish verse"),
                        ("shifted", "in a chapter shifted by the Spanish verse divisions")):
        dropped[label] = [r for r in refs if en[r] and es[r]
                          and bad_chapters.get(chapter_of(r)) == kind]
    bad = set(r for r in refs if chapter_of(r) in bad_chapters)
    kept = [r for r in refs if en[r] and es[r] and r not in bad]
    outliers = length_outliers(kept, en, es, c, s2)
    for kind in ("lengths differ", "boundary moved", "chapter shifted"):
        dropped["length test: " + kind] = [r for r in kept if outliers.get(r) == kind]
    kept = [r for r in kept if r not in outliers]

    print("bible: %s (%s) %d verses, %s (%s) %d verses; %d pairs kept" % (
        EN_MODULE, en_v11n, len(en_own), ES_MODULE, es_v11n, len(es), len(kept)))
    print("dropped:")
    for why, rs in dropped.items():
        books = Counter(r.split(".")[0] for r in rs)
        if "book" in why:
            print("  %6d  %s (%d books: %s)" % (len(rs), why, len(books), " ".join(books)))
        else:
            print("  %6d  %s%s" % (len(rs), why, ": " + " ".join(rs) if len(rs) <= 8 else ""))
        if args.verbose and len(rs) > 8 and "book" not in why:
            print("          " + " ".join(rs))
    print("  (chapters: %s; length model c=%.3f s2=%.2f)" % (
        " ".join("%s %s" % kv for kv in bad_chapters.items()), c, s2))

    where = split_refs(kept)
    os.makedirs(args.out, exist_ok=True)
    for split in SPLITS:
        write_split(os.path.join(args.out, split + ".tsv"),
                    [(r, en[r], es[r]) for r in kept if r in where[split]])
    print("%-6s %6s" % ("split", "pairs"))
    for split in SPLITS:
        print("%-6s %6d" % (split, len(where[split])))
    print("%-6s %6d -> %s" % ("total", len(kept), args.out))


if __name__ == "__main__":
    main()
