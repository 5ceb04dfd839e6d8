/* eval/chrf.c: corpus chrF as sacreBLEU computes it by default (include/attn/metrics.h).
 *
 * A line loses its white space (Python's str.split() notion of it); its character n-grams are
 * spans of the remaining bytes that start and end on code points, so equal n-grams are equal
 * bytes. Each order's n-grams are sorted and counted by binary search. */
#include "attn/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/mt_text.h"

/* One line without white space and its character n-grams of every order, each order sorted. */
typedef struct {
    char *chars;                     /* the line's bytes, white space removed */
    mt_span *grams;                  /* all n-grams, order after order */
    mt_span *order[ATTN_CHRF_ORDER]; /* order[k]: the (k + 1)-grams, into grams */
    size_t n_order[ATTN_CHRF_ORDER]; /* their number: max(0, code points - k) */
} chrf_line;

static void line_free(chrf_line *l) {
    free(l->chars);
    free(l->grams);
    memset(l, 0, sizeof *l);
}

/* Removes the white space of s and lists its n-grams; `what` names s in errors. */
static attn_status line_make(const char *s, const char *what, chrf_line *l) {
    memset(l, 0, sizeof *l);
    size_t len = strlen(s);
    attn_status st = mt_utf8_check(s, len, what);
    if (st != ATTN_OK) return st;
    l->chars = malloc(len + 1);
    size_t *starts = malloc((len + 1) * sizeof *starts); /* of each code point kept, then the end */
    l->grams = malloc((ATTN_CHRF_ORDER * len + 1) * sizeof *l->grams);
    if (!l->chars || !starts || !l->grams) {
        free(starts);
        line_free(l);
        return attn_error(ATTN_ERR_NOMEM, "chrf: %s of %zu bytes", what, len);
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t w = 0, n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int k = mt_utf8_next(u + i, len - i, &cp);
        if (!mt_is_space(cp)) {
            starts[n++] = w;
            memcpy(l->chars + w, s + i, (size_t)k);
            w += (size_t)k;
        }
        i += (size_t)k;
    }
    starts[n] = w;
    mt_span *g = l->grams;
    for (size_t k = 0; k < ATTN_CHRF_ORDER; k++) {
        l->order[k] = g;
        for (size_t i = 0; i + k < n; i++)
            *g++ = (mt_span){l->chars + starts[i], starts[i + k + 1] - starts[i]};
        l->n_order[k] = (size_t)(g - l->order[k]);
        mt_spans_sort(l->order[k], l->n_order[k]);
    }
    free(starts);
    return ATTN_OK;
}

/* The statistics of hypothesis h against reference r, into one sentence's sums *c. */
static void sentence_stats(const chrf_line *h, const chrf_line *r, attn_chrf *c) {
    memset(c, 0, sizeof *c);
    for (int k = 0; k < ATTN_CHRF_ORDER; k++) {
        const mt_span *ref = r->order[k];
        size_t n_ref = r->n_order[k];
        /* sacreBLEU counts a hypothesis's n-grams only where the reference has some */
        c->hyp[k] = n_ref ? (long)h->n_order[k] : 0;
        c->ref[k] = (long)n_ref;
        c->match[k] = mt_spans_clipped(h->order[k], h->n_order[k], &ref, &n_ref, 1);
    }
}

/* One sentence: the statistics against the reference with the best chrF (the first on a tie). */
static attn_status add_sentence(attn_chrf *acc, const char *hyp, const char *const *refs,
                                int n_refs) {
    chrf_line h, r;
    ATTN_TRY(line_make(hyp, "hypothesis", &h));
    attn_chrf best = {0}, one;
    double best_f = -1.0;
    attn_status st = ATTN_OK;
    for (int i = 0; i < n_refs && st == ATTN_OK; i++) {
        char what[32];
        snprintf(what, sizeof what, "reference %d", i);
        if ((st = line_make(refs[i], what, &r)) != ATTN_OK) break;
        sentence_stats(&h, &r, &one);
        line_free(&r);
        attn_chrf_score(&one);
        if (one.score > best_f) best_f = one.score, best = one;
    }
    line_free(&h);
    if (st != ATTN_OK) return st;
    for (int k = 0; k < ATTN_CHRF_ORDER; k++) {
        acc->hyp[k] += best.hyp[k];
        acc->ref[k] += best.ref[k];
        acc->match[k] += best.match[k];
    }
    acc->n_sentences++;
    return ATTN_OK;
}

attn_status attn_chrf_add(attn_chrf *acc, const char *hyp, const char *const *refs, int n_refs) {
    if (!acc || !hyp) return attn_error(ATTN_ERR_INVALID, "chrf: NULL statistics or hypothesis");
    if (!refs || n_refs < 1) return attn_error(ATTN_ERR_INVALID, "chrf: no reference");
    const char **given = malloc((size_t)n_refs * sizeof *given);
    if (!given) return attn_error(ATTN_ERR_NOMEM, "chrf: %d references", n_refs);
    int n = 0;
    for (int i = 0; i < n_refs; i++)
        if (refs[i]) given[n++] = refs[i];
    attn_status st = n ? add_sentence(acc, hyp, given, n)
                       : attn_error(ATTN_ERR_INVALID, "chrf: every reference is NULL");
    free(given);
    return st;
}

attn_status attn_chrf_score(attn_chrf *c) {
    if (!c) return attn_error(ATTN_ERR_INVALID, "chrf: NULL statistics");
    const double factor = 4.0; /* beta^2, beta = 2 */
    double avg_prec = 0.0, avg_rec = 0.0;
    int effective = 0;
    for (int k = 0; k < ATTN_CHRF_ORDER; k++) {
        if (c->hyp[k] < 0 || c->ref[k] < 0 || c->match[k] < 0)
            return attn_error(ATTN_ERR_INVALID, "chrf: negative %d-gram counts", k + 1);
        if (c->hyp[k] > 0 && c->ref[k] > 0) {
            avg_prec += (double)c->match[k] / (double)c->hyp[k];
            avg_rec += (double)c->match[k] / (double)c->ref[k];
            effective++;
        }
    }
    /* sacreBLEU's _compute_f_score without eps smoothing (its default), in its order. */
    if (effective > 0) avg_prec /= effective, avg_rec /= effective;
    c->effective_order = effective;
    c->precision = 100.0 * avg_prec;
    c->recall = 100.0 * avg_rec;
    c->score = 0.0;
    if (avg_prec + avg_rec != 0.0) {
        double score = (1.0 + factor) * avg_prec * avg_rec;
        score /= factor * avg_prec + avg_rec;
        c->score = 100.0 * score;
    }
    return ATTN_OK;
}

attn_status attn_corpus_chrf(const char *const *hyps, const char *const *refs, long n,
                             attn_chrf *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "corpus chrf: out is NULL");
    memset(out, 0, sizeof *out);
    if (n < 1) return attn_error(ATTN_ERR_INVALID, "corpus chrf: no sentences (n = %ld)", n);
    if (!hyps || !refs) return attn_error(ATTN_ERR_INVALID, "corpus chrf: NULL sentences");
    attn_chrf acc = {0};
    for (long i = 0; i < n; i++) {
        attn_status st = refs[i] ? attn_chrf_add(&acc, hyps[i], &refs[i], 1)
                                 : attn_error(ATTN_ERR_INVALID, "the reference is NULL");
        if (st != ATTN_OK) return attn_error_context(st, "sentence %ld", i);
    }
    ATTN_TRY(attn_chrf_score(&acc));
    *out = acc;
    return ATTN_OK;
}
