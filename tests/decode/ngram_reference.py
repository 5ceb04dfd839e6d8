"""tests/decode/ngram_reference.py: reference log-probabilities for tests/decode/test_ngram.c from
NLTK's interpolated Witten-Bell language model (nltk.lm), printed as JSON.

Sentences of ids are drawn with a seeded random, skewed so that some ids and contexts are common
and some never occur. NLTK is fed exactly the n-grams decode/ngram.h counts: each target (an id, or
the end) once with each of its contexts of length 0..order-1 over the sentence padded on the left
with order-1 start symbols. Below the empty context NLTK's Witten-Bell stops at the unigram's
maximum likelihood; ours interpolates that with the uniform 1/V, so the unigram score is
overridden to do the same (the only change to NLTK's estimator)."""
import json
import math
import random
import sys

from nltk.lm.models import InterpolatedLanguageModel
from nltk.lm.smoothing import WittenBell

START, END = "<s>", "</s>"


def make_lm(order, V, sentences):
    class WittenBellUniform(WittenBell):
        def unigram_score(self, word):
            u = self.counts.unigrams
            n_plus = sum(1 for w in u if u[w] > 0)
            return (u[word] + n_plus / V) / (u.N() + n_plus)

    text = []
    for s in sentences:
        padded = [START] * (order - 1) + [str(x) for x in s] + [END]
        grams = []
        for j in range(order - 1, len(padded)):
            for k in range(order):
                grams.append(tuple(padded[j - k:j + 1]))
        text.append(grams)
    vocab = [str(i) for i in range(1, V)] + [START, END]
    lm = InterpolatedLanguageModel(WittenBellUniform, order)
    lm.fit(text, vocab)
    return lm


def main():
    rng = random.Random(7)
    cases = []
    for order, V, n in ((1, 5, 30), (2, 6, 40), (3, 8, 60), (5, 7, 80)):
        weights = [rng.random() ** 3 for _ in range(1, V)]
        weights[-1] = 0  # id V-1 never occurs
        sentences = [[rng.choices(range(1, V), weights)[0] for _ in range(rng.randint(0, 9))]
                     for _ in range(n)]
        lm = make_lm(order, V, sentences)
        queries = []
        for q in range(25):
            history = [rng.randint(1, V - 1) for _ in range(rng.randint(0, order + 1))]
            if q % 5 == 0 and sentences[q]:
                history = sentences[q][:rng.randint(0, len(sentences[q]))]  # a seen context
            padded = [START] * (order - 1) + [str(x) for x in history]
            ctx = tuple(padded[len(padded) - (order - 1):]) if order > 1 else None
            words = [str(c) for c in range(1, V)] + [END]
            logp = [math.log(lm.score(w, ctx)) for w in words]
            queries.append({"history": history, "logp": logp})
        cases.append({"order": order, "V": V, "sentences": sentences, "queries": queries})
    json.dump({"cases": cases}, sys.stdout)


if __name__ == "__main__":
    main()
