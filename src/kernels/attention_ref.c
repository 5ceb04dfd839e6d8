/* kernels/attention_ref.c: the plain reference of scaled dot-product attention.
 *
 * One head at a time, one query row at a time, in double: the row's probabilities
 *     p_j = exp(s_j - max) / sum, s_j = scale q_i . k_j over the visible keys (0 elsewhere),
 * then o_i = sum_j p_j v_j, and in backward
 *     dp_j = dO_i . v_j, D_i = sum_j p_j dp_j, ds_j = p_j (dp_j - D_i),
 *     dq_i += scale sum_j ds_j k_j, dk_j += scale ds_j q_i, dv_j += p_j dO_i.
 * Slow (no tiling, no SIMD) but short enough to check by eye; the fused kernels in attention.c are
 * tested against it, and attn_sdpa_probs is also how attention maps are produced. */
#include "kernels/attention.h"
#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int visible_keys(const attn_sdpa_args *a, int b) {
    int n = a->kv_len ? a->kv_len[b] : a->Tk;
    return n < 0 ? 0 : n > a->Tk ? a->Tk : n;
}

/* Number of keys query i of batch row b sees (a prefix 0..n-1 of the keys). */
static int keys_seen(const attn_sdpa_args *a, int b, int i) {
    int n = visible_keys(a, b);
    if (a->causal && i + a->Tk - a->Tq + 1 < n) n = i + a->Tk - a->Tq + 1;
    return n < 0 ? 0 : n;
}

// p: (Tk) probabilities of query i of head (b, h); entries n.. (hidden keys) are 0; returns n
static int probs_row(const attn_sdpa_args *a, int b, int h, int i, double *p) {
    const int D = a->D, n = keys_seen(a, b, i);
    const float *q = a->q + b * a->q_bs + i * a->q_rs + (long)h * D;
    double max = -INFINITY, sum = 0;
    for (int j = 0; j < n; j++) {
        const float *k = a->k + b * a->k_bs + j * a->k_rs + (long)h * D;
        double s = 0;
        for (int d = 0; d < D; d++)
            s += (double)q[d] * k[d];
        p[j] = s * a->scale;
        max = fmax(max, p[j]);
    }
    for (int j = 0; j < n; j++)
        sum += p[j] = exp(p[j] - max);
    for (int j = 0; j < a->Tk; j++)
        p[j] = j < n ? p[j] / sum : 0.0;
    return n;
}

// o: view (o_bs, o_rs) like q; probs: (B, H, Tq, Tk) or NULL
attn_status attn_sdpa_probs(const attn_sdpa_args *a, float *o, long o_bs, long o_rs,
                            float *probs) {
    const int D = a->D, heads = a->B * a->H;
    if (heads <= 0 || a->Tq <= 0 || D <= 0) return ATTN_OK;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (int bh = 0; bh < heads; bh++) {
        int b = bh / a->H, h = bh % a->H;
        double *p = malloc((size_t)(a->Tk + 1) * sizeof *p), *acc = malloc((size_t)D * sizeof *acc);
        if (!p || !acc) {
#pragma omp atomic write
            failed = 1;
        }
        for (int i = 0; p && acc && i < a->Tq; i++) {
            int n = probs_row(a, b, h, i, p);
            memset(acc, 0, (size_t)D * sizeof *acc);
            for (int j = 0; j < n; j++) {
                const float *v = a->v + b * a->v_bs + j * a->v_rs + (long)h * D;
                for (int d = 0; d < D; d++)
                    acc[d] += p[j] * v[d];
            }
            float *orow = o + b * o_bs + i * o_rs + (long)h * D;
            for (int d = 0; d < D; d++)
                orow[d] = (float)acc[d];
            float *prow = probs ? probs + ((long)bh * a->Tq + i) * a->Tk : NULL;
            for (int j = 0; prow && j < a->Tk; j++)
                prow[j] = (float)p[j];
        }
        free(p);
        free(acc);
    }
    if (failed)
        return attn_error(ATTN_ERR_NOMEM, "attn_sdpa_probs: out of memory (Tk = %d)", a->Tk);
    return ATTN_OK;
}

/* Backward of one head; p, dp: (Tk), dk, dv: (Tk, D) double accumulators, zeroed. */
static void backward_head(const attn_sdpa_args *a, int b, int h, const float *dout, long do_bs,
                          long do_rs, float *dq, double *p, double *dp, double *dk, double *dv) {
    const int D = a->D;
    const long hoff = (long)h * D;
    for (int i = 0; i < a->Tq; i++) {
        int n = probs_row(a, b, h, i, p);
        const float *q = a->q + b * a->q_bs + i * a->q_rs + hoff;
        const float *g = dout + b * do_bs + i * do_rs + hoff;
        double delta = 0;
        for (int j = 0; j < n; j++) {
            const float *v = a->v + b * a->v_bs + j * a->v_rs + hoff;
            double s = 0;
            for (int d = 0; d < D; d++)
                s += (double)g[d] * v[d];
            dp[j] = s;
            delta += p[j] * s;
        }
        float *dqi = dq + b * a->q_bs + i * a->q_rs + hoff;
        for (int d = 0; d < D; d++) {
            double s = 0;
            for (int j = 0; j < n; j++)
                s += p[j] * (dp[j] - delta) * a->k[b * a->k_bs + j * a->k_rs + hoff + d];
            dqi[d] += (float)(a->scale * s);
        }
        for (int j = 0; j < n; j++) {
            double ds = a->scale * p[j] * (dp[j] - delta);
            for (int d = 0; d < D; d++) {
                dk[(long)j * D + d] += ds * q[d];
                dv[(long)j * D + d] += p[j] * g[d];
            }
        }
    }
}

attn_status attn_sdpa_backward_ref(const attn_sdpa_args *a, const float *dout, long do_bs,
                                   long do_rs, float *dq, float *dk, float *dv) {
    const int D = a->D, heads = a->B * a->H;
    if (heads <= 0 || a->Tq <= 0 || D <= 0) return ATTN_OK;
    const size_t tkd = (size_t)(a->Tk > 0 ? a->Tk : 1) * D;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (int bh = 0; bh < heads; bh++) {
        int b = bh / a->H, h = bh % a->H;
        double *p = malloc((size_t)(a->Tk + 1) * 2 * sizeof *p),
               *acc = calloc(2 * tkd, sizeof *acc);
        if (!p || !acc) {
#pragma omp atomic write
            failed = 1;
        } else {
            backward_head(a, b, h, dout, do_bs, do_rs, dq, p, p + a->Tk + 1, acc, acc + tkd);
            for (int j = 0; j < a->Tk; j++) {
                float *dkj = dk + b * a->k_bs + j * a->k_rs + (long)h * D;
                float *dvj = dv + b * a->v_bs + j * a->v_rs + (long)h * D;
                for (int d = 0; d < D; d++) {
                    dkj[d] += (float)acc[(long)j * D + d];
                    dvj[d] += (float)acc[tkd + (long)j * D + d];
                }
            }
        }
        free(p);
        free(acc);
    }
    if (failed)
        return attn_error(ATTN_ERR_NOMEM, "attn_sdpa_backward_ref: out of memory (Tk = %d)",
                          a->Tk);
    return ATTN_OK;
}
