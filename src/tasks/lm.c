/* tasks/lm.c: decoder language models as library calls (include/attn/lm.h): text to ids through
 * bytes or a BPE tokenizer, the checkpoint with its tokenizer, training on random windows through
 * attn_train, validation on windows spread evenly over held-out text, and scoring a whole text
 * window after window, per token and per byte. */
#include "attn/lm.h"

#include "attn/data.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static attn_status check_tokenizer(const attn_tokenizer *tok) {
    if (tok && attn_tokenizer_get_kind(tok) != ATTN_TOKENIZER_BPE)
        return attn_error(ATTN_ERR_INVALID,
                          "a WordPiece tokenizer cannot serve a language model: its decoding "
                          "loses spaces and case (use a BPE tokenizer.json)");
    return ATTN_OK;
}

attn_status attn_lm_encode(const attn_tokenizer *tok, const char *text, size_t len, int **ids,
                           size_t *n) {
    if (!ids || !n || (!text && len)) return attn_error(ATTN_ERR_INVALID, "attn_lm_encode: NULL");
    *ids = NULL, *n = 0;
    ATTN_TRY(check_tokenizer(tok));
    if (tok) {
        if (len > (size_t)INT_MAX)
            return attn_error(ATTN_ERR_INVALID, "%zu bytes of text: at most %d at once", len,
                              INT_MAX);
        int count;
        ATTN_TRY(attn_tokenizer_encode(tok, text ? text : "", len, ids, &count));
        *n = (size_t)count;
        return ATTN_OK;
    }
    int *out = malloc((len ? len : 1) * sizeof *out);
    if (!out) return attn_error(ATTN_ERR_NOMEM, "no room for %zu token ids", len);
    const unsigned char *bytes = (const unsigned char *)text;
    for (size_t i = 0; i < len; i++)
        out[i] = bytes[i];
    *ids = out, *n = len;
    return ATTN_OK;
}

attn_status attn_lm_read_text(const char *path, const attn_tokenizer *tok, int **ids, size_t *n) {
    if (!ids || !n) return attn_error(ATTN_ERR_INVALID, "attn_lm_read_text: NULL argument");
    *ids = NULL, *n = 0;
    void *data;
    size_t size;
    ATTN_TRY(attn_file_read(path, &data, &size));
    attn_status s = attn_lm_encode(tok, data, size, ids, n);
    free(data);
    return s == ATTN_OK ? s : attn_error_context(s, "%s", path);
}

void attn_lm_prompts_free(attn_lm_prompts *p) {
    if (!p) return;
    for (int i = 0; p->ids && i < p->n; i++)
        free(p->ids[i]);
    free(p->ids), free(p->len);
    memset(p, 0, sizeof *p);
}

/* Encodes the lines of b[0..size) into *out (its arrays sized for `lines`). */
static attn_status encode_lines(const char *b, size_t size, const attn_tokenizer *tok, int max_len,
                                const char *path, attn_lm_prompts *out) {
    for (size_t i = 0, begin = 0; i < size; i++) {
        if (b[i] != '\n' && i + 1 < size) continue;
        size_t end = b[i] == '\n' ? i : i + 1, len;
        if (end > begin && b[end - 1] == '\r') end--;
        int k = out->n;
        attn_status s = end > begin
                            ? attn_lm_encode(tok, b + begin, end - begin, &out->ids[k], &len)
                            : attn_lm_encode(tok, "\n", 1, &out->ids[k], &len);
        if (s != ATTN_OK) return attn_error_context(s, "%s: line %d", path, k + 1);
        out->n++;
        if (len > (size_t)max_len || len < 1)
            return attn_error(ATTN_ERR_FORMAT,
                              "%s: line %d has %zu %s, more than the model's context of %d", path,
                              k + 1, len, tok ? "tokens" : "bytes", max_len);
        out->len[k] = (int)len, begin = i + 1;
    }
    return ATTN_OK;
}

