"""data/corpus_common.py: what every corpus script shares.

The split rule, the text flattening and the TSV writer are here so that every corpus under
data/corpora/ follows the same conventions (data/README.md):

- split: sha1("cls-split-v1:" + KEY) read as a hexadecimal integer, mod 10: 0 -> test, 1 -> dev,
  anything else -> train. KEY is chosen per corpus so that near-duplicates share a split.
- files: train.tsv, dev.tsv, test.tsv, one example per line, "label<TAB>text", UTF-8, "\\n" line
  ends, no header. Texts are flattened (no tabs or newlines), so the files need no quoting.

Python 3 standard library only.
"""
import hashlib
import os
import re
import sys
from collections import Counter

SPLITS = ("train", "dev", "test")
SPLIT_SALT = "cls-split-v1:"


def split_of(key):
    """The split ("train", "dev" or "test") of an example whose split key is `key` (a str)."""
    digest = hashlib.sha1((SPLIT_SALT + key).encode("utf-8")).hexdigest()
    bucket = int(digest, 16) % 10
    if bucket == 0:
        return "test"
    if bucket == 1:
        return "dev"
    return "train"


_WHITESPACE = re.compile(r"\s+")


def collapse_whitespace(text):
    """Every run of whitespace (spaces, tabs, newlines, ...) becomes one space; ends trimmed."""
    return _WHITESPACE.sub(" ", text).strip()


def write_corpus(out_dir, examples, name):
    """Writes examples, a list of (label, text, key), to out_dir/{train,dev,test}.tsv in the
    order given, and prints the class counts of each split. Returns {split: Counter(label)}."""
    os.makedirs(out_dir, exist_ok=True)
    rows = {s: [] for s in SPLITS}
    for label, text, key in examples:
        if "\t" in label or "\n" in label or "\t" in text or "\n" in text or not text:
            raise ValueError("example not flat: %r %r" % (label, text[:80]))
        rows[split_of(key)].append((label, text))
    counts = {}
    for s in SPLITS:
        path = os.path.join(out_dir, s + ".tsv")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for label, text in rows[s]:
                f.write(label + "\t" + text + "\n")
        os.replace(tmp, path)
        counts[s] = Counter(label for label, _ in rows[s])
    print_counts(name, counts, out_dir)
    return counts


def print_counts(name, counts, out_dir):
    """Prints a table: one row per class (largest first), one column per split, and totals."""
    total = Counter()
    for s in SPLITS:
        total.update(counts[s])
    labels = sorted(total, key=lambda c: (-total[c], c))
    n = sum(total.values())
    print("%s: %d examples, %d classes -> %s" % (name, n, len(labels), out_dir))
    width = max([len("class")] + [len(c) for c in labels])
    print("%-*s %7s %7s %7s %7s %6s" % (width, "class", "train", "dev", "test", "total", "share"))
    for c in labels:
        print("%-*s %7d %7d %7d %7d %5.1f%%" % (width, c, counts["train"][c], counts["dev"][c],
                                                 counts["test"][c], total[c], 100.0 * total[c] / n))
    print("%-*s %7d %7d %7d %7d" % (width, "total", sum(counts["train"].values()),
                                     sum(counts["dev"].values()), sum(counts["test"].values()), n))
    sys.stdout.flush()


def drop_duplicated_texts(examples):
    """Removes every copy of any text occurring more than once (whatever its labels): a text seen
    twice cannot be kept without either leaking across splits or carrying two labels.
    examples: list of (label, text, key). Returns (kept, number of texts dropped)."""
    seen = Counter(text for _, text, _ in examples)
    kept = [e for e in examples if seen[e[1]] == 1]
    return kept, sum(1 for c in seen.values() if c > 1)
