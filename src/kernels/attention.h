/* kernels/attention.h: scaled dot-product attention over many heads,
 *     O = softmax(Q K^T * scale + mask) V,
 * with a causal mask, a key-padding mask, and cross-attention (Tq != Tk).
 *
 * Layout: every tensor is a row-major view whose element (b, t, h, d) lives at
 *     X[b * x_bs + t * x_rs + h * D + d]
 * so a packed QKV projection output (B, T, 3C) is used in place: q = qkv, k = qkv + C, v = qkv +
 * 2C, row stride 3C, batch stride T * 3C. A KV cache with capacity Tmax per row is k_bs = Tmax * C.
 *
 * Masks: query i may attend to key j iff j < kv_len[b] (kv_len NULL: all Tk keys) and, if causal,
 * j <= i + (Tk - Tq) (bottom-right aligned, so a single new query in cached decoding sees all
 * keys). A query row with no visible key yields an output row of zeros, lse = -INFINITY, zero
 * gradients.
 *
 * attn_sdpa_forward / attn_sdpa_backward are the fused kernels (FlashAttention-2 style): they walk
 * key tiles with an online softmax and never hold more than a tile of scores, so memory is linear
 * in the sequence length. attn_sdpa_probs and attn_sdpa_backward_ref are the plain reference: they
 * materialise the (B, H, Tq, Tk) probabilities; probs is also the path for attention maps. */
#ifndef ATTN_KERNELS_ATTENTION_H
#define ATTN_KERNELS_ATTENTION_H

#include "attn/status.h"

typedef struct {
    int B, H, Tq, Tk, D;
    float scale;       /* usually 1 / sqrt(D) */
    int causal;        /* nonzero: j <= i + (Tk - Tq) */
    const int *kv_len; /* (B) or NULL */
    const float *q;
    long q_bs, q_rs;
    const float *k;
    long k_bs, k_rs;
    const float *v;
    long v_bs, v_rs;
} attn_sdpa_args;

/* o: output view (o_bs, o_rs); lse: (B, H, Tq) log-sum-exp of the scaled, masked scores, needed by
 * backward; may be NULL for inference. Errors: ATTN_ERR_NOMEM when a thread's tiles cannot be
 * allocated (o is then incomplete). */
attn_status attn_sdpa_forward(const attn_sdpa_args *a, float *o, long o_bs, long o_rs, float *lse);

/* Gradients. o, lse: from forward; dout: same layout as o. Accumulates (+=) into dq, dk, dv, which
 * use the strides of q, k, v respectively (dk and dv may point into one packed buffer with dq).
 * delta: scratch of B * H * Tq floats. Errors: ATTN_ERR_NOMEM (the gradients are then incomplete).
 */
attn_status attn_sdpa_backward(const attn_sdpa_args *a, const float *o, long o_bs, long o_rs,
                               const float *lse, const float *dout, float *dq, float *dk, float *dv,
                               float *delta);

/* Reference forward: writes o like attn_sdpa_forward and, if probs is not NULL, the attention
 * probabilities probs: (B, H, Tq, Tk) (masked entries 0). Memory O(Tq * Tk) per head. */
attn_status attn_sdpa_probs(const attn_sdpa_args *a, float *o, long o_bs, long o_rs,
                            float *probs);

/* Reference backward, same contract as attn_sdpa_backward (o, lse unused beyond recomputation).
 * Both references return ATTN_ERR_NOMEM when their per-head scratch cannot be allocated. */
attn_status attn_sdpa_backward_ref(const attn_sdpa_args *a, const float *dout, long do_bs,
                                   long do_rs, float *dq, float *dk, float *dv);

#endif
