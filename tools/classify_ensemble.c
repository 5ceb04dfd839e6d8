/* tools/classify_ensemble.c: several classifiers used as one (`--model` given more than once to
 * eval classify and classify): each member encodes the texts with its own tokenizer and max_len,
 * and their softmax probabilities are averaged. Members must share the label set, in the same
 * order, so that probability j means the same class in each. */
#include <stdlib.h>
#include <string.h>

#include "classify_common.h"

void cls_ensemble_free(cls_ensemble *e) {
    for (int i = 0; i < e->n; i++)
        cls_model_free(&e->m[i]);
    free(e->m);
    memset(e, 0, sizeof *e);
}

/* Fails unless b's labels are a's, in the same order. */
static int same_labels(const cls_model *a, const char *name_a, const cls_model *b,
                       const char *name_b) {
    int k = attn_labels_count(a->labels);
    if (attn_labels_count(b->labels) != k) {
        cli_error("'%s' has %d labels and '%s' %d: an ensemble needs one label set", name_b,
                  attn_labels_count(b->labels), name_a, k);
        return CLI_RUNTIME;
    }
    for (int j = 0; j < k; j++)
        if (strcmp(attn_labels_name(a->labels, j), attn_labels_name(b->labels, j)) != 0) {
            cli_error("label %d is '%s' in '%s' but '%s' in '%s': an ensemble needs one label set",
                      j, attn_labels_name(b->labels, j), name_b, attn_labels_name(a->labels, j),
                      name_a);
            return CLI_RUNTIME;
        }
    return CLI_OK;
}

int cls_ensemble_load(const char *const *paths, int n, cls_ensemble *out) {
    memset(out, 0, sizeof *out);
    if (n < 1) {
        cli_error("no model to load");
        return CLI_USAGE;
    }
    if (!(out->m = calloc((size_t)n, sizeof *out->m))) {
        cli_error("out of memory");
        return CLI_RUNTIME;
    }
    int rc = CLI_OK;
    for (int i = 0; rc == CLI_OK && i < n; i++) {
        rc = cls_model_load(paths[i], &out->m[i]);
        if (rc == CLI_OK) out->n = i + 1;
        if (rc == CLI_OK && i > 0) rc = same_labels(&out->m[0], paths[0], &out->m[i], paths[i]);
    }
    if (rc) cls_ensemble_free(out);
    return rc;
}

/* Member i's encoding of t: with its labels (eval) or without (classify). */
static int encode(const cls_model *c, const attn_tsv *t, int labelled, int skip_unknown,
                  attn_cls_data *d) {
    int max_len = attn_model_config(c->model)->max_len;
    if (labelled) return cls_encode(c, t, max_len, skip_unknown, d);
    attn_status s = attn_cls_data_encode(t, c->tok, NULL, max_len, 0, d);
    return s == ATTN_OK ? CLI_OK : cli_lib_error(s, "cannot tokenize '%s'", t->name);
}

int cls_ensemble_predict(const cls_ensemble *e, const attn_tsv *t, int labelled, int skip_unknown,
                         int batch, attn_cls_data *d, int **pred_out, float **probs_out) {
    *pred_out = NULL;
    *probs_out = NULL;
    int rc = encode(&e->m[0], t, labelled, skip_unknown, d);
    if (rc) return rc;
    int K = attn_model_config(e->m[0].model)->n_classes;
    size_t cells = ((size_t)d->n + 1) * (size_t)K;
    int *pred = malloc(((size_t)d->n + 1) * sizeof *pred);
    float *probs = malloc(cells * sizeof *probs);
    float *member = e->n > 1 ? malloc(cells * sizeof *member) : NULL;
    if (!pred || !probs || (e->n > 1 && !member)) {
        cli_error("out of memory for %ld texts", d->n);
        rc = CLI_RUNTIME;
    }
    if (rc == CLI_OK) rc = cls_predict(&e->m[0], d, batch, pred, probs);
    for (int i = 1; rc == CLI_OK && i < e->n; i++) {
        attn_cls_data di;
        rc = encode(&e->m[i], t, labelled, skip_unknown, &di);
        if (rc) break;
        /* The same label set skips the same rows, so row r is the same text in d and di. */
        if (di.n != d->n) {
            cli_error("ensemble member %d encoded %ld texts, member 1 %ld", i + 1, di.n, d->n);
            rc = CLI_RUNTIME;
        }
        if (rc == CLI_OK) rc = cls_predict(&e->m[i], &di, batch, pred, member);
        for (long r = 0; rc == CLI_OK && r < d->n; r++) {
            for (int j = 0; j < K; j++)
                probs[(size_t)r * K + j] += member[(size_t)r * K + j];
            if (di.truncated[r] && !d->truncated[r]) {
                d->truncated[r] = 1;
                d->n_truncated++;
            }
        }
        attn_cls_data_free(&di);
    }
    for (long r = 0; rc == CLI_OK && e->n > 1 && r < d->n; r++) {
        float *p = probs + (size_t)r * K;
        int best = 0;
        for (int j = 0; j < K; j++) {
            p[j] /= (float)e->n;
            if (p[j] > p[best]) best = j;
        }
        pred[r] = best;
    }
    free(member);
    if (rc) {
        free(pred);
        free(probs);
        attn_cls_data_free(d);
        return rc;
    }
    *pred_out = pred;
    *probs_out = probs;
    return CLI_OK;
}
