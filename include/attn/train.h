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
ATTN_API attn_adamw_params attn_adamw_default_params(void);

typedef struct attn_optimizer attn_optimizer;

/* Moments for every parameter of m (zeros), one allocation. */
ATTN_API attn_status attn_optimizer_create(const attn_model *m, attn_adamw_params params,
                                           attn_optimizer **out);
ATTN_API void attn_optimizer_free(attn_optimizer *opt);
ATTN_API attn_adamw_params attn_optimizer_params(const attn_optimizer *opt);
/* Number of updates applied so far (AdamW's t). */
ATTN_API long attn_optimizer_steps(const attn_optimizer *opt);

/* Clips, then applies one update with learning rate lr to m's parameters from m's gradients.
 * The gradient norm before clipping goes to *grad_norm (may be NULL). A non-finite gradient norm
 * returns ATTN_ERR_NUMERIC and changes nothing. */
ATTN_API attn_status attn_optimizer_step(attn_optimizer *opt, attn_model *m, float lr,
                                         float *grad_norm);

/* attn_optimizer_step with the gradient taken as grad_scale * m's gradients (m's arrays are not
 * changed): after attn_model_backward_sum over micro-batches, grad_scale = 1 / (their total count)
 * makes the step's gradient the exact mean. *grad_norm is the norm of the scaled gradient. */
ATTN_API attn_status attn_optimizer_step_scaled(attn_optimizer *opt, attn_model *m, float lr,
                                                float grad_scale, float *grad_norm);

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
ATTN_API float attn_schedule_lr(const attn_schedule *s, long step);
ATTN_API attn_status attn_schedule_parse(const char *name, attn_schedule_kind *out);
ATTN_API const char *attn_schedule_name(attn_schedule_kind kind);
/* Every schedule name, NULL-terminated, at the index of its kind. */
ATTN_API const char *const *attn_schedule_names(void);

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
ATTN_API attn_status attn_checkpoint_save(const char *path, const attn_model *m,
                                          const attn_optimizer *opt, const attn_train_state *st,
                                          const attn_meta *meta, int n_meta);

/* Loads a checkpoint written by attn_checkpoint_save or attn_model_save. If opt is not NULL, the
 * optimizer with its moments and step count is recreated (ATTN_ERR_MISSING if the file has none);
 * if st is not NULL it receives the training state (zeros if absent). */
ATTN_API attn_status attn_checkpoint_load(const char *path, attn_model **m, attn_optimizer **opt,
                                          attn_train_state *st);

/* One metadata value of a checkpoint (malloc'd copy into *value, the caller frees);
 * ATTN_ERR_MISSING if the key is absent. */
ATTN_API attn_status attn_checkpoint_read_meta(const char *path, const char *key, char **value);

/* The parameters of the best evaluation of a run being resumed (attn_train_params.resume_best):
 * with st->best_step > 0, the model kept at save_path, which must have as many parameters as m,
 * copied into *best (malloc'd, the caller frees); otherwise *best is NULL (no evaluation kept
 * one yet, or no save_path). Errors: attn_model_load's, ATTN_ERR_SHAPE (another model),
 * ATTN_ERR_NOMEM; the messages say "cannot resume". */
ATTN_API attn_status attn_train_resume_best(const char *save_path, const attn_model *m,
                                            const attn_train_state *st, float **best);

/* ---- the training loop ----------------------------------------------------------------------
 *
 * attn_train runs the steps of a run for every model family: each step takes `accum` micro-batches
 * from a batch source, sums their losses and gradients (attn_model_backward_sum), and takes one
 * AdamW step with the gradient divided by the step's total count, so a step's gradient is the exact
 * mean over its targets however they were split. Micro-batch k of step s is batch number
 * i = s * accum + k of the run, and its dropout is seeded by (seed, i): nothing but the parameters
 * and AdamW's moments carries state from step to step, so a run resumed from a checkpoint sees the
 * batches of an uninterrupted one and ends with the same parameters, bit for bit. */

