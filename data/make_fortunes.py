#!/usr/bin/python3
"""data/make_fortunes.py: the "fortunes" topic-classification corpus (data/README.md).

Reads the fortune-cookie files of the Debian packages fortunes and fortunes-min (installed under
/usr/share/games/fortunes/) and writes train/dev/test.tsv with lines "category<TAB>text".

- A category is a data file, named by its file name. Index files (*.dat) and the *.u8 links
  (symlinks to the same data in Debian 12) are skipped, and so are sub-folders (the offensive
  "off/" set of fortunes-off is not used even when installed).
- Entries are separated by lines holding only "%". Overstrikes (text + backspaces, e.g. underlined
  words "___\\b\\b\\bwas") are rendered as a terminal would show them; then every run of
  whitespace becomes one space. Empty entries are dropped.
- A text occurring more than once (in one file or in two) is dropped, every copy of it.
- Categories with fewer than --min-count (100) entries left are dropped.
- Split key: the text itself.

Usage: /usr/bin/python3 data/make_fortunes.py [--src DIR] [--out DIR] [--min-count N]
Python 3 standard library only; deterministic (same input files -> byte-identical output).
"""
import argparse
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_common import collapse_whitespace, drop_duplicated_texts, write_corpus  # noqa: E402

DEFAULT_SRC = "/usr/share/games/fortunes"


def render_overstrike(line):
    """What a terminal shows for a line typed with backspaces: each backspace moves the cursor
    left, a character overwrites the one under the cursor, except that an underscore over a
    character (or a character over an underscore) keeps the character (underlining)."""
    if "\b" not in line:
        return line
    cells = []
    pos = 0
    for ch in line:
        if ch == "\b":
            pos = max(0, pos - 1)
            continue
        if pos < len(cells):
            if ch != "_":
                cells[pos] = ch
        else:
            cells.append(ch)
        pos += 1
    return "".join(cells)


def read_entries(path):
    """The entries of one fortune file: lists of lines between lines holding only '%'."""
    with open(path, "rb") as f:
        raw = f.read()
    # Debian 12's files are UTF-8 (a few are ASCII with overstrikes); decode leniently anyway.
    text = raw.decode("utf-8", errors="replace")
    entries, current = [], []
    for line in text.split("\n"):
        if line.rstrip("\r") == "%":
            entries.append(current)
            current = []
        else:
            current.append(render_overstrike(line))
    entries.append(current)
    return entries


def category_files(src):
    """(category, path) of every data file in src, sorted by name."""
    out = []
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if name.endswith(".dat") or name.endswith(".u8") or name.startswith("."):
            continue
        if not os.path.isfile(path):
            continue  # sub-folders such as off/ (offensive fortunes) are not used
        out.append((name, path))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=DEFAULT_SRC, help="fortune files folder (%(default)s)")
    ap.add_argument("--out", default=os.path.join(here, "corpora", "fortunes"),
                    help="output folder (data/corpora/fortunes)")
    ap.add_argument("--min-count", type=int, default=100,
                    help="drop categories with fewer entries (%(default)s)")
    args = ap.parse_args()

    files = category_files(args.src)
    if not files:
        sys.exit("make_fortunes: no fortune files in %s (apt-get install fortunes fortunes-min)"
                 % args.src)
    examples = []
    for category, path in files:
        for lines in read_entries(path):
            text = collapse_whitespace("\n".join(lines))
            if text:
                examples.append((category, text, text))
    n_read = len(examples)
    examples, n_dup = drop_duplicated_texts(examples)
    per_class = Counter(label for label, _, _ in examples)
    small = sorted(c for c, n in per_class.items() if n < args.min_count)
    examples = [e for e in examples if per_class[e[0]] >= args.min_count]
    print("fortunes: %d files, %d entries read, %d texts occurring more than once dropped "
          "(%d entries left), %d categories under %d dropped: %s"
          % (len(files), n_read, n_dup, sum(per_class.values()), len(small), args.min_count,
             " ".join(small) or "-"))
    write_corpus(args.out, examples, "fortunes")


if __name__ == "__main__":
    main()
