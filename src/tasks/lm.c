/* tasks/lm.c: byte-level language models as library calls (include/attn/lm.h): training on random
 * windows through attn_train, validation on windows spread evenly over held-out text, and scoring
 * a whole text window after window. */
#include "attn/lm.h"

#include "attn/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/file.h"

attn_status attn_lm_read_bytes(const char *path, int **ids, size_t *n) {
    if (!ids || !n) return attn_error(ATTN_ERR_INVALID, "attn_lm_read_bytes: NULL argument");
    void *data;
    size_t size;
    ATTN_TRY(attn_file_read_all(path, &data, &size));
    int *out = malloc((size ? size : 1) * sizeof *out);
    if (!out) {
        free(data);
        return attn_error(ATTN_ERR_NOMEM, "%s: no room for %zu token ids", path, size);
    }
    const unsigned char *bytes = data;
    for (size_t i = 0; i < size; i++)
        out[i] = bytes[i];
    free(data);
    *ids = out;
    *n = size;
    return ATTN_OK;
}

attn_status attn_lm_load(const char *path, attn_model **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_lm_load: NULL argument");
    *out = NULL;
    attn_model *m;
    ATTN_TRY(attn_model_load(path, &m));
    const attn_config *cfg = attn_model_config(m);
    char *tokenizer = NULL;
    attn_status s = ATTN_OK;
    if (cfg->arch != ATTN_ARCH_DECODER_LM)
        s = attn_error(ATTN_ERR_INVALID,
                       "'%s' is a %s model; this command needs a decoder_lm (attn train lm)", path,
                       attn_arch_name(cfg->arch));
    else if (attn_checkpoint_read_meta(path, "tokenizer", &tokenizer) == ATTN_OK &&
             strcmp(tokenizer, "bytes") != 0)
        s = attn_error(ATTN_ERR_INVALID, "'%s' uses the tokenizer '%.64s'; only bytes are known",
                       path, tokenizer);
    else if (cfg->vocab_size != 256)
        s = attn_error(ATTN_ERR_INVALID,
                       "'%s' has a vocabulary of %d tokens, not the 256 bytes of a byte-level "
                       "model",
                       path, cfg->vocab_size);
    free(tokenizer);
    if (s != ATTN_OK) {
        attn_model_free(m);
        return s;
    }
    *out = m;
    return ATTN_OK;
}

attn_config attn_lm_default_config(void) {
    attn_config cfg = attn_config_default(ATTN_ARCH_DECODER_LM);
    cfg.vocab_size = 256;
    cfg.max_len = 128;
    cfg.d_model = 128;
    cfg.n_heads = 4;
    cfg.d_ff = 512;
    cfg.n_layers = 4;
    cfg.dropout = 0.0f;
    return cfg;
}

attn_lm_params attn_lm_default_params(void) {
    attn_lm_params p = {.train = attn_train_default_params(),
                        .adamw = attn_adamw_default_params(),
                        .batch = 16,
                        .eval_batches = 8};
    p.adamw.weight_decay = 0.1f;
    p.adamw.clip_norm = 1.0f;
    p.train.steps = 1000;
    p.train.schedule =
        (attn_schedule){.kind = ATTN_SCHEDULE_COSINE, .lr = 1e-3f, .min_lr = 1e-4f, .warmup = 100};
    p.train.eval_every = 100;
    p.train.eval_at_end = 1;
    p.train.save_every = 500;
    p.train.save_optimizer = 1;
    return p;
}

static attn_status check_lm(const attn_model *m) {
    if (!m) return attn_error(ATTN_ERR_INVALID, "language model: NULL model");
    const attn_config *c = attn_model_config(m);
    if (c->arch != ATTN_ARCH_DECODER_LM)
        return attn_error(ATTN_ERR_INVALID, "a %s model is not a decoder language model",
                          attn_arch_name(c->arch));
    return ATTN_OK;
}

static attn_status check_ids(const int *ids, size_t n, int V, const char *what) {
    if (!ids && n) return attn_error(ATTN_ERR_INVALID, "%s: NULL ids", what);
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return attn_error(ATTN_ERR_INVALID, "%s: id %d at %zu is outside the vocabulary of %d",
                              what, ids[i], i, V);
    return ATTN_OK;
}

