/* nn/layer.h: the two Transformer layers, forward and backward, each one straight line of calls.
 *
 * A layer is residual sublayers f in {self-attention, cross-attention, FFN}, each with its own
 * LayerNorm named by its role (ln_self, ln_cross, ln_ffn):
 *     pre-LN : y = x + dropout(f(LN(x)))
 *     post-LN: y = LN(x + dropout(f(x)))
 * encoder layer: self-attention (key padding), FFN
 * decoder layer: causal self-attention (and key padding), [cross-attention to `mem` with the
 *                source's key padding], FFN
 * (docs/FORMATS.md gives the exact computation and the parameter names.)
 *
 * The same forward serves training (activations kept for backward, dropout), KV-cached decoding
 * (an attn_kv_cache per layer) and attention maps (the probabilities recorded): attn_layer_run
 * says which. Parameters, gradients and activations are caller-owned arrays described by the
 * structs below (the model points them into its arenas). Backward ACCUMULATES into dx, dmem and
 * every parameter gradient, following the kernels' convention. */
#ifndef ATTN_NN_LAYER_H
#define ATTN_NN_LAYER_H

#include "attn/status.h"

#include <stddef.h>
#include <stdint.h>

#include "attn/config.h"
#include "core/rng.h"

typedef struct {
    float *in_w;  /* (3C, C) rows: query, key, value */
    float *in_b;  /* (3C) */
    float *out_w; /* (C, C) */
    float *out_b; /* (C) */
} attn_mha_params;

typedef struct {
    float *fc1_w; /* (F, C) */
    float *fc1_b; /* (F) */
    float *fc2_w; /* (C, F) */
    float *fc2_b; /* (C) */
} attn_ffn_params;

typedef struct {
    float *w, *b; /* (C), (C) */
} attn_ln_params;

/* Weights of a layer, or their gradients (same struct). cross_attn and ln_cross exist in seq2seq
 * decoder layers only. In checkpoints (docs/FORMATS.md) ln_self is `ln1`; ln_ffn is `ln2`, or
 * `ln3` in a seq2seq decoder layer, whose `ln2` is ln_cross. */
typedef struct {
    attn_mha_params self_attn, cross_attn;
    attn_ffn_params ffn;
    attn_ln_params ln_self, ln_cross, ln_ffn;
} attn_layer_params;

/* What a layer computes and on what sizes. */
typedef struct {
    int B, T;    /* batch, sequence length */
    int Tk;      /* memory (encoder output) length, cross-attention only */
    int C, H, F; /* d_model, heads, d_ff */
    int cross;   /* decoder layer with cross-attention (seq2seq) */
    attn_norm norm;
    attn_act act;
    float dropout; /* probability, training only */
    float eps;     /* LayerNorm epsilon */
} attn_layer_shape;

/* The KV cache of one decoder layer for incremental decoding, stream by stream.
 * Self-attention keys/values of stream b's positions [0, len[b]) live in rows b of k, v:
 * (B, cap, C). A call appends n_new[b] (<= T) new positions of stream b at len[b] (n_new NULL:
 * all T); the caller advances len afterwards. uniform: every len[b] is equal and n_new is NULL,
 * so one batched attention call serves all streams. kv_len: (B) scratch.
 * cross_kv: seq2seq, the source's cross-attention keys/values (B, Tk, 2C), computed once per
 * source with attn_mha_cross_kv. */
typedef struct {
    float *k, *v;
    int cap;
    const int *len;
    const int *n_new;
    int uniform;
    int *kv_len;
    const float *cross_kv;
} attn_kv_cache;

/* Saved activations of one sublayer. */
typedef struct {
    float *ln_mean, *ln_rstd; /* (B, T) */
    float *ln_out;            /* pre-LN: LN(x), the input of f; post-LN: unused */
    float *sum;               /* post-LN: x + dropout(f), the input of LN; pre-LN: unused */
    float *f_out;             /* (B, T, C) dropout(f(...)) */
    uint8_t *mask;            /* (B, T, C) dropout mask (training with dropout > 0) */
    float *qkv;               /* attention: (B, T, 3C) self, or q (B, T, C) + kv (B, Tk, 2C) */
    float *att;               /* attention: (B, T, C) heads concatenated, before out_proj */
    float *lse;               /* attention: (B, H, T) */
    float *h, *a;             /* FFN: (B, T, F) before / after the activation */
    float *y;                 /* (B, T, C) the sublayer's output */
} attn_sublayer_acts;

typedef struct {
    attn_sublayer_acts self, cross, ffn; /* cross: decoder layers with cross-attention only */
    float *out;                          /* == ffn.y, the layer's output (B, T, C) */
} attn_layer_acts;

/* How a forward runs. training: dropout from rng (when dropout > 0) and lse kept for backward.
 * cache: decoding (decoder layers only). self_probs / cross_probs: when not NULL, the attention
 * probabilities of that sublayer go there, (B, H, T, Tk) with Tk the keys it attends to (the
 * reference kernel then computes that attention, so the probabilities are the ones used). */
typedef struct {
    int training;
    attn_rng *rng;
    attn_kv_cache *cache;
    float *self_probs, *cross_probs;
} attn_layer_run;

/* Floats needed for a layer's activations at shape s (training: with what backward needs). */
size_t attn_layer_acts_floats(const attn_layer_shape *s, int training);
/* Points a's arrays into base (attn_layer_acts_floats(s, training) floats). */
void attn_layer_acts_bind(attn_layer_acts *a, const attn_layer_shape *s, int training, float *base);

/* Floats of scratch a layer backward needs at shape s. */
size_t attn_layer_scratch_floats(const attn_layer_shape *s);

/* x: (B, T, C) -> a->out (B, T, C); x_len: (B) valid lengths of x (key padding) or NULL. */
attn_status attn_encoder_layer_forward(const attn_layer_shape *s, const attn_layer_params *p,
                                       attn_layer_acts *a, const float *x, const int *x_len,
                                       const attn_layer_run *run);

/* x: (B, T, C) -> a->out (B, T, C), causal self-attention over x (and run->cache's positions);
 * with s->cross, cross-attention to mem (B, Tk, C) (or run->cache->cross_kv) whose valid
 * lengths are mem_len (B) or NULL. */
attn_status attn_decoder_layer_forward(const attn_layer_shape *s, const attn_layer_params *p,
                                       attn_layer_acts *a, const float *x, const int *x_len,
                                       const float *mem, const int *mem_len,
                                       const attn_layer_run *run);

/* dout: (B, T, C) gradient of the layer output, left unchanged. Accumulates into dx (B, T, C)
 * and g; the decoder's also into dmem (B, Tk, C) (with s->cross). scratch:
 * attn_layer_scratch_floats(s) floats. a: from a training forward of the same inputs.
 * The four layer functions return ATTN_ERR_NOMEM when the attention kernel cannot allocate its
 * per-thread tiles (the outputs are then incomplete), else ATTN_OK. */
attn_status attn_encoder_layer_backward(const attn_layer_shape *s, const attn_layer_params *p,
                                        const attn_layer_params *g, const attn_layer_acts *a,
                                        const float *x, const int *x_len, const float *dout,
                                        float *dx, float *scratch);
attn_status attn_decoder_layer_backward(const attn_layer_shape *s, const attn_layer_params *p,
                                        const attn_layer_params *g, const attn_layer_acts *a,
                                        const float *x, const int *x_len, const float *mem,
                                        const int *mem_len, const float *dout, float *dx,
                                        float *dmem, float *scratch);

#endif
