/* text/tokenizer_json_write.c: a tokenizer as Hugging Face's tokenizer.json.
 *
 * Byte-level BPE:
 *   normalizer     null, or {"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Lowercase"}]}
 *   pre_tokenizer  {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,
 *                   "use_regex":true}
 *   decoder        {"type":"ByteLevel", ...}
 *   model          {"type":"BPE", "vocab":{token: id}, "merges":["left right", ...]}
 * WordPiece:
 *   normalizer     {"type":"BertNormalizer","clean_text":..,"handle_chinese_chars":..,
 *                   "strip_accents":..,"lowercase":..}
 *   pre_tokenizer  {"type":"BertPreTokenizer"}
 *   decoder        {"type":"WordPiece","prefix":"##","cleanup":true}
 *   model          {"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
 *                   "max_input_chars_per_word":100,"vocab":{token: id}}
 * added_tokens lists the added (special) tokens with their ids. Merges are written in the
 * classic "left right" form that every version of the library reads, or as a [left, right] pair
 * when a token contains a space. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/file.h"
#include "text/text_internal.h"

/* {"type": type} added to parent under key; NULL when out of memory. */
static cJSON *typed(cJSON *parent, const char *key, const char *type) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "type", type)) {
        cJSON_Delete(o);
        return NULL;
    }
    if (!cJSON_AddItemToObject(parent, key, o)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Adds key: v to o (which may be NULL after a failed allocation); 0 on failure. */
static int add_bool(cJSON *o, const char *key, int v) {
    return o && cJSON_AddBoolToObject(o, key, v) != NULL;
}

/* root.added_tokens: every added token with its id; 0 when out of memory. */
static int add_added_tokens(const attn_tokenizer *t, cJSON *root) {
    cJSON *arr = cJSON_AddArrayToObject(root, "added_tokens");
    if (!arr) return 0;
    for (int32_t id = 0; id < t->vocab.n; id++) {
        if (!(t->flags[id] & TEXT_TOK_ADDED)) continue;
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            return 0;
        }
        if (!cJSON_AddNumberToObject(o, "id", id) ||
            !cJSON_AddStringToObject(o, "content", text_strmap_key(&t->vocab, id, NULL)) ||
            !add_bool(o, "single_word", 0) || !add_bool(o, "lstrip", 0) ||
            !add_bool(o, "rstrip", 0) || !add_bool(o, "normalized", 0) ||
            !add_bool(o, "special", (t->flags[id] & TEXT_TOK_SPECIAL) != 0))
            return 0;
    }
    return 1;
}

/* model.vocab: {token: id} for the tokens of the model, in id order; 0 when out of memory. */
static int add_vocab(const attn_tokenizer *t, cJSON *model) {
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    if (!vocab) return 0;
    for (int32_t id = 0; id < t->vocab.n; id++)
        if ((t->flags[id] & TEXT_TOK_MODEL) &&
            !cJSON_AddNumberToObject(vocab, text_strmap_key(&t->vocab, id, NULL), id))
            return 0;
    return 1;
}

/* Merge r as "left right", or ["left", "right"] when a side contains a space; NULL when out
 * of memory. b is scratch. */
static cJSON *merge_item(const attn_tokenizer *t, int r, text_buf *b) {
    const char *a = text_strmap_key(&t->vocab, t->merges[r][0], NULL);
    const char *c = text_strmap_key(&t->vocab, t->merges[r][1], NULL);
    if (strchr(a, ' ') || strchr(c, ' ')) {
        const char *pair[2] = {a, c};
        return cJSON_CreateStringArray(pair, 2);
    }
    b->len = 0;
    if (text_buf_append(b, a, strlen(a)) || text_buf_append(b, " ", 1) ||
        text_buf_append(b, c, strlen(c) + 1))
        return NULL;
    return cJSON_CreateString(b->data);
}

