/* attn/lm.h: byte-level language models as library calls: read a text, train, evaluate.
 * Generation is attn_generate / attn_generate_batch (attn/decode.h).
 *
 *     int *ids; size_t n;
 *     attn_lm_read_bytes("corpus.txt", &ids, &n);            // one id per byte, vocabulary 256
 *     attn_config cfg = attn_lm_default_config();             // change layers, d_model, ...
 *     attn_model *m;  attn_model_create(&cfg, 1, &m);
 *     attn_lm_params p = attn_lm_default_params();           // steps, batch, schedule, ...
 *     p.train.save_path = "lm.safetensors";
 *     attn_lm_train(m, NULL, NULL, ids, n * 9 / 10, ids + n * 9 / 10, n - n * 9 / 10, &p, NULL);
 *     double loss;  attn_lm_evaluate(m, ids, n, 16, &loss, NULL);  // nats per byte
 */
#ifndef ATTN_LM_H
#define ATTN_LM_H

#include <stddef.h>

#include "attn/decode.h"
#include "attn/model.h"
#include "attn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The bytes of the file at path as token ids 0..255 (*ids malloc'd, the caller frees; *n bytes).
 * Errors: ATTN_ERR_IO (naming the path and the reason), ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_lm_read_bytes(const char *path, int **ids, size_t *n);

/* Loads a checkpoint of a byte-level language model (attn train lm, attn_lm_train): a decoder LM
 * of vocabulary 256 whose "tokenizer" metadata, if any, is "bytes". Errors: attn_model_load's, and
 * ATTN_ERR_INVALID naming what the model is instead. */
ATTN_API attn_status attn_lm_load(const char *path, attn_model **out);

/* A byte-level decoder LM: vocabulary 256, context 128, 4 layers of width 128 with 4 heads,
 * d_ff 512, pre-LN, learned positions, GELU (tanh), no dropout. */
ATTN_API attn_config attn_lm_default_config(void);

typedef struct {
    attn_train_params train; /* steps, accum, schedule, evaluation and checkpoints, callbacks */
    attn_adamw_params adamw; /* when attn_lm_train creates the optimizer */
    int batch;               /* windows per micro-batch */
    int eval_batches;        /* batches of validation windows per evaluation (0: no validation) */
} attn_lm_params;

/* What `attn train lm` does by default: 1000 steps of 16 windows, AdamW (weight decay 0.1, clip 1),
 * 100 warm-up steps then cosine from 1e-3 to 1e-4, seed 1, validation (8 batches) every 100
 * steps and at the end, a resumable checkpoint (with the optimizer) every 500 steps and at the end
 * when train.save_path is set. */
ATTN_API attn_lm_params attn_lm_default_params(void);

/* Trains the decoder LM m on random windows of its context length + 1 over train[0..n_train)
 * (attn_lm_windows_source, seeded by params.train.seed) with attn_train; the validation loss
 * (metrics[0]: nats per token; metrics[1]: bits per token) is the mean over eval_batches batches of
 * windows spread evenly over val[0..n_val), and the best one is recorded in the state. opt may be
 * NULL (one is made from params.adamw and freed), st may be NULL (a new run); a run resumed from
 * attn_checkpoint_load passes both. A caller's own on_eval replaces the validation.
 * The ids are borrowed. Errors: attn_train's, and ATTN_ERR_INVALID (not a decoder LM, an id outside
 * the vocabulary, too little text for one window). */
ATTN_API attn_status attn_lm_train(attn_model *m, attn_optimizer *opt, attn_train_state *st,
                                   const int *train, size_t n_train, const int *val, size_t n_val,
                                   const attn_lm_params *params, attn_train_result *res);

/* The mean cross-entropy (nats) of predicting every id of ids[1..n) from those before it, in
 * windows of the model's context cut one after another (no overlap), `batch` windows per forward;
 * *loss receives the mean and *count (may be NULL) the predictions. Errors: ATTN_ERR_INVALID (not
 * a decoder LM, n < 2, an id outside the vocabulary), the model's errors. */
ATTN_API attn_status attn_lm_evaluate(attn_model *m, const int *ids, size_t n, int batch,
                                      double *loss, long *count);

/* ---- generation ---------------------------------------------------------------------------- */

typedef struct {
    int max_new;                 /* ids generated per prompt at most */
    int stop_id;                 /* a prompt's continuation ends with this id (-1: none) */
    int batch;                   /* prompts decoded together (attn_generate_batch) */
    attn_sampler_params sampler; /* every prompt gets its own sampler made from these */
    /* Each generated id as it is drawn (stream = the prompt's index); nonzero stops that prompt.
     * May be NULL. */
    attn_stream_callback on_token;
    /* Each prompt's whole continuation, in prompt order, as soon as its batch is done. May be
     * NULL. */
    void (*on_done)(int prompt, const int *ids, int n, void *user);
    void *user;
} attn_lm_generate_params;

/* 256 new ids, no stop id, batch 8, attn_sampler_default_params(), no callbacks. */
ATTN_API attn_lm_generate_params attn_lm_generate_default_params(void);

/* Continues prompts[i] (n_prompt[i] ids, at least 1) for every i < n, params.batch prompts at a
 * time with attn_generate_batch. When a prompt's context is full, the last half of its text is
 * fed again as a fresh prompt and generation goes on (a sliding window), so max_new is not bounded
 * by the model's context. Prompt i gets the ids a lone call would give it with its own sampler
 * (each sampler is made from params.sampler); a prompt longer than the context is cut to the last
 * half of the context first. Errors: ATTN_ERR_INVALID (n < 1, an empty prompt, max_new < 0,
 * batch < 1), ATTN_ERR_NOMEM, the sampler's, attn_generate_batch's (not a decoder LM). */
ATTN_API attn_status attn_lm_generate(const attn_model *m, const int *const *prompts,
                                      const int *n_prompt, int n,
                                      const attn_lm_generate_params *params);

#ifdef __cplusplus
}
#endif
#endif
