/* io/config_json.c: attn_config to and from the JSON object of docs/FORMATS.md.
 *
 * attn_config_to_json writes every key, in the order of the docs, on one line:
 *   {"arch": "decoder_lm", "vocab_size": 256, ..., "scale_embeddings": false, "pad_id": 0}
 * Floats are written with the fewest digits that read back to the same float ("0.1", "1e-5").
 *
 * attn_config_from_json needs every key; keys it does not know are ignored (so a newer writer's
 * additions do not break an older reader). Its errors, each naming the key:
 *   ATTN_ERR_MISSING  a key is absent
 *   ATTN_ERR_FORMAT   not JSON, not an object, a value of the wrong type (integers must be whole
 *                     numbers that fit in an int, scale_embeddings a boolean), an unknown enum name
 *   ATTN_ERR_INVALID  the values parse but attn_config_validate() rejects them
 * The output config is written only on success. */
#include "attn/config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"

/* The shortest "%.*g" rendering of v that reads back as v (at most 9 digits for a float), with
 * the exponent's sign and zeros trimmed as in docs/FORMATS.md ("1e-5", not "1e-05"). */
static void format_float(char *buf, size_t cap, float v) {
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, cap, "%.*g", digits, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    char *e = strchr(buf, 'e');
    if (!e) return;
    if (e[1] == '+') memmove(e + 1, e + 2, strlen(e + 2) + 1);
    char *digits = e + 1 + (e[1] == '-');
    char *first = digits;
    while (first[0] == '0' && first[1])
        first++;
    memmove(digits, first, strlen(first) + 1);
}

attn_status attn_config_to_json(const attn_config *cfg, char **json) {
    if (!cfg || !json) return attn_error(ATTN_ERR_INVALID, "attn_config_to_json: NULL argument");
    ATTN_TRY(attn_config_validate(cfg));
    char dropout[32], ln_eps[32], smoothing[32];
    format_float(dropout, sizeof dropout, cfg->dropout);
    format_float(smoothing, sizeof smoothing, cfg->label_smoothing);
    format_float(ln_eps, sizeof ln_eps, cfg->ln_eps);
    const char *fmt =
        "{\"arch\": \"%s\", \"vocab_size\": %d, \"max_len\": %d, \"d_model\": %d, \"n_heads\": %d, "
        "\"d_ff\": %d, \"n_layers\": %d, \"n_dec_layers\": %d, \"n_classes\": %d, \"norm\": "
        "\"%s\", "
        "\"pos\": \"%s\", \"act\": \"%s\", \"pool\": \"%s\", \"dropout\": %s, \"ln_eps\": %s, "
        "\"scale_embeddings\": %s, \"pad_id\": %d, \"label_smoothing\": %s}";
    /* Every value is bounded (names <= 10 chars, ints <= 11, floats <= 15), so it fits. */
    char buf[1024];
    int len = snprintf(buf, sizeof buf, fmt, attn_arch_name(cfg->arch), cfg->vocab_size,
                       cfg->max_len, cfg->d_model, cfg->n_heads, cfg->d_ff, cfg->n_layers,
                       cfg->n_dec_layers, cfg->n_classes, attn_norm_name(cfg->norm),
                       attn_pos_name(cfg->pos), attn_act_name(cfg->act), attn_pool_name(cfg->pool),
                       dropout, ln_eps, cfg->scale_embeddings ? "true" : "false", cfg->pad_id, smoothing);
    /* n_features only where it is set, so a token model's config reads as it always did */
    if (cfg->n_features) {
        int more = snprintf(buf + len - 1, sizeof buf - (size_t)len + 1, ", \"n_features\": %d}",
                            cfg->n_features);
        len += more - 1;
    }
    if (cfg->subsample) { /* likewise */
        int more = snprintf(buf + len - 1, sizeof buf - (size_t)len + 1,
                            ", \"subsample\": %d, \"conv_channels\": %d}", cfg->subsample,
                            cfg->conv_channels);
        len += more - 1;
    }
    if (cfg->ctc_weight > 0) { /* likewise */
        char w[32];
        format_float(w, sizeof w, cfg->ctc_weight);
        int more = snprintf(buf + len - 1, sizeof buf - (size_t)len + 1, ", \"ctc_weight\": %s}", w);
        len += more - 1;
    }
    char *text = malloc((size_t)len + 1);
    if (!text) return attn_error(ATTN_ERR_NOMEM, "attn_config_to_json: out of memory");
    memcpy(text, buf, (size_t)len + 1);
    *json = text;
    return ATTN_OK;
}

/* ---- reading ---- */

static attn_status get_item(const cJSON *root, const char *key, const cJSON **out) {
    *out = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!*out) return attn_error(ATTN_ERR_MISSING, "config JSON: missing key \"%s\"", key);
    return ATTN_OK;
}

static attn_status get_int(const cJSON *root, const char *key, int *out) {
    const cJSON *item;
    ATTN_TRY(get_item(root, key, &item));
    double v = item->valuedouble;
    if (!cJSON_IsNumber(item) || !(v >= INT_MIN && v <= INT_MAX) || v != (double)(int)v)
        return attn_error(ATTN_ERR_FORMAT,
                          "config JSON: \"%s\" must be an integer that fits an int", key);
    *out = (int)v;
    return ATTN_OK;
}

