/* tools/classify_common.c: the training options, progress lines, loading and JSON output shared
 * by the text-classification subcommands. */
#include "classify_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_opts.h"

/* ---- options --------------------------------------------------------------------------------- */

void cls_opts_default(cls_opts *o) {
    *o = (cls_opts){.p = attn_classifier_default_params()};
}

static cli_opt row(const char *name, cli_type type, void *dest, const char *meta, const char *help,
                   double min, double max, const char *default_text) {
    return (cli_opt){name, type, dest, meta, help, min, max, NULL, default_text, 0};
}

void cls_opts_table(cls_opts *o, cli_opt *t, int *n) {
    attn_classifier_params *p = &o->p;
    int i = *n;
    t[i++] = row(NULL, CLI_SECTION, NULL, NULL, "Tokenizer", CLI_ANY, NULL);
    t[i++] = row("tokenizer", CLI_STRING, &p->tokenizer, "FILE",
                 "tokenizer.json or vocab.txt to use (needs a [CLS] token)", CLI_ANY,
                 "a BPE trained on the training texts");
    t[i++] = row("vocab-size", CLI_INT, &p->vocab_size, NULL,
                 "tokens of the BPE trained when no --tokenizer is given", 261, 1 << 24, NULL);
    t[i++] = row("lowercase", CLI_FLAG, &p->lowercase, NULL,
                 "the trained BPE lower-cases (NFC) texts first", CLI_ANY, NULL);
    train_opts_model(&p->model, "encoder layers", t, &i);
    t[i++] = row("max-len", CLI_INT, &p->model.max_len, NULL,
                 "tokens per text, [CLS] included; longer texts are cut", 2, 1 << 16, NULL);
    t[i++] = row("token-dropout", CLI_FLOAT, &p->token_dropout, NULL,
                 "in training, each token but [CLS] becomes [MASK] (else [UNK]) with this "
                 "probability",
                 0, 0.99, NULL);
    train_opts_optim(&p->train, &p->adamw, &p->model, t, &i);
    t[i++] = row("epochs", CLI_INT, &p->train.epochs, NULL, "passes over the training data", 1,
                 1 << 20, NULL);
    t[i++] = row("batch", CLI_INT, &p->batch, NULL, "texts per batch", 1, 1 << 16, NULL);
    t[i++] =
        row("bucket", CLI_INT, &p->bucket, NULL,
            "batches per length bucket (texts are sorted by length within one)", 1, 1 << 20, NULL);
    t[i++] = row("patience", CLI_INT, &p->train.patience, NULL,
                 "stop after N epochs without a better dev macro-F1 (0: never)", 0, 1 << 20, NULL);
    t[i++] = row(NULL, CLI_SECTION, NULL, NULL, "Reporting", CLI_ANY, NULL);
    t[i++] = row("threads", CLI_INT, &o->threads, NULL, "threads", 0, 4096,
                 "$ATTN_NUM_THREADS, else all cores");
    t[i++] = row("quiet", CLI_FLAG, &o->quiet, NULL, "no progress or dev lines on stderr", CLI_ANY,
                 NULL);
    for (int j = *n; j < i; j++) /* the library's -1 */
        if (t[j].name && strcmp(t[j].name, "warmup") == 0) t[j].default_text = "5% of all steps";
    *n = i;
}

int cls_opts_check(cls_opts *o, cli_opt *table) {
    if ((long long)o->p.batch * o->p.model.max_len > (1 << 24)) {
        cli_error("--batch %d x --max-len %d is too large (at most %d tokens per batch)",
                  o->p.batch, o->p.model.max_len, 1 << 24);
        return CLI_USAGE;
    }
    return train_opts_check(&o->p.model, &o->p.train, table);
}

/* ---- progress -------------------------------------------------------------------------------- */

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

/* ---- classifiers ----------------------------------------------------------------------------- */

void cls_free_all(attn_classifier **c, int n) {
    for (int i = 0; c && i < n; i++)
        attn_classifier_free(c[i]);
    free(c);
}

int cls_load_all(const char *const *paths, int n, attn_classifier ***out) {
    *out = calloc((size_t)n, sizeof **out);
    if (!*out) {
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
    if (s == ATTN_ERR_IO) return cli_lib_error(s, "cannot read data file");
    if (s != ATTN_OK) return cli_lib_error(s, "bad data file");
    if (out->n == 0) {
        cli_error("'%s' holds no examples (expected lines \"label<TAB>text\")", path);
        attn_tsv_free(out);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}

/* ---- output ---------------------------------------------------------------------------------- */

void cls_plot_path(const char *ckpt, char *buf, size_t n) {
    static const char ext[] = ".safetensors";
    size_t len = strlen(ckpt), e = sizeof ext - 1;
    if (len > e && strcmp(ckpt + len - e, ext) == 0) len -= e;
    snprintf(buf, n, "%.*s.png", (int)len, ckpt);
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if the bytes there are not one. */
static int utf8_len(const unsigned char *s) {
    if (s[0] < 0x80) return 1;
    int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || s[0] > 0xf4) return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (n == 3 && s[0] == 0xe0 && s[1] < 0xa0) return 0;  /* overlong */
    if (n == 3 && s[0] == 0xed && s[1] >= 0xa0) return 0; /* surrogate */
    if (n == 4 && s[0] == 0xf0 && s[1] < 0x90) return 0;  /* overlong */
    if (n == 4 && s[0] == 0xf4 && s[1] >= 0x90) return 0; /* above U+10FFFF */
    return n;
}

void cls_json_string(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        int n = utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", f);
            p++;
        } else if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p++);
        } else if (*p < 0x20) {
            fprintf(f, "\\u%04x", *p++);
        } else {
            fwrite(p, 1, (size_t)n, f);
            p += n;
        }
    }
    fputc('"', f);
}
