/* attn/model.h: the three model families behind one opaque handle.
 *
 * A model owns three arenas, each ONE allocation: the parameters, their gradients, and the
 * activations of the last forward pass (sized for the largest batch seen or reserved; a training
 * step at or below that size allocates nothing). Parameter names, shapes and the exact computation
 * are in docs/FORMATS.md.
 *
 * Training step:
 *     attn_model_zero_grad(m);
 *     attn_model_forward(m, &batch, 1, &loss);   // training mode: dropout on
 *     attn_model_backward(m, 1.0f);
 *     attn_optimizer_step(opt, m, lr, NULL);      // attn/train.h; NULL: no gradient norm out
 *
 * A model is not safe to use from two threads at once; kernels use attn_get_num_threads() threads.
 */
#ifndef ATTN_MODEL_H
#define ATTN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "attn/config.h"
#include "attn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Targets equal to this are ignored by the loss (PyTorch's default ignore_index). */
#define ATTN_IGNORE_INDEX (-100)

typedef struct attn_model attn_model;

/* One batch, right-padded. Which fields are read depends on the family:
 *   classifier: tokens, lengths, labels
 *   decoder_lm: tokens, lengths, targets (B, T)
 *   seq2seq:    tokens + lengths (source), tgt_in (B, Tt), targets (B, Tt) [+ ctc_targets]
 *   ctc:        features + lengths (frames), targets (B, Tt): labels in [1, V), then
 *               ATTN_IGNORE_INDEX; the loss is CTC (blank 0), summed, counted per label
 * lengths may be NULL (every row full). targets/labels may be NULL in inference (no loss).
 * A model whose config has n_features > 0 reads its encoder's input (the classifier's input, the
 * seq2seq source) from features instead of tokens (which may then be NULL). */
typedef struct {
    int B;                 /* rows */
    int T;                 /* source / input length */
    const int *tokens;     /* (B, T) */
    const int *lengths;    /* (B) valid tokens per row, 1..T; keys past it are masked */
    int Tt;                /* seq2seq target length */
    const int *tgt_in;     /* (B, Tt) decoder input (seq2seq) */
    const int *targets;    /* (B, T) LM / (B, Tt) seq2seq, ATTN_IGNORE_INDEX to skip */
    const int *labels;     /* (B) classifier */
    const float *features; /* (B, T, n_features) the encoder's input when n_features > 0 */
    /* seq2seq with ctc_weight > 0: the CTC targets of the encoder (B, Tc), each row's labels in
     * [1, V) then ATTN_IGNORE_INDEX (the decoder's targets without EOS, usually) */
    int Tc;
    const int *ctc_targets;
} attn_batch;

/* A new model with parameters initialised from `seed` (normal(0, 0.02) for weights and
 * embeddings, zeros for biases, ones/zeros for LayerNorm; sinusoidal tables computed). */
ATTN_API attn_status attn_model_create(const attn_config *cfg, uint64_t seed, attn_model **out);

/* Loads a checkpoint (docs/FORMATS.md): config from the metadata, every parameter by name and
 * shape, checked against the file before the model is allocated. Errors: ATTN_ERR_IO /
 * ATTN_ERR_FORMAT (unreadable or malformed file, or a tensor other than optimizer moments that
 * the model lacks), ATTN_ERR_MISSING / ATTN_ERR_SHAPE (a parameter the config describes is absent
 * or of another shape), ATTN_ERR_NUMERIC (a NaN or infinite parameter), ATTN_ERR_INVALID (a bad
 * config), ATTN_ERR_NOMEM; each message names the path and the tensor. */
ATTN_API attn_status attn_model_load(const char *path, attn_model **out);

