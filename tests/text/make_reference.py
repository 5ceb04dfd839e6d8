#!/usr/bin/env python3
"""tests/text/make_reference.py: expected tokenisations for tests/text/test_reference.c, computed
by small Python implementations that share no code with src/text.

  * BPE training: the naive algorithm (recount every pair of every word after each merge) with the
    tie-breaking rule of docs/TOKENIZERS.md: the highest count, then the smallest (left id, right
    id); ids: 5 special tokens, byte b = 5 + b, then merged tokens in order (an existing string's
    id is reused). The C trainer is incremental (heap + pair index); both must learn the same
    merges.
  * BPE encoding: GPT-2's own loop (encoder.py: merge every occurrence of the lowest-ranked
    bigram), pre-tokenised with the `regex` module (not PCRE2).
  * WordPiece: BERT's BasicTokenizer + WordpieceTokenizer as in google-research/bert
    tokenization.py (unicodedata, not utf8proc).

  * A tokenizer.json laid out like GPT-2's own (byte tokens in bytes_to_unicode order with ids
    0..255, merged tokens after, "<|endoftext|>" as the last, added token; merges half as
    "a b" strings, half as ["a", "b"] pairs), to check loading of foreign files.

Writes fixtures/corpus.txt, fixtures/gpt2_style.json and fixtures/reference.json. Needs python3-regex (Debian).
Run from anywhere: python3 tests/text/make_reference.py
"""
import json
import os
import random
import unicodedata

import regex

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")
GPT2 = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
N_SPECIAL = 5


def make_corpus():
    rng = random.Random(1234)
    words = ("the of and to in is that it was for on are with as his they be at one have this "
             "from or had by word but what some we can out other were all there when up use your "
             "how said an each she which do their time if will way about many then them write "
             "would like so these her long make thing see him two has look more day could go come "
             "did number sound no most people my over know water than call first who may down "
             "side been now find any new work part take get place made live where after back "
             "little only round man year came show every good me give our under name very through "
             "just form sentence great think say help low line differ turn cause much mean before "
             "move right boy old too same tell does set three want air well also play small end "
             "put home read hand port large spell add even land here must big high such follow "
             "act why ask men change went light kind off need house picture try us again animal "
             "point mother world near build self earth father head stand own page should country "
             "found answer school grow study still learn plant cover food sun four between state "
             "keep eye never last let thought city tree cross farm hard start might story saw far "
             "sea draw left late run while press close night real life few north").split()
    extra = ["don't", "it's", "we're", "I've", "you'll", "she'd", "I'm", "café", "naïve", "Müller",
             "東京", "日本語", "Ελληνικά", "русский", "😀", "👍🏽", "e\u0301t\u00e9", "HELLO",
             "Über", "ÉCOLE", "façade", "2024", "3.14", "1,000", "$5", "#tag", "@user", "--",
             "...", "(x)", "a\tb", "x  y", "  ", "\n\n"]
    out = []
    for _ in range(2500):
        n = rng.randint(3, 12)
        sent = []
        for _ in range(n):
            r = rng.random()
            if r < 0.08:
                sent.append(rng.choice(extra))
            elif r < 0.12:
                sent.append(str(rng.randint(0, 99999)))
            else:
                w = rng.choice(words)
                sent.append(w.capitalize() if rng.random() < 0.1 else w)
        out.append(" ".join(sent) + rng.choice([".", "!", "?", ",", ";", ":"]))
        out.append(rng.choice([" ", " ", " ", "\n", "  "]))
    return "".join(out)


# ---- BPE ----------------------------------------------------------------------------------------
def train_bpe(text, vocab_size, min_frequency, lowercase):
    if lowercase:
        text = unicodedata.normalize("NFC", text).lower()
    counts = {}
    for piece in GPT2.findall(text):
        b = piece.encode("utf-8")
        if len(b) >= 2:
            counts[b] = counts.get(b, 0) + 1
    tokens = [b"[PAD]", b"[UNK]", b"[CLS]", b"[SEP]", b"[MASK]"] + [bytes([i]) for i in range(256)]
    ids = {t: i for i, t in enumerate(tokens)}
    words = [([N_SPECIAL + c for c in w], f) for w, f in counts.items()]
    merges = []
    while len(tokens) < vocab_size:
        pairs = {}
        for syms, f in words:
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + f
        pairs = {p: c for p, c in pairs.items() if c > 0}
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < min_frequency:
            break
        new = tokens[best[0]] + tokens[best[1]]
        if new not in ids:
            ids[new] = len(tokens)
            tokens.append(new)
        c = ids[new]
        merges.append(list(best))
        for k, (syms, f) in enumerate(words):
            out, i = [], 0
            while i < len(syms):
                if i + 1 < len(syms) and (syms[i], syms[i + 1]) == best:
                    out.append(c)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            words[k] = (out, f)
    return tokens, ids, merges


