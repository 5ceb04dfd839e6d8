/* tasks/classifier_maps.c: a classifier's attention over one text, as pictures and JSON
 * (attn_classifier_attention, include/attn/classifier.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attn/classifier.h"
#include "attn/viz.h"
#include "core/error.h"
#include "tasks/classifier_internal.h"

/* Creates dir unless it exists as a directory. */
static attn_status make_dir(const char *dir) {
    struct stat st;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode)
                   ? ATTN_OK
                   : attn_error(ATTN_ERR_IO, "'%s' exists and is not a directory", dir);
    if (mkdir(dir, 0777) == 0) return ATTN_OK;
    return attn_error(ATTN_ERR_IO, "cannot create folder '%s': %s", dir, strerror(errno));
}

/* Display strings of the ids (each malloc'd; NULL when out of memory): special tokens by name,
 * others decoded alone. */
static char **token_strings(const attn_tokenizer *tok, const int *ids, int n) {
    char **s = calloc((size_t)n, sizeof *s);
    for (int i = 0; s && i < n; i++) {
        int special = 0;
        for (int k = 0; k < ATTN_SPECIAL_COUNT; k++)
            special |= attn_tokenizer_special(tok, (attn_special)k) == ids[i];
        size_t len;
        if (special || attn_tokenizer_decode(tok, ids + i, 1, &s[i], &len) != ATTN_OK) {
            const char *name = attn_tokenizer_token(tok, ids[i]);
            s[i] = strdup(name ? name : "?");
        }
    }
    return s;
}

/* One heatmap per layer and head, then the JSON. */
static attn_status write_maps(const char *dir, const attn_maps *maps, const char *const *labels) {
    char path[4096], title[64];
    for (int l = 0; l < maps->n_layers; l++)
        for (int h = 0; h < maps->n_heads; h++) {
            snprintf(path, sizeof path, "%s/layer%d_head%d.png", dir, l, h);
            snprintf(title, sizeof title, "layer %d, head %d", l, h);
            ATTN_TRY(attn_heatmap_png(path, attn_maps_head(maps, l, h), maps->n_queries,
                                      maps->n_keys, labels, labels, title));
        }
    snprintf(path, sizeof path, "%s/attention.json", dir);
    return attn_maps_write_json(path, maps, labels, labels);
}

attn_status attn_classifier_attention(attn_classifier *c, const char *text, size_t len,
                                      const char *dir, attn_attention_result *out) {
    if (!c || !text || !dir || !out)
        return attn_error(ATTN_ERR_INVALID, "attn_classifier_attention: NULL argument");
    const attn_config *cfg = attn_model_config(c->model);
    int *ids = malloc((size_t)cfg->max_len * sizeof *ids), n = 0, cut = 0;
    float *probs = malloc((size_t)cfg->n_classes * sizeof *probs);
    char **tokens = NULL;
    attn_maps maps = {0};
    attn_status s = ids && probs ? make_dir(dir) : attn_error(ATTN_ERR_NOMEM, "out of memory");
    if (s == ATTN_OK) s = attn_cls_encode_text(c->tok, text, len, cfg->max_len, ids, &n, &cut);
    if (s == ATTN_OK && !(tokens = token_strings(c->tok, ids, n)))
        s = attn_error(ATTN_ERR_NOMEM, "out of memory");
    int label = 0;
    if (s == ATTN_OK) s = attn_classifier_classify(c, text, len, &label, probs);
    attn_batch b = {.B = 1, .T = n, .tokens = ids, .lengths = &n};
    if (s == ATTN_OK) s = attn_model_attention_maps(c->model, &b, ATTN_MAPS_ENCODER_SELF, &maps);
    if (s == ATTN_OK) s = write_maps(dir, &maps, (const char *const *)tokens);
    if (s == ATTN_OK)
        *out = (attn_attention_result){label, probs[label], n, cut, maps.n_layers * maps.n_heads};
    attn_maps_free(&maps);
    for (int i = 0; tokens && i < n; i++)
        free(tokens[i]);
    free(tokens);
    free(probs);
    free(ids);
    return s;
}
