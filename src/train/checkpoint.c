/* train/checkpoint.c: training checkpoints (attn/train.h, docs/FORMATS.md): the model's tensors
 * and config (models/model_io.h), the AdamW moments as "optim.m.NAME" / "optim.v.NAME" (and the
 * trainer's moving average of the weights as "optim.ema.NAME" when it keeps one), and two
 * JSON metadata values:
 *   "train_state": {"step", "tokens", "seed" (a decimal string: 64 bits do not fit a JSON number
 *                   exactly), "best_metric" (a number, or "inf"/"-inf"/"nan"), "best_step"}
 *   "optimizer":   {"beta1", "beta2", "eps", "weight_decay", "clip_norm", "step"}
 * Floats are written with enough digits to be read back bit for bit. */
#include "attn/train.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "models/model_io.h"
#include "train/optimizer_internal.h"

static const char *const RESERVED_KEYS[] = {"format", "config", "train_state", "optimizer"};
#define N_RESERVED ((int)(sizeof RESERVED_KEYS / sizeof RESERVED_KEYS[0]))
#define MAX_TENSOR_NAME 256
/* 2^53: integers below it in magnitude are exact in a JSON (double) number. */
#define MAX_EXACT 9007199254740992.0

/* ---- JSON helpers ---- */

/* obj[key] = x, or the string "inf"/"-inf"/"nan" where JSON has no number for x. */
static cJSON *add_double(cJSON *obj, const char *key, double x) {
    if (isfinite(x)) return cJSON_AddNumberToObject(obj, key, x);
    return cJSON_AddStringToObject(obj, key, isnan(x) ? "nan" : x > 0 ? "inf" : "-inf");
}

/* Reads obj[key] as a number (or one of the strings add_double writes) into *out.
 * ATTN_ERR_FORMAT naming `what` and the key if it is absent or not a number. */
static attn_status get_double(const cJSON *obj, const char *key, const char *what, double *out) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsNumber(item)) {
        *out = item->valuedouble;
        return ATTN_OK;
    }
    if (cJSON_IsString(item)) {
        const char *s = item->valuestring;
        if (!strcmp(s, "inf") || !strcmp(s, "-inf") || !strcmp(s, "nan")) {
            *out = !strcmp(s, "nan") ? NAN : s[0] == '-' ? -INFINITY : INFINITY;
            return ATTN_OK;
        }
    }
    return attn_error(ATTN_ERR_FORMAT, "checkpoint %s: \"%s\" is missing or not a number", what,
                      key);
}

/* Reads obj[key] as a whole number of magnitude below 2^53 (exact in a JSON double) into *out. */
static attn_status get_integer(const cJSON *obj, const char *key, const char *what, long *out) {
    double x = 0;
    ATTN_TRY(get_double(obj, key, what, &x));
    if (!(fabs(x) < MAX_EXACT && x == floor(x)))
        return attn_error(ATTN_ERR_FORMAT, "checkpoint %s: \"%s\" = %g is not an integer", what,
                          key, x);
    *out = (long)x;
    return ATTN_OK;
}

/* Parses a JSON object from text; ATTN_ERR_FORMAT if it is not one. *out is freed by the caller
 * with cJSON_Delete. */
static attn_status parse_object(const char *text, const char *what, cJSON **out) {
    *out = cJSON_Parse(text);
    if (cJSON_IsObject(*out)) return ATTN_OK;
    cJSON_Delete(*out);
    *out = NULL;
    return attn_error(ATTN_ERR_FORMAT, "checkpoint %s is not a JSON object", what);
}

/* Prints obj compactly into a malloc'd string (*out, freed by the caller) and deletes obj.
 * obj may be NULL (a failed allocation upstream): ATTN_ERR_NOMEM. */
static attn_status print_and_delete(cJSON *obj, int complete, char **out) {
    *out = obj && complete ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    return *out ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "checkpoint: out of memory building JSON");
}

/* ---- train_state and optimizer metadata ---- */

/* The "train_state" value for st (malloc'd into *out). Errors: ATTN_ERR_NOMEM. */
static attn_status train_state_to_json(const attn_train_state *st, char **out) {
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)st->seed);
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddNumberToObject(o, "step", (double)st->step) &&
             cJSON_AddNumberToObject(o, "tokens", (double)st->tokens) &&
             cJSON_AddStringToObject(o, "seed", seed) &&
             add_double(o, "best_metric", st->best_metric) &&
             cJSON_AddNumberToObject(o, "best_step", (double)st->best_step);
    return print_and_delete(o, ok, out);
}

