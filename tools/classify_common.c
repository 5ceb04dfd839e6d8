/* tools/classify_common.c: the training options, progress lines and loading shared by the
 * text-classification subcommands. */
#include "classify_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_opts.h"

void cls_opts_default(cls_opts *o) {
    *o = (cls_opts){.p = attn_classifier_default_params()};
}

void cls_opts_table(cls_opts *o, cli_opt *t, int *n) {
    attn_classifier_params *p = &o->p;
    const cli_opt tokenizer[] = {
        CLI_HEADING("Tokenizer"),
        CLI_OPT("tokenizer", CLI_STRING, &p->tokenizer,
                "tokenizer.json or vocab.txt to use (needs a [CLS] token)", .meta = "FILE",
                .default_text = "a BPE trained on the training texts"),
        CLI_OPT("vocab-size", CLI_INT, &p->vocab_size,
                "tokens of the BPE trained when no --tokenizer is given", .min = 261,
                .max = 1 << 24),
        CLI_OPT("lowercase", CLI_FLAG, &p->lowercase,
                "the trained BPE lower-cases (NFC) texts first"),
    };
    const cli_opt model[] = {
        CLI_OPT("max-len", CLI_INT, &p->model.max_len,
                "tokens per text, [CLS] included; longer texts are cut", .min = 2, .max = 1 << 16),
        CLI_OPT("token-dropout", CLI_FLOAT, &p->token_dropout,
                "in training, each token but [CLS] becomes [MASK] (else [UNK]) with this "
                "probability",
                .min = 0, .max = 0.99),
    };
    const cli_opt run[] = {
        CLI_OPT("epochs", CLI_INT, &p->train.epochs, "passes over the training data", .min = 1,
                .max = 1 << 20),
        CLI_OPT("batch", CLI_INT, &p->batch, "texts per batch", .min = 1, .max = 1 << 16),
        CLI_OPT("bucket", CLI_INT, &p->bucket,
                "batches per length bucket (texts are sorted by length within one)", .min = 1,
                .max = 1 << 20),
        CLI_OPT("patience", CLI_INT, &p->train.patience,
                "stop after N epochs without a better dev macro-F1 (0: never)", .min = 0,
                .max = 1 << 20),
        CLI_HEADING("Reporting"),
        CLI_OPT("quiet", CLI_FLAG, &o->quiet, "no progress or dev lines on stderr"),
    };
    int first = *n;
    CLI_APPEND(t, n, tokenizer);
    train_opts_model(&p->model, "encoder layers", t, n);
    CLI_APPEND(t, n, model);
    train_opts_optim(&p->train, &p->adamw, &p->model, t, n);
    CLI_APPEND(t, n, run);
    cli_find(t + first, "warmup")->default_text = "5% of all steps"; /* the library's -1 */
}

int cls_opts_check(cls_opts *o, cli_opt *table) {
    if ((long long)o->p.batch * o->p.model.max_len > (1 << 24)) {
        cli_error("--batch %d x --max-len %d is too large (at most %d tokens per batch)",
                  o->p.batch, o->p.model.max_len, 1 << 24);
        return CLI_USAGE;
    }
    return train_opts_check(&o->p.model, &o->p.train, table);
}

void cls_on_progress(const attn_train_progress *p, void *user) {
    cls_progress *c = user;
    progress *bar = &c->bar;
    if (p->event == ATTN_TRAIN_BEGIN && !bar->quiet) {
        const attn_config *cfg = attn_model_config(p->model);
        progress_message(bar,
                         "training %s: %zu parameters, %d layers, d_model %d, vocabulary %d, %d "
                         "classes; %ld steps per epoch",
                         c->out ? c->out : "a classifier", attn_model_num_params(p->model),
                         cfg->n_layers, cfg->d_model, cfg->vocab_size, cfg->n_classes,
                         p->batches_per_epoch);
    }
    if (p->event == ATTN_TRAIN_STEP) progress_step(bar, p);
    if (p->event == ATTN_TRAIN_EVAL && isnan(p->metrics[0]))
        progress_message(bar, "epoch %d  step %ld  loss %.4f", p->epoch, p->step, p->epoch_loss);
    else if (p->event == ATTN_TRAIN_EVAL)
        progress_message(bar, "epoch %d  step %ld  loss %.4f  dev_acc %.4f  dev_macro_f1 %.4f%s",
                         p->epoch, p->step, p->epoch_loss, p->metrics[1], p->metrics[0],
                         p->is_best ? "  (best)" : "");
    if (p->event == ATTN_TRAIN_STOP)
        progress_message(bar, "no better dev macro-F1 for %d epochs: stopping", p->since_best);
}

void cls_free_all(attn_classifier **c, int n) {
    for (int i = 0; c && i < n; i++)
        attn_classifier_free(c[i]);
    free(c);
}

int cls_load_all(const char *const *paths, int n, attn_classifier ***out) {
    if (!(*out = calloc((size_t)n, sizeof **out))) {
        cli_error("out of memory");
        return CLI_RUNTIME;
    }
    for (int i = 0; i < n; i++) {
        attn_status s = attn_classifier_load(paths[i], &(*out)[i]);
        if (s != ATTN_OK) {
            cls_free_all(*out, n);
            *out = NULL;
            return cli_lib_error(s, "cannot load model '%s'", paths[i]);
        }
    }
    return CLI_OK;
}

int cls_read_tsv(const char *path, attn_tsv *out) {
    attn_status s = attn_tsv_read(path, out);
    if (s != ATTN_OK)
        return cli_lib_error(s, s == ATTN_ERR_IO ? "cannot read data file" : "bad data file");
    if (out->n == 0) {
        cli_error("'%s' holds no examples (expected lines \"label<TAB>text\")", path);
        attn_tsv_free(out);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}
