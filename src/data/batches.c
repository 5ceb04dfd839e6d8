/* data/batches.c: length-bucketed batch plans and token dropout (include/attn/data.h).
 *
 * Padding every example of a batch to the longest one wastes the difference; sorting the whole
 * dataset by length would remove it but makes every batch hold texts of one length, in the same
 * order every epoch. The usual compromise (fairseq, tensor2tensor's bucketing, CTranslate2):
 * shuffle, sort within large buckets (here bucket_batches batches each), cut into batches, then
 * shuffle the batches, so batches are nearly uniform in length yet random in content and order. */
#include "attn/data.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"

/* Fisher-Yates over x[n]. */
static void shuffle_longs(attn_rng *rng, long *x, long n) {
    for (long i = n - 1; i > 0; i--) {
        long j = attn_rng_below_long(rng, i + 1), t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}

/* Stable sort of x[n] by lengths[x[i]]: a merge sort through tmp[n] (qsort is not stable). */
static void sort_by_length(long *x, long *tmp, long n, const int *lengths) {
    for (long width = 1; width < n; width *= 2) {
        for (long lo = 0; lo < n; lo += 2 * width) {
            long mid = lo + width < n ? lo + width : n;
            long hi = lo + 2 * width < n ? lo + 2 * width : n;
            long i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = lengths[x[j]] < lengths[x[i]] ? x[j++] : x[i++];
            while (i < mid)
                tmp[k++] = x[i++];
            while (j < hi)
                tmp[k++] = x[j++];
        }
        memcpy(x, tmp, (size_t)n * sizeof *x);
    }
}

void attn_batch_plan_free(attn_batch_plan *p) {
    if (!p) return;
    free(p->offsets);
    free(p->order);
    memset(p, 0, sizeof *p);
}

/* Cuts [begin, end) of the order into batches of batch_size, appending their starts. */
static void cut(attn_batch_plan *p, long begin, long end, int batch_size) {
    for (long s = begin; s < end; s += batch_size)
        p->offsets[p->n_batches++] = s;
}

/* Shuffles the batch order: the batches are rewritten through tmp in the new order. */
static attn_status shuffle_batches(attn_batch_plan *p, attn_rng *rng, long n, long *tmp) {
    long nb = p->n_batches;
    long *perm = malloc((size_t)(nb + 1) * sizeof *perm);
    long *starts = malloc((size_t)(nb + 1) * sizeof *starts);
    if (!perm || !starts) {
        free(perm);
        free(starts);
        return attn_error(ATTN_ERR_NOMEM, "batch plan: out of memory for %ld batches", nb);
    }
    for (long b = 0; b < nb; b++)
        perm[b] = b;
    shuffle_longs(rng, perm, nb);
    long k = 0;
    for (long b = 0; b < nb; b++) {
        long from = p->offsets[perm[b]], to = p->offsets[perm[b] + 1];
        starts[b] = k;
        memcpy(tmp + k, p->order + from, (size_t)(to - from) * sizeof *tmp);
        k += to - from;
    }
    starts[nb] = n;
    memcpy(p->order, tmp, (size_t)n * sizeof *tmp);
    memcpy(p->offsets, starts, (size_t)(nb + 1) * sizeof *starts);
    free(perm);
    free(starts);
    return ATTN_OK;
}

attn_status attn_batch_plan_make(const int *lengths, const long *idx, long n, int batch_size,
                                 int bucket_batches, int shuffle, uint64_t seed, uint64_t stream,
                                 attn_batch_plan *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "batch plan: out is NULL");
    memset(out, 0, sizeof *out);
    if (n < 0 || batch_size < 1 || bucket_batches < 1 || (n > 0 && !lengths))
        return attn_error(ATTN_ERR_INVALID,
                          "batch plan: need n >= 0, batch_size >= 1, bucket_batches >= 1 "
                          "(n %ld, batch_size %d, bucket_batches %d)",
                          n, batch_size, bucket_batches);
    long max_batches = n / batch_size + n / ((long)batch_size * bucket_batches) + 2;
    out->order = malloc((size_t)(n + 1) * sizeof *out->order);
    out->offsets = malloc((size_t)(max_batches + 1) * sizeof *out->offsets);
    long *tmp = malloc((size_t)(n + 1) * sizeof *tmp);
    if (!out->order || !out->offsets || !tmp) {
        free(tmp);
        attn_batch_plan_free(out);
        return attn_error(ATTN_ERR_NOMEM, "batch plan: out of memory for %ld examples", n);
    }
    for (long k = 0; k < n; k++)
        out->order[k] = idx ? idx[k] : k;
    attn_rng rng;
    attn_rng_init(&rng, seed, stream);
    attn_status s = ATTN_OK;
    if (!shuffle) {
        sort_by_length(out->order, tmp, n, lengths);
        cut(out, 0, n, batch_size);
    } else {
        shuffle_longs(&rng, out->order, n);
        long bucket = (long)batch_size * bucket_batches;
        for (long b = 0; b < n; b += bucket) {
            long e = b + bucket < n ? b + bucket : n;
            sort_by_length(out->order + b, tmp, e - b, lengths);
            cut(out, b, e, batch_size);
        }
    }
    out->offsets[out->n_batches] = n;
    if (shuffle && out->n_batches > 1) s = shuffle_batches(out, &rng, n, tmp);
    free(tmp);
    if (s != ATTN_OK) attn_batch_plan_free(out);
    return s;
}