/* A decimal string of a 64-bit unsigned integer; ATTN_ERR_FORMAT otherwise. */
static attn_status parse_seed(const cJSON *o, uint64_t *out) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, "seed");
    const char *s = cJSON_IsString(item) ? item->valuestring : NULL;
    if (s && s[0] >= '0' && s[0] <= '9') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (*end == '\0' && errno == 0) {
            *out = (uint64_t)v;
            return ATTN_OK;
        }
    }
    return attn_error(ATTN_ERR_FORMAT,
                      "checkpoint train_state: \"seed\" is not a 64-bit decimal string");
}

/* Parses a "train_state" value into *st (written only on success). Errors: ATTN_ERR_FORMAT. */
static attn_status train_state_from_json(const char *text, attn_train_state *st) {
    cJSON *o;
    ATTN_TRY(parse_object(text, "train_state", &o));
    attn_train_state s = {0};
    attn_status rc = get_integer(o, "step", "train_state", &s.step);
    if (rc == ATTN_OK) rc = get_integer(o, "tokens", "train_state", &s.tokens);
    if (rc == ATTN_OK) rc = parse_seed(o, &s.seed);
    if (rc == ATTN_OK) rc = get_double(o, "best_metric", "train_state", &s.best_metric);
    if (rc == ATTN_OK) rc = get_integer(o, "best_step", "train_state", &s.best_step);
    cJSON_Delete(o);
    if (rc == ATTN_OK) *st = s;
    return rc;
}

/* The "optimizer" value for opt (malloc'd into *out). Errors: ATTN_ERR_NOMEM. */
static attn_status optimizer_to_json(const attn_optimizer *opt, char **out) {
    attn_adamw_params p = attn_optimizer_params(opt);
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddNumberToObject(o, "beta1", p.beta1) &&
             cJSON_AddNumberToObject(o, "beta2", p.beta2) &&
             cJSON_AddNumberToObject(o, "eps", p.eps) &&
             cJSON_AddNumberToObject(o, "weight_decay", p.weight_decay) &&
             cJSON_AddNumberToObject(o, "clip_norm", p.clip_norm) &&
             cJSON_AddNumberToObject(o, "step", (double)attn_optimizer_steps(opt));
    return print_and_delete(o, ok, out);
}

/* Parses an "optimizer" value (hyper-parameters, step count). Errors: ATTN_ERR_FORMAT. */
static attn_status optimizer_from_json(const char *text, attn_adamw_params *p, long *steps) {
    cJSON *o;
    ATTN_TRY(parse_object(text, "optimizer", &o));
    const char *keys[5] = {"beta1", "beta2", "eps", "weight_decay", "clip_norm"};
    float *fields[5] = {&p->beta1, &p->beta2, &p->eps, &p->weight_decay, &p->clip_norm};
    attn_status rc = ATTN_OK;
    for (int i = 0; rc == ATTN_OK && i < 5; i++) {
        double x = 0;
        rc = get_double(o, keys[i], "optimizer", &x);
        *fields[i] = (float)x;
    }
    if (rc == ATTN_OK) rc = get_integer(o, "step", "optimizer", steps);
    if (rc == ATTN_OK && *steps < 0)
        rc = attn_error(ATTN_ERR_FORMAT, "checkpoint optimizer: negative step %ld", *steps);
    cJSON_Delete(o);
    return rc;
}

/* ---- saving ---- */

/* The caller's metadata must have keys and values, no reserved key and no key twice. */
static attn_status check_extra_meta(const attn_meta *meta, int n_meta) {
    if (n_meta < 0 || (n_meta > 0 && !meta))
        return attn_error(ATTN_ERR_INVALID, "checkpoint: %d metadata pairs at %p", n_meta,
                          (const void *)meta);
    for (int i = 0; i < n_meta; i++) {
        if (!meta[i].key || !meta[i].key[0] || !meta[i].value)
            return attn_error(ATTN_ERR_INVALID, "checkpoint: metadata pair %d is incomplete", i);
        for (int r = 0; r < N_RESERVED; r++)
            if (!strcmp(meta[i].key, RESERVED_KEYS[r]))
                return attn_error(ATTN_ERR_INVALID,
                                  "checkpoint: metadata key \"%s\" is reserved by attn",
                                  meta[i].key);
        for (int j = 0; j < i; j++)
            if (!strcmp(meta[i].key, meta[j].key))
                return attn_error(ATTN_ERR_INVALID, "checkpoint: metadata key \"%s\" given twice",
                                  meta[i].key);
    }
    return ATTN_OK;
}

