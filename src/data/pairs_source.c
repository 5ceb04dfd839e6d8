/* data/pairs_source.c: translation batches, epoch after epoch, by token budget
 * (attn_pairs_source, include/attn/data.h).
 *
 * Epoch e's batches come from attn_batch_plan_make_tokens over each pair's longer side, shuffled
 * by attn_rng stream BATCH_STREAM + e; batch i is batch i mod E_e of the epoch it falls in (E_e,
 * the batches of epoch e, may differ from epoch to epoch by a few: the epochs are walked in
 * order). Rows: source ids + EOS, padded; the decoder reads BOS + target and predicts target +
 * EOS (padding ignored). Process r of n gets rows [B r / n, B (r + 1) / n). */
#include <stdlib.h>
#include <string.h>

#include "attn/data.h"
#include "core/error.h"

#define BATCH_STREAM 0x70616972ULL /* "pair" */

typedef struct {
    const attn_pairs *p;
    attn_pairs_source_params q;
    int *lengths; /* (n) max(src_len, tgt_len) */
    attn_epoch_plans plans;
    int *tok, *len, *tin, *tgt;
} pairs_source;

static attn_status pairs_next(void *self, long index, int rank, int n_ranks, attn_batch *out) {
    pairs_source *c = self;
    const attn_pairs *p = c->p;
    const long *rows;
    long n;
    ATTN_TRY(attn_epoch_plans_batch(&c->plans, index, &rows, &n, NULL));
    long lo = n * rank / n_ranks, hi = n * (rank + 1) / n_ranks;
    if (hi <= lo)
        return attn_error(ATTN_ERR_INVALID, "batch %ld has %ld pairs: too few for %d processes",
                          index, n, n_ranks);
    int B = (int)(hi - lo), Ts = 1, Tt = 1;
    rows += lo;
    for (int r = 0; r < B; r++) {
        if (p->src_len[rows[r]] > Ts) Ts = p->src_len[rows[r]];
        if (p->tgt_len[rows[r]] > Tt) Tt = p->tgt_len[rows[r]];
    }
    for (int r = 0; r < B; r++) {
        long i = rows[r];
        const int *s = p->ids + p->src_off[i], *t = p->ids + p->tgt_off[i];
        int ns = p->src_len[i], nt = p->tgt_len[i];
        int *tok = c->tok + (size_t)r * Ts, *tin = c->tin + (size_t)r * Tt,
            *tgt = c->tgt + (size_t)r * Tt;
        for (int j = 0; j < Ts; j++)
            tok[j] = j < ns ? s[j] : c->q.pad_id;
        for (int j = 0; j < Tt; j++) {
            tin[j] = j == 0 ? c->q.bos_id : j < nt ? t[j - 1] : c->q.pad_id;
            tgt[j] = j < nt ? t[j] : ATTN_IGNORE_INDEX;
        }
        c->len[r] = ns;
    }
    *out = (attn_batch){.B = B,
                        .T = Ts,
                        .tokens = c->tok,
                        .lengths = c->len,
                        .Tt = Tt,
                        .tgt_in = c->tin,
                        .targets = c->tgt};
    return ATTN_OK;
}

static void pairs_free(void *self) {
    pairs_source *c = self;
    if (!c) return;
    attn_epoch_plans_free(&c->plans);
    free(c->lengths);
    free(c->tok);
    free(c->len);
    free(c->tin);
    free(c->tgt);
    free(c);
}

attn_pairs_source_params attn_pairs_source_default_params(void) {
    return (attn_pairs_source_params){
        .max_tokens = 4096, .bucket = 4096, .pad_id = 0, .bos_id = 2, .seed = 1};
}

attn_status attn_pairs_source(const attn_pairs *p, attn_pairs_source_params q,
                              attn_batch_source **out) {
    if (!out || !p) return attn_error(ATTN_ERR_INVALID, "pairs source: NULL argument");
    *out = NULL;
    if (p->n < 1) return attn_error(ATTN_ERR_INVALID, "pairs source: no pairs");
    if (q.max_tokens < 1 || q.bucket < 1)
        return attn_error(ATTN_ERR_INVALID, "pairs source: max_tokens %ld, bucket %ld",
                          q.max_tokens, q.bucket);
    pairs_source *c = calloc(1, sizeof *c);
    attn_batch_source *src = calloc(1, sizeof *src);
    int longest = 1;
    for (long i = 0; i < p->n; i++) {
        if (p->src_len[i] > longest) longest = p->src_len[i];
        if (p->tgt_len[i] > longest) longest = p->tgt_len[i];
    }
    /* B x T <= max_tokens, or one pair of up to `longest` */
    size_t cells = (size_t)q.max_tokens + (size_t)longest, rows = (size_t)q.max_tokens + 1;
    attn_status s = ATTN_ERR_NOMEM;
    if (c && src) {
        c->p = p, c->q = q;
        c->lengths = malloc((size_t)p->n * sizeof *c->lengths);
        c->tok = malloc(cells * sizeof(int)), c->tin = malloc(cells * sizeof(int));
        c->tgt = malloc(cells * sizeof(int)), c->len = malloc(rows * sizeof(int));
    }
    if (c && src && c->lengths && c->tok && c->tin && c->tgt && c->len) {
        for (long i = 0; i < p->n; i++)
            c->lengths[i] = p->src_len[i] > p->tgt_len[i] ? p->src_len[i] : p->tgt_len[i];
        s = attn_epoch_plans_init(&c->plans, c->lengths, p->n, q.max_tokens, q.bucket,
                                  !q.in_order, q.seed, BATCH_STREAM);
    } else {
        attn_error(ATTN_ERR_NOMEM, "pairs source: out of memory");
    }
    if (s != ATTN_OK) {
        pairs_free(c);
        free(src);
        return s;
    }
    *src = (attn_batch_source){
        .next = pairs_next, .free = pairs_free, .batches_per_epoch = c->plans.plan.n_batches, .self = c};
    *out = src;
    return ATTN_OK;
}
