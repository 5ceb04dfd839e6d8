/* tasks/classifier.c: the classifier bundle (model + tokenizer + labels), loading it, labelling
 * texts alone or as an ensemble, and scoring (include/attn/classifier.h). Training and k-fold are
 * in tasks/classifier_train.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/classifier.h"
#include "core/error.h"
#include "tasks/classifier_internal.h"

void attn_classifier_free(attn_classifier *c) {
    if (!c) return;
    attn_model_free(c->model);
    attn_tokenizer_free(c->tok);
    attn_labels_free(c->labels);
    free(c);
}

attn_model *attn_classifier_model(const attn_classifier *c) {
    return c ? c->model : NULL;
}
const attn_tokenizer *attn_classifier_tokenizer(const attn_classifier *c) {
    return c ? c->tok : NULL;
}
const attn_labels *attn_classifier_labels(const attn_classifier *c) {
    return c ? c->labels : NULL;
}

/* Checks the parts against each other: vocabulary, classes, [CLS]. */
static attn_status check_parts(const char *path, const attn_classifier *c) {
    const attn_config *cfg = attn_model_config(c->model);
    if (attn_tokenizer_vocab_size(c->tok) != cfg->vocab_size)
        return attn_error(ATTN_ERR_FORMAT,
                          "'%s': its tokenizer has %d tokens but the model's vocabulary is %d",
                          path, attn_tokenizer_vocab_size(c->tok), cfg->vocab_size);
    if (attn_labels_count(c->labels) != cfg->n_classes)
        return attn_error(ATTN_ERR_FORMAT, "'%s': it names %d labels but the model has %d classes",
                          path, attn_labels_count(c->labels), cfg->n_classes);
    if (attn_tokenizer_special(c->tok, ATTN_SPECIAL_CLS) < 0)
        return attn_error(ATTN_ERR_FORMAT, "'%s': its tokenizer has no [CLS] token", path);
    return ATTN_OK;
}

static attn_status read_meta(const char *path, const char *key, char **value) {
    attn_status s = attn_checkpoint_read_meta(path, key, value);
    if (s == ATTN_ERR_MISSING)
        return attn_error(s,
                          "'%s' has no %s in its metadata: it was not written by attn train "
                          "classify",
                          path, key);
    return s;
}

attn_status attn_classifier_read_parts(const char *path, attn_classifier *c) {
    char *tok_json = NULL, *labels_json = NULL;
    attn_status s = ATTN_OK;
    if (attn_model_config(c->model)->arch != ATTN_ARCH_CLASSIFIER)
        s = attn_error(ATTN_ERR_INVALID,
                       "'%s' is a %s model, not a text classifier (make one with attn train "
                       "classify)",
                       path, attn_arch_name(attn_model_config(c->model)->arch));
    if (s == ATTN_OK) s = read_meta(path, "tokenizer", &tok_json);
    if (s == ATTN_OK) s = read_meta(path, "labels", &labels_json);
    if (s == ATTN_OK && (s = attn_tokenizer_from_json(tok_json, strlen(tok_json), &c->tok)))
        s = attn_error_context(s, "'%s': the tokenizer in its metadata is invalid", path);
    if (s == ATTN_OK && (s = attn_labels_from_json(labels_json, &c->labels)))
        s = attn_error_context(s, "'%s': the labels in its metadata are invalid", path);
    if (s == ATTN_OK) s = check_parts(path, c);
    free(tok_json);
    free(labels_json);
    if (s == ATTN_OK) c->pad_id = attn_model_config(c->model)->pad_id;
    return s;
}

attn_status attn_classifier_load(const char *path, attn_classifier **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_classifier_load: NULL argument");
    *out = NULL;
    attn_classifier *c = calloc(1, sizeof *c);
    if (!c) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    attn_status s = attn_model_load(path, &c->model);
    if (s == ATTN_OK) s = attn_classifier_read_parts(path, c);
    if (s != ATTN_OK) {
        attn_classifier_free(c);
        return s;
    }
    *out = c;
    return ATTN_OK;
}

/* ---- prediction ------------------------------------------------------------------------------ */

/* Index of the largest of x[k] (the first on ties); its softmax into p (may be NULL). */
static int argmax_softmax(const float *x, int k, float *p) {
    int best = 0;
    for (int j = 1; j < k; j++)
        if (x[j] > x[best]) best = j;
    if (p) {
        double sum = 0;
        for (int j = 0; j < k; j++)
            sum += exp((double)x[j] - (double)x[best]);
        for (int j = 0; j < k; j++)
            p[j] = (float)(exp((double)x[j] - (double)x[best]) / sum);
    }
    return best;
}

/* ATTN_ERR_NUMERIC unless every one of the K logits x of `what` is finite: a NaN or infinite
 * logit has no softmax, and its argmax would be a guess (class 0). */
