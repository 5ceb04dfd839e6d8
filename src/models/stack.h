/* models/stack.h: what the model's passes, decoding (src/decode) and attention maps share of a
 * model, as functions: THE forward of a stack (embedding, layers, final LayerNorm), used by all
 * three, and the few other pieces they need. Nothing here exposes the model's fields. */
#ifndef ATTN_MODELS_STACK_H
#define ATTN_MODELS_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "attn/model.h"
#include "core/rng.h"
#include "nn/layer.h"

typedef enum { ATTN_STACK_ENCODER = 0, ATTN_STACK_DECODER = 1 } attn_stack_kind;

/* One run of a stack: what it reads, where it writes, and how (training, cache, maps). */
typedef struct {
    int B, T;              /* rows, positions per row */
    const int *ids;        /* (B, T) token ids, or NULL with features */
    const float *features; /* feature-input encoder: (B, T, n_features) instead of ids */
    const int *pos0;       /* (B) position of each row's first id, or NULL: 0 for every row */
    const int *n_valid;    /* (B) ids of each row that are real, the rest padding (embedded as
                              zeros, never cached), or NULL: all T */
    const int *x_len;      /* (B) key padding of the self-attention, or NULL */
    const float *mem;      /* decoder with cross-attention: the memory (B, Tk, C) (NULL when every
                              cache holds its cross_kv) */
    int Tk;
    const int *mem_len; /* (B) valid memory positions, or NULL */

    float *emb;                 /* (B, T, C) the embedding, after dropout */
    uint8_t *emb_mask;          /* (B, T, C) its dropout mask (training with dropout) */
    attn_layer_acts *acts;      /* layer l writes acts[l % n_acts], bound at (B, T, Tk): */
    int n_acts;                 /* one per layer (training, for backward) or 2, used in turn */
    float *out;                 /* (B, T, C) pre-LN: the final LayerNorm's output */
    float *out_mean, *out_rstd; /* (B, T) its statistics, or NULL */

    attn_kv_cache *caches; /* decoding: one per layer, or NULL */
    float *probs;          /* maps: (L, B, H, T, Tk') probabilities of every layer's... */
    int probs_cross;       /* ...self-attention (0, Tk' = T) or cross-attention (1, Tk' = Tk) */
    int training;          /* dropout (from rng) and what backward needs */
    attn_rng *rng;
} attn_stack_run;

/* Runs the stack `which` of m as r says. Returns its output (B, T, C): r->out (pre-LN) or the
 * last layer's output (post-LN); NULL when a layer's attention could not allocate its tiles
 * (ATTN_ERR_NOMEM, the message set). The caller has checked the ids and sizes. */
const float *attn_stack_forward(const attn_model *m, attn_stack_kind which,
                                const attn_stack_run *r);

/* The convolutional front end of a feature encoder (config subsample 4): y1 (B, T1, F1, K) =
 * relu(conv1(x)), y2 (B, T', F' K) = relu(conv2(y1)), x (B, T, F) the features; the encoder stack
 * reads y2 as its features. *y1_floats and *y2_floats (either may be NULL) give the sizes when
 * x is NULL (nothing is computed then). Errors: the convolutions' (ATTN_ERR_NOMEM). */
attn_status attn_subsample_forward(const attn_model *m, const float *x, int B, int T, float *y1,
                                   float *y2, size_t *y1_floats, size_t *y2_floats);

/* Layers of a stack (0 if the model has no such stack). */
int attn_stack_layers(const attn_model *m, attn_stack_kind which);

/* The shape of one layer of stack `which` at (B, T) over a memory of Tk positions. */
attn_layer_shape attn_stack_layer_shape(const attn_model *m, attn_stack_kind which, int B, int T,
                                        int Tk);

/* Decoder layer `layer` of a seq2seq model: its cross-attention keys and values of the memory,
 * kv (B * Tk, 2C) from mem (B * Tk, C), for a decoding cache. */
void attn_stack_cross_kv(const attn_model *m, int layer, float *kv, const float *mem, int B,
                         int Tk);

/* Decoder LM / seq2seq: logits (rows, V) = h (rows, C) tok^T, the output tied to the embedding. */
void attn_model_tied_logits(const attn_model *m, float *logits, const float *h, int rows);

/* ---- checks (models/batch.c) ---- */

/* Every ids[i] in [0, V), or ATTN_ERR_INVALID naming `what` and the first that is not. */
attn_status attn_check_ids(const char *what, const int *ids, long n, int V);

/* Every x[i] finite, or ATTN_ERR_INVALID naming the first that is not. */
attn_status attn_check_features(const float *x, long n);

/* A batch's shape, lengths and ids for attn_model_forward (and attention maps): ATTN_OK or
 * ATTN_ERR_INVALID naming the first thing wrong. */
attn_status attn_batch_check(const attn_model *m, const attn_batch *b);

#endif
