/* nn/mha.h: multi-head attention with packed Q/K/V projections (PyTorch's in_proj layout).
 *
 *   q = x Wq^T + bq, k = m Wk^T + bk, v = m Wv^T + bv   (m = x for self-attention, mem for cross)
 *   out = concat_h softmax(q_h k_h^T / sqrt(D) + mask) v_h  Wo^T + bo
 *
 * The attention itself is the fused kernel (kernels/attention.h). */
#ifndef ATTN_NN_MHA_H
#define ATTN_NN_MHA_H

#include <stddef.h>

#include "nn/layer.h"

typedef struct {
    int B, Tq, Tk; /* Tk == Tq for self-attention */
    int C, H;
    int causal; /* self-attention only: query i sees keys j <= i (after the cached ones) */
    int cross;  /* queries from x, keys and values from mem (or cache->cross_kv) */
} attn_mha_shape;

/* Floats of the saved activations: qkv (self: B*Tq*3C; cross: B*Tq*C + B*Tk*2C). */
size_t attn_mha_qkv_floats(const attn_mha_shape *s, int cross);
/* Floats of scratch attn_mha_backward needs. */
size_t attn_mha_scratch_floats(const attn_mha_shape *s, int cross);

/* x: (B, Tq, C); mem: (B, Tk, C) for cross-attention (unused when cache->cross_kv holds its
 * keys/values); kv_len: (B) valid keys or NULL. Writes out (B, Tq, C) and the saved activations
 * qkv, att (B, Tq, C) and lse (B, H, Tq) (lse may be NULL in inference).
 * cache (decoding, see nn/layer.h): self-attention appends stream b's n_new[b] new keys/values at
 * cache->len[b] and its query i attends to keys [0, len[b] + i] (Tk is ignored); a stream's rows
 * past n_new[b] get att rows of zeros. Cross-attention reads cache->cross_kv.
 * probs: NULL, or (B, H, Tq, Tk) for the attention probabilities (training and decoding pass
 * NULL; the reference kernel then computes the attention, see kernels/attention.h). */
attn_status attn_mha_forward(const attn_mha_shape *s, const attn_mha_params *p, float *out,
                             float *qkv, float *att, float *lse, const float *x, const float *mem,
                             const int *kv_len, attn_kv_cache *cache, float *probs);

/* Cross-attention keys and values of a memory: kv (N, 2C) = mem (N, C) [Wk; Wv]^T + [bk; bv],
 * what attn_mha_forward computes for cross-attention, for a decoding cache to keep. */
void attn_mha_cross_kv(const attn_mha_params *p, float *kv, const float *mem, int N, int C);

/* Accumulates into dx (B, Tq, C), dmem (B, Tk, C) (cross only) and g. dout: (B, Tq, C). */
attn_status attn_mha_backward(const attn_mha_shape *s, const attn_mha_params *p,
                              const attn_mha_params *g, const float *dout, const float *qkv,
                              const float *att, const float *lse, const float *x, const float *mem,
                              const int *kv_len, float *dx, float *dmem, float *scratch);

#endif