def gpt2_bpe(word, ranks):
    """GPT-2 encoder.py's bpe(), on tuples of byte strings."""
    word = tuple(bytes([b]) for b in word)
    while len(word) > 1:
        pairs = set(zip(word, word[1:]))
        bigram = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if bigram not in ranks:
            break
        first, second = bigram
        new, i = [], 0
        while i < len(word):
            try:
                j = word.index(first, i)
            except ValueError:
                new.extend(word[i:])
                break
            new.extend(word[i:j])
            i = j
            if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                new.append(first + second)
                i += 2
            else:
                new.append(word[i])
                i += 1
        word = tuple(new)
    return word


def encode_bpe(text, tokens, ids, merges, lowercase):
    if lowercase:
        text = unicodedata.normalize("NFC", text).lower()
    ranks = {}
    for r, (a, b) in enumerate(merges):
        ranks[(tokens[a], tokens[b])] = r
    out = []
    for piece in GPT2.findall(text):
        out.extend(ids[t] for t in gpt2_bpe(piece.encode("utf-8"), ranks))
    return out


BPE_CASES = [
    "the cat sat on the mat",
    "The quick brown fox, they said, would go far.",
    "don't stop: it's 2024 and we're here; I've seen 1,000 things",
    "   leading spaces and trailing   ",
    "tabs\tand\nnewlines\n\n  indented",
    "café naïve Müller Über ÉCOLE façade",
    "e\u0301te\u0301 combining marks",
    "東京 日本語 Ελληνικά русский",
    "emoji 😀👍🏽 and $5 #tag @user (x) -- ...",
    "numbers 3.14 1234567890 and 42nd",
    "unseenwordzzz qqq xylophone",
    "",
]

# ---- WordPiece ----------------------------------------------------------------------------------
WP_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick", "brown", "fox", "jump",
            "##s", "##ed", "##ing", "un", "##aff", "##able", "hello", "world", "cafe", "caf",
            "##e", ".", ",", "!", "?", "'", "-", "$", "(", ")", "你", "好", "世", "界", "a", "b",
            "c", "##a", "##b", "##c", "run", "##ner", "naive", "über", "uber", "don", "t", "s",
            "Hello", "World", "Café", "##é", "##ly", "quick", "over", "lazy", "dog", "1", "2",
            "##3", "=", "+", "~", "^", "`", "|", "<", ">", "x", "y", "z"]


def bert_tokenize(text, vocab, lower, max_chars=100):
    def is_ws(c):
        return c in " \t\n\r" or unicodedata.category(c) == "Zs"

    def is_ctrl(c):
        return c not in "\t\n\r" and unicodedata.category(c).startswith("C")

    def is_punc(c):
        cp = ord(c)
        if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
            return True
        return unicodedata.category(c).startswith("P")

    def is_cjk(cp):
        return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or
                0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or
                0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)

    text = "".join(" " if is_ws(c) else c for c in text
                   if not (ord(c) == 0 or ord(c) == 0xFFFD or is_ctrl(c)))
    text = "".join(" %s " % c if is_cjk(ord(c)) else c for c in text)
    words = []
    for tok in text.split():
        if lower:
            tok = tok.lower()
            tok = "".join(c for c in unicodedata.normalize("NFD", tok)
                          if unicodedata.category(c) != "Mn")
        cur = ""
        for c in tok:
            if is_punc(c):
                if cur:
                    words.append(cur)
                words.append(c)
                cur = ""
            else:
                cur += c
        if cur:
            words.append(cur)
    out = []
    for w in words:
        if len(w) > max_chars:
            out.append("[UNK]")
            continue
        start, subs = 0, []
        while start < len(w):
            end, cur = len(w), None
            while start < end:
                s = w[start:end]
                if start > 0:
                    s = "##" + s
                if s in vocab:
                    cur = s
                    break
                end -= 1
            if cur is None:
                subs = ["[UNK]"]
                break
            subs.append(cur)
            start = end
        out.extend(subs)
    return out