/* Where batches come from. The library makes sources for language-model windows
 * (attn_lm_windows_source) and labelled texts (attn_cls_source); a caller may fill one in itself.
 * next() fills *out with batch number `index` of the run for process `rank` of `n_ranks` (each
 * process gets its own share); the same arguments always give the same batch, and the arrays *out
 * points to are the source's, valid until the next call. */
typedef struct attn_batch_source {
    attn_status (*next)(void *self, long index, int rank, int n_ranks, attn_batch *out);
    void (*free)(void *self); /* releases self (attn_batch_source_free); may be NULL */
    long batches_per_epoch;   /* batches in one pass over the data; 0: an endless stream */
    void *self;
} attn_batch_source;

/* Frees a source made by the library (src->free(src->self), then src); NULL is a no-op. */
ATTN_API void attn_batch_source_free(attn_batch_source *src);

/* Figures an evaluation may return; the first is the one compared (attn_train_params). */
#define ATTN_TRAIN_METRICS 4

/* What the progress callback is told about. */
typedef enum {
    ATTN_TRAIN_BEGIN = 5, /* before the first step of this call */
    ATTN_TRAIN_STEP = 0,  /* a step is done */
    ATTN_TRAIN_EVAL = 1,  /* an evaluation is done: metric, is_best */
    ATTN_TRAIN_SAVE = 2,  /* the checkpoint was written: path */
    ATTN_TRAIN_STOP = 3,  /* `patience` evaluations without a better metric: the run stops */
    ATTN_TRAIN_EPOCH = 4, /* an epoch is done (before its evaluation): epoch_loss */
} attn_train_event;

typedef struct {
    attn_train_event event;
    const attn_model *model; /* the model being trained */
    long batches_per_epoch;  /* the source's (0: endless) */
    long step;               /* steps done (of the whole run, resumed part included) */
    long total_steps;        /* the run's length */
    long first_step;         /* the step this call started from (0, or where a resume began) */
    int epoch;               /* 1-based epoch the step belongs to; 0 for an endless source */
    int epochs;              /* epochs in the run; 0 for an endless source */
    double loss;             /* the step's mean training loss */
    long count;              /* targets the step's loss counted (tokens, or labelled examples) */
    long correct;            /* classifier batches: rows whose argmax is the label; else -1 */
    float lr;                /* learning rate of the step */
    float grad_norm;         /* gradient norm before clipping */
    long counted_run; /* targets counted since this call began (rate = counted_run / seconds) */
    double seconds;   /* since this call began */
    double metrics[ATTN_TRAIN_METRICS]; /* ATTN_TRAIN_EVAL: what on_eval returned ([0] counts) */
    int is_best;                        /* ATTN_TRAIN_EVAL: the best so far (kept / saved) */
    int since_best;                     /* ATTN_TRAIN_EVAL / STOP: evaluations since the best */
    double epoch_loss;                  /* ATTN_TRAIN_EPOCH: mean of the epoch's step losses */
    const char *path;                   /* ATTN_TRAIN_SAVE: the checkpoint written */
} attn_train_progress;

