/* models/model_internal.h: the inside of attn_model, shared by the files of src/models only;
 * decoding and attention maps go through the functions of models/stack.h. */
#ifndef ATTN_MODELS_MODEL_INTERNAL_H
#define ATTN_MODELS_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "attn/model.h"
#include "core/rng.h"
#include "nn/layer.h"

#define ATTN_MAX_NAME 96

typedef struct {
    char name[ATTN_MAX_NAME];
    int ndim;                           /* 1 to ATTN_PARAM_MAX_DIMS */
    int64_t shape[ATTN_PARAM_MAX_DIMS]; /* shape[ndim..] are 0 */
    size_t offset, size;                /* in floats, within the parameter (and gradient) arena */
} attn_tensor_info;

/* One stack of layers (the encoder or the decoder) with its embedding and final LayerNorm. */
typedef struct {
    int n_layers;
    attn_layer_params *p, *g; /* per layer: parameters, gradients */
    attn_ln_params lnf, glnf; /* final LayerNorm (pre-LN only) */
    int causal, cross;
    /* activations of the last forward (bound by model_bind_acts) */
    attn_layer_shape shape;
    attn_layer_acts *acts;
    float *emb;        /* (B, T, C) embedding output, after dropout */
    uint8_t *emb_mask; /* (B, T, C) dropout mask */
    float *lnf_out;    /* (B, T, C) pre-LN: final LayerNorm output */
    float *lnf_mean, *lnf_rstd;
    int *tokens, *lengths; /* copies of the batch's ids (B, T) and lengths (B) */
    float *features;       /* feature-input encoder: copy of the batch's features (B, T, F) */
    int has_lengths;
    float *out; /* (B, T, C) the stack's output (lnf_out or the last layer's) */
} attn_stack;

struct attn_model {
    attn_config cfg;
    int n_tensors;
    attn_tensor_info *tensors;
    size_t n_params;
    float *params, *grads; /* the two arenas, n_params floats each */

    float *tok_emb, *gtok_emb; /* (V, C) */
    float *pos_emb, *gpos_emb; /* learned (P, C), or NULL */
    float *pos_table;          /* what the embedding adds: pos_emb or the sinusoidal table */
    float *in_w, *in_b, *gin_w, *gin_b; /* feature-input encoder: input_proj (C, in_features) */
    int in_features; /* what input_proj reads per position: n_features, or the convolutions' */
    float *conv1_w, *conv1_b, *conv2_w, *conv2_b;     /* subsample: (K, 1, 3, 3), (K), (K, K, 3, 3) */
    float *gconv1_w, *gconv1_b, *gconv2_w, *gconv2_b; /* their gradients */
    float *head_w, *head_b, *ghead_w, *ghead_b;
    attn_stack enc, dec; /* classifier: enc; LM: dec; seq2seq: both */

    /* activation arena, sized for (cap_B, cap_T, cap_Tt) */
    float *acts;
    size_t acts_floats;
    int cap_B, cap_T, cap_Tt;
    int B, T, Tt;        /* the last forward's shape */
    float *pooled;       /* classifier (B, C) */
    float *logits, *lse; /* (rows, cols), (rows) */
    int *targets;        /* (rows) copy of targets / labels */
    int logit_rows, logit_cols;
    float *dbuf[3]; /* backward: gradients flowing through stacks, (B, Tmax, C) each */
    float *dmem;    /* seq2seq: gradient of the encoder output */
    float *dpooled;
    float *scratch;
    /* subsample: the input features (B, T, F), the first convolution's output after its ReLU
     * (B, T1, F1, K) and the gradients of both convolutions' outputs; the second's output is the
     * encoder stack's features. sub_len (B): the encoder's lengths. */
    float *conv_x, *conv_y1, *conv_dy1, *conv_dy2;
    int *sub_len;
    /* CTC (a ctc model, or seq2seq with ctc_weight): log-probabilities (B, T', V) (the logits of
     * a ctc model), their gradient, the targets (B, ctc_Tt) and lengths (B) of the last forward */
    float *ctc_lp, *dlogits;
    int *ctc_tgt, *tgt_len;
    int ctc_Tt, ctc_active; /* ctc_active: the last forward's loss includes CTC */

    double loss_sum;  /* sum of the last forward's per-target losses */
    long loss_count;  /* targets counted by the last forward's loss */
    int can_backward; /* last forward was training with targets */
    attn_rng rng;     /* dropout */
};

/* attn_model_create without drawing initial weights (for a model about to be filled from a file,
 * where drawing them took a tenth of `attn generate`): the parameters are uninitialised and the
 * caller must write every one of them before use. Gradients are zero, the dropout generator is
 * seeded with 0. Errors as attn_model_create. */
attn_status attn_model_create_uninit(const attn_config *cfg, attn_model **out);

/* Calls visit(user, t) for each parameter of the model of cfg, in table order (t's name, shape,
 * offset and size as the model would have them; t is valid during the call only), without
 * allocating anything, so that a file can be checked against a config before the arenas exist.
 * Stops at the first error visit returns and returns it. Errors: as attn_config_validate, or
 * visit's. */
attn_status attn_model_each_tensor(const attn_config *cfg,
                                   attn_status (*visit)(void *user, const attn_tensor_info *t),
                                   void *user);

/* The shape of one layer of stack st at (B, T) over a memory of Tk positions, with the
 * config's dropout (the layer applies it only in training). */
attn_layer_shape attn_stack_shape(const attn_model *m, const attn_stack *st, int B, int T, int Tk);

/* Features per position that input_proj reads: n_features, or with subsample
 * attn_subsampled_length(n_features) * conv_channels. */
int attn_config_input_width(const attn_config *c);

/* Outputs of two 3-wide stride-2 windows over n inputs: ((n - 1) / 2 - 1) / 2, 0 when n < 7. */
int attn_subsampled_length(int n);

/* Embedding scale (sqrt(C) or 1). */
float attn_model_embed_scale(const attn_model *m);

#endif