attn_status attn_lm_read_prompts(const char *path, const attn_tokenizer *tok, int max_len,
                                 attn_lm_prompts *out) {
    if (!out || !path || max_len < 1)
        return attn_error(ATTN_ERR_INVALID, "attn_lm_read_prompts: NULL argument or max_len < 1");
    memset(out, 0, sizeof *out);
    char *b;
    size_t size, lines = 0;
    ATTN_TRY(attn_file_read(path, (void **)&b, &size));
    for (size_t i = 0; i < size; i++)
        lines += b[i] == '\n' || i + 1 == size; /* a last line without "\n" counts */
    attn_status s = ATTN_OK;
    if (!lines)
        s = attn_error(ATTN_ERR_FORMAT, "'%s' is empty: it needs one prompt per line", path);
    else if (lines > 1u << 30 || !(out->ids = calloc(lines, sizeof *out->ids)) ||
             !(out->len = calloc(lines, sizeof *out->len)))
        s = attn_error(ATTN_ERR_NOMEM, "no room for the %zu lines of '%s'", lines, path);
    if (s == ATTN_OK) s = encode_lines(b, size, tok, max_len, path, out);
    free(b);
    if (s != ATTN_OK) attn_lm_prompts_free(out);
    return s;
}

attn_lm_texts_params attn_lm_texts_default_params(void) {
    return (attn_lm_texts_params){.val_fraction = 0.1};
}

void attn_lm_texts_free(attn_lm_texts *t) {
    if (!t) return;
    free(t->train), free(t->val);
    attn_tokenizer_free(t->learnt);
    memset(t, 0, sizeof *t);
}

/* Reads, splits and encodes into *out (which the caller frees on error). */
static attn_status read_texts(const attn_lm_texts_params *p, char **data, char **val,
                              attn_lm_texts *out) {
    size_t n_data, n_val = 0, n_train;
    ATTN_TRY(attn_file_read(p->path, (void **)data, &n_data));
    if (p->val_path) ATTN_TRY(attn_file_read(p->val_path, (void **)val, &n_val));
    n_train = p->val_path ? n_data : n_data - (size_t)((double)n_data * p->val_fraction);
    while ((p->tokenizer || p->vocab_size) && !p->val_path && n_train > 0 && n_train < n_data &&
           ((unsigned char)(*data)[n_train] & 0xC0) == 0x80)
        n_train--;
    out->tokenizer = p->tokenizer;
    if (!p->tokenizer && p->vocab_size > 0) {
        attn_bpe_train_params bp = attn_bpe_train_default_params();
        bp.vocab_size = p->vocab_size;
        attn_status s =
            attn_tokenizer_train_bpe((const char *const *)data, &n_train, 1, bp, &out->learnt);
        if (s != ATTN_OK) return attn_error_context(s, "learning a tokenizer from '%s'", p->path);
        out->tokenizer = out->learnt;
    }
    attn_status s = attn_lm_encode(out->tokenizer, *data, n_train, &out->train, &out->n_train);
    if (s != ATTN_OK) return attn_error_context(s, "%s", p->path);
    s = p->val_path ? attn_lm_encode(out->tokenizer, *val, n_val, &out->val, &out->n_val)
                    : attn_lm_encode(out->tokenizer, *data + n_train, n_data - n_train, &out->val,
                                     &out->n_val);
    return s == ATTN_OK ? s : attn_error_context(s, "%s", p->val_path ? p->val_path : p->path);
}

attn_status attn_lm_texts_read(const attn_lm_texts_params *p, attn_lm_texts *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_lm_texts_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!p || !p->path) return attn_error(ATTN_ERR_INVALID, "attn_lm_texts_read: no path");
    if (!(p->val_fraction >= 0 && p->val_fraction < 1))
        return attn_error(ATTN_ERR_INVALID, "val_fraction %g is outside [0, 1)", p->val_fraction);
    char *data = NULL, *val = NULL;
    attn_status s = read_texts(p, &data, &val, out);
    free(data), free(val);
    if (s != ATTN_OK) attn_lm_texts_free(out);
    return s;
}

#define B4(x) (x), (x) + 1, (x) + 2, (x) + 3
#define B16(x) B4(x), B4((x) + 4), B4((x) + 8), B4((x) + 12)
#define B64(x) B16(x), B16((x) + 16), B16((x) + 32), B16((x) + 48)
static const unsigned char all_bytes[256] = {B64(0), B64(64), B64(128), B64(192)};

