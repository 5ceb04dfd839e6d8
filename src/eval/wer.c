/* eval/wer.c: word and character error rates by Levenshtein alignment, with substitutions,
 * deletions and insertions counted apart (include/attn/metrics.h).
 *
 * One dynamic programme for every token kind: cost rows d[i][j] = the least edits turning the
 * first i reference tokens into the first j hypothesis tokens, two rows at a time, and a table of
 * one byte a cell saying which move reached each cell, for the walk back that counts S, D, I. */
#include "attn/metrics.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/mt_text.h"

enum { MOVE_DIAG = 0, MOVE_DEL = 1, MOVE_INS = 2 };

/* Tokens to align: ids, or byte spans (words, code points). */
typedef struct {
    const int *ids;
    const mt_span *spans;
    long n;
} seq;

static int token_equal(const seq *h, long j, const seq *r, long i) {
    if (h->ids) return h->ids[j] == r->ids[i];
    return h->spans[j].len == r->spans[i].len &&
           memcmp(h->spans[j].p, r->spans[i].p, h->spans[j].len) == 0;
}

static attn_status align(attn_error_rate *acc, const seq *h, const seq *r) {
    long H = h->n, R = r->n;
    if (R + 1 > ATTN_ALIGN_MAX_CELLS / (H + 1))
        return attn_error(ATTN_ERR_INVALID,
                          "align: %ld x %ld tokens is over ATTN_ALIGN_MAX_CELLS (%ld cells)", R, H,
                          ATTN_ALIGN_MAX_CELLS);
    unsigned char *move = malloc((size_t)((R + 1) * (H + 1)));
    long *prev = malloc((size_t)(H + 1) * sizeof *prev),
         *cur = malloc((size_t)(H + 1) * sizeof *cur);
    if (!move || !prev || !cur) {
        free(move), free(prev), free(cur);
        return attn_error(ATTN_ERR_NOMEM, "align: %ld x %ld tokens", R, H);
    }
    for (long j = 0; j <= H; j++) { /* row 0: j insertions */
        prev[j] = j;
        move[j] = MOVE_INS;
    }
    for (long i = 1; i <= R; i++) {
        unsigned char *m = move + i * (H + 1);
        cur[0] = i; /* column 0: i deletions */
        m[0] = MOVE_DEL;
        for (long j = 1; j <= H; j++) {
            /* Ties go to the diagonal, then the deletion, then the insertion. */
            long diag = prev[j - 1] + !token_equal(h, j - 1, r, i - 1);
            long del = prev[j] + 1, ins = cur[j - 1] + 1, best = diag;
            unsigned char how = MOVE_DIAG;
            if (del < best) best = del, how = MOVE_DEL;
            if (ins < best) best = ins, how = MOVE_INS;
            cur[j] = best;
            m[j] = how;
        }
        long *t = prev;
        prev = cur;
        cur = t;
    }
    long S = 0, D = 0, I = 0;
    for (long i = R, j = H; i > 0 || j > 0;) {
        switch (move[i * (H + 1) + j]) {
        case MOVE_DIAG:
            S += !token_equal(h, j - 1, r, i - 1);
            i--, j--;
            break;
        case MOVE_DEL:
            D++, i--;
            break;
        default:
            I++, j--;
            break;
        }
    }
    free(move), free(prev), free(cur);
    acc->ref_len += R;
    acc->hyp_len += H;
    acc->substitutions += S;
    acc->deletions += D;
    acc->insertions += I;
    acc->hits += R - S - D;
    acc->n_sentences++;
    return ATTN_OK;
}

attn_status attn_align_ids(attn_error_rate *acc, const int *hyp, long n_hyp, const int *ref,
                           long n_ref) {
    static const int none[1];
    if (!acc || n_hyp < 0 || n_ref < 0 || (!hyp && n_hyp > 0) || (!ref && n_ref > 0))
        return attn_error(ATTN_ERR_INVALID, "align_ids: bad arguments");
    seq h = {hyp ? hyp : none, NULL, n_hyp}, r = {ref ? ref : none, NULL, n_ref};
    return align(acc, &h, &r);
}

/* The tokens of s as spans into s (malloc'd *out, *n of them): words, or code points of the
 * line with its white space runs made single spaces (the spaces then point at a static " "). */
