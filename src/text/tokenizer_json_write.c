/* text/tokenizer_json_write.c: a tokenizer as Hugging Face's tokenizer.json.
 *
 * Byte-level BPE:
 *   normalizer     null, or {"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Lowercase"}]}
 *   pre_tokenizer  {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,
 *                   "use_regex":true}, or a Sequence of the file's Split patterns and ByteLevel
 *   post_processor null, or TemplateProcessing with the ids add_special puts around a text
 *   decoder        {"type":"ByteLevel", ...}
 *   model          {"type":"BPE", "vocab":{token: id}, "merges":["left right", ...]}
 * SentencePiece-style BPE: the normalizer Sequence ends with its Prepend / Replace steps, the
 *   pre_tokenizer is null or a Sequence of Split steps, the decoder the Sequence Replace "▁" by
 *   " ", ByteFallback, Fuse, Strip; the model has byte_fallback, fuse_unk and unk_token.
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

/* A ByteLevel pre-tokenizer object (use_regex: GPT-2's pattern) added to parent (an object,
 * under "pre_tokenizer", or an array); 0 when out of memory. */
static int add_byte_level(cJSON *parent, int use_regex) {
    cJSON *o = cJSON_CreateObject();
    int ok = o && (cJSON_IsArray(parent) ? cJSON_AddItemToArray(parent, o)
                                         : cJSON_AddItemToObject(parent, "pre_tokenizer", o));
    if (!ok) {
        cJSON_Delete(o);
        return 0;
    }
    return cJSON_AddStringToObject(o, "type", "ByteLevel") && add_bool(o, "add_prefix_space", 0) &&
           add_bool(o, "trim_offsets", 1) && add_bool(o, "use_regex", use_regex);
}

/* root.pre_tokenizer: ByteLevel when the chain is GPT-2's pattern alone (or empty), else a
 * Sequence of Split steps (the patterns as the file gave them; a String one escaped, as a Regex)
 * and ByteLevel. SentencePiece-style: null, or the Sequence without ByteLevel. */
static int add_pretokenizer(const attn_tokenizer *t, cJSON *root) {
    int n = text_regex_count(t->re);
    int gpt2_last =
        !t->sp && n > 0 && strcmp(text_regex_source(t->re, n - 1), text_gpt2_pattern) == 0;
    int splits = gpt2_last ? n - 1 : n;
    if (splits == 0 && t->sp) return cJSON_AddNullToObject(root, "pre_tokenizer") != NULL;
    if (splits == 0) return add_byte_level(root, gpt2_last);
    cJSON *seq = typed(root, "pre_tokenizer", "Sequence");
    cJSON *list = seq ? cJSON_AddArrayToObject(seq, "pretokenizers") : NULL;
    if (!list) return 0;
    for (int i = 0; i < splits; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            return 0;
        }
        cJSON *pattern = cJSON_AddObjectToObject(o, "pattern");
        if (!cJSON_AddStringToObject(o, "type", "Split") || !pattern ||
            !cJSON_AddStringToObject(pattern, "Regex", text_regex_source(t->re, i)) ||
            !cJSON_AddStringToObject(
                o, "behavior", text_regex_merged(t->re, i) ? "MergedWithPrevious" : "Isolated") ||
            !add_bool(o, "invert", 0))
            return 0;
    }
    return t->sp ? 1 : add_byte_level(list, gpt2_last);
}

/* One {"SpecialToken": {"id": name, "type_id": 0}} or {"Sequence": {"id": "A", ...}} piece. */
static int add_piece(cJSON *list, const char *kind, const char *name, int type_id) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(list, o)) {
        cJSON_Delete(o);
        return 0;
    }
    cJSON *p = cJSON_AddObjectToObject(o, kind);
    return p && cJSON_AddStringToObject(p, "id", name) &&
           cJSON_AddNumberToObject(p, "type_id", type_id);
}

/* root.post_processor: null, or the TemplateProcessing of the ids add_special puts around a
 * text (pairs get prefix A suffix B suffix). A kind this library could not apply cannot be
 * written back: 0 with the error set. */
