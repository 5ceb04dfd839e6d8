/* eval/bleu.c: corpus BLEU as sacreBLEU computes it by default (include/attn/metrics.h).
 *
 * A sentence is tokenized with 13a (bleu_tokenize.c); its n-grams are spans of the tokenized
 * string (words joined by single spaces), so equal n-grams are equal bytes, and each order's
 * n-grams are sorted to be counted by binary search (O(L log L) for a line of L words). */
#include "attn/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/mt_text.h"

/* One tokenized line and its n-grams of every order, each order sorted. */
typedef struct {
    char *text;                      /* the 13a tokens joined by single spaces */
    long n_words;                    /* BLEU's length */
    mt_span *grams;                  /* all n-grams, order after order */
    mt_span *order[ATTN_BLEU_ORDER]; /* order[k]: the (k + 1)-grams, into grams */
    size_t n_order[ATTN_BLEU_ORDER]; /* their number: max(0, n_words - k) */
} bleu_line;

static void line_free(bleu_line *l) {
    free(l->text);
    free(l->grams);
    memset(l, 0, sizeof *l);
}

/* Tokenizes s and lists its n-grams; `what` names it in errors ("hypothesis", "reference 2"). */
static attn_status line_make(const char *s, const char *what, bleu_line *l) {
    memset(l, 0, sizeof *l);
    attn_status st = attn_bleu_tokenize_13a(s, &l->text);
    if (st != ATTN_OK) return attn_error_context(st, "%s", what);
    size_t len = strlen(l->text), n = 0;
    for (size_t i = 0; i < len; i++)
        n += l->text[i] == ' ';
    n = len ? n + 1 : 0;
    l->n_words = (long)n;
    mt_span *words = malloc((n ? n : 1) * sizeof *words);
    l->grams = malloc((ATTN_BLEU_ORDER * n + 1) * sizeof *l->grams);
    if (!words || !l->grams) {
        free(words);
        line_free(l);
        return attn_error(ATTN_ERR_NOMEM, "bleu: %s of %zu words", what, n);
    }
    for (size_t w = 0, i = 0; w < n; w++) {
        size_t j = i;
        while (j < len && l->text[j] != ' ')
            j++;
        words[w] = (mt_span){l->text + i, j - i};
        i = j + 1;
    }
    mt_span *g = l->grams;
    for (size_t k = 0; k < ATTN_BLEU_ORDER; k++) {
        l->order[k] = g;
        for (size_t i = 0; i + k < n; i++) {
            const mt_span last = words[i + k];
            *g++ = (mt_span){words[i].p, (size_t)(last.p + last.len - words[i].p)};
        }
        l->n_order[k] = (size_t)(g - l->order[k]);
        mt_spans_sort(l->order[k], l->n_order[k]);
    }
    free(words);
    return ATTN_OK;
}

/* sacreBLEU's closest reference length: the smallest |hyp_len - ref_len|, the shorter on a tie. */
static long closest_ref_len(long hyp_len, const bleu_line *refs, int n) {
    long best = -1, best_diff = -1;
    for (int r = 0; r < n; r++) {
        long len = refs[r].n_words, diff = labs(hyp_len - len);
        if (best_diff < 0 || diff < best_diff || (diff == best_diff && len < best))
            best = len, best_diff = diff;
    }
    return best;
}

/* The statistics of one sentence added to *acc; refs[0..n_refs) are all non-NULL. */
static attn_status add_sentence(attn_bleu *acc, const char *hyp, const char *const *refs,
                                int n_refs) {
    size_t nr = (size_t)n_refs;
    bleu_line h, *r = calloc(nr, sizeof *r);
    const mt_span **ref_grams = malloc(nr * sizeof *ref_grams);
    size_t *ref_n = malloc(nr * sizeof *ref_n);
    attn_status st = ATTN_OK;
    memset(&h, 0, sizeof h);
    if (!r || !ref_grams || !ref_n) st = attn_error(ATTN_ERR_NOMEM, "bleu: %d references", n_refs);
    if (st == ATTN_OK) st = line_make(hyp, "hypothesis", &h);
    for (int i = 0; st == ATTN_OK && i < n_refs; i++) {
        char what[32];
        snprintf(what, sizeof what, "reference %d", i);
        st = line_make(refs[i], what, &r[i]);
    }
    if (st == ATTN_OK) {
        attn_bleu sum = *acc;
        sum.sys_len += h.n_words;
        sum.ref_len += closest_ref_len(h.n_words, r, n_refs);
        sum.n_sentences++;
        for (int k = 0; k < ATTN_BLEU_ORDER; k++) {
            for (int i = 0; i < n_refs; i++)
                ref_grams[i] = r[i].order[k], ref_n[i] = r[i].n_order[k];
            sum.totals[k] += (long)h.n_order[k];
            sum.counts[k] += mt_spans_clipped(h.order[k], h.n_order[k], ref_grams, ref_n, n_refs);
        }
        *acc = sum;
    }
    line_free(&h);
    for (int i = 0; r && i < n_refs; i++)
        line_free(&r[i]);
    free(r);
    free(ref_grams);
    free(ref_n);
    return st;
}

