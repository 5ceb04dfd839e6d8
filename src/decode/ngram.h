/* decode/ngram.h: an n-gram language model over label ids, for fusion into beam searches
 * (a character model over a recognizer's labels: tasks/asr_lm.c).
 *
 * Symbols are the ids 1..V-1 (0, a CTC blank, is never one) and the end of a sentence, V. A
 * sentence s_1..s_L is padded with order - 1 start symbols on the left (NLTK's pad_both_ends), and
 * every target s_1..s_L, end counts once in each of its contexts of length 0..order-1. The
 * estimate is interpolated Witten-Bell (Witten & Bell 1991; NLTK's WittenBellInterpolated):
 *     p(c | h) = (C(h c) + N1+(h .) p(c | h')) / (C(h) + N1+(h .))
 * with h' the context h less its oldest symbol, and below the empty context the uniform 1 / V over
 * the V symbols (where NLTK stops at the unigram's maximum likelihood, which gives unseen labels
 * probability 0). A context never seen passes its lower order through unchanged.
 *
 * Contexts are stored as 64-bit hashes of their symbols, as KenLM's probing tables store n-grams:
 * two different contexts share an entry with probability about n^2 / 2^65 for n contexts. */
#ifndef ATTN_DECODE_NGRAM_H
#define ATTN_DECODE_NGRAM_H

#include "attn/status.h"

typedef struct ngram ngram;

#define NGRAM_MAX_ORDER 16

/* A model of the given order (1..NGRAM_MAX_ORDER) over ids 1..V-1 (V >= 2), counting sentences
 * added with ngram_add until ngram_finish. Errors: ATTN_ERR_INVALID, ATTN_ERR_NOMEM. */
attn_status ngram_create(int order, int V, ngram **out);
/* Counts the sentence ids[0..n) (each in 1..V-1; n may be 0: an empty sentence, its end alone).
 * Errors: ATTN_ERR_INVALID (an id out of range, or after ngram_finish), ATTN_ERR_NOMEM. */
attn_status ngram_add(ngram *g, const int *ids, int n);
/* Builds the tables from the counts (no more sentences after it). ATTN_ERR_NOMEM. */
attn_status ngram_finish(ngram *g);
void ngram_free(ngram *g);

int ngram_order(const ngram *g);
long ngram_contexts(const ngram *g); /* distinct contexts seen, all lengths */

/* log p(c | history) for every symbol: out[c] for the ids c in 1..V-1, out[V] for the end, and
 * out[0] = -INFINITY; history[0..n) are the ids so far (the last order - 1 of them matter, start
 * symbols assumed before the first). Needs ngram_finish. */
void ngram_log_probs(const ngram *g, const int *history, int n, float *out);

#endif
