/* audio/cmvn.c: cepstral mean and variance normalisation, per utterance or from global statistics
 * (counts and sums, so that any number of utterances add up exactly), saved as safetensors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/audio.h"
#include "core/error.h"
#include "io/safetensors.h"

attn_status attn_cmvn_stats_init(attn_cmvn_stats *s, int dim) {
    if (!s) return attn_error(ATTN_ERR_INVALID, "cmvn_stats_init: NULL stats");
    memset(s, 0, sizeof *s);
    if (dim < 1) return attn_error(ATTN_ERR_INVALID, "cmvn_stats_init: dim %d", dim);
    s->sum = calloc((size_t)dim, sizeof *s->sum);
    s->sum_sq = calloc((size_t)dim, sizeof *s->sum_sq);
    if (!s->sum || !s->sum_sq) {
        attn_cmvn_stats_free(s);
        return attn_error(ATTN_ERR_NOMEM, "cmvn stats of %d", dim);
    }
    s->dim = dim;
    return ATTN_OK;
}

void attn_cmvn_stats_free(attn_cmvn_stats *s) {
    if (!s) return;
    free(s->sum);
    free(s->sum_sq);
    memset(s, 0, sizeof *s);
}

attn_status attn_cmvn_stats_add(attn_cmvn_stats *s, const float *feats, long n_frames) {
    if (!s || !s->sum || n_frames < 0 || (n_frames > 0 && !feats))
        return attn_error(ATTN_ERR_INVALID, "cmvn_stats_add: bad arguments");
    int D = s->dim;
    for (long i = 0; i < n_frames * D; i++)
        if (!isfinite(feats[i]))
            return attn_error(ATTN_ERR_NUMERIC,
                              "cmvn_stats_add: frame %ld, value %ld is not finite", i / D, i % D);
    for (long t = 0; t < n_frames; t++) {
        const float *x = feats + t * D;
        for (int d = 0; d < D; d++) {
            s->sum[d] += x[d];
            s->sum_sq[d] += (double)x[d] * x[d];
        }
    }
    s->count += (double)n_frames;
    return ATTN_OK;
}

attn_status attn_cmvn_apply(const attn_cmvn_stats *s, float *feats, long n_frames, int norm_vars) {
    if (!s || !s->sum || n_frames < 0 || (n_frames > 0 && !feats))
        return attn_error(ATTN_ERR_INVALID, "cmvn_apply: bad arguments");
    if (!(s->count >= 1))
        return attn_error(ATTN_ERR_INVALID, "cmvn_apply: statistics of %g frames", s->count);
    int D = s->dim;
    for (int d = 0; d < D; d++) {
        double mean = s->sum[d] / s->count;
        double scale = 1;
        if (norm_vars) {
            double var = s->sum_sq[d] / s->count - mean * mean;
            scale = 1 / sqrt(var > 1e-20 ? var : 1e-20); /* a constant dimension stays finite */
        }
        for (long t = 0; t < n_frames; t++) {
            float *x = feats + t * D + d;
            *x = (float)((*x - mean) * scale);
        }
    }
    return ATTN_OK;
}

attn_status attn_cmvn_utterance(float *feats, long n_frames, int dim, int norm_vars) {
    if (!feats || n_frames < 1 || dim < 1)
        return attn_error(ATTN_ERR_INVALID, "cmvn_utterance: %ld frames of %d", n_frames, dim);
    attn_cmvn_stats s;
    ATTN_TRY(attn_cmvn_stats_init(&s, dim));
    attn_status st = attn_cmvn_stats_add(&s, feats, n_frames);
    if (st == ATTN_OK) st = attn_cmvn_apply(&s, feats, n_frames, norm_vars);
    attn_cmvn_stats_free(&s);
    return st;
}