/* ---- loading weights of another layout (Hugging Face GPT-2, BERT, ...) by a name map ----
 *
 * A map is a table: each entry fills (a block of) one of our tensors from (a block of) one of
 * the file's, optionally transposed. docs/FORMATS.md ("Loading other layouts") has the rules and
 * an example. In short:
 *   - "{l}" in `ours` and `theirs` stands for the layer index: the entry is applied for l = 0, 1,
 *     ... as long as our name exists (at least once);
 *   - `from` picks part k of n of the file's tensor along its rows (first dimension) or columns
 *     (second, 2-D only); `into` picks the part of ours it fills; {0} means the whole tensor;
 *   - every one of our tensors must be filled exactly once (all n parts, or the whole); the file
 *     may hold tensors no entry reads only with ATTN_MAP_ALLOW_UNUSED.
 * GPT-2's fused Conv1D c_attn (C, 3C), y = x W + b, is our packed in_proj (3C, C), y = x W^T + b:
 *     {"decoder.layers.{l}.self_attn.in_proj.weight", "h.{l}.attn.c_attn.weight",
 * ATTN_MAP_TRANSPOSE} BERT's separate query, key and value (C, C) fill its three row blocks:
 *     {"encoder.layers.{l}.self_attn.in_proj.weight", "...layer.{l}.attention.self.query.weight",
 *      ATTN_MAP_AS_IS, {0}, {ATTN_MAP_ROWS, 0, 3}}   // key: part 1 of 3, value: part 2 of 3 */
typedef enum {
    ATTN_MAP_AS_IS = 0,     /* the file's block has the shape of our block */
    ATTN_MAP_TRANSPOSE = 1, /* the file's 2-D block (b, a) is our block (a, b) transposed */
} attn_map_transform;

typedef enum {
    ATTN_MAP_WHOLE = 0, /* all of the tensor */
    ATTN_MAP_ROWS = 1,  /* part k of n along the first dimension (any number of dimensions) */
    ATTN_MAP_COLS = 2,  /* part k of n along the second dimension (2-D tensors only) */
} attn_map_axis;

/* Part k of n (0 <= k < n <= 64) along `axis`; k and n are ignored for ATTN_MAP_WHOLE. The
 * dimension split must be a multiple of n. */
typedef struct {
    attn_map_axis axis;
    int k, n;
} attn_map_part;

typedef struct {
    const char *ours;   /* our tensor name (docs/FORMATS.md), "{l}" for the layer index */
    const char *theirs; /* the file's tensor name, with "{l}" exactly when `ours` has it */
    attn_map_transform transform;
    attn_map_part from; /* the block of the file's tensor read */
    attn_map_part into; /* the block of our tensor written */
} attn_name_map;

typedef enum {
    ATTN_MAP_ALLOW_UNUSED = 1, /* file tensors that no entry reads are not an error */
    ATTN_MAP_MMAP = 2,         /* map the file (attn/safetensors.h, ATTN_SAFETENSORS_MMAP) */
} attn_map_flag;

/* Creates the model of `cfg` and fills every parameter from the safetensors file at `path` through
 * the n_map entries of `map` (read, not kept). The file's metadata is not read; its float tensors
 * (F32, F64, F16, BF16) are converted to f32. Everything is checked before any parameter is
 * written: the map covers each of our tensors exactly once, every file tensor named exists, and
 * every block's shape agrees. flags: ATTN_MAP_ALLOW_UNUSED | ATTN_MAP_MMAP. On success *out is a
 * new model the caller frees with attn_model_free; on failure *out is NULL.
 * Errors (the message starts with the path):
 *   ATTN_ERR_INVALID  a bad argument or config, unknown flags, or a bad entry: a name of ours that
 *                     is not in the model, "{l}" in one name only, a part out of range, a transpose
 *                     or column split of a tensor that is not 2-D, a tensor of ours filled twice
 *                     or by parts of different splits
 *   ATTN_ERR_MISSING  a file tensor named by the map is absent, or one of our tensors (or a part
 *                     of it) is filled by no entry (the message names it)
 *   ATTN_ERR_SHAPE    a block's shape does not match (the message names both tensors and shapes),
 *                     or a split dimension is not a multiple of n
 *   ATTN_ERR_FORMAT   the file is malformed, a tensor read is not a float dtype, or the file has a
 *                     tensor no entry reads (without ATTN_MAP_ALLOW_UNUSED)
 *   ATTN_ERR_IO, ATTN_ERR_NOMEM */
ATTN_API attn_status attn_model_load_mapped(const char *path, const attn_config *cfg,
                                            const attn_name_map *map, int n_map, unsigned flags,
                                            attn_model **out);

/* Writes config + parameters (no optimizer state) atomically. See attn_checkpoint_save in
 * attn/train.h for training checkpoints. */
ATTN_API attn_status attn_model_save(const attn_model *m, const char *path);

ATTN_API void attn_model_free(attn_model *m);

ATTN_API const attn_config *attn_model_config(const attn_model *m);
/* Number of trainable scalars. */
ATTN_API size_t attn_model_num_params(const attn_model *m);