/* Adds "optim.m.NAME" / "optim.v.NAME" for every parameter (and "optim.ema.NAME" where the
 * optimizer holds the trainer's moving average of the weights) and the "optimizer" metadata. The
 * tensors point into opt, which must outlive the write. Errors: ATTN_ERR_SHAPE (opt was made for
 * another model), ATTN_ERR_INVALID, ATTN_ERR_NOMEM. */
static attn_status add_optimizer(attn_st_writer *w, const attn_model *m,
                                 const attn_optimizer *opt) {
    int n = attn_model_num_tensors(m);
    if (attn_optimizer_num_tensors(opt) != n)
        return attn_error(ATTN_ERR_SHAPE, "checkpoint: optimizer has %d tensors, model %d",
                          attn_optimizer_num_tensors(opt), n);
    for (int i = 0; i < n; i++) {
        attn_param p;
        float *mo, *vo;
        size_t size;
        ATTN_TRY(attn_model_tensor(m, i, &p));
        ATTN_TRY(attn_optimizer_moments(opt, i, &mo, &vo, &size));
        if (size != p.size)
            return attn_error(ATTN_ERR_SHAPE, "checkpoint: optimizer moments of %s: %zu != %zu",
                              p.name, size, p.size);
        char name[MAX_TENSOR_NAME];
        if (snprintf(name, sizeof name, "optim.m.%s", p.name) >= (int)sizeof name)
            return attn_error(ATTN_ERR_INVALID, "checkpoint: tensor name %s is too long", p.name);
        ATTN_TRY(attn_st_writer_add(w, name, ATTN_DTYPE_F32, mo, p.ndim, p.shape));
        name[6] = 'v'; /* "optim.v.NAME" */
        ATTN_TRY(attn_st_writer_add(w, name, ATTN_DTYPE_F32, vo, p.ndim, p.shape));
        const float *avg = attn_optimizer_average(opt, i, NULL);
        if (avg && snprintf(name, sizeof name, "optim.ema.%s", p.name) >= (int)sizeof name)
            return attn_error(ATTN_ERR_INVALID, "checkpoint: tensor name %s is too long", p.name);
        if (avg) ATTN_TRY(attn_st_writer_add(w, name, ATTN_DTYPE_F32, avg, p.ndim, p.shape));
    }
    char *json;
    ATTN_TRY(optimizer_to_json(opt, &json));
    attn_status rc = attn_st_writer_set_metadata(w, "optimizer", json);
    free(json);
    return rc;
}

/* Everything but the final write, into w. */
static attn_status fill_writer(attn_st_writer *w, const attn_model *m, const attn_optimizer *opt,
                               const attn_train_state *st, const attn_meta *meta, int n_meta) {
    ATTN_TRY(attn_model_write_tensors(m, w));
    if (opt) ATTN_TRY(add_optimizer(w, m, opt));
    if (st) {
        if (!(fabs((double)st->step) < MAX_EXACT && fabs((double)st->tokens) < MAX_EXACT &&
              fabs((double)st->best_step) < MAX_EXACT))
            return attn_error(ATTN_ERR_INVALID, "checkpoint: train_state counts beyond 2^53");
        char *json;
        ATTN_TRY(train_state_to_json(st, &json));
        attn_status rc = attn_st_writer_set_metadata(w, "train_state", json);
        free(json);
        ATTN_TRY(rc);
    }
    for (int i = 0; i < n_meta; i++)
        ATTN_TRY(attn_st_writer_set_metadata(w, meta[i].key, meta[i].value));
    return ATTN_OK;
}

/* Writes the checkpoint atomically (an existing file at path is replaced only by a complete new
 * one). Nothing is written when an argument is bad. Errors: ATTN_ERR_INVALID (NULL path or model,
 * bad or reserved metadata keys), ATTN_ERR_SHAPE (opt does not belong to m), ATTN_ERR_IO,
 * ATTN_ERR_NOMEM; the message names the path. */