static attn_status tokens(const char *s, int chars, const char *what, mt_span **out, long *n) {
    *out = NULL;
    *n = 0;
    size_t len = strlen(s);
    ATTN_TRY(mt_utf8_check(s, len, what));
    mt_span *v = malloc((len + 1) * sizeof *v);
    if (!v) return attn_error(ATTN_ERR_NOMEM, "%s of %zu bytes", what, len);
    const unsigned char *u = (const unsigned char *)s;
    long k = 0;
    int in_space = 1; /* at the start, as after white space */
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int b = mt_utf8_next(u + i, len - i, &cp);
        int space = mt_is_space(cp);
        if (chars) {
            if (!space) {
                if (in_space && k > 0) v[k++] = (mt_span){" ", 1}; /* one space between runs */
                v[k++] = (mt_span){s + i, (size_t)b};
            }
        } else if (!space) {
            if (in_space) v[k++] = (mt_span){s + i, 0}; /* a word starts */
            v[k - 1].len += (size_t)b;
        }
        in_space = space;
        i += (size_t)b;
    }
    *out = v;
    *n = k;
    return ATTN_OK;
}

static attn_status add_text(attn_error_rate *acc, const char *hyp, const char *ref, int chars) {
    if (!acc || !hyp || !ref)
        return attn_error(ATTN_ERR_INVALID, "%s_add: NULL argument", chars ? "cer" : "wer");
    mt_span *hs, *rs;
    long nh, nr;
    ATTN_TRY(tokens(hyp, chars, "hypothesis", &hs, &nh));
    attn_status st = tokens(ref, chars, "reference", &rs, &nr);
    if (st != ATTN_OK) {
        free(hs);
        return st;
    }
    seq h = {NULL, hs, nh}, r = {NULL, rs, nr};
    st = align(acc, &h, &r);
    free(hs);
    free(rs);
    return st;
}

attn_status attn_wer_add(attn_error_rate *acc, const char *hyp, const char *ref) {
    return add_text(acc, hyp, ref, 0);
}

attn_status attn_cer_add(attn_error_rate *acc, const char *hyp, const char *ref) {
    return add_text(acc, hyp, ref, 1);
}

attn_status attn_error_rate_score(attn_error_rate *r) {
    if (!r) return attn_error(ATTN_ERR_INVALID, "error_rate_score: NULL");
    long S = r->substitutions, D = r->deletions, I = r->insertions, N = r->ref_len;
    if (S < 0 || D < 0 || I < 0 || N < 0 || S + D > N || r->hyp_len != N - D + I)
        return attn_error(ATTN_ERR_INVALID,
                          "error_rate_score: inconsistent counts (N %ld, hyp %ld, S %ld, D %ld, "
                          "I %ld)",
                          N, r->hyp_len, S, D, I);
    r->hits = N - S - D;
    if (N == 0) {
        r->rate = 0;
        if (I > 0)
            return attn_error(ATTN_ERR_INVALID,
                              "error_rate_score: %ld insertions against empty references: the "
                              "rate is undefined",
                              I);
        return ATTN_OK;
    }
    r->rate = (double)(S + D + I) / (double)N;
    return ATTN_OK;
}

static attn_status corpus(const char *const *hyps, const char *const *refs, long n, int chars,
                          attn_error_rate *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "corpus error rate: NULL output");
    memset(out, 0, sizeof *out);
    if (!hyps || !refs || n < 1)
        return attn_error(ATTN_ERR_INVALID, "corpus error rate: no sentences");
    for (long i = 0; i < n; i++) {
        attn_status st = add_text(out, hyps[i], refs[i], chars);
        if (st != ATTN_OK) {
            memset(out, 0, sizeof *out);
            return attn_error_context(st, "sentence %ld", i);
        }
    }
    attn_status st = attn_error_rate_score(out);
    if (st != ATTN_OK) memset(out, 0, sizeof *out);
    return st;
}

attn_status attn_corpus_wer(const char *const *hyps, const char *const *refs, long n,
                            attn_error_rate *out) {
    return corpus(hyps, refs, n, 0, out);
}

attn_status attn_corpus_cer(const char *const *hyps, const char *const *refs, long n,
                            attn_error_rate *out) {
    return corpus(hyps, refs, n, 1, out);
}