const char *attn_lm_token_bytes(const attn_tokenizer *tok, int id, size_t *len) {
    if (tok) return attn_tokenizer_token_bytes(tok, id, len);
    if (len) *len = id >= 0 && id < 256;
    return id >= 0 && id < 256 ? (const char *)all_bytes + id : NULL;
}

/* Bytes stood for by each id of a vocabulary of V (malloc'd, the caller frees). */
static attn_status byte_lengths(const attn_tokenizer *tok, int V, int **out) {
    *out = malloc((size_t)V * sizeof **out);
    if (!*out) return attn_error(ATTN_ERR_NOMEM, "no room for %d token lengths", V);
    for (int id = 0; id < V; id++) {
        size_t len = 0;
        attn_lm_token_bytes(tok, id, &len);
        (*out)[id] = (int)len;
    }
    return ATTN_OK;
}

attn_status attn_lm_load_tokenizer(const char *path, int vocab_size, attn_tokenizer **tok) {
    if (!path || !tok) return attn_error(ATTN_ERR_INVALID, "attn_lm_load_tokenizer: NULL");
    *tok = NULL;
    char *json = NULL;
    attn_status s = attn_checkpoint_read_meta(path, "tokenizer", &json);
    if (s == ATTN_ERR_MISSING || (s == ATTN_OK && strcmp(json, "bytes") == 0)) {
        free(json);
        if (vocab_size == 256) return ATTN_OK;
        return attn_error(ATTN_ERR_INVALID,
                          "'%s' has a vocabulary of %d tokens but no tokenizer (a byte-level "
                          "model has 256)",
                          path, vocab_size);
    }
    if (s != ATTN_OK) return s;
    s = attn_tokenizer_from_json(json, strlen(json), tok);
    free(json);
    if (s != ATTN_OK)
        return attn_error_context(s, "'%s': the tokenizer in its metadata is invalid", path);
    if (attn_tokenizer_vocab_size(*tok) != vocab_size)
        s = attn_error(ATTN_ERR_FORMAT,
                       "'%s': its tokenizer has %d tokens but the model's "
                       "vocabulary is %d",
                       path, attn_tokenizer_vocab_size(*tok), vocab_size);
    else if ((s = check_tokenizer(*tok)) != ATTN_OK)
        attn_error_context(s, "'%s'", path);
    if (s != ATTN_OK) {
        attn_tokenizer_free(*tok);
        *tok = NULL;
    }
    return s;
}

attn_status attn_lm_load(const char *path, attn_model **out, attn_tokenizer **tok) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_lm_load: NULL argument");
    *out = NULL;
    if (tok) *tok = NULL;
    attn_model *m;
    ATTN_TRY(attn_model_load(path, &m));
    const attn_config *cfg = attn_model_config(m);
    attn_tokenizer *t = NULL;
    attn_status s = ATTN_OK;
    if (cfg->arch != ATTN_ARCH_DECODER_LM)
        s = attn_error(ATTN_ERR_INVALID,
                       "'%s' is a %s model; this command needs a decoder_lm (attn train lm)", path,
                       attn_arch_name(cfg->arch));
    else
        s = attn_lm_load_tokenizer(path, cfg->vocab_size, &t);
    if (s == ATTN_OK && t && !tok)
        s = attn_error(ATTN_ERR_INVALID, "'%s' has a tokenizer: load it with the model", path);
    if (s != ATTN_OK) {
        attn_tokenizer_free(t);
        attn_model_free(m);
        return s;
    }
    *out = m;
    if (tok) *tok = t;
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

static attn_status check_fit(const attn_tokenizer *tok, const attn_model *m) {
    ATTN_TRY(check_tokenizer(tok));
    int V = attn_model_config(m)->vocab_size, have = tok ? attn_tokenizer_vocab_size(tok) : 256;
    if (have != V)
        return attn_error(ATTN_ERR_INVALID, "the %s has %d tokens but the model's vocabulary is %d",
                          tok ? "tokenizer" : "byte-level text (no tokenizer)", have, V);
    return ATTN_OK;
}

/* ---- validation on evenly spread windows ---------------------------------------------------- */

