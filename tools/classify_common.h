/* tools/classify_common.h: what the text-classification subcommands share: the training options
 * (rows into attn_classifier_params, attn/classifier.h), the progress lines of a training run,
 * loading several classifiers (an ensemble) and reading a TSV. Every function that can fail
 * prints one "attn: ..." line and returns CLI_RUNTIME or CLI_USAGE (tools/args.h). */
#ifndef ATTN_TOOLS_CLASSIFY_COMMON_H
#define ATTN_TOOLS_CLASSIFY_COMMON_H

#include "attn/attn.h"

#include "args.h"
#include "progress.h"

typedef struct {
    attn_classifier_params p; /* the library's defaults, then the options */
    int quiet;
} cls_opts;

void cls_opts_default(cls_opts *o);

/* Appends the tokenizer, model, optimisation and reporting rows to table[*n ...] and advances *n;
 * the table needs CLS_OPTS_ROWS free rows. */
#define CLS_OPTS_ROWS 48
void cls_opts_table(cls_opts *o, cli_opt *table, int *n);

/* Checks what the table cannot (train_opts_check, the batch size); CLI_OK or CLI_USAGE. */
int cls_opts_check(cls_opts *o, cli_opt *table);

/* The progress display of a training run: the bar, and a line per dev evaluation. Set it as
 * o->p.train.progress with user = the cls_progress. */
typedef struct {
    progress bar;
    const char *out; /* the checkpoint, for the first line */
} cls_progress;
void cls_on_progress(const attn_train_progress *p, void *user);

/* Loads paths[0..n) into *out (malloc'd array of n; free with cls_free_all). */
int cls_load_all(const char *const *paths, int n, attn_classifier ***out);
void cls_free_all(attn_classifier **c, int n);

/* Reads a TSV file (errors name FILE:LINE); an empty one is an error. */
int cls_read_tsv(const char *path, attn_tsv *out);

#endif
