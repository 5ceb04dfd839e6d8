/* data/cls_source.c: classifier batches, epoch after epoch (attn_cls_source, include/attn/data.h).
 *
 * Batch i is batch i mod E of epoch e = i / E, E the batches per epoch. Epoch e's order is
 * attn_batch_plan_make over the lengths with attn_rng stream BATCH_STREAM + e (shuffled, sorted by
 * length within buckets, batches shuffled); E is the same for every epoch (bucket sizes depend on
 * the count only). Token dropout of batch i draws from stream TOKEN_STREAM + i. Process r of n
 * gets rows [B r / n, B (r + 1) / n) of each batch. */
#include <stdlib.h>

#include "attn/data.h"
#include "core/error.h"

#define BATCH_STREAM 0x62617463ULL /* "batc" */
#define TOKEN_STREAM 0x746f6b64ULL /* "tokd" */

typedef struct {
    const attn_cls_data *d;
    attn_cls_source_params p;
    attn_batch_plan plan;
    long plan_epoch; /* the epoch `plan` is for; -1: none */
    int *tokens, *lengths, *labels;
} cls_source;

static attn_status cls_next(void *self, long index, int rank, int n_ranks, attn_batch *out) {
    cls_source *c = self;
    long per_epoch = c->plan.n_batches, epoch = index / per_epoch;
    if (epoch != c->plan_epoch) {
        attn_batch_plan_free(&c->plan);
        c->plan_epoch = -1;
        ATTN_TRY(attn_batch_plan_make(c->d->lengths, NULL, c->d->n, c->p.batch, c->p.bucket, 1,
                                      c->p.seed, BATCH_STREAM + (uint64_t)epoch, &c->plan));
        c->plan_epoch = epoch;
    }
    long b = index % per_epoch;
    long first = c->plan.offsets[b], n = c->plan.offsets[b + 1] - first;
    long lo = n * rank / n_ranks, hi = n * (rank + 1) / n_ranks;
    if (hi <= lo)
        return attn_error(ATTN_ERR_INVALID, "batch %ld has %ld examples: too few for %d processes",
                          index, n, n_ranks);
    int B = (int)(hi - lo), T;
    ATTN_TRY(attn_cls_data_fill_batch(c->d, c->plan.order + first + lo, B, c->p.pad_id, c->tokens,
                                      c->lengths, c->labels, &T));
    if (c->p.token_dropout > 0)
        ATTN_TRY(attn_token_dropout(c->tokens, c->lengths, B, T, c->p.token_dropout, c->p.drop_id,
                                    1, c->p.seed, TOKEN_STREAM + (uint64_t)index, NULL));
    *out = (attn_batch){
        .B = B, .T = T, .tokens = c->tokens, .lengths = c->lengths, .labels = c->labels};
    return ATTN_OK;
}

static void cls_free(void *self) {
    cls_source *c = self;
    if (!c) return;
    attn_batch_plan_free(&c->plan);
    free(c->tokens);
    free(c->lengths);
    free(c->labels);
    free(c);
}

attn_cls_source_params attn_cls_source_default_params(void) {
    return (attn_cls_source_params){.batch = 32, .bucket = 50, .drop_id = -1, .seed = 1};
}

attn_status attn_cls_source(const attn_cls_data *d, attn_cls_source_params p,
                            attn_batch_source **out) {
    if (!out || !d) return attn_error(ATTN_ERR_INVALID, "cls source: NULL argument");
    *out = NULL;
    if (d->n < 1) return attn_error(ATTN_ERR_INVALID, "cls source: no examples");
    if (p.batch < 1 || p.bucket < 1)
        return attn_error(ATTN_ERR_INVALID, "cls source: batch %d, bucket %d", p.batch, p.bucket);
    if (p.token_dropout > 0 && p.drop_id < 0)
        return attn_error(ATTN_ERR_INVALID, "cls source: token dropout needs a replacement id");
    int longest = 1;
    for (long i = 0; i < d->n; i++)
        if (d->lengths[i] > longest) longest = d->lengths[i];
    cls_source *c = calloc(1, sizeof *c);
    attn_batch_source *src = calloc(1, sizeof *src);
    attn_status s = ATTN_ERR_NOMEM;
    if (c && src) {
        c->d = d;
        c->p = p;
        c->tokens = malloc((size_t)p.batch * (size_t)longest * sizeof(int));
        c->lengths = malloc((size_t)p.batch * sizeof(int));
        c->labels = malloc((size_t)p.batch * sizeof(int));
        if (c->tokens && c->lengths && c->labels)
            s = attn_batch_plan_make(d->lengths, NULL, d->n, p.batch, p.bucket, 1, p.seed,
                                     BATCH_STREAM, &c->plan);
        else
            s = attn_error(ATTN_ERR_NOMEM, "cls source: no room for a batch of %d x %d", p.batch,
                           longest);
    } else {
        attn_error(ATTN_ERR_NOMEM, "cls source: out of memory");
    }
    if (s != ATTN_OK) {
        cls_free(c);
        free(src);
        return s;
    }
    *src = (attn_batch_source){
        .next = cls_next, .free = cls_free, .batches_per_epoch = c->plan.n_batches, .self = c};
    *out = src;
    return ATTN_OK;
}