/* ---- validation on evenly spread windows ---------------------------------------------------- */

typedef struct {
    const int *val;
    size_t n_val;
    int B, T, n_batches;
    int *tokens, *targets;          /* (B, T) */
    const attn_train_params *outer; /* the caller's callbacks, called with the caller's user */
} validation;

static void forward_progress(const attn_train_progress *p, void *user) {
    const validation *v = user;
    if (v->outer->progress) v->outer->progress(p, v->outer->user);
}

static int forward_abort(void *user) {
    const validation *v = user;
    return v->outer->abort ? v->outer->abort(v->outer->user) : 0;
}

/* Window `index` of `count`: its start spread evenly over [0, n - T - 1]. */
static void fill_window(const validation *v, long index, long count, int *tokens, int *targets) {
    size_t span = v->n_val - (size_t)v->T - 1; /* the last possible start */
    size_t start = count > 1 ? (size_t)((double)span * (double)index / (double)(count - 1)) : 0;
    for (int t = 0; t < v->T; t++) {
        tokens[t] = v->val[start + (size_t)t];
        targets[t] = v->val[start + (size_t)t + 1];
    }
}

/* metrics[0]: the mean loss over the validation windows (all have T targets, so the mean of the
 * batches' means is the mean over tokens); metrics[1]: in bits. */
static attn_status validate(attn_model *m, const attn_train_progress *p, double *metrics,
                            void *user) {
    (void)p;
    validation *v = user;
    long count = (long)v->n_batches * v->B;
    double sum = 0;
    for (int i = 0; i < v->n_batches; i++) {
        for (int r = 0; r < v->B; r++)
            fill_window(v, (long)i * v->B + r, count, v->tokens + (size_t)r * v->T,
                        v->targets + (size_t)r * v->T);
        attn_batch b = {.B = v->B, .T = v->T, .tokens = v->tokens, .targets = v->targets};
        float loss;
        attn_status s = attn_model_forward(m, &b, 0, &loss);
        if (s != ATTN_OK) return attn_error_context(s, "validation");
        sum += loss;
    }
    metrics[0] = sum / v->n_batches;
    metrics[1] = metrics[0] / log(2.0);
    return ATTN_OK;
}

attn_status attn_lm_train(attn_model *m, attn_optimizer *opt, attn_train_state *st,
                          const int *train, size_t n_train, const int *val, size_t n_val,
                          const attn_lm_params *params, attn_train_result *res) {
    if (!params) return attn_error(ATTN_ERR_INVALID, "attn_lm_train: NULL params");
    ATTN_TRY(check_lm(m));
    const attn_config *c = attn_model_config(m);
    int T = c->max_len, B = params->batch;
    ATTN_TRY(check_ids(train, n_train, c->vocab_size, "training text"));
    ATTN_TRY(check_ids(val, n_val, c->vocab_size, "validation text"));
    attn_train_params tp = params->train;
    if (st && (st->step > 0 || st->tokens > 0)) tp.seed = st->seed; /* a resumed run's own seed */
    validation v = {.val = val,
                    .n_val = n_val,
                    .B = B,
                    .T = T,
                    .n_batches = params->eval_batches,
                    .outer = &params->train};
    if (!tp.on_eval && v.n_batches > 0) {
        if (n_val < (size_t)T + 1)
            return attn_error(ATTN_ERR_INVALID,
                              "validation text has %zu tokens; a context of %d needs at least %d",
                              n_val, T, T + 1);
        tp.on_eval = validate;
        tp.progress = forward_progress;
        tp.abort = forward_abort;
        tp.user = &v;
    }
    if (!tp.on_eval) tp.eval_every = 0, tp.eval_at_end = 0;
    tp.higher_is_better = 0;
    if (tp.schedule.d_model == 0) tp.schedule.d_model = c->d_model;

    attn_batch_source *src = NULL;
    attn_optimizer *own_opt = NULL;
    attn_train_state fresh = {0};
    attn_status s = attn_lm_windows_source(train, n_train, B, T, tp.seed, &src);
    if (s == ATTN_OK && !opt) s = attn_optimizer_create(m, params->adamw, &own_opt);
    if (s == ATTN_OK) s = attn_model_reserve(m, B, T, 0);
    if (s == ATTN_OK && tp.on_eval == validate) {
        v.tokens = malloc((size_t)B * (size_t)T * sizeof(int));
        v.targets = malloc((size_t)B * (size_t)T * sizeof(int));
        if (!v.tokens || !v.targets)
            s = attn_error(ATTN_ERR_NOMEM, "no room for a validation batch of %d x %d", B, T);
    }
    if (s == ATTN_OK) s = attn_train(m, opt ? opt : own_opt, src, &tp, st ? st : &fresh, res);
    free(v.tokens);
    free(v.targets);
    attn_optimizer_free(own_opt);
    attn_batch_source_free(src);
    return s;
}

