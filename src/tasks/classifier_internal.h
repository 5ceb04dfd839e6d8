/* tasks/classifier_internal.h: the classifier bundle, shared by tasks/classifier.c and
 * tasks/classifier_train.c. */
#ifndef ATTN_TASKS_CLASSIFIER_INTERNAL_H
#define ATTN_TASKS_CLASSIFIER_INTERNAL_H

#include "attn/classifier.h"

struct attn_classifier {
    attn_model *model;
    attn_tokenizer *tok;
    attn_labels *labels;
    int pad_id; /* the tokenizer's [PAD], else 0 (padding is masked either way) */
};

/* Fills c's tokenizer and labels from the metadata of the checkpoint at path, whose model is
 * already c->model, and checks them against it (attn_classifier_load's rules and errors); on
 * failure the caller still owns c and frees it. */
attn_status attn_classifier_read_parts(const char *path, attn_classifier *c);

/* Runs c over every example of d in batches of up to `batch` sorted by length: the predicted
 * class of example i goes to pred[i] and, if probs is not NULL, its softmax probabilities to
 * probs[i * K ...]. A NaN or infinite logit is ATTN_ERR_NUMERIC naming the example's line. */
attn_status attn_classifier_run(const attn_classifier *c, const attn_cls_data *d, int batch,
                                int *pred, float *probs);

#endif
