/* viz/maps_json.c: attention maps as JSON (the layout is in attn/viz.h). Written by hand rather
 * than with cJSON: a matrix of probabilities is mostly numbers, printed here with 6 significant
 * digits instead of cJSON's 17, which keeps a 4-layer, 60-token map under a megabyte. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/viz.h"
#include "core/error.h"
#include "io/file.h"
#include "viz/text.h"

/* "key": [tokens...], (or null) as one line */
static void tokens_json(viz_buf *b, const char *key, const char *const *tokens, int n) {
    viz_buf_printf(b, "  \"%s\": ", key);
    if (!tokens) {
        viz_buf_append(b, "null,\n", 6);
        return;
    }
    viz_buf_append(b, "[", 1);
    for (int i = 0; i < n; i++) {
        if (i) viz_buf_append(b, ", ", 2);
        viz_buf_json_string(b, tokens[i]);
    }
    viz_buf_append(b, "],\n", 3);
}

/* probs nested as (layer, head, query, key); one matrix row per line */
static void probs_json(viz_buf *b, const attn_maps *maps) {
    viz_buf_append(b, "  \"probs\": [", 12);
    for (int l = 0; l < maps->n_layers; l++) {
        viz_buf_append(b, l ? ",\n   [" : "\n   [", l ? 6 : 5);
        for (int h = 0; h < maps->n_heads; h++) {
            const float *p = attn_maps_head(maps, l, h);
            viz_buf_append(b, h ? ",\n    [" : "\n    [", h ? 7 : 6);
            for (int i = 0; i < maps->n_queries; i++) {
                viz_buf_append(b, i ? ",\n     [" : "\n     [", i ? 8 : 7);
                for (int j = 0; j < maps->n_keys; j++)
                    viz_buf_printf(b, j ? ", %.6g" : "%.6g", (double)p[(long)i * maps->n_keys + j]);
                viz_buf_append(b, "]", 1);
            }
            viz_buf_append(b, "]", 1);
        }
        viz_buf_append(b, "]", 1);
    }
    viz_buf_append(b, "]\n", 2);
}

attn_status attn_maps_to_json(const attn_maps *maps, const char *const *query_tokens,
                              const char *const *key_tokens, char **json) {
    if (json) *json = NULL;
    if (!maps || !json || !maps->probs || maps->n_layers < 1 || maps->n_heads < 1 ||
        maps->n_queries < 1 || maps->n_keys < 1)
        return attn_error(ATTN_ERR_INVALID, "attention maps JSON: NULL or empty maps");
    long n = (long)maps->n_layers * maps->n_heads * maps->n_queries * maps->n_keys;
    for (long i = 0; i < n; i++)
        if (!isfinite(maps->probs[i]))
            return attn_error(ATTN_ERR_NUMERIC, "attention maps JSON: probability %ld is %g", i,
                              (double)maps->probs[i]);
    viz_buf b = {0};
    viz_buf_printf(&b,
                   "{\n  \"kind\": \"%s\",\n  \"n_layers\": %d,\n  \"n_heads\": %d,\n"
                   "  \"n_queries\": %d,\n  \"n_keys\": %d,\n",
                   attn_maps_kind_name(maps->kind), maps->n_layers, maps->n_heads, maps->n_queries,
                   maps->n_keys);
    tokens_json(&b, "query_tokens", query_tokens, maps->n_queries);
    tokens_json(&b, "key_tokens", key_tokens, maps->n_keys);
    probs_json(&b, maps);
    viz_buf_append(&b, "}\n", 2);
    if (b.failed) {
        viz_buf_free(&b);
        return attn_error(ATTN_ERR_NOMEM, "attention maps JSON: out of memory");
    }
    *json = b.data;
    return ATTN_OK;
}

attn_status attn_maps_write_json(const char *path, const attn_maps *maps,
                                 const char *const *query_tokens, const char *const *key_tokens) {
    if (!path || !*path)
        return attn_error(ATTN_ERR_INVALID, "attention maps JSON: NULL or empty path");
    char *json;
    ATTN_TRY(attn_maps_to_json(maps, query_tokens, key_tokens, &json));
    const void *parts[1] = {json};
    size_t sizes[1] = {strlen(json)};
    attn_status st = attn_file_write_atomic(path, parts, sizes, 1);
    free(json);
    if (st != ATTN_OK) return attn_error_context(st, "writing attention maps");
    return ATTN_OK;
}
