/* tools/classify_common.c: training options, loading a classifier checkpoint, tokenizing TSV data
 * and batched prediction, shared by the text-classification subcommands. */
#include "classify_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- options --------------------------------------------------------------------------------- */

static const char *const norm_names[] = {"pre", "post", NULL};
static const char *const pos_names[] = {"learned", "sinusoidal", NULL};
static const char *const act_names[] = {"gelu_tanh", "gelu_erf", "relu", NULL};
static const char *const pool_names[] = {"cls", "mean", NULL};
static const char *const schedule_names[] = {"constant", "cosine", "invsqrt", NULL};

void cls_opts_default(cls_opts *o) {
    *o = (cls_opts){.vocab_size = 8000,
                    .max_len = 128,
                    .layers = 2,
                    .d_model = 128,
                    .heads = 4,
                    .d_ff = 512,
                    .dropout = 0.1f,
                    .norm = "pre",
                    .pos = "learned",
                    .act = "gelu_tanh",
                    .pool = "cls",
                    .epochs = 10,
                    .batch = 32,
                    .bucket = 50,
                    .patience = 3,
                    .lr = 5e-4f,
                    .min_lr = 0.0f,
                    .weight_decay = 0.01f,
                    .clip = 1.0f,
                    .warmup = -1,
                    .schedule = "cosine",
                    .seed = 1};
}

/* One row of an option table; the last four fields of cli_opt are the same for all of ours. */
static cli_opt row(const char *name, cli_type type, void *dest, const char *meta, const char *help,
                   double min, double max, const char *const *choices, const char *default_text) {
    return (cli_opt){name, type, dest, meta, help, min, max, choices, default_text, 0};
}

/* A heading row of an option table. */
static cli_opt section(const char *title) {
    return row(NULL, CLI_SECTION, NULL, NULL, title, CLI_ANY, NULL, NULL);
}

