/* attn/train.h: AdamW, learning-rate schedules, training checkpoints. */
#ifndef ATTN_TRAIN_H
#define ATTN_TRAIN_H

#include <stdint.h>

#include "attn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* torch.optim.AdamW semantics (docs/FORMATS.md); decay only on tensors with ndim >= 2.
 * clip_norm > 0 clips the global gradient norm to it before the update. */
typedef struct {
    float beta1, beta2, eps, weight_decay, clip_norm;
} attn_adamw_params;

/* beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0.01, clip_norm 1.0 */
attn_adamw_params attn_adamw_default_params(void);

typedef struct attn_optimizer attn_optimizer;

/* Moments for every parameter of m (zeros), one allocation. */
attn_status attn_optimizer_create(const attn_model *m, attn_adamw_params params,
                                  attn_optimizer **out);
void attn_optimizer_free(attn_optimizer *opt);
attn_adamw_params attn_optimizer_params(const attn_optimizer *opt);
/* Number of updates applied so far (AdamW's t). */
long attn_optimizer_steps(const attn_optimizer *opt);

/* Clips, then applies one update with learning rate lr to m's parameters from m's gradients.
 * The gradient norm before clipping goes to *grad_norm (may be NULL). A non-finite gradient norm
 * returns ATTN_ERR_NUMERIC and changes nothing. */
attn_status attn_optimizer_step(attn_optimizer *opt, attn_model *m, float lr, float *grad_norm);

typedef enum {
    ATTN_SCHEDULE_CONSTANT = 0, /* lr, after linear warm-up */
    ATTN_SCHEDULE_COSINE = 1,   /* linear warm-up to lr, cosine decay to min_lr at `total` */
    ATTN_SCHEDULE_INVSQRT = 2,  /* the paper: lr * d_model^-0.5 * min(s^-0.5, s * warmup^-1.5),
                                   s = step + 1 (lr is a multiplier, 1.0 in the paper) */
} attn_schedule_kind;

typedef struct {
    attn_schedule_kind kind;
    float lr;
    float min_lr;
    long warmup; /* steps of linear warm-up (0: none) */
    long total;  /* steps in the whole run (cosine) */
    int d_model; /* invsqrt */
} attn_schedule;

/* Learning rate of update number `step` (0-based). */
float attn_schedule_lr(const attn_schedule *s, long step);
attn_status attn_schedule_parse(const char *name, attn_schedule_kind *out);
const char *attn_schedule_name(attn_schedule_kind kind);

/* Where a run stands; stored in checkpoints so --resume continues exactly. */
typedef struct {
    long step;          /* optimizer updates done */
    long tokens;        /* tokens (or examples) consumed */
    uint64_t seed;      /* run seed: batch order and dropout derive from (seed, step) */
    double best_metric; /* best validation figure so far (lower or higher is the caller's call) */
    long best_step;
} attn_train_state;

/* A key/value string pair stored in the checkpoint metadata next to attn's own keys. */
typedef struct {
    const char *key;
    const char *value;
} attn_meta;

/* Writes model parameters, optimizer moments (if opt) and state (if st) atomically; extra
 * metadata pairs (n_meta of them, keys must not clash with attn's: format, config, train_state,
 * optimizer). */
attn_status attn_checkpoint_save(const char *path, const attn_model *m, const attn_optimizer *opt,
                                 const attn_train_state *st, const attn_meta *meta, int n_meta);

/* Loads a checkpoint written by attn_checkpoint_save or attn_model_save. If opt is not NULL, the
 * optimizer with its moments and step count is recreated (ATTN_ERR_MISSING if the file has none);
 * if st is not NULL it receives the training state (zeros if absent). */
attn_status attn_checkpoint_load(const char *path, attn_model **m, attn_optimizer **opt,
                                 attn_train_state *st);

/* One metadata value of a checkpoint (malloc'd copy into *value, the caller frees);
 * ATTN_ERR_MISSING if the key is absent. */
attn_status attn_checkpoint_read_meta(const char *path, const char *key, char **value);

#ifdef __cplusplus
}
#endif
#endif