/* Positions of the encoder's output for an input of `frames` positions: frames, or with a
 * convolutional front end (config subsample 4) ((frames - 1) / 2 - 1) / 2, which is 0 (too short)
 * below 7 frames. A CTC model's logits have this many rows per sequence. 0 for a NULL model. */
ATTN_API int attn_model_encoder_length(const attn_model *m, int frames);

/* Sizes the activation arena for batches up to (B, T, Tt) so later steps allocate nothing. */
ATTN_API attn_status attn_model_reserve(attn_model *m, int B, int T, int Tt);

/* Runs the model. training != 0 enables dropout (seeded by attn_model_set_seed / step). If the
 * batch has targets (labels for the classifier), *loss receives the mean cross-entropy and a
 * backward pass is possible; loss may be NULL. The config's label smoothing applies to the
 * training loss only: with training == 0 the loss is the plain cross-entropy. Errors: shape/ids out
 * of range (ATTN_ERR_INVALID), non-finite loss (ATTN_ERR_NUMERIC). */
ATTN_API attn_status attn_model_forward(attn_model *m, const attn_batch *batch, int training,
                                        float *loss);

/* Logits of the last forward: (B, n_classes) for the classifier, (B, T, V) for the LM,
 * (B, Tt, V) for seq2seq. Owned by the model; valid until the next forward or backward (backward
 * turns them into their gradient in place, which saves the largest activation). The number of
 * rows is stored in *rows and the row width in *cols when not NULL. */
ATTN_API const float *attn_model_logits(const attn_model *m, int *rows, int *cols);

/* The CTC head's log-probabilities of the last forward, (B * T', V), T' the encoder's positions
 * (attn_model_encoder_length): a ctc model's logits, or a seq2seq model's with ctc_weight > 0
 * (computed on every forward). NULL for other models. Valid until the next forward. */
ATTN_API const float *attn_model_ctc_log_probs(const attn_model *m, int *rows, int *cols);

/* Accumulates d(loss_scale * loss)/d(params) into the gradients (call attn_model_zero_grad first
 * unless accumulating micro-batches; pass loss_scale = 1/n_micro for a mean). */
ATTN_API attn_status attn_model_backward(attn_model *m, float loss_scale);

/* The loss of the last forward with targets as a sum over its counted targets (labels, or targets
 * other than ATTN_IGNORE_INDEX) and their count; *loss of attn_model_forward is sum / count. Sums
 * and counts add up over micro-batches and processes, so their ratio is the exact mean of a step
 * however its examples were split (losses are sums with counts: docs/ARCHITECTURE.md). */
ATTN_API attn_status attn_model_loss(const attn_model *m, double *sum, long *count);

/* Accumulates d(scale * sum)/d(params), sum as attn_model_loss gives it. A step over micro-batches
 * calls it with scale 1 for each and divides the gradient by the total count once
 * (attn_optimizer_step_scaled); attn_model_backward(m, s) is attn_model_backward_sum(m, s / count).
 */
ATTN_API attn_status attn_model_backward_sum(attn_model *m, float scale);
ATTN_API void attn_model_zero_grad(attn_model *m);

/* Sets the dropout generator: dropout masks of the next forward derive from (seed, stream). */
ATTN_API void attn_model_set_seed(attn_model *m, uint64_t seed, uint64_t stream);

/* The most dimensions a parameter may have. Today's models use 1 (biases, LayerNorm) and 2
 * (weights, embeddings); convolutions (the speech front end) need up to 4. */
#define ATTN_PARAM_MAX_DIMS 4

/* Parameter table, in docs/FORMATS.md order. */
ATTN_API int attn_model_num_tensors(const attn_model *m);
typedef struct {
    const char *name;
    int ndim;                           /* 1 to ATTN_PARAM_MAX_DIMS */
    int64_t shape[ATTN_PARAM_MAX_DIMS]; /* shape[ndim..] are 0 */
    float *data;                        /* into the parameter arena */
    float *grad;                        /* into the gradient arena */
    size_t size;                        /* elements */
} attn_param;
ATTN_API attn_status attn_model_tensor(const attn_model *m, int i, attn_param *out);
/* All parameters / gradients as one contiguous array of attn_model_num_params() floats. */
ATTN_API float *attn_model_params(attn_model *m);
ATTN_API float *attn_model_grads(attn_model *m);

#ifdef __cplusplus
}
#endif
#endif