static attn_status check_logits(const float *x, int K, const char *what) {
    for (int j = 0; j < K; j++)
        if (!isfinite(x[j]))
            return attn_error(ATTN_ERR_NUMERIC,
                              "%s: the model's logit %d of %d is %s (its weights or activations "
                              "are not finite)",
                              what, j, K,
                              isnan(x[j]) ? "NaN"
                              : x[j] > 0  ? "+inf"
                                          : "-inf");
    return ATTN_OK;
}

attn_status attn_classifier_run(const attn_classifier *c, const attn_cls_data *d, int batch,
                                int *pred, float *probs) {
    if (d->n == 0) return ATTN_OK;
    const attn_config *cfg = attn_model_config(c->model);
    int K = cfg->n_classes, longest = 1;
    for (long i = 0; i < d->n; i++)
        if (d->lengths[i] > longest) longest = d->lengths[i];
    if (batch > d->n) batch = (int)d->n;
    attn_batch_plan plan;
    ATTN_TRY(attn_batch_plan_make(d->lengths, NULL, d->n, batch, 1, 0, 0, 0, &plan));
    int *tokens = malloc((size_t)batch * (size_t)longest * sizeof *tokens);
    int *lengths = malloc((size_t)batch * sizeof *lengths);
    attn_status s = ATTN_OK;
    if (!tokens || !lengths)
        s = attn_error(ATTN_ERR_NOMEM, "no room for a batch of %d x %d", batch, longest);
    else
        s = attn_model_reserve(c->model, batch, longest, 0);
    for (long b = 0; s == ATTN_OK && b < plan.n_batches; b++) {
        const long *rows = plan.order + plan.offsets[b];
        int B = (int)(plan.offsets[b + 1] - plan.offsets[b]), T;
        attn_cls_data_fill_batch(d, rows, B, c->pad_id, tokens, lengths, NULL, &T);
        attn_batch bt = {.B = B, .T = T, .tokens = tokens, .lengths = lengths};
        if ((s = attn_model_forward(c->model, &bt, 0, NULL)) != ATTN_OK) {
            s = attn_error_context(s, "the model failed on line %ld", d->lines[rows[0]]);
            break;
        }
        const float *logits = attn_model_logits(c->model, NULL, NULL);
        for (int r = 0; s == ATTN_OK && r < B; r++) {
            char what[32];
            snprintf(what, sizeof what, "line %ld", d->lines[rows[r]]);
            s = check_logits(logits + (size_t)r * K, K, what);
        }
        for (int r = 0; s == ATTN_OK && r < B; r++)
            pred[rows[r]] = argmax_softmax(logits + (size_t)r * K, K,
                                           probs ? probs + (size_t)rows[r] * K : NULL);
    }
    free(tokens);
    free(lengths);
    attn_batch_plan_free(&plan);
    return s;
}

attn_status attn_classifier_classify(attn_classifier *c, const char *text, size_t len, int *label,
                                     float *probs) {
    if (!c || !text) return attn_error(ATTN_ERR_INVALID, "attn_classifier_classify: NULL argument");
    const attn_config *cfg = attn_model_config(c->model);
    int *ids = malloc((size_t)cfg->max_len * sizeof *ids), n, cut;
    if (!ids) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    attn_status s = attn_cls_encode_text(c->tok, text, len, cfg->max_len, ids, &n, &cut);
    attn_batch b = {.B = 1, .T = n, .tokens = ids, .lengths = &n};
    if (s == ATTN_OK) s = attn_model_forward(c->model, &b, 0, NULL);
    const float *logits = s == ATTN_OK ? attn_model_logits(c->model, NULL, NULL) : NULL;
    if (s == ATTN_OK) s = check_logits(logits, cfg->n_classes, "classifying the text");
    if (s == ATTN_OK) {
        int best = argmax_softmax(logits, cfg->n_classes, probs);
        if (label) *label = best;
    }
    free(ids);
    return s;
}

/* Fails unless b's labels are a's, in the same order. */
static attn_status same_labels(const attn_classifier *a, const attn_classifier *b, int i) {
    int k = attn_labels_count(a->labels);
    if (attn_labels_count(b->labels) != k)
        return attn_error(ATTN_ERR_INVALID,
                          "ensemble member %d has %d labels and member 1 %d: an ensemble needs one "
                          "label set",
                          i + 1, attn_labels_count(b->labels), k);
    for (int j = 0; j < k; j++)
        if (strcmp(attn_labels_name(a->labels, j), attn_labels_name(b->labels, j)) != 0)
            return attn_error(ATTN_ERR_INVALID,
                              "label %d is '%s' in ensemble member %d but '%s' in member 1: an "
                              "ensemble needs one label set",
                              j, attn_labels_name(b->labels, j), i + 1,
                              attn_labels_name(a->labels, j));
    return ATTN_OK;
}

