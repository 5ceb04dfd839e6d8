/* nn/mha.c: multi-head attention = projections (kernels/linear) + fused attention. */
#include "nn/mha.h"

#include <math.h>
#include <string.h>

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

/* The attention views over the projected q/k/v for each of the three layouts. */
static attn_sdpa_args sdpa_views(const attn_mha_shape *s, const float *qkv, int cross,
                                 const int *kv_len, const attn_kv_cache *cache) {
    int B = s->B, Tq = s->Tq, C = s->C;
    attn_sdpa_args a = {.B = B,
                        .H = s->H,
                        .Tq = Tq,
                        .Tk = s->Tk,
                        .D = C / s->H,
                        .scale = 1.0f / sqrtf((float)(C / s->H)),
                        .causal = s->causal,
                        .kv_len = kv_len};
    if (!cross) {
        a.q = qkv, a.q_rs = 3L * C, a.q_bs = (long)Tq * 3 * C;
        if (cache) {
            a.Tk = cache->len + Tq;
            a.k = cache->k, a.v = cache->v;
            a.k_rs = a.v_rs = C;
            a.k_bs = a.v_bs = (long)cache->cap * C;
        } else {
            a.Tk = Tq;
            a.k = qkv + C, a.v = qkv + 2 * C;
            a.k_rs = a.v_rs = a.q_rs, a.k_bs = a.v_bs = a.q_bs;
        }
    } else {
        const float *kv = cache ? cache->cross_kv : qkv + (size_t)B * Tq * C;
        a.q = qkv, a.q_rs = C, a.q_bs = (long)Tq * C;
        a.k = kv, a.v = kv + C;
        a.k_rs = a.v_rs = 2L * C, a.k_bs = a.v_bs = (long)s->Tk * 2 * C;
    }
    return a;
}

/* Decoding: copies the Tq new keys and values (inside qkv rows) to cache positions len.. */
static void cache_append(const attn_mha_shape *s, const float *qkv, attn_kv_cache *cache) {
    int C = s->C;
    for (int b = 0; b < s->B; b++) {
        for (int t = 0; t < s->Tq; t++) {
            const float *row = qkv + ((size_t)b * s->Tq + t) * 3 * C;
            size_t at = ((size_t)b * cache->cap + cache->len + t) * C;
            memcpy(cache->k + at, row + C, (size_t)C * sizeof(float));
            memcpy(cache->v + at, row + 2 * C, (size_t)C * sizeof(float));
        }
    }
}

void attn_mha_forward(const attn_mha_shape *s, const attn_mha_params *p, float *out, float *qkv,
                      float *att, float *lse, const float *x, const float *mem, const int *kv_len,
                      attn_kv_cache *cache) {
    int B = s->B, Tq = s->Tq, C = s->C;
    int cross = mem != NULL;
    if (!cross) {
        attn_linear_forward(qkv, x, p->in_w, p->in_b, B * Tq, C, 3 * C); /* (B, Tq, 3C) */
        if (cache) cache_append(s, qkv, cache);
    } else {
        attn_linear_forward(qkv, x, p->in_w, p->in_b, B * Tq, C, C); /* q: (B, Tq, C) */
        float *kv = cache ? cache->cross_kv : qkv + (size_t)B * Tq * C;
        if (!cache || !cache->cross_ready) {
            /* k, v: (B, Tk, 2C) from rows [C, 3C) of in_proj */
            attn_linear_forward(kv, mem, p->in_w + (size_t)C * C, p->in_b + C, B * s->Tk, C, 2 * C);
            if (cache) cache->cross_ready = 1;
        }
    }
    attn_sdpa_args a = sdpa_views(s, qkv, cross, kv_len, cache);
    attn_sdpa_forward(&a, att, (long)Tq * C, C, lse);
    attn_linear_forward(out, att, p->out_w, p->out_b, B * Tq, C, C);
}

void attn_mha_backward(const attn_mha_shape *s, const attn_mha_params *p, const attn_mha_params *g,
                       const float *dout, const float *qkv, const float *att, const float *lse,
                       const float *x, const float *mem, const int *kv_len, float *dx, float *dmem,
                       float *scratch) {
    int B = s->B, Tq = s->Tq, Tk = s->Tk, C = s->C;
    int cross = mem != NULL;
    size_t nq = (size_t)B * Tq * C;
    float *datt = scratch;
    float *dqkv = datt + nq;
    float *delta = dqkv + attn_mha_qkv_floats(s, cross);
    memset(dqkv, 0, attn_mha_qkv_floats(s, cross) * sizeof(float)); /* sdpa_backward adds */

    attn_linear_backward_set(datt, g->out_w, g->out_b, dout, att, p->out_w, B * Tq, C, C);

    attn_sdpa_args a = sdpa_views(s, qkv, cross, kv_len, NULL);
    float *dq = dqkv;
    float *dk = dqkv + (a.k - qkv), *dv = dqkv + (a.v - qkv);
    attn_sdpa_backward(&a, att, (long)Tq * C, C, lse, datt, dq, dk, dv, delta);

    if (!cross) {
        attn_linear_backward(dx, g->in_w, g->in_b, dqkv, x, p->in_w, B * Tq, C, 3 * C);
    } else {
        attn_linear_backward(dx, g->in_w, g->in_b, dq, x, p->in_w, B * Tq, C, C);
        attn_linear_backward(dmem, g->in_w + (size_t)C * C, g->in_b + C, dqkv + nq, mem,
                             p->in_w + (size_t)C * C, B * Tk, C, 2 * C);
    }
}