typedef struct {
    const int *val;
    size_t n_val;
    int B, T, n_batches;
    int *tokens, *targets;          /* (B, T) */
    const int *bytes;               /* (V) bytes each id stands for */
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
 * batches' means is the mean over tokens); metrics[1]: bits per byte of the targets. */
static attn_status validate(attn_model *m, const attn_train_progress *p, double *metrics,
                            void *user) {
    (void)p;
    validation *v = user;
    long count = (long)v->n_batches * v->B, bytes = 0;
    double sum = 0;
    for (int i = 0; i < v->n_batches; i++) {
        for (int r = 0; r < v->B; r++)
            fill_window(v, (long)i * v->B + r, count, v->tokens + (size_t)r * v->T,
                        v->targets + (size_t)r * v->T);
        for (int j = 0; j < v->B * v->T; j++)
            bytes += v->bytes[v->targets[j]];
        attn_batch b = {.B = v->B, .T = v->T, .tokens = v->tokens, .targets = v->targets};
        float loss;
        attn_status s = attn_model_forward(m, &b, 0, &loss);
        if (s != ATTN_OK) return attn_error_context(s, "validation");
        sum += loss;
    }
    metrics[0] = sum / v->n_batches;
    metrics[1] = bytes > 0 ? metrics[0] * (double)count * v->T / log(2.0) / (double)bytes : NAN;
    return ATTN_OK;
}

/* The caller's metadata, and the tokenizer unless the caller gives one (*json: its tokenizer.json,
 * the caller frees both). */
static attn_status with_tokenizer(const attn_train_params *tp, const attn_tokenizer *tok,
                                  attn_meta **meta, char **json) {
    *meta = NULL, *json = NULL;
    for (int i = 0; i < tp->n_meta; i++)
        if (strcmp(tp->meta[i].key, "tokenizer") == 0) return ATTN_OK;
    if (tok) ATTN_TRY(attn_tokenizer_to_json(tok, json));
    *meta = malloc(((size_t)tp->n_meta + 1) * sizeof **meta);
    if (!*meta) {
        free(*json);
        return attn_error(ATTN_ERR_NOMEM, "checkpoint metadata");
    }
    if (tp->n_meta) memcpy(*meta, tp->meta, (size_t)tp->n_meta * sizeof **meta);
    (*meta)[tp->n_meta] = (attn_meta){"tokenizer", tok ? *json : "bytes"};
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
    ATTN_TRY(check_fit(params->tokenizer, m));
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
    attn_meta *meta = NULL;
    char *json = NULL;
    int *bytes = NULL;
    attn_status s = with_tokenizer(&tp, params->tokenizer, &meta, &json);
    if (s == ATTN_OK && meta) tp.meta = meta, tp.n_meta++;
    if (s == ATTN_OK) s = byte_lengths(params->tokenizer, c->vocab_size, &bytes);
    v.bytes = bytes;
    if (s == ATTN_OK) s = attn_lm_windows_source(train, n_train, B, T, tp.seed, &src);
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
    free(bytes);
    free(meta);
    free(json);
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

attn_status attn_lm_evaluate(attn_model *m, const attn_tokenizer *tok, const int *ids, size_t n,
                             int batch, attn_lm_score *out) {
    ATTN_TRY(check_lm(m));
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_lm_evaluate: NULL score");
    if (n < 2) return attn_error(ATTN_ERR_INVALID, "%zu tokens: at least 2 to predict one", n);
    if (batch < 1) return attn_error(ATTN_ERR_INVALID, "attn_lm_evaluate: batch %d", batch);
    int P = attn_model_config(m)->max_len;
    ATTN_TRY(check_ids(ids, n, attn_model_config(m)->vocab_size, "text"));
    ATTN_TRY(check_fit(tok, m));
    if ((long long)batch * P > (1 << 24)) batch = (1 << 24) / P > 0 ? (1 << 24) / P : 1;
    long n_windows = ((long)n - 1 + P - 1) / P, bytes = 0;
    for (size_t i = 1; i < n; i++) {
        size_t len;
        attn_lm_token_bytes(tok, ids[i], &len);
        bytes += (long)len;
    }
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
    *out = (attn_lm_score){.loss = sum / (double)total,
                           .tokens = total,
                           .bytes = bytes,
                           .bits_per_byte = bytes > 0 ? sum / log(2.0) / (double)bytes : NAN};
    return ATTN_OK;
}
