/* nn/mha.c: multi-head attention = projections (kernels/linear) + fused attention. */
#include "nn/mha.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/linear.h"

size_t attn_mha_qkv_floats(const attn_mha_shape *s, int cross) {
    size_t q = (size_t)s->B * s->Tq * s->C;
    return cross ? q + (size_t)s->B * s->Tk * 2 * s->C : 3 * q;
}

size_t attn_mha_scratch_floats(const attn_mha_shape *s, int cross) {
    /* datt (B, Tq, C) + dqkv (like qkv) + delta (B, H, Tq) */
    return (size_t)s->B * s->Tq * s->C + attn_mha_qkv_floats(s, cross) +
           (size_t)s->B * s->H * s->Tq;
}

/* The attention views over the projected q/k/v for each of the three layouts (training
 * self-attention, cached self-attention of streams at one length, cross-attention). */
static attn_sdpa_args sdpa_views(const attn_mha_shape *s, const float *qkv, const int *kv_len,
                                 const attn_kv_cache *cache) {
    int B = s->B, Tq = s->Tq, C = s->C;
    attn_sdpa_args a = {.B = B,
                        .H = s->H,
                        .Tq = Tq,
                        .Tk = s->Tk,
                        .D = C / s->H,
                        .scale = 1.0f / sqrtf((float)(C / s->H)),
                        .causal = s->causal,
                        .kv_len = kv_len};
    if (!s->cross) {
        a.q = qkv, a.q_rs = 3L * C, a.q_bs = (long)Tq * 3 * C;
        if (cache) {
            a.Tk = cache->len[0] + Tq;
            a.k = cache->k, a.v = cache->v;
            a.k_rs = a.v_rs = C;
            a.k_bs = a.v_bs = (long)cache->cap * C;
        } else {
            a.Tk = Tq;
            a.k = qkv + C, a.v = qkv + 2 * C;
            a.k_rs = a.v_rs = a.q_rs, a.k_bs = a.v_bs = a.q_bs;
        }
    } else {
        const float *kv = cache && cache->cross_kv ? cache->cross_kv : qkv + (size_t)B * Tq * C;
        a.q = qkv, a.q_rs = C, a.q_bs = (long)Tq * C;
        a.k = kv, a.v = kv + C;
        a.k_rs = a.v_rs = 2L * C, a.k_bs = a.v_bs = (long)s->Tk * 2 * C;
    }
    return a;
}

static int new_positions(const attn_kv_cache *cache, int b, int Tq) {
    return cache->n_new ? cache->n_new[b] : Tq;
}

/* Decoding: copies stream b's n_new[b] new keys and values (inside qkv rows) to its cache rows
 * len[b].. */
static void cache_append(const attn_mha_shape *s, const float *qkv, attn_kv_cache *cache) {
    int C = s->C;
    for (int b = 0; b < s->B; b++) {
        for (int t = 0; t < new_positions(cache, b, s->Tq); t++) {
            const float *row = qkv + ((size_t)b * s->Tq + t) * 3 * C;
            size_t at = ((size_t)b * cache->cap + cache->len[b] + t) * C;
            memcpy(cache->k + at, row + C, (size_t)C * sizeof(float));
            memcpy(cache->v + at, row + 2 * C, (size_t)C * sizeof(float));
        }
    }
}

/* Cached self-attention of streams at different lengths. One new position each: one batched call
 * where stream b sees its len[b] + n_new[b] keys. More: one call per stream over its n_new[b]
 * queries and len[b] + n_new[b] keys (bottom-right causal), the rows past them zeroed. */
