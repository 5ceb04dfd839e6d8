/* tasks/translator_internal.h: the translator bundle, shared by tasks/translator.c and
 * tasks/translator_train.c. */
#ifndef ATTN_TASKS_TRANSLATOR_INTERNAL_H
#define ATTN_TASKS_TRANSLATOR_INTERNAL_H

#include "attn/translator.h"

struct attn_translator {
    attn_model *model;
    attn_tokenizer *tok;
    int bos, eos, pad; /* [CLS], [SEP], [PAD] (0 when absent) */
};

/* Checks the bundle (a seq2seq model, vocabulary sizes, [CLS] / [SEP]) and sets bos / eos / pad.
 * path names it in messages. */
attn_status attn_translator_check(const char *path, attn_translator *t);

#endif