attn_status attn_cmvn_stats_save(const attn_cmvn_stats *s, const char *path) {
    if (!s || !s->sum || !path)
        return attn_error(ATTN_ERR_INVALID, "cmvn_stats_save: bad arguments");
    attn_st_writer *w;
    ATTN_TRY(attn_st_writer_create(&w));
    int64_t one = 1, dim = s->dim;
    attn_status st = attn_st_writer_add(w, "cmvn.count", ATTN_DTYPE_F64, &s->count, 1, &one);
    if (st == ATTN_OK) st = attn_st_writer_add(w, "cmvn.sum", ATTN_DTYPE_F64, s->sum, 1, &dim);
    if (st == ATTN_OK)
        st = attn_st_writer_add(w, "cmvn.sum_sq", ATTN_DTYPE_F64, s->sum_sq, 1, &dim);
    if (st == ATTN_OK) st = attn_st_writer_write(w, path);
    attn_st_writer_free(w);
    return st;
}

/* The tensor `name`, float64 of shape (n) (n = -1: any length, returned in *n). */
static attn_status find_f64(const attn_safetensors *f, const char *name, int64_t *n,
                            const double **data) {
    const attn_safetensors_tensor *t = attn_safetensors_find(f, name);
    if (!t) return attn_error(ATTN_ERR_MISSING, "no tensor %s", name);
    if (t->dtype != ATTN_DTYPE_F64 || t->ndim != 1 || t->shape[0] < 1 ||
        (*n >= 0 && t->shape[0] != *n))
        return attn_error(ATTN_ERR_FORMAT, "%s must be float64 of one dimension (got %s, %d dims)",
                          name, attn_dtype_name(t->dtype), t->ndim);
    *n = t->shape[0];
    *data = t->data;
    return ATTN_OK;
}

attn_status attn_cmvn_stats_load(const char *path, attn_cmvn_stats *s) {
    if (!s) return attn_error(ATTN_ERR_INVALID, "cmvn_stats_load: NULL stats");
    memset(s, 0, sizeof *s);
    if (!path) return attn_error(ATTN_ERR_INVALID, "cmvn_stats_load: NULL path");
    attn_safetensors *f;
    ATTN_TRY(attn_safetensors_open(path, ATTN_SAFETENSORS_DEFAULT, &f));
    int64_t one = 1, dim = -1;
    const double *count, *sum, *sum_sq;
    attn_status st = find_f64(f, "cmvn.count", &one, &count);
    if (st == ATTN_OK) st = find_f64(f, "cmvn.sum", &dim, &sum);
    if (st == ATTN_OK) st = find_f64(f, "cmvn.sum_sq", &dim, &sum_sq);
    if (st == ATTN_OK && dim > 1 << 20)
        st = attn_error(ATTN_ERR_FORMAT, "cmvn dim %lld", (long long)dim);
    double c = 0;
    if (st == ATTN_OK) {
        memcpy(&c, count, sizeof c); /* the data of a safetensors file is not aligned for double */
        if (!(c >= 0 && isfinite(c))) st = attn_error(ATTN_ERR_NUMERIC, "cmvn.count %g", c);
    }
    if (st == ATTN_OK) st = attn_cmvn_stats_init(s, (int)dim);
    if (st == ATTN_OK) {
        memcpy(s->sum, sum, (size_t)dim * sizeof(double));
        memcpy(s->sum_sq, sum_sq, (size_t)dim * sizeof(double));
        s->count = c;
        for (int d = 0; d < s->dim && st == ATTN_OK; d++)
            if (!isfinite(s->sum[d]) || !(s->sum_sq[d] >= 0) || !isfinite(s->sum_sq[d]))
                st = attn_error(ATTN_ERR_NUMERIC, "cmvn statistics of dimension %d are not finite",
                                d);
        if (st != ATTN_OK) attn_cmvn_stats_free(s);
    }
    attn_safetensors_close(f);
    if (st != ATTN_OK) attn_error_context(st, "%s", path);
    return st;
}