typedef struct {
    long steps; /* optimizer steps in the whole run; 0: `epochs` passes over the source */
    int epochs; /* with steps == 0 (needs a source with batches_per_epoch > 0) */
    int accum;  /* micro-batches per step, >= 1 */
    attn_schedule schedule; /* .total 0: the run's steps */
    uint64_t seed;          /* dropout of batch i is seeded by (seed, i); also st->seed */
    int rank, n_ranks;      /* this process's share of each batch (0 and 1: all of it) */

    /* Evaluation: on_eval(m, progress, metrics, user) scores the model into metrics[0..3] (NaN
     * before the call; the task's own figures, e.g. loss and bits per byte, or macro-F1 and
     * accuracy); metrics[0] is compared with the best so far (NaN, "nothing to measure", always
     * counts as the best). */
    long eval_every;      /* steps between evaluations; 0: none but those below */
    int eval_each_epoch;  /* after every epoch (its last step) */
    int eval_at_end;      /* after the last step (once, even if the above falls there too) */
    int higher_is_better; /* metric direction (loss: 0, F1: 1) */
    int patience;         /* this many evaluations without a better metric stop the run; 0: never */
    int keep_best;        /* the parameters of the best evaluation are back in m at the return */
    /* keep_best on a resumed run (st->best_step > 0): the parameters of that best evaluation
     * (attn_model_num_params floats, copied at the start); NULL: the current ones stand in. */
    const float *resume_best;

    /* Checkpoints (atomic; the meta pairs go into each): NULL path: none. With save_best, the
     * model is saved when an evaluation is the best so far; otherwise every save_every steps (0:
     * never during the run) and at the end. Either way an aborted run leaves a checkpoint. */
    const char *save_path;
    long save_every;
    int save_best;
    int save_optimizer; /* moments in the checkpoint (what --resume needs) */
    const attn_meta *meta;
    int n_meta;
    /* The resumable state when save_path keeps the best (save_best) rather than the last step:
     * a checkpoint of the current parameters, the moments and the train state (with the meta
     * pairs) written atomically at the end of every epoch, every save_every steps and when the
     * run ends or is aborted. NULL: none. attn_checkpoint_load of it, with resume_best, continues
     * the run exactly. */
    const char *state_path;

    /* 0: off. Otherwise an exponential moving average of the weights, ema = d ema + (1 - d) w
     * after every step t (the run's step count, 1-based), d = min(ema_decay, (1 + t) / (10 + t))
     * (TensorFlow's warm-up, so the first, random weights fade out fast), from the weights a new
     * run starts with: the evaluations, the kept best
     * and the checkpoints of save_path see the average, and the model holds it at the end (or
     * the best one, with keep_best). The average lives in the optimizer, so a checkpoint with
     * the optimizer (state_path, or save_optimizer) carries it beside the moments, and a resumed
     * run (st->step > 0) goes on with it: exact, like the rest of the state. The resumable
     * state keeps the raw weights. */
    float ema_decay;

    /* Callbacks; each may be NULL. abort() is polled before every step: nonzero ends the run with
     * ATTN_ERR_ABORTED after the checkpoint is written. */
    void (*progress)(const attn_train_progress *p, void *user);
    int (*abort)(void *user);
    attn_status (*on_eval)(attn_model *m, const attn_train_progress *p, double *metrics,
                           void *user);
    void *user;
} attn_train_params;

/* steps 0, epochs 1, accum 1, a constant schedule at 1e-3 without warm-up, seed 1, one process,
 * no evaluation, no checkpoint, no callbacks. */
ATTN_API attn_train_params attn_train_default_params(void);

typedef struct {
    long steps_run;     /* steps this call took */
    int epochs_done;    /* complete epochs of the whole run (0 for an endless source) */
    int stopped_early;  /* by patience */
    int saved;          /* the checkpoint was written at least once */
    long saved_step;    /* the step of the parameters last written */
    double recent_loss; /* mean of the last (up to 50) step losses; NaN if none */
    double epoch_loss;  /* mean step loss of the last complete epoch; NaN if none */
    double seconds;
} attn_train_result;

/* Trains m with opt from step st->step to the run's length (see above). st carries the run's
 * state in and out (its seed is set from params.seed on a new run: st->step == 0); res may be NULL.
 * A resumed run counts the evaluations since st->best_step towards `patience` as the
 * uninterrupted run did, and with save_best does not overwrite save_path (the best so far is there
 * already) unless an evaluation of this call is better.
 * Errors: ATTN_ERR_INVALID (bad parameters, a source without epochs for an epoch-based run, a
 * batch the model refuses), ATTN_ERR_NUMERIC (the loss or gradient diverged: the step is named),
 * ATTN_ERR_ABORTED (abort() asked; the checkpoint, if any, is written), a save's or a callback's
 * error. */
ATTN_API attn_status attn_train(attn_model *m, attn_optimizer *opt, attn_batch_source *src,
                                const attn_train_params *params, attn_train_state *st,
                                attn_train_result *res);

#ifdef __cplusplus
}
#endif
#endif
