#!/usr/bin/python3
"""bench/wer.py: word and character error rates of hypotheses against references.

Usage: /usr/bin/python3 bench/wer.py REF.tsv HYP.tsv [--name NAME] [--json]
  REF.tsv: "id<TAB>reference" lines; HYP.tsv: "id<TAB>hypothesis" lines (a missing id or an
  empty hypothesis counts as all deletions). Both sides are normalised (normalise): lower case,
  digits written as words one by one ("42" -> "four two"), everything but a-z and inner
  apostrophes becomes a space.

WER = (S + D + I) / N over words, summed over the utterances (not a mean of per-utterance
rates); CER the same over the characters of the normalised text, single spaces between words
included. S, D, I: the substitutions, deletions and insertions of one minimum-edit alignment
(Levenshtein, unit costs; among the alignments of minimum cost, the one with most
substitutions, so that S, D, I are well defined). Python 3 standard library only.
"""
import json
import re
import sys

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_NOT_LETTER = re.compile(r"[^a-z']+")


def normalise(text):
    """The words of text: lower case, each digit a word, a-z and inner apostrophes only."""
    text = re.sub(r"[0-9]", lambda m: " %s " % DIGIT_WORDS[int(m.group(0))], text.lower())
    text = text.replace("\u2019", "'")
    words = (w.strip("'") for w in _NOT_LETTER.sub(" ", text).split())
    return [w for w in words if w]


def edit_counts(ref, hyp):
    """(S, D, I) of a minimum-cost alignment of the sequences ref and hyp (unit costs); among
    the cheapest, the one with most substitutions. O(len(ref) * len(hyp))."""
    # cell = (cost, -S, D, I); tuples compare cost first, then prefer more substitutions
    prev = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i in range(1, len(ref) + 1):
        cur = [(i, 0, i, 0)]
        for j in range(1, len(hyp) + 1):
            c, s, d, n = prev[j - 1]
            same = ref[i - 1] == hyp[j - 1]
            best = (c, s, d, n) if same else (c + 1, s - 1, d, n)
            c, s, d, n = prev[j]
            best = min(best, (c + 1, s, d + 1, n))
            c, s, d, n = cur[j - 1]
            best = min(best, (c + 1, s, d, n + 1))
            cur.append(best)
        prev = cur
    _, s, d, n = prev[-1]
    return -s, d, n


def score(refs, hyps):
    """refs, hyps: {id: text}. Returns a dict of counts and rates over the ids of refs."""
    tot = {"utterances": 0, "words": 0, "chars": 0, "ws": 0, "wd": 0, "wi": 0, "cs": 0, "cd": 0,
           "ci": 0, "sentences_wrong": 0}
    for uid, ref_text in refs.items():
        r, h = normalise(ref_text), normalise(hyps.get(uid, ""))
        s, d, i = edit_counts(r, h)
        cs, cd, ci = edit_counts(" ".join(r), " ".join(h))
        tot["utterances"] += 1
        tot["words"] += len(r)
        tot["chars"] += len(" ".join(r))
        for k, v in zip(("ws", "wd", "wi", "cs", "cd", "ci"), (s, d, i, cs, cd, ci)):
            tot[k] += v
        tot["sentences_wrong"] += r != h
    tot["wer"] = 100.0 * (tot["ws"] + tot["wd"] + tot["wi"]) / max(tot["words"], 1)
    tot["cer"] = 100.0 * (tot["cs"] + tot["cd"] + tot["ci"]) / max(tot["chars"], 1)
    tot["ser"] = 100.0 * tot["sentences_wrong"] / max(tot["utterances"], 1)
    return tot


def read_tsv(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            uid, _, text = line.rstrip("\n").partition("\t")
            out[uid] = text
    return out


def self_test():
    assert edit_counts("a b c".split(), "a b c".split()) == (0, 0, 0)
    assert edit_counts("a b c".split(), "a x c".split()) == (1, 0, 0)
    assert edit_counts("a b c".split(), "a c".split()) == (0, 1, 0)
    assert edit_counts("a b".split(), "a b c d".split()) == (0, 0, 2)
    assert edit_counts([], "a".split()) == (0, 0, 1)
    assert edit_counts("a".split(), []) == (0, 1, 0)
    assert edit_counts(list("kitten"), list("sitting")) == (2, 0, 1)
    assert normalise("Paid 2 four, O'Brien's 'x' 10") == \
        ["paid", "two", "four", "o'brien's", "x", "one", "zero"]
    t = score({"u1": "one two three", "u2": "four five"}, {"u1": "one to three four"})
    assert (t["ws"], t["wd"], t["wi"], t["words"]) == (1, 2, 1, 5), t
    assert abs(t["wer"] - 80.0) < 1e-9


def main():
    args = sys.argv[1:]
    if args == ["--self-test"]:
        self_test()
        print("wer.py: self-test ok")
        return
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    name = ""
    if "--name" in args:
        k = args.index("--name")
        name = args[k + 1]
        del args[k:k + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    t = score(read_tsv(args[0]), read_tsv(args[1]))
    if as_json:
        print(json.dumps(dict(t, name=name), sort_keys=True))
    else:
        print("%-28s %5d utts %6d words  WER %5.1f%% (S %d D %d I %d)  CER %5.1f%%  SER %5.1f%%" % (
            name, t["utterances"], t["words"], t["wer"], t["ws"], t["wd"], t["wi"], t["cer"], t["ser"]))


if __name__ == "__main__":
    main()