attn_status attn_checkpoint_save(const char *path, const attn_model *m, const attn_optimizer *opt,
                                 const attn_train_state *st, const attn_meta *meta, int n_meta) {
    if (!path || !path[0] || !m)
        return attn_error(ATTN_ERR_INVALID, "attn_checkpoint_save: NULL path or model");
    ATTN_TRY(check_extra_meta(meta, n_meta));
    attn_st_writer *w;
    ATTN_TRY(attn_st_writer_create(&w));
    attn_status rc = fill_writer(w, m, opt, st, meta, n_meta);
    if (rc == ATTN_OK) rc = attn_st_writer_write(w, path);
    attn_st_writer_free(w);
    if (rc != ATTN_OK) return attn_error_context(rc, "saving checkpoint %s", path);
    return ATTN_OK;
}

/* ---- loading ---- */

/* Recreates the optimizer of model m from f: hyper-parameters and step from the "optimizer"
 * metadata, every moment tensor by name with m's shapes, the average "optim.ema.*" of every
 * tensor or of none, and no other "optim.*" tensor.
 * *out is owned by the caller. Errors: ATTN_ERR_MISSING (no optimizer state, or a moment tensor
 * absent), ATTN_ERR_FORMAT, ATTN_ERR_SHAPE, ATTN_ERR_INVALID (bad hyper-parameters), NOMEM. */
static attn_status load_optimizer(const attn_safetensors *f, attn_model *m,
                                  attn_optimizer **out) {
    const char *json = attn_safetensors_metadata(f, "optimizer");
    if (!json) return attn_error(ATTN_ERR_MISSING, "no optimizer state in the checkpoint");
    attn_adamw_params params;
    long steps;
    ATTN_TRY(optimizer_from_json(json, &params, &steps));
    attn_optimizer *opt;
    ATTN_TRY(attn_optimizer_create(m, params, &opt));
    attn_status rc = ATTN_OK;
    int n = attn_model_num_tensors(m);
    for (int i = 0; rc == ATTN_OK && i < n; i++) {
        attn_param p;
        float *mo, *vo;
        char name[MAX_TENSOR_NAME];
        rc = attn_model_tensor(m, i, &p);
        if (rc == ATTN_OK) rc = attn_optimizer_moments(opt, i, &mo, &vo, NULL);
        if (rc == ATTN_OK && snprintf(name, sizeof name, "optim.m.%s", p.name) >= (int)sizeof name)
            rc = attn_error(ATTN_ERR_INVALID, "tensor name %s is too long", p.name);
        if (rc == ATTN_OK) rc = attn_safetensors_read_f32(f, name, mo, p.ndim, p.shape);
        name[6] = 'v';
        if (rc == ATTN_OK) rc = attn_safetensors_read_f32(f, name, vo, p.ndim, p.shape);
    }
    int n_optim = 0, n_avg = 0;
    for (int i = 0; i < attn_safetensors_count(f); i++) {
        const char *name = attn_safetensors_at(f, i)->name;
        n_optim += strncmp(name, "optim.", 6) == 0;
        n_avg += strncmp(name, "optim.ema.", 10) == 0;
    }
    if (rc == ATTN_OK && (n_optim != 2 * n + n_avg || (n_avg != 0 && n_avg != n)))
        rc = attn_error(ATTN_ERR_FORMAT,
                        "%d optimizer tensors (%d of them averages) for a model of %d tensors",
                        n_optim, n_avg, n);
    /* the moving average of the weights, where the run kept one */
    if (rc == ATTN_OK && n_avg) rc = attn_optimizer_set_average(opt, attn_model_params(m));
    for (int i = 0; rc == ATTN_OK && n_avg && i < n; i++) {
        attn_param p;
        char name[MAX_TENSOR_NAME];
        rc = attn_model_tensor(m, i, &p);
        if (rc == ATTN_OK && snprintf(name, sizeof name, "optim.ema.%s", p.name) >= (int)sizeof name)
            rc = attn_error(ATTN_ERR_INVALID, "tensor name %s is too long", p.name);
        if (rc == ATTN_OK)
            rc = attn_safetensors_read_f32(f, name, attn_optimizer_average(opt, i, NULL), p.ndim,
                                           p.shape);
    }
    if (rc != ATTN_OK) {
        attn_optimizer_free(opt);
        return rc;
    }
    attn_optimizer_set_steps(opt, steps);
    *out = opt;
    return ATTN_OK;
}