void cls_opts_table(cls_opts *o, cli_opt *t, int *n) {
    int i = *n;
    t[i++] = section("Tokenizer");
    t[i++] = row("tokenizer", CLI_STRING, &o->tokenizer, "FILE",
                 "tokenizer.json or vocab.txt to use (needs a [CLS] token)", CLI_ANY, NULL,
                 "a BPE trained on the training texts");
    t[i++] =
        row("vocab-size", CLI_INT, &o->vocab_size, NULL,
            "tokens of the BPE trained when no --tokenizer is given", 261, 1 << 24, NULL, NULL);
    t[i++] = row("lowercase", CLI_FLAG, &o->lowercase, NULL,
                 "the trained BPE lower-cases (NFC) texts first", CLI_ANY, NULL, NULL);
    t[i++] = section("Model");
    t[i++] = row("max-len", CLI_INT, &o->max_len, NULL,
                 "tokens per text, [CLS] included; longer texts are cut", 2, 1 << 16, NULL, NULL);
    t[i++] = row("layers", CLI_INT, &o->layers, NULL, "encoder layers", 1, 1000, NULL, NULL);
    t[i++] = row("d-model", CLI_INT, &o->d_model, NULL, "model width C", 1, 65536, NULL, NULL);
    t[i++] = row("heads", CLI_INT, &o->heads, NULL, "attention heads (must divide --d-model)", 1,
                 65536, NULL, NULL);
    t[i++] = row("d-ff", CLI_INT, &o->d_ff, NULL, "feed-forward hidden size", 1, 1 << 20, NULL,
                 "4 * d-model");
    t[i++] = row("dropout", CLI_FLOAT, &o->dropout, NULL,
                 "dropout on embeddings and sublayer outputs", 0, 0.99, NULL, NULL);
    t[i++] = row("token-dropout", CLI_FLOAT, &o->token_dropout, NULL,
                 "in training, each token but [CLS] becomes [MASK] (else [UNK]) with this "
                 "probability",
                 0, 0.99, NULL, NULL);
    t[i++] =
        row("norm", CLI_CHOICE, &o->norm, NULL, "LayerNorm placement", CLI_ANY, norm_names, NULL);
    t[i++] = row("pos", CLI_CHOICE, &o->pos, NULL, "position embeddings", CLI_ANY, pos_names, NULL);
    t[i++] =
        row("act", CLI_CHOICE, &o->act, NULL, "feed-forward activation", CLI_ANY, act_names, NULL);
    t[i++] = row("pool", CLI_CHOICE, &o->pool, NULL,
                 "what the head reads: the [CLS] position or the mean of all", CLI_ANY, pool_names,
                 NULL);
    t[i++] = section("Optimisation (AdamW)");
    t[i++] = row("epochs", CLI_INT, &o->epochs, NULL, "passes over the training data", 1, 1 << 20,
                 NULL, NULL);
    t[i++] = row("batch", CLI_INT, &o->batch, NULL, "texts per batch", 1, 1 << 16, NULL, NULL);
    t[i++] = row("bucket", CLI_INT, &o->bucket, NULL,
                 "batches per length bucket (texts are sorted by length within one)", 1, 1 << 20,
                 NULL, NULL);
    t[i++] = row("lr", CLI_FLOAT, &o->lr, NULL,
                 "peak learning rate (invsqrt: a multiplier, 1 in the paper)", 0, 1e6, NULL, NULL);
    t[i++] = row("min-lr", CLI_FLOAT, &o->min_lr, NULL, "final learning rate of the cosine", 0, 1e6,
                 NULL, NULL);
    t[i++] = row("schedule", CLI_CHOICE, &o->schedule, NULL, "learning-rate schedule after warm-up",
                 CLI_ANY, schedule_names, NULL);
    t[i++] = row("warmup", CLI_LONG, &o->warmup, NULL, "steps of linear warm-up", 0, 1e18, NULL,
                 "5% of all steps");
    t[i++] = row("weight-decay", CLI_FLOAT, &o->weight_decay, NULL,
                 "decoupled weight decay (matrices and embeddings)", 0, 1e3, NULL, NULL);
    t[i++] = row("clip", CLI_FLOAT, &o->clip, NULL, "clip the global gradient norm (0: off)", 0,
                 1e30, NULL, NULL);
    t[i++] = row("label-smoothing", CLI_FLOAT, &o->label_smoothing, NULL,
                 "label smoothing of the training loss", 0, 0.99, NULL, NULL);
    t[i++] =
        row("patience", CLI_INT, &o->patience, NULL,
            "stop after N epochs without a better dev macro-F1 (0: never)", 0, 1 << 20, NULL, NULL);
    t[i++] = row("seed", CLI_U64, &o->seed, NULL, "seed of the weights, batches and dropout",
                 CLI_ANY, NULL, NULL);
    t[i++] = section("Reporting");
    t[i++] = row("threads", CLI_INT, &o->threads, NULL, "threads", 0, 4096, NULL,
                 "$ATTN_NUM_THREADS, else all cores");
    t[i++] = row("quiet", CLI_FLAG, &o->quiet, NULL, "no progress or dev lines on stderr", CLI_ANY,
                 NULL, NULL);
    *n = i;
}

int cls_opts_check(cls_opts *o, cli_opt *table) {
    if (o->d_model % o->heads != 0) {
        cli_error("--d-model %d is not divisible by --heads %d", o->d_model, o->heads);
        return CLI_USAGE;
    }
    if (o->min_lr > o->lr && strcmp(o->schedule, "cosine") == 0) {
        cli_error("--min-lr %g is above --lr %g", (double)o->min_lr, (double)o->lr);
        return CLI_USAGE;
    }
    if ((long long)o->batch * o->max_len > (1 << 24)) {
        cli_error("--batch %d x --max-len %d is too large (at most %d tokens per batch)", o->batch,
                  o->max_len, 1 << 24);
        return CLI_USAGE;
    }
    if (!cli_find(table, "d-ff")->seen) o->d_ff = 4 * o->d_model;
    return CLI_OK;
}

