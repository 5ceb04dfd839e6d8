/* tools/classify_common.h: what the text-classification subcommands share.
 *
 *   train classify      cls_opts (the training options), cls_train
 *   eval classify       cls_ensemble_load, cls_ensemble_predict; --folds: cls_opts + cls_train
 *   classify            cls_ensemble_load, cls_ensemble_predict
 *   attention           cls_model_load, cls_predict
 *
 * A classifier checkpoint is self-contained: besides the model it holds, as metadata (written by
 * attn_checkpoint_save), "task" = "classify", "tokenizer" = the tokenizer.json text and "labels" =
 * the label names as a JSON list (id = position). Every function that can fail prints one
 * "attn: ..." line and returns CLI_RUNTIME or CLI_USAGE (tools/args.h). */
#ifndef ATTN_TOOLS_CLASSIFY_COMMON_H
#define ATTN_TOOLS_CLASSIFY_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include "attn/attn.h"

#include "args.h"

/* The subcommands (tools/cmd_*.c), dispatched from tools/main.c. */
int cmd_train_classify(int argc, char **argv); /* attn train classify */
int cmd_eval_classify(int argc, char **argv);  /* attn eval classify */
int cmd_classify(int argc, char **argv);       /* attn classify */
int cmd_attention(int argc, char **argv);      /* attn attention */

/* ---- options of a training run ---------------------------------------------------------------*/

typedef struct {
    const char *tokenizer; /* tokenizer.json / vocab.txt, or NULL: train a BPE on the texts */
    int vocab_size, lowercase;
    int max_len, layers, d_model, heads, d_ff;
    float dropout, label_smoothing;
    float token_dropout; /* probability that a training token becomes [MASK] / [UNK] */
    const char *norm, *pos, *act, *pool;
    int epochs, batch, bucket, patience;
    float lr, min_lr, weight_decay, clip;
    long warmup; /* steps; -1: 5% of all steps */
    const char *schedule;
    uint64_t seed;
    int threads, quiet;
} cls_opts;

/* The defaults of `attn train classify`. */
void cls_opts_default(cls_opts *o);

/* Appends the model, optimisation and reporting options (cli_opt rows pointing into *o) to
 * table[*n ...] and advances *n; the table needs CLS_OPTS_ROWS free rows. */
#define CLS_OPTS_ROWS 40
void cls_opts_table(cls_opts *o, cli_opt *table, int *n);

/* Checks what the table cannot (divisibility, d_ff's default); CLI_OK or CLI_USAGE. */
int cls_opts_check(cls_opts *o, cli_opt *table);

/* ---- a classifier and what it needs to read text ----------------------------------------------*/

typedef struct {
    attn_model *model;
    attn_tokenizer *tok;
    attn_labels *labels;
    int pad_id; /* the tokenizer's [PAD], else 0 (padding is masked either way) */
} cls_model;

/* Loads a checkpoint of `attn train classify`: the model must be a classifier with a tokenizer
 * and labels in its metadata that agree with it (vocabulary size, number of classes). */
int cls_model_load(const char *path, cls_model *out);
/* Frees the model, tokenizer and labels; safe on a zeroed cls_model. */
void cls_model_free(cls_model *c);

/* The tokenizer of a training run: o->tokenizer loaded (it must have [CLS]), or a byte-level BPE
 * of o->vocab_size tokens trained on the texts of train. */
int cls_tokenizer_make(const cls_opts *o, const attn_tsv *train, attn_tokenizer **out);

/* Reads a TSV file (errors name FILE:LINE). */
int cls_read_tsv(const char *path, attn_tsv *out);

/* Tokenizes t for c (texts cut to max_len, labels looked up in c->labels). */
int cls_encode(const cls_model *c, const attn_tsv *t, int max_len, int skip_unknown,
               attn_cls_data *out);

/* Runs the model over every example of d, in batches of up to `batch` sorted by length: the
 * predicted class of example i goes to pred[i] and, if probs is not NULL, its softmax
 * probabilities to probs[i * K ...]. */
int cls_predict(const cls_model *c, const attn_cls_data *d, int batch, int *pred, float *probs);

/* Accuracy and the classification report of predictions against d's labels. */
int cls_report(const attn_cls_data *d, const int *pred, int n_classes, attn_cls_report *out);

/* ---- ensembles (tools/classify_ensemble.c) ----------------------------------------------------*/

/* Classifiers used as one: their softmax probabilities are averaged. */
typedef struct {
    cls_model *m;
    int n;
} cls_ensemble;

/* Loads paths[0..n) (n >= 1); every member must have member 0's labels in the same order. */
int cls_ensemble_load(const char *const *paths, int n, cls_ensemble *out);
/* Frees the members; safe on a zeroed cls_ensemble. */
void cls_ensemble_free(cls_ensemble *e);

/* Encodes t for each member (its own tokenizer and max_len; with labels when `labelled`, as
 * cls_encode, else without), runs each over it and averages the probabilities: *probs_out (n x K)
 * and *pred_out (n: the argmax, the first on ties) are malloc'd for the caller. *d receives
 * member 0's encoding (labels, lines, skipped rows), with a text counted as truncated when any
 * member cut it; the caller frees it with attn_cls_data_free. */
int cls_ensemble_predict(const cls_ensemble *e, const attn_tsv *t, int labelled, int skip_unknown,
                         int batch, attn_cls_data *d, int **pred_out, float **probs_out);

/* ---- training ---------------------------------------------------------------------------------*/

typedef struct {
    const char *out;        /* checkpoint (the best on dev) and OUT.png plot; NULL: none */
    const char *train_name; /* for the checkpoint's metadata */
    const char *dev_name;
    const char *tag; /* prefix of the progress lines ("fold 2/5"), or NULL */
} cls_target;

typedef struct {
    long steps;           /* optimizer steps taken */
    int epochs;           /* epochs run */
    int stopped_early;    /* by --patience */
    int best_epoch;       /* of the kept model (1-based) */
    double best_f1;       /* dev macro-F1 of the kept model (NaN without dev) */
    double best_accuracy; /* dev accuracy of the kept model (NaN without dev) */
    double train_loss;    /* mean training loss of the last epoch */
    double seconds;
    long n_train, n_truncated;
} cls_result;

/* Defined in tools/cmd_train_classify.c.
 * Trains a classifier on train (dev may be NULL) with c->tok and c->labels set by the caller;
 * c->model is created here. Each epoch: batches from attn_batch_plan_make (bucketed by length,
 * shuffled by (seed, epoch)), AdamW with warm-up + the schedule, then macro-F1 on dev; the best
 * model so far is kept (and written atomically to target->out with its plot), and training stops
 * after o->patience epochs without improvement (0: never). Without dev, the last epoch is kept.
 * On return c->model holds the kept parameters. Ctrl-C stops after the current batch (the best
 * checkpoint is on disk) and returns CLI_SIGINT. */
int cls_train(const cls_opts *o, cls_model *c, const attn_tsv *train, const attn_tsv *dev,
              const cls_target *target, cls_result *res);

/* ---- output helpers ---------------------------------------------------------------------------*/

/* The plot beside a checkpoint: PATH less ".safetensors", plus ".png" (m.safetensors -> m.png). */
void cls_plot_path(const char *ckpt, char *buf, size_t n);

/* Writes s as a JSON string (quotes included) to f; bytes that are not valid UTF-8 become
 * U+FFFD, so the output always parses. */
void cls_json_string(FILE *f, const char *s);

#endif