/* ---- scoring a whole text ------------------------------------------------------------------- */

/* Row r of (B, P) tokens/targets: window w of ids (ids[w P .. w P + P], the last one short); a
 * short window is padded with id 0 and ignored targets: causal attention never lets a real
 * position see the padding, so no `lengths` are needed. Returns the ids it predicts. */
static int fill_scored(const int *ids, size_t n, long w, int P, int *tokens, int *targets) {
    long n_pred = (long)n - 1, start = w * P;
    int len = n_pred - start < P ? (int)(n_pred - start) : P;
    for (int t = 0; t < P; t++) {
        tokens[t] = t < len ? ids[start + t] : 0;
        targets[t] = t < len ? ids[start + t + 1] : ATTN_IGNORE_INDEX;
    }
    return len;
}

attn_status attn_lm_evaluate(attn_model *m, const int *ids, size_t n, int batch, double *loss,
                             long *count) {
    ATTN_TRY(check_lm(m));
    if (!loss) return attn_error(ATTN_ERR_INVALID, "attn_lm_evaluate: NULL loss");
    if (n < 2) return attn_error(ATTN_ERR_INVALID, "%zu tokens: at least 2 to predict one", n);
    if (batch < 1) return attn_error(ATTN_ERR_INVALID, "attn_lm_evaluate: batch %d", batch);
    int P = attn_model_config(m)->max_len;
    ATTN_TRY(check_ids(ids, n, attn_model_config(m)->vocab_size, "text"));
    if ((long long)batch * P > (1 << 24)) batch = (1 << 24) / P > 0 ? (1 << 24) / P : 1;
    long n_windows = ((long)n - 1 + P - 1) / P;
    int *tokens = malloc((size_t)batch * (size_t)P * sizeof(int));
    int *targets = malloc((size_t)batch * (size_t)P * sizeof(int));
    attn_status s = ATTN_OK;
    if (!tokens || !targets)
        s = attn_error(ATTN_ERR_NOMEM, "no room for a batch of %d x %d", batch, P);
    else
        s = attn_model_reserve(m, batch, P, 0);
    double sum = 0;
    long total = 0;
    for (long w0 = 0; s == ATTN_OK && w0 < n_windows; w0 += batch) {
        int rows = n_windows - w0 < batch ? (int)(n_windows - w0) : batch;
        for (int r = 0; r < rows; r++)
            fill_scored(ids, n, w0 + r, P, tokens + (size_t)r * P, targets + (size_t)r * P);
        attn_batch b = {.B = rows, .T = P, .tokens = tokens, .targets = targets};
        double bsum;
        long bcount;
        s = attn_model_forward(m, &b, 0, NULL);
        if (s == ATTN_OK) s = attn_model_loss(m, &bsum, &bcount);
        if (s != ATTN_OK) {
            s = attn_error_context(s, "evaluation at window %ld", w0);
        } else {
            sum += bsum;
            total += bcount;
        }
    }
    free(tokens);
    free(targets);
    if (s != ATTN_OK) return s;
    *loss = sum / (double)total;
    if (count) *count = total;
    return ATTN_OK;
}