/* Reads the model (and optionally the optimizer and state) from an open file. Outputs are
 * written only on success; on failure nothing is left allocated. */
static attn_status load_from(const attn_safetensors *f, attn_model **m, attn_optimizer **opt,
                             attn_train_state *st) {
    attn_train_state state = {0};
    const char *state_json = attn_safetensors_metadata(f, "train_state");
    if (st && state_json) ATTN_TRY(train_state_from_json(state_json, &state));
    attn_model *model;
    ATTN_TRY(attn_model_from_st(f, &model));
    attn_optimizer *o = NULL;
    if (opt) {
        attn_status rc = load_optimizer(f, model, &o);
        if (rc != ATTN_OK) {
            attn_model_free(model);
            return rc;
        }
        *opt = o;
    }
    *m = model;
    if (st) *st = state;
    return ATTN_OK;
}

/* See attn/train.h. *m (and *opt) are owned by the caller; both are NULL and *st is unchanged on
 * failure. Errors: ATTN_ERR_INVALID (NULL path or m), ATTN_ERR_IO, ATTN_ERR_FORMAT (malformed or
 * truncated file, bad JSON), ATTN_ERR_MISSING (no optimizer state when opt is asked for, a tensor
 * absent), ATTN_ERR_SHAPE, ATTN_ERR_NOMEM; the message names the path. */
attn_status attn_checkpoint_load(const char *path, attn_model **m, attn_optimizer **opt,
                                 attn_train_state *st) {
    if (m) *m = NULL;
    if (opt) *opt = NULL;
    if (!path || !m) return attn_error(ATTN_ERR_INVALID, "attn_checkpoint_load: NULL path or m");
    attn_safetensors *f;
    ATTN_TRY(attn_safetensors_open(path, ATTN_SAFETENSORS_DEFAULT, &f));
    attn_status rc = load_from(f, m, opt, st);
    attn_safetensors_close(f);
    if (rc != ATTN_OK) return attn_error_context(rc, "loading checkpoint %s", path);
    return ATTN_OK;
}

/* A malloc'd copy of the metadata value for key (the caller frees *value; NULL on failure).
 * Reads and validates the whole file. Errors: ATTN_ERR_INVALID, ATTN_ERR_IO, ATTN_ERR_FORMAT,
 * ATTN_ERR_MISSING (no such key), ATTN_ERR_NOMEM. */
attn_status attn_checkpoint_read_meta(const char *path, const char *key, char **value) {
    if (value) *value = NULL;
    if (!path || !key || !value)
        return attn_error(ATTN_ERR_INVALID, "attn_checkpoint_read_meta: NULL argument");
    attn_safetensors *f;
    ATTN_TRY(attn_safetensors_open(path, ATTN_SAFETENSORS_DEFAULT, &f));
    attn_status rc = ATTN_OK;
    const char *v = attn_safetensors_metadata(f, key);
    if (!v) {
        rc = attn_error(ATTN_ERR_MISSING, "checkpoint %s has no metadata \"%s\"", path, key);
    } else {
        size_t len = strlen(v) + 1;
        *value = malloc(len);
        if (*value)
            memcpy(*value, v, len);
        else
            rc = attn_error(ATTN_ERR_NOMEM, "checkpoint metadata: out of memory");
    }
    attn_safetensors_close(f);
    return rc;
}

attn_status attn_train_resume_best(const char *save_path, const attn_model *m,
                                   const attn_train_state *st, float **best) {
    if (!m || !st || !best) return attn_error(ATTN_ERR_INVALID, "attn_train_resume_best: NULL");
    *best = NULL;
    if (st->best_step <= 0 || !save_path) return ATTN_OK;
    attn_model *b;
    attn_status s = attn_model_load(save_path, &b);
    if (s != ATTN_OK) return attn_error_context(s, "cannot resume: the best model so far");
    size_t n = attn_model_num_params(m);
    if (attn_model_num_params(b) != n)
        s = attn_error(ATTN_ERR_SHAPE, "cannot resume: '%s' holds another model than the run's",
                       save_path);
    else if (!(*best = malloc(n * sizeof **best)))
        s = attn_error(ATTN_ERR_NOMEM, "cannot resume: no room for %zu parameters", n);
    else
        memcpy(*best, attn_model_params(b), n * sizeof **best);
    attn_model_free(b);
    return s;
}
