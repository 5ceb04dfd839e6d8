/* attn/classifier.h: text classifiers as library calls: train one on "label<TAB>text" files, load
 * it, label texts (alone or as an ensemble), score it, cross-validate.
 *
 * A classifier is a bundle: the model, the tokenizer it reads texts with and its label set. Its
 * checkpoint is self-contained: besides the model it holds, as metadata, "task" = "classify",
 * "tokenizer" = the tokenizer.json text and "labels" = the label names as a JSON list (id =
 * position).
 *
 *     attn_tsv train, dev;   attn_tsv_read("train.tsv", &train);  attn_tsv_read("dev.tsv", &dev);
 *     attn_classifier_params p = attn_classifier_default_params();   // epochs, model size, ...
 *     p.train.save_path = "clf.safetensors";                          // the best epoch on dev
 *     attn_classifier *c;
 *     attn_classifier_train(&train, &dev, NULL, &p, &c, NULL);
 *     attn_cls_report r;     attn_classifier_evaluate(&c, 1, &dev, 0, 64, &r, NULL);
 *     int label;             attn_classifier_classify(c, "some text", 9, &label, NULL);
 *     printf("%s %.3f\n", attn_labels_name(attn_classifier_labels(c), label), r.macro_f1);
 */
#ifndef ATTN_CLASSIFIER_H
#define ATTN_CLASSIFIER_H

#include "attn/data.h"
#include "attn/metrics.h"
#include "attn/model.h"
#include "attn/tokenizer.h"
#include "attn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct attn_classifier attn_classifier;

/* Loads a classifier checkpoint: a classifier model whose metadata holds a tokenizer (with [CLS])
 * and labels that agree with it (vocabulary size, number of classes). Errors: attn_model_load's;
 * ATTN_ERR_MISSING (no tokenizer or labels in the metadata); ATTN_ERR_FORMAT (they are invalid or
 * disagree with the model); ATTN_ERR_INVALID (another model family). */
ATTN_API attn_status attn_classifier_load(const char *path, attn_classifier **out);
ATTN_API void attn_classifier_free(attn_classifier *c);

/* The parts, owned by the classifier. */
ATTN_API attn_model *attn_classifier_model(const attn_classifier *c);
ATTN_API const attn_tokenizer *attn_classifier_tokenizer(const attn_classifier *c);
ATTN_API const attn_labels *attn_classifier_labels(const attn_classifier *c);

/* ---- training ----------------------------------------------------------------------------- */

typedef struct {
    attn_config model;       /* size and shape; vocab_size, n_classes, pad_id come from the data */
    attn_train_params train; /* epochs, schedule (warmup < 0: 5% of the steps), patience, seed,
                                save_path (the best epoch on dev), meta, callbacks */
    attn_adamw_params adamw;
    int batch;             /* texts per batch */
    int bucket;            /* batches per length bucket */
    float token_dropout;   /* in training, each token but [CLS] becomes [MASK] (else [UNK]) */
    const char *tokenizer; /* tokenizer.json / vocab.txt (needs [CLS]), or NULL: a byte-level BPE
                              of vocab_size tokens trained on the training texts */
    int vocab_size;
    int lowercase;          /* the trained BPE lower-cases (NFC) first */
    const char *plot_path;  /* PNG of the training loss and dev macro-F1 by step, or NULL */
    const char *state_path; /* the run's resumable state (below), or NULL: none */
    int resume;             /* continue the run saved at state_path (below) */
} attn_classifier_params;

/* What `attn train classify` does by default: texts of up to 128 tokens, 2 encoder layers of
 * width 128 with 4 heads, d_ff 512, dropout 0.1, pre-LN, learned positions, GELU, [CLS] pooling;
 * a BPE of 8000 tokens; 10 epochs of batches of 32 (buckets of 50 batches), AdamW (lr 5e-4,
 * weight decay 0.01, clip 1) with 5% warm-up then cosine to 0, patience 3, seed 1. */
ATTN_API attn_classifier_params attn_classifier_default_params(void);

typedef struct {
    attn_train_result train; /* steps, epochs, early stop, losses, seconds */
    int best_epoch;          /* of the kept model (1-based) */
    double best_f1;          /* dev macro-F1 of the kept model (NaN without dev) */
    double best_accuracy;    /* dev accuracy of the kept model (NaN without dev) */
    long n_train;            /* training texts */
    long n_truncated;        /* of them cut to max_len */
} attn_classifier_result;

/* Trains a classifier on train (dev may be NULL): labels are those of train and dev together,
 * sorted (labels: a given set instead), the tokenizer is made as params say, each text becomes
 * [CLS] + tokens cut to model.max_len. Epochs of length-bucketed batches (attn_cls_source) go
 * through attn_train; after each epoch dev accuracy and macro-F1 are the evaluation
 * (metrics[0] = macro-F1, metrics[1] = accuracy), the best epoch is kept (and saved, with the
 * tokenizer and labels in the metadata) and `patience` epochs without a better one end the run;
 * without dev the last epoch is kept. *out receives the classifier holding the kept parameters
 * (also when the abort callback stopped the run: ATTN_ERR_ABORTED, the best checkpoint on disk).
 * Errors: attn_train's; ATTN_ERR_INVALID (fewer than two labels, a text the tokenizer refuses, a
 * dev label outside `labels`); the tokenizer's.
 *
 * Resuming. With state_path set, the run's state is written there (atomically) after every
 * epoch, and when the run ends or is stopped: a training checkpoint (attn_checkpoint_save) of the
 * current parameters, the AdamW moments and the train state (step, seed, best metric and step),
 * with the tokenizer, labels and the run's settings in its metadata; save_path keeps holding the
 * best model. With resume set, the run saved at state_path continues from its step instead of
 * starting: model, optimizer, tokenizer and labels come from state_path, the best parameters so far
 * from save_path (both are needed), and the run ends with what the uninterrupted run would have
 * given, bit for bit: the same kept parameters, checkpoint and dev figures (the plot shows only the
 * resumed steps). train, dev, labels, and every option that shapes the run (epochs, batch, model,
 * schedule, seed, ...) must be those of the interrupted run: a difference is ATTN_ERR_INVALID
 * naming it ("its run has batch=8 but this one batch=4"). A save_path whose step is neither the
 * state's best nor later than the state is ATTN_ERR_FORMAT; the loaders' errors otherwise. */