WP_CASES = [
    "Hello, World!",
    "The quick brown fox jumps over the lazy dog.",
    "unaffable jumping jumped runner",
    "Café über naïve",
    "你好世界",
    "hello你好world",
    "don't (a)b-c $1 2=3",
    "x+y<z>~^`|",
    "\tthe\u00a0fox\u3000jumps\r\n",
    "ctrl\u0000chars\u200bhere\ufffd",
    "abc" * 40,
    "qqqq unknownword",
    "",
]


def bytes_to_unicode():
    """GPT-2's encoder.py, verbatim in substance."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) +
          list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def gpt2_style(tokens, merges):
    """A GPT-2-like tokenizer.json from our trained byte tokens and merges."""
    b2u = bytes_to_unicode()
    shown = lambda t: "".join(b2u[b] for b in t)
    vocab = {b2u[b]: i for i, b in enumerate(b2u)}  # bytes_to_unicode order, as GPT-2
    json_merges = []
    for r, (a, b) in enumerate(merges[:150]):
        left, right = shown(tokens[a]), shown(tokens[b])
        if left + right not in vocab:
            vocab[left + right] = len(vocab)
        json_merges.append(f"{left} {right}" if r % 2 == 0 else [left, right])
    eot = len(vocab)
    vocab["<|endoftext|>"] = eot
    doc = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [{"id": eot, "content": "<|endoftext|>", "single_word": False,
                             "lstrip": False, "rstrip": False, "normalized": True,
                             "special": True}],
           "normalizer": None,
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                             "use_regex": True},
           "post_processor": {"type": "ByteLevel", "add_prefix_space": True,
                              "trim_offsets": False, "use_regex": True},
           "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                       "use_regex": True},
           "model": {"type": "BPE", "dropout": None, "unk_token": None,
                     "continuing_subword_prefix": "", "end_of_word_suffix": "",
                     "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                     "merges": json_merges}}
    ranks = {}
    for r, m in enumerate(json_merges):
        left, right = m.split(" ") if isinstance(m, str) else m
        ranks[(left, right)] = r
    cases = []
    for text in BPE_CASES:
        ids = []
        for piece in GPT2.findall(text):
            word = tuple(shown(bytes([b])) for b in piece.encode("utf-8"))
            word = gpt2_bpe_chars(word, ranks)
            ids.extend(vocab[t] for t in word)
        cases.append({"text": text, "ids": ids})
    return doc, cases


def gpt2_bpe_chars(word, ranks):
    """gpt2_bpe on tuples of strings (the shown characters)."""
    while len(word) > 1:
        pairs = set(zip(word, word[1:]))
        bigram = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if bigram not in ranks:
            break
        new, i = [], 0
        while i < len(word):
            if i < len(word) - 1 and (word[i], word[i + 1]) == bigram:
                new.append(word[i] + word[i + 1])
                i += 2
            else:
                new.append(word[i])
                i += 1
        word = tuple(new)
    return word


def main():
    corpus = make_corpus()
    with open(os.path.join(FIX, "corpus.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(corpus)
    ref = {"corpus": "corpus.txt", "bpe": []}
    for lowercase in (False, True):
        vocab_size, min_freq = 700, 2
        tokens, ids, merges = train_bpe(corpus, vocab_size, min_freq, lowercase)
        cases = [{"text": c, "ids": encode_bpe(c, tokens, ids, merges, lowercase)}
                 for c in BPE_CASES]
        ref["bpe"].append({"vocab_size": vocab_size, "min_frequency": min_freq,
                           "lowercase": lowercase, "n_tokens": len(tokens), "merges": merges,
                           "cases": cases})
        if not lowercase:
            doc, gcases = gpt2_style(tokens, merges)
            with open(os.path.join(FIX, "gpt2_style.json"), "w", encoding="utf-8") as f:
                json.dump(doc, f, ensure_ascii=False, indent=1)
                f.write("\n")
            ref["gpt2_style"] = {"file": "gpt2_style.json", "cases": gcases}
    vocab = {t: i for i, t in enumerate(dict.fromkeys(WP_VOCAB))}
    ref["wordpiece"] = {"vocab": list(vocab), "cases": []}
    for lower in (True, False):
        for c in WP_CASES:
            ref["wordpiece"]["cases"].append(
                {"text": c, "lowercase": lower, "tokens": bert_tokenize(c, vocab, lower)})
    with open(os.path.join(FIX, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=True, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