attn_status attn_bleu_add(attn_bleu *acc, const char *hyp, const char *const *refs, int n_refs) {
    if (!acc || !hyp) return attn_error(ATTN_ERR_INVALID, "bleu: NULL statistics or hypothesis");
    if (!refs || n_refs < 1) return attn_error(ATTN_ERR_INVALID, "bleu: no reference");
    /* The non-NULL references, in order. */
    const char **given = malloc((size_t)n_refs * sizeof *given);
    if (!given) return attn_error(ATTN_ERR_NOMEM, "bleu: %d references", n_refs);
    int n = 0;
    for (int i = 0; i < n_refs; i++)
        if (refs[i]) given[n++] = refs[i];
    attn_status st = n ? add_sentence(acc, hyp, given, n)
                       : attn_error(ATTN_ERR_INVALID, "bleu: every reference is NULL");
    free(given);
    return st;
}

/* sacreBLEU's my_log: log, with log(0) "floored" to -9999999999. */
static double floored_log(double x) {
    return x == 0.0 ? -9999999999.0 : log(x);
}

attn_status attn_bleu_score(attn_bleu *b) {
    if (!b) return attn_error(ATTN_ERR_INVALID, "bleu: NULL statistics");
    int any_match = 0;
    for (int k = 0; k < ATTN_BLEU_ORDER; k++) {
        if (b->counts[k] < 0 || b->totals[k] < 0 || b->counts[k] > b->totals[k])
            return attn_error(ATTN_ERR_INVALID, "bleu: %d-gram counts %ld of %ld", k + 1,
                              b->counts[k], b->totals[k]);
        any_match |= b->counts[k] > 0;
    }
    if (b->sys_len < 0 || b->ref_len < 0)
        return attn_error(ATTN_ERR_INVALID, "bleu: lengths %ld, %ld", b->sys_len, b->ref_len);
    /* The steps and the order of the arithmetic are sacreBLEU's compute_bleu, so the doubles are
     * the same. */
    if (b->sys_len < b->ref_len)
        b->bp = b->sys_len > 0 ? exp(1.0 - (double)b->ref_len / (double)b->sys_len) : 0.0;
    else
        b->bp = 1.0;
    for (int k = 0; k < ATTN_BLEU_ORDER; k++)
        b->precisions[k] = 0.0;
    b->score = 0.0;
    if (!any_match) return ATTN_OK;
    double smooth = 1.0;
    for (int k = 0; k < ATTN_BLEU_ORDER; k++) {
        if (b->totals[k] == 0) break; /* this order and those above stay 0: BLEU is 0 */
        if (b->counts[k] == 0) {
            smooth *= 2.0; /* 'exp' smoothing (mteval-v13a's) */
            b->precisions[k] = 100.0 / (smooth * (double)b->totals[k]);
        } else {
            b->precisions[k] = 100.0 * (double)b->counts[k] / (double)b->totals[k];
        }
    }
    double sum = 0.0;
    for (int k = 0; k < ATTN_BLEU_ORDER; k++)
        sum += floored_log(b->precisions[k]);
    b->score = b->bp * exp(sum / ATTN_BLEU_ORDER);
    return ATTN_OK;
}

attn_status attn_corpus_bleu(const char *const *hyps, const char *const *refs, long n,
                             attn_bleu *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "corpus bleu: out is NULL");
    memset(out, 0, sizeof *out);
    if (n < 1) return attn_error(ATTN_ERR_INVALID, "corpus bleu: no sentences (n = %ld)", n);
    if (!hyps || !refs) return attn_error(ATTN_ERR_INVALID, "corpus bleu: NULL sentences");
    attn_bleu acc = {0};
    for (long i = 0; i < n; i++) {
        attn_status st = refs[i] ? attn_bleu_add(&acc, hyps[i], &refs[i], 1)
                                 : attn_error(ATTN_ERR_INVALID, "the reference is NULL");
        if (st != ATTN_OK) return attn_error_context(st, "sentence %ld", i);
    }
    ATTN_TRY(attn_bleu_score(&acc));
    *out = acc;
    return ATTN_OK;
}