/* Member c's encoding of t: with its labels (labelled) or without. */
static attn_status encode(const attn_classifier *c, const attn_tsv *t, int labelled,
                          int skip_unknown, attn_cls_data *d) {
    int max_len = attn_model_config(c->model)->max_len;
    return attn_cls_data_encode(t, c->tok, labelled ? c->labels : NULL, max_len,
                                labelled && skip_unknown, d);
}

/* Adds member i's probabilities to sum and its truncations to d (row r is the same text in both:
 * the same label set skips the same rows). */
static attn_status add_member(attn_classifier *c, int i, const attn_tsv *t, int labelled,
                              int skip_unknown, int batch, attn_cls_data *d, int *pred,
                              float *member, float *sum) {
    attn_cls_data di;
    ATTN_TRY(encode(c, t, labelled, skip_unknown, &di));
    attn_status s = ATTN_OK;
    if (di.n != d->n)
        s = attn_error(ATTN_ERR_INVALID, "ensemble member %d encoded %ld texts, member 1 %ld",
                       i + 1, di.n, d->n);
    if (s == ATTN_OK) s = attn_classifier_run(c, &di, batch, pred, member);
    int K = attn_model_config(c->model)->n_classes;
    for (long r = 0; s == ATTN_OK && r < d->n; r++) {
        for (int j = 0; j < K; j++)
            sum[(size_t)r * K + j] += member[(size_t)r * K + j];
        if (di.truncated[r] && !d->truncated[r]) {
            d->truncated[r] = 1;
            d->n_truncated++;
        }
    }
    attn_cls_data_free(&di);
    return s;
}

attn_status attn_classifier_predict(attn_classifier *const *members, int n, const attn_tsv *t,
                                    int labelled, int skip_unknown, int batch, attn_cls_data *d,
                                    int **pred_out, float **probs_out) {
    if (!members || n < 1 || !t || !d || !pred_out || !probs_out || batch < 1)
        return attn_error(ATTN_ERR_INVALID, "attn_classifier_predict: bad argument");
    *pred_out = NULL;
    *probs_out = NULL;
    for (int i = 1; i < n; i++)
        ATTN_TRY(same_labels(members[0], members[i], i));
    ATTN_TRY(encode(members[0], t, labelled, skip_unknown, d));
    int K = attn_model_config(members[0]->model)->n_classes;
    size_t cells = ((size_t)d->n + 1) * (size_t)K;
    int *pred = malloc(((size_t)d->n + 1) * sizeof *pred);
    float *probs = malloc(cells * sizeof *probs);
    float *member = n > 1 ? malloc(cells * sizeof *member) : NULL;
    attn_status s = ATTN_OK;
    if (!pred || !probs || (n > 1 && !member))
        s = attn_error(ATTN_ERR_NOMEM, "out of memory for %ld texts", d->n);
    if (s == ATTN_OK) s = attn_classifier_run(members[0], d, batch, pred, probs);
    for (int i = 1; s == ATTN_OK && i < n; i++)
        s = add_member(members[i], i, t, labelled, skip_unknown, batch, d, pred, member, probs);
    if (s == ATTN_ERR_NUMERIC) attn_error_context(s, "%s", t->name ? t->name : "texts");
    for (long r = 0; s == ATTN_OK && n > 1 && r < d->n; r++) {
        float *p = probs + (size_t)r * K;
        int best = 0;
        for (int j = 0; j < K; j++) {
            p[j] /= (float)n;
            if (p[j] > p[best]) best = j;
        }
        pred[r] = best;
    }
    free(member);
    if (s != ATTN_OK) {
        free(pred);
        free(probs);
        attn_cls_data_free(d);
        return s;
    }
    *pred_out = pred;
    *probs_out = probs;
    return ATTN_OK;
}

attn_status attn_classifier_evaluate(attn_classifier *const *members, int n, const attn_tsv *t,
                                     int skip_unknown, int batch, attn_cls_report *out,
                                     attn_cls_data *d_out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_classifier_evaluate: NULL report");
    memset(out, 0, sizeof *out);
    attn_cls_data d;
    int *pred;
    float *probs;
    ATTN_TRY(attn_classifier_predict(members, n, t, 1, skip_unknown, batch, &d, &pred, &probs));
    attn_status s = ATTN_OK;
    if (d.n == 0)
        s = attn_error(ATTN_ERR_INVALID, "no examples left to evaluate");
    else
        s = attn_classification_report(d.labels, pred, d.n,
                                       attn_model_config(members[0]->model)->n_classes, out);
    free(pred);
    free(probs);
    if (d_out && s == ATTN_OK)
        *d_out = d;
    else
        attn_cls_data_free(&d);
    return s;
}
