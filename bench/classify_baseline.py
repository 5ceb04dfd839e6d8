#!/usr/bin/python3
"""bench/classify_baseline.py: the classical baselines for a text-classification corpus.

TF-IDF (word 1- and 2-grams, sublinear tf, min_df 2) + LogisticRegression (liblinear, one-vs-rest),
with C picked on dev over a small grid, then refit on train and scored on test; and the majority
class of train. Reads CORPUS/{train,dev,test}.tsv ("label<TAB>text", data/README.md) and prints
one JSON line: test accuracy and macro-F1 of both baselines, the chosen C, the wall time.

Run with /usr/bin/python3 (Debian's python3-sklearn):
    /usr/bin/python3 bench/classify_baseline.py data/corpora/debdesc
"""
import argparse
import json
import os
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score


def read_tsv(path):
    labels, texts = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            label, sep, text = line.rstrip("\n").partition("\t")
            if not sep:
                sys.exit("%s:%d: no tab" % (path, n))
            labels.append(label)
            texts.append(text)
    return labels, texts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", help="folder with train.tsv, dev.tsv, test.tsv")
    ap.add_argument("--grid", default="1,3,10,30,100", help="values of C tried on dev (%(default)s)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    data = {s: read_tsv(os.path.join(args.corpus, s + ".tsv")) for s in ("train", "dev", "test")}
    y_train, x_train = data["train"]
    y_dev, x_dev = data["dev"]
    y_test, x_test = data["test"]

    # Majority class of train, predicted for every test example.
    majority = max(sorted(set(y_train)), key=y_train.count)
    maj_pred = [majority] * len(y_test)

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    f_train = vec.fit_transform(x_train)
    f_dev, f_test = vec.transform(x_dev), vec.transform(x_test)

    dev_scores = {}
    for c in [float(v) for v in args.grid.split(",")]:
        clf = LogisticRegression(C=c, solver="liblinear", max_iter=1000)
        clf.fit(f_train, y_train)
        dev_scores[c] = accuracy_score(y_dev, clf.predict(f_dev))
    best_c = max(sorted(dev_scores), key=lambda c: dev_scores[c])
    clf = LogisticRegression(C=best_c, solver="liblinear", max_iter=1000).fit(f_train, y_train)
    pred = clf.predict(f_test)

    print(json.dumps({
        "corpus": os.path.basename(os.path.normpath(args.corpus)),
        "n_train": len(y_train), "n_dev": len(y_dev), "n_test": len(y_test),
        "n_classes": len(set(y_train)), "n_features": f_train.shape[1],
        "tfidf_lr_test_accuracy": round(100 * accuracy_score(y_test, pred), 2),
        "tfidf_lr_test_macro_f1": round(100 * f1_score(y_test, pred, average="macro",
                                                       zero_division=0), 2),
        "C": best_c, "dev_accuracy_by_C": {str(c): round(100 * a, 2)
                                           for c, a in dev_scores.items()},
        "majority_class": majority,
        "majority_test_accuracy": round(100 * accuracy_score(y_test, maj_pred), 2),
        "majority_test_macro_f1": round(100 * f1_score(y_test, maj_pred, average="macro",
                                                       zero_division=0), 2),
        "wall_s": round(time.perf_counter() - t0, 1),
    }))


if __name__ == "__main__":
    main()
