#!/usr/bin/python3
"""data/make_samples.py: the tiny committed samples under data/samples/<name>/ (data/README.md).

For each split of a built corpus (data/corpora/<name>/{train,dev,test}.tsv), keeps the --lines
lines with the smallest sha1("cls-sample-v1:" + line), in their original order: a deterministic,
label-blind choice that changes only where the corpus changes.

Usage: /usr/bin/python3 data/make_samples.py [--lines 40] NAME...   (e.g. debdesc fortunes bible)
"""
import argparse
import hashlib
import os

SPLITS = ("train", "dev", "test")


def sample_lines(lines, n):
    rank = sorted(range(len(lines)),
                  key=lambda i: hashlib.sha1(("cls-sample-v1:" + lines[i]).encode()).hexdigest())
    return [lines[i] for i in sorted(rank[:n])]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="+", help="corpus names under data/corpora/")
    ap.add_argument("--lines", type=int, default=40, help="lines per split (%(default)s)")
    args = ap.parse_args()
    for name in args.names:
        src, dst = os.path.join(here, "corpora", name), os.path.join(here, "samples", name)
        os.makedirs(dst, exist_ok=True)
        for split in SPLITS:
            with open(os.path.join(src, split + ".tsv"), encoding="utf-8") as f:
                lines = f.read().split("\n")[:-1]
            with open(os.path.join(dst, split + ".tsv"), "w", encoding="utf-8", newline="\n") as f:
                f.writelines(line + "\n" for line in sample_lines(lines, args.lines))
        print("%s: %d lines per split -> %s" % (name, args.lines, dst))


if __name__ == "__main__":
    main()