/* The byte-level BPE parts: normalizer, pre_tokenizer, decoder, model; 0 when out of memory. */
static int add_bpe(const attn_tokenizer *t, cJSON *root) {
    if (t->norm_flags) {
        cJSON *n = typed(root, "normalizer", "Sequence");
        cJSON *list = n ? cJSON_AddArrayToObject(n, "normalizers") : NULL;
        if (!list) return 0;
        if (t->norm_flags & TEXT_NORM_NFC) {
            cJSON *o = cJSON_CreateObject();
            if (!o || !cJSON_AddItemToArray(list, o) || !cJSON_AddStringToObject(o, "type", "NFC"))
                return 0;
        }
        if (t->norm_flags & TEXT_NORM_LOWER) {
            cJSON *o = cJSON_CreateObject();
            if (!o || !cJSON_AddItemToArray(list, o) ||
                !cJSON_AddStringToObject(o, "type", "Lowercase"))
                return 0;
        }
    } else if (!cJSON_AddNullToObject(root, "normalizer")) {
        return 0;
    }
    const char *parts[] = {"pre_tokenizer", "decoder"};
    for (int i = 0; i < 2; i++) {
        cJSON *o = typed(root, parts[i], "ByteLevel");
        if (!add_bool(o, "add_prefix_space", 0) || !add_bool(o, "trim_offsets", 1) ||
            !add_bool(o, "use_regex", 1))
            return 0;
        if (i == 0 && !cJSON_AddNullToObject(root, "post_processor")) return 0;
    }
    cJSON *model = typed(root, "model", "BPE");
    if (!model || !cJSON_AddNullToObject(model, "dropout") ||
        !cJSON_AddNullToObject(model, "unk_token") ||
        !cJSON_AddNullToObject(model, "continuing_subword_prefix") ||
        !cJSON_AddNullToObject(model, "end_of_word_suffix") || !add_bool(model, "fuse_unk", 0) ||
        !add_bool(model, "byte_fallback", 0) || !add_bool(model, "ignore_merges", 0) ||
        !add_vocab(t, model))
        return 0;
    cJSON *merges = cJSON_AddArrayToObject(model, "merges");
    if (!merges) return 0;
    text_buf b = {0};
    int ok = 1;
    for (int r = 0; r < t->n_merges && ok; r++) {
        cJSON *m = merge_item(t, r, &b);
        ok = m && cJSON_AddItemToArray(merges, m);
        if (!ok) cJSON_Delete(m);
    }
    free(b.data);
    return ok;
}

/* The WordPiece parts: normalizer, pre_tokenizer, decoder, model; 0 when out of memory. */
static int add_wordpiece(const attn_tokenizer *t, cJSON *root) {
    cJSON *n = typed(root, "normalizer", "BertNormalizer");
    if (!add_bool(n, "clean_text", t->bert.clean_text) ||
        !add_bool(n, "handle_chinese_chars", t->bert.chinese_chars) ||
        !add_bool(n, "strip_accents", t->bert.strip_accents) ||
        !add_bool(n, "lowercase", t->bert.lowercase))
        return 0;
    if (!typed(root, "pre_tokenizer", "BertPreTokenizer") ||
        !cJSON_AddNullToObject(root, "post_processor"))
        return 0;
    cJSON *d = typed(root, "decoder", "WordPiece");
    if (!d || !cJSON_AddStringToObject(d, "prefix", t->prefix) ||
        !add_bool(d, "cleanup", t->cleanup))
        return 0;
    cJSON *model = typed(root, "model", "WordPiece");
    return model &&
           cJSON_AddStringToObject(model, "unk_token",
                                   text_strmap_key(&t->vocab, t->unk_id, NULL)) &&
           cJSON_AddStringToObject(model, "continuing_subword_prefix", t->prefix) &&
           cJSON_AddNumberToObject(model, "max_input_chars_per_word", t->max_chars) &&
           add_vocab(t, model);
}

attn_status attn_tokenizer_to_json(const attn_tokenizer *t, char **json) {
    if (!json) return attn_error(ATTN_ERR_INVALID, "tokenizer to json: NULL output");
    *json = NULL;
    if (!t) return attn_error(ATTN_ERR_INVALID, "tokenizer to json: NULL tokenizer");
    cJSON *root = cJSON_CreateObject();
    int ok = root && cJSON_AddStringToObject(root, "version", "1.0") &&
             cJSON_AddNullToObject(root, "truncation") && cJSON_AddNullToObject(root, "padding") &&
             add_added_tokens(t, root) &&
             (t->kind == ATTN_TOKENIZER_BPE ? add_bpe(t, root) : add_wordpiece(t, root));
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return attn_error(ATTN_ERR_NOMEM, "out of memory writing tokenizer.json");
    *json = text;
    return ATTN_OK;
}

attn_status attn_tokenizer_save(const attn_tokenizer *t, const char *path) {
    char *json;
    ATTN_TRY(attn_tokenizer_to_json(t, &json));
    size_t len = strlen(json);
    json[len] = '\n'; /* overwrite the NUL: the file ends with a newline */
    const void *parts[] = {json};
    size_t sizes[] = {len + 1};
    attn_status s = attn_file_write_atomic(path, parts, sizes, 1);
    free(json);
    if (s != ATTN_OK) return attn_error_context(s, "saving the tokenizer");
    return ATTN_OK;
}