static int add_post_processor(const attn_tokenizer *t, cJSON *root) {
    if (t->post_unsupported) {
        attn_error(ATTN_ERR_INVALID, "cannot write the post_processor '%.100s'",
                   t->post_unsupported);
        return 0;
    }
    if (t->n_prefix == 0 && t->n_suffix == 0)
        return cJSON_AddNullToObject(root, "post_processor") != NULL;
    cJSON *pp = typed(root, "post_processor", "TemplateProcessing");
    cJSON *single = pp ? cJSON_AddArrayToObject(pp, "single") : NULL;
    cJSON *pair = pp ? cJSON_AddArrayToObject(pp, "pair") : NULL;
    cJSON *specials = pp ? cJSON_AddObjectToObject(pp, "special_tokens") : NULL;
    if (!single || !pair || !specials) return 0;
    int ok = 1;
    for (int i = 0; ok && i < t->n_prefix; i++) {
        const char *name = text_strmap_key(&t->vocab, t->prefix_ids[i], NULL);
        ok = add_piece(single, "SpecialToken", name, 0) && add_piece(pair, "SpecialToken", name, 0);
    }
    ok = ok && add_piece(single, "Sequence", "A", 0) && add_piece(pair, "Sequence", "A", 0);
    for (int i = 0; ok && i < t->n_suffix; i++) {
        const char *name = text_strmap_key(&t->vocab, t->suffix_ids[i], NULL);
        ok = add_piece(single, "SpecialToken", name, 0) && add_piece(pair, "SpecialToken", name, 0);
    }
    ok = ok && add_piece(pair, "Sequence", "B", 1);
    for (int i = 0; ok && i < t->n_suffix; i++)
        ok = add_piece(pair, "SpecialToken", text_strmap_key(&t->vocab, t->suffix_ids[i], NULL), 1);
    for (int side = 0; ok && side < 2; side++) {
        const int *ids = side ? t->suffix_ids : t->prefix_ids;
        for (int i = 0; ok && i < (side ? t->n_suffix : t->n_prefix); i++) {
            const char *name = text_strmap_key(&t->vocab, ids[i], NULL);
            if (cJSON_GetObjectItemCaseSensitive(specials, name)) continue;
            cJSON *e = cJSON_AddObjectToObject(specials, name);
            cJSON *idl = e ? cJSON_AddArrayToObject(e, "ids") : NULL;
            cJSON *toks = e ? cJSON_AddArrayToObject(e, "tokens") : NULL;
            cJSON *num = cJSON_CreateNumber(ids[i]), *str = cJSON_CreateString(name);
            int added_num = idl && num && cJSON_AddItemToArray(idl, num);
            int added_str = toks && str && cJSON_AddItemToArray(toks, str);
            if (!added_num) cJSON_Delete(num);
            if (!added_str) cJSON_Delete(str);
            ok = added_num && added_str && cJSON_AddStringToObject(e, "id", name);
        }
    }
    return ok;
}

/* The byte-level BPE parts: normalizer, pre_tokenizer, decoder, model; 0 when out of memory. */
/* {"type": type} appended to the array list; NULL when out of memory. */
static cJSON *typed_item(cJSON *list, const char *type) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(list, o)) {
        cJSON_Delete(o);
        return NULL;
    }
    return cJSON_AddStringToObject(o, "type", type) ? o : NULL;
}

/* {"pattern": {"String": s}, "content": c} of a Replace step o; 0 when out of memory. */
static int add_replace(cJSON *o, const char *s, const char *c) {
    cJSON *p = o ? cJSON_AddObjectToObject(o, "pattern") : NULL;
    return p && cJSON_AddStringToObject(p, "String", s) && cJSON_AddStringToObject(o, "content", c);
}

/* The SentencePiece-style parts (sentencepiece.c): the Prepend / Replace normalisers after the
 * flags, and the decoder chain; 0 when out of memory. */
static int add_sp_normalizers(const attn_tokenizer *t, cJSON *list) {
    for (int i = 0; i < t->n_sp_norm; i++) {
        const text_sp_step *st = &t->sp_norm[i];
        cJSON *o = typed_item(list, st->prepend ? "Prepend" : "Replace");
        if (!o || !(st->prepend ? cJSON_AddStringToObject(o, "prepend", st->text) != NULL
                                : add_replace(o, st->from, st->text)))
            return 0;
    }
    return 1;
}

static int add_sp_decoder(const attn_tokenizer *t, cJSON *root) {
    cJSON *d = typed(root, "decoder", "Sequence");
    cJSON *list = d ? cJSON_AddArrayToObject(d, "decoders") : NULL;
    if (!list) return 0;
    if (t->sp_decode_replace && !add_replace(typed_item(list, "Replace"), "\xe2\x96\x81", " "))
        return 0;
    if (!typed_item(list, "ByteFallback") || !typed_item(list, "Fuse")) return 0;
    if (t->sp_strip == 0) return 1;
    cJSON *strip = typed_item(list, "Strip");
    return strip && cJSON_AddStringToObject(strip, "content", " ") &&
           cJSON_AddNumberToObject(strip, "start", t->sp_strip) &&
           cJSON_AddNumberToObject(strip, "stop", 0);
}

static int add_bpe(const attn_tokenizer *t, cJSON *root) {
    if (t->norm_flags || t->n_sp_norm) {
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
        if (!add_sp_normalizers(t, list)) return 0;
    } else if (!cJSON_AddNullToObject(root, "normalizer")) {
        return 0;
    }
    if (!add_pretokenizer(t, root) || !add_post_processor(t, root)) return 0;
    if (t->sp) {
        if (!add_sp_decoder(t, root)) return 0;
    } else {
        cJSON *d = typed(root, "decoder", "ByteLevel");
        if (!add_bool(d, "add_prefix_space", 0) || !add_bool(d, "trim_offsets", 1) ||
            !add_bool(d, "use_regex", 1))
            return 0;
    }
    cJSON *model = typed(root, "model", "BPE");
    const char *unk = t->sp && t->unk_id >= 0 ? text_strmap_key(&t->vocab, t->unk_id, NULL) : NULL;
    if (!model || !cJSON_AddNullToObject(model, "dropout") ||
        !(unk ? cJSON_AddStringToObject(model, "unk_token", unk)
              : cJSON_AddNullToObject(model, "unk_token")) ||
        !cJSON_AddNullToObject(model, "continuing_subword_prefix") ||
        !cJSON_AddNullToObject(model, "end_of_word_suffix") ||
        !add_bool(model, "fuse_unk", t->fuse_unk) || !add_bool(model, "byte_fallback", t->sp) ||
        !add_bool(model, "ignore_merges", t->ignore_merges) || !add_vocab(t, model))
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
    if (!typed(root, "pre_tokenizer", "BertPreTokenizer") || !add_post_processor(t, root)) return 0;
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
    if (!ok && t->post_unsupported) return ATTN_ERR_INVALID; /* the message is set */
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
