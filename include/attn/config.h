/* attn/config.h: one configuration struct for every model family.
 *
 * Start from attn_config_default(arch) and change what you need; attn_config_validate() says what
 * is inconsistent. The config travels inside every checkpoint (docs/FORMATS.md). */
#ifndef ATTN_CONFIG_H
#define ATTN_CONFIG_H

#include "attn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ATTN_ARCH_CLASSIFIER = 0, /* encoder + pooling + linear head over n_classes */
    ATTN_ARCH_DECODER_LM = 1, /* decoder-only language model, output tied to the token embedding */
    ATTN_ARCH_SEQ2SEQ = 2,    /* encoder-decoder, shared vocabulary, output tied to the embedding */
    ATTN_ARCH_CTC = 3,        /* feature-input encoder + a linear head over vocab_size labels per
                                 position (label 0 the blank), trained by the CTC loss (speech) */
} attn_arch;

typedef enum {
    ATTN_NORM_PRE = 0,  /* x + f(LN(x)), final LayerNorm after the stack (GPT-2, most modern) */
    ATTN_NORM_POST = 1, /* LN(x + f(x)), no final LayerNorm (the original paper, BERT) */
} attn_norm;

typedef enum {
    ATTN_POS_LEARNED = 0,    /* a trained (max_len, d_model) table */
    ATTN_POS_SINUSOIDAL = 1, /* the fixed sin/cos table of the original paper */
} attn_pos;

typedef enum {
    ATTN_ACT_GELU_TANH = 0,
    ATTN_ACT_GELU_ERF = 1,
    ATTN_ACT_RELU = 2,
} attn_act;

typedef enum {
    ATTN_POOL_CLS = 0,  /* the first position's final state */
    ATTN_POOL_MEAN = 1, /* mean over the non-padding positions */
} attn_pool;

typedef struct {
    attn_arch arch;
    int vocab_size;   /* token ids are in [0, vocab_size) */
    int max_len;      /* longest sequence (positions) */
    int d_model;      /* C */
    int n_heads;      /* H, d_model % n_heads == 0; head size D = C / H */
    int d_ff;         /* FFN hidden size */
    int n_layers;     /* encoder layers (classifier, seq2seq) or decoder layers (LM) */
    int n_dec_layers; /* decoder layers of a seq2seq model; unused otherwise */
    int n_classes;    /* classifier only */
    attn_norm norm;
    attn_pos pos;
    attn_act act;
    attn_pool pool;
    float dropout; /* on embeddings, attention output and FFN output (residual dropout) */
    float ln_eps;
    int scale_embeddings;  /* nonzero: token embeddings times sqrt(d_model), as in the paper */
    int pad_id;            /* id used to pad batches; it is never predicted as a target */
    float label_smoothing; /* of the training loss, in [0, 1): q = (1 - e) onehot + e / classes */
    /* The encoder's input (classifier, seq2seq): 0 = token ids; F > 0 = feature vectors
     * (B, T, F) through a Linear F -> d_model (input_proj), then positions. */
    int n_features;
    /* The front end of a feature-input encoder: 0 = none (input_proj reads the features); 4 = two
     * 3x3 stride-2 convolutions with ReLU over (time, feature), conv_channels channels each (the
     * speech encoders' "Conv2dSubsampling"): a quarter of the positions, T' = ((T - 1) / 2 - 1) / 2
     * (attn_model_encoder_length), and input_proj reads conv_channels * F' values per position,
     * F' = ((n_features - 1) / 2 - 1) / 2, in (F', channel) order. */
    int subsample;
    int conv_channels; /* 0 unless subsample */
    /* seq2seq over features: lambda of the joint CTC / attention objective (Kim et al. 2017),
     * loss = (1 - lambda) CE(decoder) + lambda CTC(encoder), through a head "ctc.weight" (V, C) +
     * "ctc.bias" on the encoder's output (label 0, the pad id, is the blank). 0: no CTC head. */
    float ctc_weight;
} attn_config;

/* Sensible defaults for a family: a small pre-LN model with learned positions and GELU. */
ATTN_API attn_config attn_config_default(attn_arch arch);

/* ATTN_OK, or ATTN_ERR_INVALID with a message naming the first inconsistent field. */
ATTN_API attn_status attn_config_validate(const attn_config *cfg);

/* Names used in checkpoints and on the command line ("classifier", "pre", "gelu_tanh", ...). */
ATTN_API const char *attn_arch_name(attn_arch arch);
ATTN_API const char *attn_norm_name(attn_norm norm);
ATTN_API const char *attn_pos_name(attn_pos pos);
ATTN_API const char *attn_act_name(attn_act act);
ATTN_API const char *attn_pool_name(attn_pool pool);
/* The reverse: returns ATTN_ERR_INVALID for an unknown name. */
/* Every name of an enum, NULL-terminated, at the index of its value (for option lists). */
ATTN_API const char *const *attn_arch_names(void);
ATTN_API const char *const *attn_norm_names(void);
ATTN_API const char *const *attn_pos_names(void);
ATTN_API const char *const *attn_act_names(void);
ATTN_API const char *const *attn_pool_names(void);

ATTN_API attn_status attn_arch_parse(const char *name, attn_arch *out);
ATTN_API attn_status attn_norm_parse(const char *name, attn_norm *out);
ATTN_API attn_status attn_pos_parse(const char *name, attn_pos *out);
ATTN_API attn_status attn_act_parse(const char *name, attn_act *out);
ATTN_API attn_status attn_pool_parse(const char *name, attn_pool *out);

/* The config as a JSON object string (malloc'd; the caller frees), and back. */
ATTN_API attn_status attn_config_to_json(const attn_config *cfg, char **json);
ATTN_API attn_status attn_config_from_json(const char *json, attn_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