attn_status attn_token_dropout(int *tokens, const int *lengths, int B, int T, float p,
                               int replace_id, int keep_first, uint64_t seed, uint64_t stream,
                               long *n_dropped) {
    if (n_dropped) *n_dropped = 0;
    if (!tokens || !lengths || B < 1 || T < 1 || !(p >= 0.0f && p < 1.0f))
        return attn_error(ATTN_ERR_INVALID,
                          "token dropout: need tokens, lengths, B >= 1, T >= 1 and 0 <= p < 1 "
                          "(B %d, T %d, p %g)",
                          B, T, (double)p);
    for (int b = 0; b < B; b++)
        if (lengths[b] < 0 || lengths[b] > T)
            return attn_error(ATTN_ERR_INVALID, "token dropout: row %d has length %d, T is %d", b,
                              lengths[b], T);
    if (p == 0.0f) return ATTN_OK;
    attn_rng rng;
    attn_rng_init(&rng, seed, stream);
    long dropped = 0;
    for (int b = 0; b < B; b++) {
        int *row = tokens + (size_t)b * (size_t)T;
        for (int t = keep_first > 0 ? keep_first : 0; t < lengths[b]; t++)
            if (attn_rng_uniform(&rng) < p) {
                row[t] = replace_id;
                dropped++;
            }
    }
    if (n_dropped) *n_dropped = dropped;
    return ATTN_OK;
}

/* Cuts [begin, end) (sorted by length, shortest first) into batches whose size times their
 * longest length stays within max_tokens (one example at least). */
static void cut_tokens(attn_batch_plan *p, long begin, long end, const long *order,
                       const int *lengths, long max_tokens) {
    long s = begin;
    while (s < end) {
        long e = s + 1;
        while (e < end && (e - s + 1) * (long)lengths[order[e]] <= max_tokens)
            e++;
        p->offsets[p->n_batches++] = s;
        s = e;
    }
}

attn_status attn_batch_plan_make_tokens(const int *lengths, long n, long max_tokens,
                                        long bucket_examples, int shuffle, uint64_t seed,
                                        uint64_t stream, attn_batch_plan *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "batch plan: out is NULL");
    memset(out, 0, sizeof *out);
    if (n < 0 || max_tokens < 1 || bucket_examples < 1 || (n > 0 && !lengths))
        return attn_error(ATTN_ERR_INVALID,
                          "batch plan: need n >= 0, max_tokens >= 1, bucket_examples >= 1 (n %ld, "
                          "max_tokens %ld, bucket_examples %ld)",
                          n, max_tokens, bucket_examples);
    out->order = malloc((size_t)(n + 1) * sizeof *out->order);
    out->offsets = malloc((size_t)(n + 2) * sizeof *out->offsets);
    long *tmp = malloc((size_t)(n + 1) * sizeof *tmp);
    if (!out->order || !out->offsets || !tmp) {
        free(tmp);
        attn_batch_plan_free(out);
        return attn_error(ATTN_ERR_NOMEM, "batch plan: out of memory for %ld examples", n);
    }
    for (long k = 0; k < n; k++)
        out->order[k] = k;
    attn_rng rng;
    attn_rng_init(&rng, seed, stream);
    if (shuffle) shuffle_longs(&rng, out->order, n);
    long bucket = shuffle ? bucket_examples : (n > 0 ? n : 1);
    for (long b = 0; b < n; b += bucket) {
        long e = b + bucket < n ? b + bucket : n;
        sort_by_length(out->order + b, tmp, e - b, lengths);
        cut_tokens(out, b, e, out->order, lengths, max_tokens);
    }
    out->offsets[out->n_batches] = n;
    attn_status s = ATTN_OK;
    if (shuffle && out->n_batches > 1) s = shuffle_batches(out, &rng, n, tmp);
    free(tmp);
    if (s != ATTN_OK) attn_batch_plan_free(out);
    return s;
}

/* ---- epoch after epoch ---------------------------------------------------------------------- */

static attn_status plan_epoch(attn_epoch_plans *e, long epoch) {
    attn_batch_plan_free(&e->plan);
    e->epoch = -1;
    ATTN_TRY(attn_batch_plan_make_tokens(e->lengths, e->n, e->max_tokens, e->bucket, e->shuffle,
                                         e->seed, e->stream + (uint64_t)epoch, &e->plan));
    e->epoch = epoch;
    return ATTN_OK;
}

attn_status attn_epoch_plans_init(attn_epoch_plans *e, const int *lengths, long n, long max_tokens,
                                  long bucket, int shuffle, uint64_t seed, uint64_t stream) {
    if (!e) return attn_error(ATTN_ERR_INVALID, "epoch plans: NULL");
    *e = (attn_epoch_plans){.lengths = lengths, .n = n, .max_tokens = max_tokens,
                            .bucket = bucket, .shuffle = shuffle, .seed = seed,
                            .stream = stream, .epoch = -1};
    attn_status s = plan_epoch(e, 0);
    if (s != ATTN_OK) attn_epoch_plans_free(e);
    return s;
}

attn_status attn_epoch_plans_batch(attn_epoch_plans *e, long index, const long **rows,
                                   long *n_rows, long *epoch) {
    if (!e || !rows || !n_rows || index < 0)
        return attn_error(ATTN_ERR_INVALID, "epoch plans: bad arguments");
    if (e->epoch < 0 || index < e->first) {
        e->first = 0;
        ATTN_TRY(plan_epoch(e, 0));
    }
    while (index >= e->first + e->plan.n_batches) {
        e->first += e->plan.n_batches;
        ATTN_TRY(plan_epoch(e, e->epoch + 1));
    }
    long b = index - e->first;
    *rows = e->plan.order + e->plan.offsets[b];
    *n_rows = e->plan.offsets[b + 1] - e->plan.offsets[b];
    if (epoch) *epoch = e->epoch;
    return ATTN_OK;
}

void attn_epoch_plans_free(attn_epoch_plans *e) {
    if (!e) return;
    attn_batch_plan_free(&e->plan);
    e->epoch = -1, e->first = 0;
}
