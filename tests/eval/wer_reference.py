#!/usr/bin/python3
"""tests/eval/wer_reference.py: reference numbers for tests/eval/test_wer.c.

Prints one JSON object {"cases": [...]}: 40 deterministic corpora of 1 to 12 sentence pairs, each
reference a line of words from a small vocabulary (accented and CJK words, numbers, punctuation
attached) and each hypothesis that line with random substitutions, deletions and insertions and
its white space varied (tabs, runs, U+3000, U+00A0, leading and trailing). For each pair and
each of words (str.split()) and characters (" ".join(s.split()), as code points):
  - the Levenshtein distance, from the textbook dynamic programme written here;
  - the lengths;
  - "s_options": the substitution counts S that some alignment of least cost has
    (S + D + I = distance and I - D = len(hyp) - len(ref) fix D and I given S): the test checks
    that the alignment attn reports is one of them.
No third-party package: the whole reference is this file.
"""
import json
import random


def distance_and_options(h, r):
    """Edit distance of token lists, and the bit mask of S over the least-cost alignments."""
    R, H = len(r), len(h)
    cost = [[0] * (H + 1) for _ in range(R + 1)]
    opts = [[0] * (H + 1) for _ in range(R + 1)]
    for i in range(R + 1):
        cost[i][0], opts[i][0] = i, 1  # deletions only: S = 0
    for j in range(H + 1):
        cost[0][j], opts[0][j] = j, 1
    for i in range(1, R + 1):
        for j in range(1, H + 1):
            sub = r[i - 1] != h[j - 1]
            moves = ((cost[i - 1][j - 1] + sub, opts[i - 1][j - 1] << sub),
                     (cost[i - 1][j] + 1, opts[i - 1][j]),
                     (cost[i][j - 1] + 1, opts[i][j - 1]))
            best = min(c for c, _ in moves)
            cost[i][j] = best
            opts[i][j] = 0
            for c, o in moves:
                if c == best:
                    opts[i][j] |= o
    return cost[R][H], opts[R][H]


VOCAB = ("the a cat sat on mat dog ran to park and then it was late café naïve über 日本 東京 "
         "1999 3.14 don't e-mail well, yes. no! über-fast").split()
SPACES = [" ", " ", " ", "  ", "\t", "\u3000", "\u00a0", " \n "]

rng = random.Random(9)


def reference_line():
    return [rng.choice(VOCAB) for _ in range(rng.randint(0, 14))]


def corrupt(words):
    out = []
    for w in words:
        x = rng.random()
        if x < 0.1:
            continue  # deletion
        if x < 0.2:
            out.append(rng.choice(VOCAB))  # substitution (or a match by chance)
        elif x < 0.25:
            out.append(w[:-1] + "x")  # a character changed
        else:
            out.append(w)
        if rng.random() < 0.08:
            out.append(rng.choice(VOCAB))  # insertion
    return out


def join(words):
    s = "".join(w + rng.choice(SPACES) for w in words)
    if rng.random() < 0.3:
        s = rng.choice(SPACES) + s
    return s if rng.random() < 0.5 else s.rstrip()


cases = []
for c in range(40):
    pairs = []
    for _ in range(rng.randint(1, 12)):
        ref = reference_line()
        hyp = corrupt(ref) if rng.random() < 0.9 else []
        pairs.append((join(hyp), join(ref)))
    case = {"hyps": [h for h, _ in pairs], "refs": [r for _, r in pairs], "words": [], "chars": []}
    for h, r in pairs:
        for kind, split in (("words", lambda s: s.split()), ("chars", lambda s: list(" ".join(s.split())))):
            hs, rs = split(h), split(r)
            d, o = distance_and_options(hs, rs)
            options = [k for k in range(o.bit_length()) if o >> k & 1]
            case[kind].append({"distance": d, "hyp_len": len(hs), "ref_len": len(rs), "s_options": options})
    cases.append(case)
print(json.dumps({"cases": cases}, ensure_ascii=False))
