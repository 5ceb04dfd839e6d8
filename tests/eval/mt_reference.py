#!/usr/bin/python3
"""tests/eval/mt_reference.py: reference numbers for tests/eval/test_mt_reference.c.

Prints one JSON object: deterministic corpora (hypotheses, references) of varied text and, for
each, what independent implementations say:
  - tokens: the mteval-v13a / sacreBLEU "13a" rules written here with Python's re (our own
    transcription of the rules, not sacreBLEU's code);
  - BLEU: NLTK's corpus_bleu (Debian python3-nltk, default weights, no smoothing) on those tokens,
    and its clipped counts / totals (modified_precision summed over the corpus). NLTK agrees with
    sacreBLEU (BLEU = 100 * NLTK's) where every order has a match and every hypothesis has at
    least 4 tokens (NLTK's denominator is max(1, n-grams) per sentence), so the corpora are
    drawn until 40 such are found; empty hypotheses are tested by hand in test_mt_metrics.c;
  - chrF: written here from Popovic (2015) with sacreBLEU's corpus aggregation (sums of the
    n-gram statistics over the sentences, P and R averaged over the orders with hypothesis and
    reference n-grams, then F with beta = 2).
Exits 77 (the test's "skip") when NLTK is missing.
"""
import json
import random
import re
import sys
from collections import Counter

try:
    from nltk.translate.bleu_score import corpus_bleu, modified_precision
except ImportError:
    sys.exit(77)

# ---- 13a, from the rules ----------------------------------------------------------------------
PUNCT = re.compile(r"([{|}~\[\\\]^_`!\"#$%&()*+:;<=>?@/ ])")


def tok13a(line):
    line = line.rstrip()
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    for a, b in (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
        line = line.replace(a, b)
    line = PUNCT.sub(r" \1 ", " " + line + " ")
    line = re.sub(r"([^0-9])([.,])", r"\1 \2 ", line)
    line = re.sub(r"([.,])([^0-9])", r" \1 \2", line)
    line = re.sub(r"([0-9])(-)", r"\1 \2 ", line)
    return " ".join(line.split())


# ---- chrF, from the paper + sacreBLEU's aggregation ------------------------------------------
def char_ngrams(s, n):
    return Counter(s[i : i + n] for i in range(len(s) - n + 1))


def chrf_stats(hyp, ref):
    hyp, ref = "".join(hyp.split()), "".join(ref.split())
    out = []
    for n in range(1, 7):
        h, r = char_ngrams(hyp, n), char_ngrams(ref, n)
        match = sum((h & r).values())
        out.append((sum(h.values()) if r else 0, sum(r.values()), match))
    return out


def corpus_chrf(hyps, refs):
    tot = [[0, 0, 0] for _ in range(6)]
    for h, r in zip(hyps, refs):
        for n, st in enumerate(chrf_stats(h, r)):
            for j in range(3):
                tot[n][j] += st[j]
    precs = [m / h for h, r, m in tot if h > 0 and r > 0]
    recs = [m / r for h, r, m in tot if h > 0 and r > 0]
    p = sum(precs) / len(precs) if precs else 0.0
    r = sum(recs) / len(recs) if recs else 0.0
    f = 100 * 5 * p * r / (4 * p + r) if p + r > 0 else 0.0
    return {"score": f, "hyp": [t[0] for t in tot], "ref": [t[1] for t in tot],
            "match": [t[2] for t in tot]}


# ---- the corpora ------------------------------------------------------------------------------
WORDS = ("the a cat dog sat on mat house river el niño está en la montaña señor "
         "über straße café naïve résumé año corazón pingüino ¿qué? ¡sí! "
         "3.14 1,000 10-20 2-3 U.S. e.g. (see) [note] \"quoted\" 'single' rock'n'roll "
         "well-known x-ray a.m. p.m. end. yes, no; maybe: why? wow! 50% $5 a/b "
         "&quot;hi&quot; &amp; &lt;tag&gt; <skipped> 1.5-2.5 state-of-the-art — – … « » "
         "3,5 7.0. ,start .5 5. x,y 12-13-14 -5 ok-").split()
SPACES = [" ", " ", " ", " ", "  ", "\t", "\u00a0", "\u2009", "\u3000"]


def sentence(rng, k):
    words = [rng.choice(WORDS) for _ in range(k)]
    return "".join(w + rng.choice(SPACES) for w in words).strip(" ")


def noisy(rng, s):
    words = s.split()
    out = []
    for w in words:
        x = rng.random()
        if x < 0.08:
            continue
        if x < 0.16:
            out.append(rng.choice(WORDS))
        elif x < 0.2:
            out += [w, rng.choice(WORDS)]
        else:
            out.append(w)
    if len(out) > 3 and rng.random() < 0.3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


def main():
    rng = random.Random(20240817)
    cases = []
    while len(cases) < 40:
        n = rng.choice([1, 2, 3, 5, 8, 12, 20])
        refs = [sentence(rng, rng.randint(4, 30)) for _ in range(n)]
        hyps = [noisy(rng, r) for r in refs]
        if rng.random() < 0.2:  # an empty reference
            refs[rng.randrange(n)] = ""
        ht, rt = [tok13a(h) for h in hyps], [tok13a(r) for r in refs]
        hl, rl = [t.split() for t in ht], [[t.split()] for t in rt]
        counts, totals = [], []
        for k in range(1, 5):
            num = den = 0
            for h, r in zip(hl, rl):
                p = modified_precision(r, h, k)
                num, den = num + p.numerator, den + p.denominator
            counts.append(num)
            totals.append(den)
        if min(counts) == 0 or min(len(h) for h in hl) < 4:  # where NLTK differs: not a case
            continue
        nltk_bleu = corpus_bleu(rl, hl)
        cases.append({"hyps": hyps, "refs": refs, "hyp_tokens": ht, "ref_tokens": rt,
                      "nltk_bleu": nltk_bleu, "counts": counts, "totals": totals,
                      "sys_len": sum(len(h) for h in hl),
                      "chrf": corpus_chrf(hyps, refs)})
    json.dump({"cases": cases}, sys.stdout, ensure_ascii=False)


main()