ATTN_API attn_status attn_classifier_train(const attn_tsv *train, const attn_tsv *dev,
                                           const attn_labels *labels,
                                           const attn_classifier_params *params,
                                           attn_classifier **out, attn_classifier_result *res);

/* ---- prediction and evaluation ------------------------------------------------------------ */

/* The label of one text (*label, may be NULL) and its class probabilities (probs: n_classes
 * floats, may be NULL). A text longer than max_len tokens is cut as in training. Errors: the
 * tokenizer's and the model's; ATTN_ERR_NUMERIC when a logit is NaN or infinite (a model with
 * non-finite or overflowing weights), *label and probs untouched. */
ATTN_API attn_status attn_classifier_classify(attn_classifier *c, const char *text, size_t len,
                                              int *label, float *probs);

/* Runs members[0..n) over the rows of t in batches of up to `batch` texts sorted by length; with
 * n > 1 the members' softmax probabilities are averaged (an ensemble: every member must have
 * member 0's labels in the same order; each reads the texts with its own tokenizer and max_len).
 * labelled: t's labels are looked up (skip_unknown leaves out rows whose label the classifiers do
 * not know; otherwise such a row is an error naming FILE:LINE); else labels are ignored.
 * *pred (d->n ids) and *probs (d->n * K) are malloc'd for the caller; *d receives member 0's
 * encoding (labels, lines, skipped rows), a text counted as truncated when any member cut it; the
 * caller frees it with attn_cls_data_free. A NaN or infinite logit of any member is
 * ATTN_ERR_NUMERIC naming the file and line ("dev.tsv: line 7: ..."; nothing is returned). */
ATTN_API attn_status attn_classifier_predict(attn_classifier *const *members, int n,
                                             const attn_tsv *t, int labelled, int skip_unknown,
                                             int batch, attn_cls_data *d, int **pred,
                                             float **probs);

/* attn_classifier_predict of the labelled rows of t, then the classification report (accuracy,
 * per-class precision / recall / F1, confusion) into *out (free with attn_cls_report_free). d may
 * be NULL, else it receives the encoding as above. Errors: those of predict; ATTN_ERR_INVALID when
 * no row is left to score. */
ATTN_API attn_status attn_classifier_evaluate(attn_classifier *const *members, int n,
                                              const attn_tsv *t, int skip_unknown, int batch,
                                              attn_cls_report *out, attn_cls_data *d);

/* What attn_classifier_attention found for one text. */
typedef struct {
    int label;      /* the predicted class */
    float prob;     /* its probability */
    int n_tokens;   /* [CLS] included */
    int truncated;  /* the text was cut to max_len */
    int n_heatmaps; /* layers x heads */
} attn_attention_result;

/* Labels one text and draws where the encoder looks: one PNG heatmap per layer and head,
 * DIR/layer<l>_head<h>.png (rows the queries, columns the keys, both labelled with the tokens:
 * special tokens by name, others decoded alone), and every map as DIR/attention.json
 * (attn_maps_write_json). DIR is created when missing. Errors: ATTN_ERR_IO (DIR exists and is not a
 * folder, or cannot be made or written), the tokenizer's and the model's. */
ATTN_API attn_status attn_classifier_attention(attn_classifier *c, const char *text, size_t len,
                                               const char *dir, attn_attention_result *out);

/* ---- cross-validation --------------------------------------------------------------------- */

typedef struct {
    long n_train, n_test;
    int epochs;
    double accuracy, macro_f1;
} attn_fold_result;

/* k-fold cross-validation over the rows of all: folds dealt by attn_kfold_assign (seed
 * params.train.seed); fold i trains a classifier from scratch with params (no checkpoint: the
 * save_path is ignored) on the other folds (dev, which may be NULL, picks each fold's best epoch)
 * and scores it on fold i; labels are those of all. on_fold (may be NULL) is called before each
 * fold (r == NULL) and after it; out receives k results. Errors: ATTN_ERR_INVALID (k < 2, fewer
 * rows than k), attn_classifier_train's and evaluate's. */
ATTN_API attn_status attn_classifier_kfold(const attn_tsv *all, const attn_tsv *dev, int k,
                                           const attn_classifier_params *params, int batch,
                                           void (*on_fold)(int fold, int k,
                                                           const attn_fold_result *r, void *user),
                                           void *user, attn_fold_result *out);

/* The summary of attn_classifier_kfold's k results, in a new string (*out, malloc'd): the mean
 * and standard deviation (ddof 0, numpy's std) of accuracy and macro-F1. json == 0: two lines
 *   accuracy mean A  std S
 *   macro_f1 mean A  std S
 * json != 0, one line of JSON: {"k": k, "folds": [{"fold": 1, "n_train", "n_test", "epochs",
 * "accuracy", "macro_f1"}, ...], "accuracy": {"mean", "std"}, "macro_f1": {"mean", "std"}}.
 * Errors: ATTN_ERR_INVALID (k < 1, NULL), ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_folds_format(const attn_fold_result *f, int k, int json, char **out);

#ifdef __cplusplus
}
#endif
#endif