static attn_status get_float(const cJSON *root, const char *key, float *out) {
    const cJSON *item;
    ATTN_TRY(get_item(root, key, &item));
    if (!cJSON_IsNumber(item))
        return attn_error(ATTN_ERR_FORMAT, "config JSON: \"%s\" must be a number", key);
    *out = (float)item->valuedouble;
    return ATTN_OK;
}

static attn_status get_bool(const cJSON *root, const char *key, int *out) {
    const cJSON *item;
    ATTN_TRY(get_item(root, key, &item));
    if (!cJSON_IsBool(item))
        return attn_error(ATTN_ERR_FORMAT, "config JSON: \"%s\" must be true or false", key);
    *out = cJSON_IsTrue(item);
    return ATTN_OK;
}

/* A string value for `key` handed to one of the attn_*_parse functions. */
static attn_status get_enum(const cJSON *root, const char *key, const char **name) {
    const cJSON *item;
    ATTN_TRY(get_item(root, key, &item));
    if (!cJSON_IsString(item))
        return attn_error(ATTN_ERR_FORMAT, "config JSON: \"%s\" must be a string", key);
    *name = item->valuestring;
    return ATTN_OK;
}

/* An unknown enum name is a malformed config: FORMAT, with the parser's message. */
static attn_status enum_status(attn_status s, const char *key) {
    if (s == ATTN_OK) return s;
    return attn_error_context(ATTN_ERR_FORMAT, "config JSON: \"%s\"", key);
}

static attn_status read_fields(const cJSON *root, attn_config *c) {
    const char *name = NULL;
    ATTN_TRY(get_enum(root, "arch", &name));
    ATTN_TRY(enum_status(attn_arch_parse(name, &c->arch), "arch"));
    ATTN_TRY(get_int(root, "vocab_size", &c->vocab_size));
    ATTN_TRY(get_int(root, "max_len", &c->max_len));
    ATTN_TRY(get_int(root, "d_model", &c->d_model));
    ATTN_TRY(get_int(root, "n_heads", &c->n_heads));
    ATTN_TRY(get_int(root, "d_ff", &c->d_ff));
    ATTN_TRY(get_int(root, "n_layers", &c->n_layers));
    ATTN_TRY(get_int(root, "n_dec_layers", &c->n_dec_layers));
    ATTN_TRY(get_int(root, "n_classes", &c->n_classes));
    ATTN_TRY(get_enum(root, "norm", &name));
    ATTN_TRY(enum_status(attn_norm_parse(name, &c->norm), "norm"));
    ATTN_TRY(get_enum(root, "pos", &name));
    ATTN_TRY(enum_status(attn_pos_parse(name, &c->pos), "pos"));
    ATTN_TRY(get_enum(root, "act", &name));
    ATTN_TRY(enum_status(attn_act_parse(name, &c->act), "act"));
    ATTN_TRY(get_enum(root, "pool", &name));
    ATTN_TRY(enum_status(attn_pool_parse(name, &c->pool), "pool"));
    ATTN_TRY(get_float(root, "dropout", &c->dropout));
    ATTN_TRY(get_float(root, "ln_eps", &c->ln_eps));
    ATTN_TRY(get_bool(root, "scale_embeddings", &c->scale_embeddings));
    ATTN_TRY(get_int(root, "pad_id", &c->pad_id));
    /* optional: absent in configs written before it existed */
    c->label_smoothing = 0.0f;
    if (cJSON_GetObjectItemCaseSensitive(root, "label_smoothing"))
        ATTN_TRY(get_float(root, "label_smoothing", &c->label_smoothing));
    c->n_features = 0; /* optional likewise: 0, token ids */
    if (cJSON_GetObjectItemCaseSensitive(root, "n_features"))
        ATTN_TRY(get_int(root, "n_features", &c->n_features));
    c->subsample = c->conv_channels = 0; /* optional likewise: no convolutional front end */
    if (cJSON_GetObjectItemCaseSensitive(root, "subsample"))
        ATTN_TRY(get_int(root, "subsample", &c->subsample));
    if (cJSON_GetObjectItemCaseSensitive(root, "conv_channels"))
        ATTN_TRY(get_int(root, "conv_channels", &c->conv_channels));
    c->ctc_weight = 0.0f; /* optional likewise */
    if (cJSON_GetObjectItemCaseSensitive(root, "ctc_weight"))
        ATTN_TRY(get_float(root, "ctc_weight", &c->ctc_weight));
    return ATTN_OK;
}

attn_status attn_config_from_json(const char *json, attn_config *cfg) {
    if (!json || !cfg) return attn_error(ATTN_ERR_INVALID, "attn_config_from_json: NULL argument");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json, &end, 1);
    if (!root)
        return attn_error(ATTN_ERR_FORMAT, "config JSON: not valid JSON (error near byte %ld)",
                          end ? (long)(end - json) : 0L);
    attn_config c;
    memset(&c, 0, sizeof c);
    attn_status s = cJSON_IsObject(root)
                        ? read_fields(root, &c)
                        : attn_error(ATTN_ERR_FORMAT, "config JSON: not a JSON object");
    cJSON_Delete(root);
    if (s == ATTN_OK) s = attn_config_validate(&c);
    if (s == ATTN_OK) *cfg = c;
    return s;
}