/* ---- checkpoints ----------------------------------------------------------------------------- */

void cls_model_free(cls_model *c) {
    attn_model_free(c->model);
    attn_tokenizer_free(c->tok);
    attn_labels_free(c->labels);
    memset(c, 0, sizeof *c);
}

/* Reads metadata `key` of the checkpoint at path into *value (malloc'd). */
static int read_meta(const char *path, const char *key, char **value) {
    attn_status s = attn_checkpoint_read_meta(path, key, value);
    if (s == ATTN_ERR_MISSING) {
        cli_error("'%s' has no %s in its metadata: it was not written by attn train classify", path,
                  key);
        return CLI_RUNTIME;
    }
    if (s != ATTN_OK) return cli_lib_error(s, "cannot read the metadata of '%s'", path);
    return CLI_OK;
}

/* Checks the pieces of a loaded checkpoint against each other. */
static int check_parts(const char *path, const cls_model *c) {
    const attn_config *cfg = attn_model_config(c->model);
    if (attn_tokenizer_vocab_size(c->tok) != cfg->vocab_size) {
        cli_error("'%s': its tokenizer has %d tokens but the model's vocabulary is %d", path,
                  attn_tokenizer_vocab_size(c->tok), cfg->vocab_size);
        return CLI_RUNTIME;
    }
    if (attn_labels_count(c->labels) != cfg->n_classes) {
        cli_error("'%s': it names %d labels but the model has %d classes", path,
                  attn_labels_count(c->labels), cfg->n_classes);
        return CLI_RUNTIME;
    }
    if (attn_tokenizer_special(c->tok, ATTN_SPECIAL_CLS) < 0) {
        cli_error("'%s': its tokenizer has no [CLS] token", path);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}

int cls_model_load(const char *path, cls_model *out) {
    memset(out, 0, sizeof *out);
    attn_status s = attn_model_load(path, &out->model);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot load model '%s'", path);
    const attn_config *cfg = attn_model_config(out->model);
    if (cfg->arch != ATTN_ARCH_CLASSIFIER) {
        cli_error("'%s' is a %s model, not a text classifier (make one with attn train classify)",
                  path, attn_arch_name(cfg->arch));
        cls_model_free(out);
        return CLI_RUNTIME;
    }
    char *tok_json = NULL, *labels_json = NULL;
    int rc = read_meta(path, "tokenizer", &tok_json);
    if (rc == CLI_OK) rc = read_meta(path, "labels", &labels_json);
    if (rc == CLI_OK &&
        (s = attn_tokenizer_from_json(tok_json, strlen(tok_json), &out->tok)) != ATTN_OK)
        rc = cli_lib_error(s, "'%s': the tokenizer in its metadata is invalid", path);
    if (rc == CLI_OK && (s = attn_labels_from_json(labels_json, &out->labels)) != ATTN_OK)
        rc = cli_lib_error(s, "'%s': the labels in its metadata are invalid", path);
    if (rc == CLI_OK) rc = check_parts(path, out);
    free(tok_json);
    free(labels_json);
    if (rc != CLI_OK) {
        cls_model_free(out);
        return rc;
    }
    out->pad_id = cfg->pad_id;
    return CLI_OK;
}

/* ---- data ------------------------------------------------------------------------------------ */

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

int cls_tokenizer_make(const cls_opts *o, const attn_tsv *train, attn_tokenizer **out) {
    *out = NULL;
    attn_status s;
    if (o->tokenizer) {
        if ((s = attn_tokenizer_load(o->tokenizer, out)) != ATTN_OK)
            return cli_lib_error(s, "cannot load tokenizer '%s'", o->tokenizer);
        if (attn_tokenizer_special(*out, ATTN_SPECIAL_CLS) < 0) {
            cli_error("tokenizer '%s' has no [CLS] token, which a classifier's texts start with",
                      o->tokenizer);
            attn_tokenizer_free(*out);
            *out = NULL;
            return CLI_RUNTIME;
        }
        return CLI_OK;
    }
    size_t *lengths = malloc((size_t)train->n * sizeof *lengths);
    if (!lengths) {
        cli_error("out of memory for %ld texts", train->n);
        return CLI_RUNTIME;
    }
    for (long i = 0; i < train->n; i++)
        lengths[i] = strlen(train->texts[i]);
    attn_bpe_train_params p = attn_bpe_train_default_params();
    p.vocab_size = o->vocab_size;
    p.lowercase = o->lowercase;
    s = attn_tokenizer_train_bpe((const char *const *)train->texts, lengths, (size_t)train->n, p,
                                 out);
    free(lengths);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot train a tokenizer on '%s'", train->name);
    return CLI_OK;
}

int cls_encode(const cls_model *c, const attn_tsv *t, int max_len, int skip_unknown,
               attn_cls_data *out) {
    attn_status s = attn_cls_data_encode(t, c->tok, c->labels, max_len, skip_unknown, out);
    if (s == ATTN_OK) return CLI_OK;
    if (s != ATTN_ERR_INVALID || !strstr(attn_last_error(), ": label '"))
        return cli_lib_error(s, "cannot tokenize '%s'", t->name);
    cli_error("%s", attn_last_error()); /* already "FILE:LINE: label 'x' is not one of ..." */
    return CLI_RUNTIME;
}

/* ---- prediction ------------------------------------------------------------------------------ */

/* Index of the largest of x[k] (the first on ties); softmax into p (may be NULL). */
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

int cls_predict(const cls_model *c, const attn_cls_data *d, int batch, int *pred, float *probs) {
    if (d->n == 0) return CLI_OK;
    const attn_config *cfg = attn_model_config(c->model);
    int K = cfg->n_classes, longest = 1;
    for (long i = 0; i < d->n; i++)
        if (d->lengths[i] > longest) longest = d->lengths[i];
    if (batch > d->n) batch = (int)d->n;
    attn_batch_plan plan;
    attn_status s = attn_batch_plan_make(d->lengths, NULL, d->n, batch, 1, 0, 0, 0, &plan);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot plan batches");
    int *tokens = malloc((size_t)batch * (size_t)longest * sizeof *tokens);
    int *lengths = malloc((size_t)batch * sizeof *lengths);
    int rc = CLI_OK;
    if (!tokens || !lengths) {
        cli_error("out of memory for a batch of %d x %d", batch, longest);
        rc = CLI_RUNTIME;
    } else if ((s = attn_model_reserve(c->model, batch, longest, 0)) != ATTN_OK) {
        rc = cli_lib_error(s, "cannot allocate activations");
    }
    for (long b = 0; rc == CLI_OK && b < plan.n_batches; b++) {
        const long *rows = plan.order + plan.offsets[b];
        int B = (int)(plan.offsets[b + 1] - plan.offsets[b]), T;
        attn_cls_data_fill_batch(d, rows, B, c->pad_id, tokens, lengths, NULL, &T);
        attn_batch bt = {.B = B, .T = T, .tokens = tokens, .lengths = lengths};
        if ((s = attn_model_forward(c->model, &bt, 0, NULL)) != ATTN_OK) {
            rc = cli_lib_error(s, "the model failed on line %ld", d->lines[rows[0]]);
            break;
        }
        const float *logits = attn_model_logits(c->model, NULL, NULL);
        for (int r = 0; r < B; r++)
            pred[rows[r]] = argmax_softmax(logits + (size_t)r * K, K,
                                           probs ? probs + (size_t)rows[r] * K : NULL);
    }
    free(tokens);
    free(lengths);
    attn_batch_plan_free(&plan);
    return rc;
}

int cls_report(const attn_cls_data *d, const int *pred, int n_classes, attn_cls_report *out) {
    memset(out, 0, sizeof *out);
    if (d->n == 0) {
        cli_error("no examples left to evaluate");
        return CLI_RUNTIME;
    }
    attn_status s = attn_classification_report(d->labels, pred, d->n, n_classes, out);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot compute the metrics");
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