static attn_status sdpa_streams(const attn_mha_shape *s, const float *qkv, attn_kv_cache *cache,
                                float *att) {
    int B = s->B, Tq = s->Tq, C = s->C;
    attn_sdpa_args a = sdpa_views(s, qkv, NULL, cache);
    if (Tq == 1) {
        a.Tk = 1, a.causal = 0, a.kv_len = cache->kv_len;
        for (int b = 0; b < B; b++) {
            cache->kv_len[b] = cache->len[b] + new_positions(cache, b, 1);
            if (cache->kv_len[b] > a.Tk) a.Tk = cache->kv_len[b];
        }
        return attn_sdpa_forward(&a, att, (long)Tq * C, C, NULL);
    }
    for (int b = 0; b < B; b++) {
        int n = new_positions(cache, b, Tq);
        float *o = att + (size_t)b * Tq * C;
        memset(o + (size_t)n * C, 0, (size_t)(Tq - n) * C * sizeof(float));
        if (!n) continue;
        attn_sdpa_args one = a;
        one.B = 1, one.Tq = n, one.Tk = cache->len[b] + n;
        one.q = a.q + b * a.q_bs, one.k = a.k + b * a.k_bs, one.v = a.v + b * a.v_bs;
        ATTN_TRY(attn_sdpa_forward(&one, o, (long)Tq * C, C, NULL));
    }
    return ATTN_OK;
}

void attn_mha_cross_kv(const attn_mha_params *p, float *kv, const float *mem, int N, int C) {
    attn_linear_forward(kv, mem, p->in_w + (size_t)C * C, p->in_b + C, N, C, 2 * C); /* (N, 2C) */
}

attn_status attn_mha_forward(const attn_mha_shape *s, const attn_mha_params *p, float *out,
                             float *qkv, float *att, float *lse, const float *x, const float *mem,
                             const int *kv_len, attn_kv_cache *cache, float *probs) {
    int B = s->B, Tq = s->Tq, C = s->C;
    if (!s->cross) {
        attn_linear_forward(qkv, x, p->in_w, p->in_b, B * Tq, C, 3 * C); /* (B, Tq, 3C) */
        if (cache) cache_append(s, qkv, cache);
    } else {
        attn_linear_forward(qkv, x, p->in_w, p->in_b, B * Tq, C, C); /* q: (B, Tq, C) */
        if (!cache || !cache->cross_kv)                              /* k, v: (B, Tk, 2C) */
            attn_mha_cross_kv(p, qkv + (size_t)B * Tq * C, mem, B * s->Tk, C);
    }
    attn_sdpa_args a = sdpa_views(s, qkv, kv_len, cache);
    attn_status st;
    if (probs)
        st = attn_sdpa_probs(&a, att, (long)Tq * C, C, probs);
    else if (cache && !s->cross && !cache->uniform)
        st = sdpa_streams(s, qkv, cache, att);
    else
        st = attn_sdpa_forward(&a, att, (long)Tq * C, C, lse);
    ATTN_TRY(st);
    attn_linear_forward(out, att, p->out_w, p->out_b, B * Tq, C, C); /* (B, Tq, C) */
    return ATTN_OK;
}

attn_status attn_mha_backward(const attn_mha_shape *s, const attn_mha_params *p,
                              const attn_mha_params *g, const float *dout, const float *qkv,
                              const float *att, const float *lse, const float *x, const float *mem,
                              const int *kv_len, float *dx, float *dmem, float *scratch) {
    int B = s->B, Tq = s->Tq, Tk = s->Tk, C = s->C;
    int cross = s->cross;
    size_t nq = (size_t)B * Tq * C;
    float *datt = scratch;
    float *dqkv = datt + nq;
    float *delta = dqkv + attn_mha_qkv_floats(s, cross);
    memset(dqkv, 0, attn_mha_qkv_floats(s, cross) * sizeof(float)); /* sdpa_backward adds */

    attn_linear_backward_set(datt, g->out_w, g->out_b, dout, att, p->out_w, B * Tq, C, C);

    attn_sdpa_args a = sdpa_views(s, qkv, kv_len, NULL);
    float *dq = dqkv;
    float *dk = dqkv + (a.k - qkv), *dv = dqkv + (a.v - qkv);
    ATTN_TRY(attn_sdpa_backward(&a, att, (long)Tq * C, C, lse, datt, dq, dk, dv, delta));

    if (!cross) {
        attn_linear_backward(dx, g->in_w, g->in_b, dqkv, x, p->in_w, B * Tq, C, 3 * C);
    } else {
        attn_linear_backward(dx, g->in_w, g->in_b, dq, x, p->in_w, B * Tq, C, C);
        attn_linear_backward(dmem, g->in_w + (size_t)C * C, g->in_b + C, dqkv + nq, mem,
                             p->in_w + (size_t)C * C, B * Tk, C, 2 * C);
    }
    return ATTN_OK;
}
