/* nn/layer.h: one Transformer layer (encoder or decoder), forward and backward.
 *
 * A layer is a chain of residual sublayers, each f in {self-attention, cross-attention, FFN}:
 *     pre-LN : y = x + dropout(f(LN(x)))
 *     post-LN: y = LN(x + dropout(f(x)))
 * encoder: self-attention (key padding), FFN
 * decoder: causal self-attention, [cross-attention to `mem` with the source's key padding], FFN
 * (docs/FORMATS.md gives the exact computation and the parameter names.)
 *
 * Parameters, gradients and activations are caller-owned arrays described by the structs below
 * (the model points them into its arenas). Backward ACCUMULATES into dx, dmem and every parameter
 * gradient, following the kernels' convention. */
#ifndef ATTN_NN_LAYER_H
#define ATTN_NN_LAYER_H

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

/* Weights of a layer, or their gradients (same struct). cross_attn/ln3 are used by seq2seq
 * decoder layers only. ln1 belongs to self-attention, ln2 to cross-attention in a seq2seq decoder
 * and to the FFN otherwise, ln3 to the FFN of a seq2seq decoder. */
typedef struct {
    attn_mha_params self_attn, cross_attn;
    attn_ffn_params ffn;
    attn_ln_params ln1, ln2, ln3;
} attn_layer_params;

/* What a layer computes and on what sizes. */
typedef struct {
    int B, T;    /* batch, sequence length */
    int Tk;      /* memory (encoder output) length, cross-attention only */
    int C, H, F; /* d_model, heads, d_ff */
    int causal;  /* self-attention is causal (decoder) */
    int cross;   /* has cross-attention (seq2seq decoder) */
    attn_norm norm;
    attn_act act;
    float dropout; /* probability, training only */
    float eps;     /* LayerNorm epsilon */
} attn_layer_shape;

/* The KV cache of one layer for incremental decoding. Self-attention keys/values of positions
 * [0, len) live in k, v: (B, cap, C). Cross-attention keys/values of the source, (B, Tk, 2C),
 * in cross_kv once cross_ready is set (computed on first use). */
typedef struct {
    float *k, *v;
    int cap, len;
    float *cross_kv;
    int cross_ready;
} attn_kv_cache;

#define ATTN_LAYER_MAX_SUBLAYERS 3

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
    int n;
    attn_sublayer_acts sub[ATTN_LAYER_MAX_SUBLAYERS];
    float *out; /* == sub[n-1].y, the layer's output (B, T, C) */
} attn_layer_acts;

/* Floats needed for a layer's activations at shape s (training: with what backward needs). */
size_t attn_layer_acts_floats(const attn_layer_shape *s, int training);
/* Points a's arrays into base (attn_layer_acts_floats(s, training) floats). */
void attn_layer_acts_bind(attn_layer_acts *a, const attn_layer_shape *s, int training, float *base);

/* Floats of scratch attn_layer_backward needs at shape s. */
size_t attn_layer_scratch_floats(const attn_layer_shape *s);

/* x: (B, T, C); mem: (B, Tk, C) or NULL; x_len: (B) valid lengths of x or NULL; mem_len: (B)
 * valid lengths of mem or NULL. rng: dropout (used only when training and dropout > 0).
 * cache: NULL in training; in decoding, x holds T new positions starting at cache->len, and the
 * self-attention attends to every cached position (cache->len is advanced by the caller). */
void attn_layer_forward(const attn_layer_shape *s, const attn_layer_params *p, attn_layer_acts *a,
                        const float *x, const float *mem, const int *x_len, const int *mem_len,
                        attn_kv_cache *cache, attn_rng *rng, int training);

/* dout: (B, T, C) gradient of the layer output. Accumulates into dx (B, T, C), dmem (B, Tk, C)
 * (cross only; may be NULL otherwise) and g. scratch: attn_layer_scratch_floats(s) floats.
 * dout is left unchanged. */
void attn_layer_backward(const attn_layer_shape *s, const attn_layer_params *p,
                         const attn_layer_params *g, const attn_layer_acts *a, const float *x,
                         const float *mem, const int *x_len, const int *mem_len, const float *dout,
                         float *dx, float *dmem, float *scratch);

#endif
