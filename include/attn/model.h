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
 * A model is not safe to use from two threads at once; kernels use attn_get_num_threads() threads. */
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
 *   seq2seq:    tokens + lengths (source), tgt_in (B, Tt), targets (B, Tt)
 * lengths may be NULL (every row full). targets/labels may be NULL in inference (no loss).
 * A model whose config has n_features > 0 reads its encoder's input (the classifier's input, the
 * seq2seq source) from features instead of tokens (which may then be NULL). */
typedef struct {
    int B;              /* rows */
    int T;              /* source / input length */
    const int *tokens;  /* (B, T) */
    const int *lengths; /* (B) valid tokens per row, 1..T; keys past it are masked */
    int Tt;             /* seq2seq target length */
    const int *tgt_in;  /* (B, Tt) decoder input (seq2seq) */
    const int *targets; /* (B, T) LM / (B, Tt) seq2seq, ATTN_IGNORE_INDEX to skip */
    const int *labels;  /* (B) classifier */
    const float *features; /* (B, T, n_features) the encoder's input when n_features > 0 */
} attn_batch;

/* A new model with parameters initialised from `seed` (normal(0, 0.02) for weights and
 * embeddings, zeros for biases, ones/zeros for LayerNorm; sinusoidal tables computed). */
attn_status attn_model_create(const attn_config *cfg, uint64_t seed, attn_model **out);

/* Loads a checkpoint (docs/FORMATS.md): config from the metadata, every parameter by name and
 * shape. Extra tensors other than optimizer moments, or missing ones, are an error. */
attn_status attn_model_load(const char *path, attn_model **out);

/* Writes config + parameters (no optimizer state) atomically. See attn_checkpoint_save in
 * attn/train.h for training checkpoints. */
attn_status attn_model_save(const attn_model *m, const char *path);

void attn_model_free(attn_model *m);

const attn_config *attn_model_config(const attn_model *m);
/* Number of trainable scalars. */
size_t attn_model_num_params(const attn_model *m);

/* Sizes the activation arena for batches up to (B, T, Tt) so later steps allocate nothing. */
attn_status attn_model_reserve(attn_model *m, int B, int T, int Tt);

/* Runs the model. training != 0 enables dropout (seeded by attn_model_set_seed / step). If the
 * batch has targets (labels for the classifier), *loss receives the mean cross-entropy and a
 * backward pass is possible; loss may be NULL. The config's label smoothing applies to the
 * training loss only: with training == 0 the loss is the plain cross-entropy. Errors: shape/ids out of range (ATTN_ERR_INVALID),
 * non-finite loss (ATTN_ERR_NUMERIC). */
attn_status attn_model_forward(attn_model *m, const attn_batch *batch, int training, float *loss);

/* Logits of the last forward: (B, n_classes) for the classifier, (B, T, V) for the LM,
 * (B, Tt, V) for seq2seq. Owned by the model; valid until the next forward or backward (backward
 * turns them into their gradient in place, which saves the largest activation). The number of
 * rows is stored in *rows and the row width in *cols when not NULL. */
const float *attn_model_logits(const attn_model *m, int *rows, int *cols);

/* Accumulates d(loss_scale * loss)/d(params) into the gradients (call attn_model_zero_grad first
 * unless accumulating micro-batches; pass loss_scale = 1/n_micro for a mean). */
attn_status attn_model_backward(attn_model *m, float loss_scale);
void attn_model_zero_grad(attn_model *m);

/* Sets the dropout generator: dropout masks of the next forward derive from (seed, stream). */
void attn_model_set_seed(attn_model *m, uint64_t seed, uint64_t stream);

/* Parameter table, in docs/FORMATS.md order. */
int attn_model_num_tensors(const attn_model *m);
typedef struct {
    const char *name;
    int ndim;
    int64_t shape[2];
    float *data;  /* into the parameter arena */
    float *grad;  /* into the gradient arena */
    size_t size;  /* elements */
} attn_param;
attn_status attn_model_tensor(const attn_model *m, int i, attn_param *out);
/* All parameters / gradients as one contiguous array of attn_model_num_params() floats. */
float *attn_model_params(attn_model *m);
float *attn_model_grads(attn_model *m);

#ifdef __cplusplus
}
#endif
#endif
