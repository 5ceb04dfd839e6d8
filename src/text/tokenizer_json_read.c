/* text/tokenizer_json_read.c: loading a Hugging Face tokenizer.json (byte-level BPE or WordPiece)
 * or a vocab.txt.
 *
 * Nothing read is trusted: every key is checked for presence and type, every id for range and
 * uniqueness (the ids of model.vocab and added_tokens together must be exactly 0..N-1), every
 * merge for tokens that exist, and features this library does not implement (add_prefix_space,
 * Split behaviours other than Isolated, dropout, byte fallback, other normalisers, ...) are
 * refused rather than ignored, so that a
 * loaded tokenizer never encodes differently from the file's intent without saying so. Every
 * failure is ATTN_ERR_FORMAT with a message naming the key (ATTN_ERR_IO / ATTN_ERR_NOMEM for
 * files and memory). */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/file.h"
#include "text/text_internal.h"

/* ATTN_ERR_FORMAT with a message of one %s. */
static attn_status bad(const char *fmt, const char *what) {
    return attn_error(ATTN_ERR_FORMAT, fmt, what);
}

/* *v = the integer value of item, which must be a whole number in [0, 2^30). */
static int get_id(const cJSON *item, int *v) {
    if (!cJSON_IsNumber(item)) return 0;
    double d = item->valuedouble;
    if (!(d >= 0 && d < (double)(1 << 30)) || d != (double)(int)d) return 0;
    *v = (int)d;
    return 1;
}

/* A boolean key: absent or null gives `def`; anything but true/false is an error (-1). */
static int get_bool(const cJSON *obj, const char *key, int def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return def;
    if (!cJSON_IsBool(v)) return -1;
    return cJSON_IsTrue(v);
}

/* The "type" of an object-valued key; NULL when the key is absent or null (*present = 0), or
 * not an object with a string type (error set, *present = -1). */
static const char *type_of(const cJSON *root, const char *key, const cJSON **obj, int *present) {
    *obj = cJSON_GetObjectItemCaseSensitive(root, key);
    *present = 0;
    if (!*obj || cJSON_IsNull(*obj)) return NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(*obj, "type");
    if (!cJSON_IsObject(*obj) || !cJSON_IsString(type)) {
        *present = -1;
        bad("\"%s\" must be null or an object with a string \"type\"", key);
        return NULL;
    }
    *present = 1;
    return type->valuestring;
}

/* ---- the vocabulary: model.vocab and added_tokens ---------------------------------------- */

typedef struct {
    const char *text;
    int flags; /* TEXT_TOK_*; 0: no token with this id */
} token_slot;

/* Records token `text` as id in slots[0..cap), merging a model token with the added token of
 * the same id (they must agree). */
static attn_status put_token(token_slot *slots, int cap, int id, const char *text, int flags) {
    if (!text || !text[0]) return attn_error(ATTN_ERR_FORMAT, "token id %d is an empty string", id);
    if (text_utf8_valid_prefix((const unsigned char *)text, strlen(text)) != strlen(text))
        return attn_error(ATTN_ERR_FORMAT, "token id %d is not valid UTF-8", id);
    if (id >= cap) {
        return attn_error(ATTN_ERR_FORMAT,
                          "token '%.100s' has id %d, outside 0..%d (ids must be 0..N-1)", text, id,
                          cap - 1);
    }
    token_slot *s = &slots[id];
    if (s->flags &&
        ((s->flags & flags & (TEXT_TOK_MODEL | TEXT_TOK_ADDED)) || strcmp(s->text, text) != 0)) {
        return attn_error(ATTN_ERR_FORMAT, "id %d is given to both '%.100s' and '%.100s'", id,
                          s->text, text);
    }
    s->text = text;
    s->flags |= flags;
    return ATTN_OK;
}

/* Fills t's vocabulary from root.model.vocab and root.added_tokens. Added tokens are matched in
 * the raw text (added.c): "normalized": true is refused when there is a normalizer, and so are
 * lstrip, rstrip and single_word. */
static attn_status read_vocab(const cJSON *root, const cJSON *model, int has_normalizer,
                              attn_tokenizer *t) {
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(vocab)) return bad("%s must be an object {token: id}", "model.vocab");
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added))
        return bad("%s must be an array", "added_tokens");
    int cap = cJSON_GetArraySize(vocab) + (cJSON_IsArray(added) ? cJSON_GetArraySize(added) : 0);
    token_slot *slots = calloc((size_t)cap + 1, sizeof *slots);
    if (!slots) return attn_error(ATTN_ERR_NOMEM, "out of memory for %d tokens", cap);
    attn_status s = ATTN_OK;
    const cJSON *item;
    cJSON_ArrayForEach(item, vocab) {
        int id;
        if (!get_id(item, &id)) {
            s = attn_error(ATTN_ERR_FORMAT,
                           "model.vocab: the id of '%.100s' is not an integer >= 0",
                           item->string ? item->string : "");
            break;
        }
        if ((s = put_token(slots, cap, id, item->string, TEXT_TOK_MODEL)) != ATTN_OK) break;
    }
    int k = 0;
    if (s == ATTN_OK && cJSON_IsArray(added)) {
        cJSON_ArrayForEach(item, added) {
            const cJSON *content = cJSON_GetObjectItemCaseSensitive(item, "content");
            int id, special = get_bool(item, "special", 0);
            if (!get_id(cJSON_GetObjectItemCaseSensitive(item, "id"), &id) ||
                !cJSON_IsString(content) || special < 0) {
                s = attn_error(ATTN_ERR_FORMAT,
                               "added_tokens[%d] needs an integer \"id\", a string \"content\" "
                               "and a boolean \"special\"",
                               k);
                break;
            }
            static const char *const unsupported[] = {"lstrip", "rstrip", "single_word"};
            for (int u = 0; u < 3 && s == ATTN_OK; u++)
                if (get_bool(item, unsupported[u], 0) != 0)
                    s = attn_error(ATTN_ERR_FORMAT,
                                   "added_tokens[%d] ('%.100s'): \"%s\" other than false is not "
                                   "supported",
                                   k, content->valuestring, unsupported[u]);
            if (s == ATTN_OK && has_normalizer && get_bool(item, "normalized", 0) != 0)
                s = attn_error(ATTN_ERR_FORMAT,
                               "added_tokens[%d] ('%.100s'): \"normalized\": true with a "
                               "normalizer is not supported (they are matched in the raw text)",
                               k, content->valuestring);
            if (s != ATTN_OK) break;
            int flags = TEXT_TOK_ADDED | (special ? TEXT_TOK_SPECIAL : 0);
            if ((s = put_token(slots, cap, id, content->valuestring, flags)) != ATTN_OK) break;
            k++;
        }
    }
    int n = 0;
    while (s == ATTN_OK && n < cap && slots[n].flags)
        n++;
    for (int i = n; s == ATTN_OK && i < cap; i++) {
        if (slots[i].flags)
            s = attn_error(ATTN_ERR_FORMAT, "token ids have a gap: none is %d, but '%.100s' is %d",
                           n, slots[i].text, i);
    }
    if (s == ATTN_OK && n == 0) s = attn_error(ATTN_ERR_FORMAT, "model.vocab is empty");
    for (int i = 0; s == ATTN_OK && i < n; i++)
        s = text_tokenizer_add(t, slots[i].text, strlen(slots[i].text), slots[i].flags);
    free(slots);
    if (s == ATTN_OK) text_tokenizer_find_specials(t);
    return s;
}

/* ---- the post-processor: what add_special puts around a text ------------------------------ */

/* Appends id to ids[*n] (at most 4). */
static attn_status add_post_id(const attn_tokenizer *t, int id, int *ids, int *n) {
    if (id < 0 || id >= t->vocab.n)
        return attn_error(ATTN_ERR_FORMAT, "post_processor: id %d is not in the vocabulary", id);
    if (*n >= 4) return bad("%s adds more than 4 tokens on one side", "post_processor");
    ids[(*n)++] = id;
    return ATTN_OK;
}

/* The id of a special token named in a template: from "special_tokens", or by name. */
static attn_status template_id(const cJSON *pp, const attn_tokenizer *t, const char *name,
                               int *id) {
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(specials, name);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(entry, "ids");
    if (cJSON_IsArray(ids) && cJSON_GetArraySize(ids) == 1 && get_id(ids->child, id))
        return ATTN_OK;
    *id = text_strmap_find(&t->vocab, name, strlen(name));
    if (*id < 0)
        return attn_error(ATTN_ERR_FORMAT, "post_processor: special token '%.100s' is unknown",
                          name);
    return ATTN_OK;
}

/* One post-processor step (not a Sequence). */
static attn_status read_post_step(const cJSON *pp, const char *type, attn_tokenizer *t) {
    if (strcmp(type, "ByteLevel") == 0) return ATTN_OK; /* offsets only */
    if (strcmp(type, "TemplateProcessing") == 0) {
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single"), *item;
        if (!cJSON_IsArray(single)) return bad("%s must be an array", "post_processor.single");
        int seen_a = 0;
        cJSON_ArrayForEach(item, single) {
            const cJSON *sp = cJSON_GetObjectItemCaseSensitive(item, "SpecialToken");
            const cJSON *seq = cJSON_GetObjectItemCaseSensitive(item, "Sequence");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(sp ? sp : seq, "id");
            if (!cJSON_IsString(name) || (!sp && !seq) || (seq && seen_a))
                return bad("%s: each piece must be one SpecialToken or the Sequence A",
                           "post_processor.single");
            if (seq) {
                seen_a = 1;
                continue;
            }
            int id;
            ATTN_TRY(template_id(pp, t, name->valuestring, &id));
            ATTN_TRY(seen_a ? add_post_id(t, id, t->suffix_ids, &t->n_suffix)
                            : add_post_id(t, id, t->prefix_ids, &t->n_prefix));
        }
        return seen_a ? ATTN_OK : bad("%s has no Sequence", "post_processor.single");
    }
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(pp, "cls");
        const cJSON *sep = cJSON_GetObjectItemCaseSensitive(pp, "sep");
        int c, e;
        if (!cJSON_IsArray(cls) || !cJSON_IsArray(sep) || cJSON_GetArraySize(cls) != 2 ||
            cJSON_GetArraySize(sep) != 2 || !get_id(cls->child->next, &c) ||
            !get_id(sep->child->next, &e))
            return bad("%s: cls and sep must be [token, id]", "post_processor");
        ATTN_TRY(add_post_id(t, c, t->prefix_ids, &t->n_prefix));
        return add_post_id(t, e, t->suffix_ids, &t->n_suffix);
    }
    if (!t->post_unsupported && !(t->post_unsupported = strdup(type)))
        return attn_error(ATTN_ERR_NOMEM, "out of memory");
    return ATTN_OK;
}

/* t->prefix_ids / suffix_ids from root.post_processor (read after the vocabulary). A kind this
 * library cannot apply is remembered, and only add_special refuses it. */
static attn_status read_post_processor(const cJSON *root, attn_tokenizer *t) {
    const cJSON *pp;
    int present;
    const char *type = type_of(root, "post_processor", &pp, &present);
    if (present <= 0) return present < 0 ? ATTN_ERR_FORMAT : ATTN_OK;
    t->n_prefix = t->n_suffix = 0;
    if (strcmp(type, "Sequence") != 0) return read_post_step(pp, type, t);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(pp, "processors"), *step;
    if (!cJSON_IsArray(list)) return bad("%s must be an array", "post_processor.processors");
    cJSON_ArrayForEach(step, list) {
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(step, "type");
        if (!cJSON_IsString(ty)) return bad("%s needs a string type", "post_processor step");
        ATTN_TRY(read_post_step(step, ty->valuestring, t));
    }
    return ATTN_OK;
}

/* ---- byte-level BPE ----------------------------------------------------------------------- */

/* A Prepend {"prepend": s} or Replace {"pattern": {"String": a}, "content": b} normaliser of a
 * SentencePiece-style file, appended to t->sp_norm. */
static attn_status sp_step(const cJSON *one, const char *name, attn_tokenizer *t) {
    int prepend = strcmp(name, "Prepend") == 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(one, prepend ? "prepend" : "content");
    const cJSON *from = prepend ? NULL
                                : cJSON_GetObjectItemCaseSensitive(
                                      cJSON_GetObjectItemCaseSensitive(one, "pattern"), "String");
    if (!cJSON_IsString(a) || (!prepend && (!cJSON_IsString(from) || !from->valuestring[0])))
        return bad("normalizer '%s' needs a string (Replace: a non-empty {\"String\": ...} "
                   "pattern; a Regex is not supported) and its content",
                   name);
    if (t->n_sp_norm >= 4) return bad("%s has more than 4 Prepend / Replace steps", "normalizer");
    text_sp_step *st = &t->sp_norm[t->n_sp_norm];
    st->prepend = prepend;
    st->text = strdup(a->valuestring);
    st->from = prepend ? NULL : strdup(from->valuestring);
    t->n_sp_norm++;
    if (!st->text || (!prepend && !st->from)) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    return ATTN_OK;
}

/* t->norm_flags from root.normalizer: null, NFC, Lowercase or a Sequence of them; for a
 * SentencePiece-style file also Prepend and Replace, after those (t->sp_norm). */
static attn_status read_bpe_normalizer(const cJSON *root, attn_tokenizer *t) {
    const cJSON *n;
    int present;
    const char *type = type_of(root, "normalizer", &n, &present);
    if (present <= 0) return present < 0 ? ATTN_ERR_FORMAT : ATTN_OK;
    const cJSON *one = n, *list = NULL;
    if (strcmp(type, "Sequence") == 0) {
        list = cJSON_GetObjectItemCaseSensitive(n, "normalizers");
        if (!cJSON_IsArray(list)) return bad("%s must be an array", "normalizer.normalizers");
        one = list->child;
    }
    for (; one; one = list ? one->next : NULL) {
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(one, "type");
        const char *name = cJSON_IsString(ty) ? ty->valuestring : "?";
        int flag = strcmp(name, "NFC") == 0         ? TEXT_NORM_NFC
                   : strcmp(name, "Lowercase") == 0 ? TEXT_NORM_LOWER
                                                    : 0;
        if (flag && t->n_sp_norm == 0) {
            t->norm_flags |= flag;
        } else if (flag) {
            return bad("normalizer '%.100s' after Prepend or Replace is not supported", name);
        } else if (t->sp && (strcmp(name, "Prepend") == 0 || strcmp(name, "Replace") == 0)) {
            ATTN_TRY(sp_step(one, name, t));
        } else {
            return bad(t->sp ? "normalizer '%.100s' is not supported (NFC, Lowercase, Prepend, "
                               "Replace of a String, or a Sequence of them are)"
                             : "normalizer '%.100s' is not supported for a byte-level BPE (NFC, "
                               "Lowercase or a Sequence of them are)",
                       name);
        }
    }
    return ATTN_OK;
}

/* A Split's pattern as a regex: {"Regex": r} as it is, {"String": s} with every ASCII
 * punctuation character escaped. Appends a malloc'd copy to pats[*n]. */
static attn_status split_pattern(const cJSON *split, int i, char **pats, int *n,
                                 unsigned char *merged) {
    const cJSON *pattern = cJSON_GetObjectItemCaseSensitive(split, "pattern");
    const cJSON *regex = cJSON_GetObjectItemCaseSensitive(pattern, "Regex");
    const cJSON *string = cJSON_GetObjectItemCaseSensitive(pattern, "String");
    const cJSON *behavior = cJSON_GetObjectItemCaseSensitive(split, "behavior");
    if (!cJSON_IsString(regex) && !cJSON_IsString(string))
        return attn_error(ATTN_ERR_FORMAT,
                          "pre_tokenizer %d (Split): \"pattern\" must be "
                          "{\"Regex\": ...} or {\"String\": ...}",
                          i);
    int merge =
        cJSON_IsString(behavior) && strcmp(behavior->valuestring, "MergedWithPrevious") == 0;
    if (!merge && (!cJSON_IsString(behavior) || strcmp(behavior->valuestring, "Isolated") != 0))
        return attn_error(ATTN_ERR_FORMAT,
                          "pre_tokenizer %d (Split): behavior '%.50s' is not "
                          "supported (Isolated and MergedWithPrevious are)",
                          i, cJSON_IsString(behavior) ? behavior->valuestring : "?");
    if (get_bool(split, "invert", 0) != 0)
        return attn_error(ATTN_ERR_FORMAT,
                          "pre_tokenizer %d (Split): invert other than false is "
                          "not supported",
                          i);
    if (*n >= TEXT_MAX_STAGES)
        return attn_error(ATTN_ERR_FORMAT, "more than %d pre-tokenizer patterns", TEXT_MAX_STAGES);
    int literal = !cJSON_IsString(regex); /* a String: its text, escaped */
    const char *src = literal ? string->valuestring : regex->valuestring;
    size_t len = strlen(src);
    if (len > 65536) return attn_error(ATTN_ERR_FORMAT, "pre_tokenizer %d: pattern too long", i);
    char *out = malloc(2 * len + 1), *o = out;
    if (!out) return attn_error(ATTN_ERR_NOMEM, "out of memory for a pattern");
    for (const char *c = src; *c; c++) {
        if (literal && (unsigned char)*c < 0x80 && strchr("\\^$.|?*+()[]{}-#/", *c)) *o++ = '\\';
        *o++ = *c;
    }
    *o = '\0';
    if (literal && len == 0) {
        free(out);
        return attn_error(ATTN_ERR_FORMAT, "pre_tokenizer %d (Split): empty pattern", i);
    }
    merged[*n] = (unsigned char)merge;
    pats[(*n)++] = out;
    return ATTN_OK;
}

/* The ByteLevel step: no prefix space; use_regex adds GPT-2's pattern as the last stage. */
static attn_status byte_level_step(const cJSON *obj, char **pats, int *n) {
    if (get_bool(obj, "add_prefix_space", 1) != 0)
        return bad("%s is not supported (decode would not give the text back)",
                   "pre_tokenizer.add_prefix_space other than false");
    int use_regex = get_bool(obj, "use_regex", 1);
    if (use_regex < 0) return bad("%s must be a boolean", "pre_tokenizer.use_regex");
    if (!use_regex) return ATTN_OK;
    if (*n >= TEXT_MAX_STAGES)
        return attn_error(ATTN_ERR_FORMAT, "more than %d pre-tokenizer patterns", TEXT_MAX_STAGES);
    if (!(pats[*n] = strdup(text_gpt2_pattern)))
        return attn_error(ATTN_ERR_NOMEM, "out of memory for a pattern");
    (*n)++;
    return ATTN_OK;
}

/* One step of a pre_tokenizer (a Sequence's, or the whole one) into pats / merged. */
static attn_status pretok_step(const cJSON *step, int i, char **pats, int *n, unsigned char *merged,
                               int *saw_byte_level, const attn_tokenizer *t) {
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(step, "type");
    const char *name = cJSON_IsString(ty) ? ty->valuestring : "?";
    if (*saw_byte_level)
        return attn_error(ATTN_ERR_FORMAT,
                          "pre_tokenizer %d ('%.50s') after ByteLevel is not supported (ByteLevel "
                          "must be last)",
                          i, name);
    if (strcmp(name, "Split") == 0) return split_pattern(step, i, pats, n, merged);
    if (strcmp(name, "ByteLevel") == 0 && !t->sp) {
        *saw_byte_level = 1;
        return byte_level_step(step, pats, n);
    }
    if (t->sp)
        return attn_error(ATTN_ERR_FORMAT,
                          "pre_tokenizer %d: '%.50s' is not supported for a SentencePiece-style "
                          "BPE (null, Split, or a Sequence of Split steps are)",
                          i, name);
    return attn_error(ATTN_ERR_FORMAT,
                      "pre_tokenizer %d: '%.50s' is not supported in a Sequence for a byte-level "
                      "BPE (Split and ByteLevel are)",
                      i, name);
}

/* t->re from root.pre_tokenizer. Byte-level BPE: ByteLevel, or a Sequence of Split steps ending
 * in ByteLevel, as GPT-2, Llama 3 and Qwen write them. SentencePiece-style (t->sp): null, one
 * Split (Gemma) or a Sequence of Split steps. */
static attn_status read_bpe_pretokenizer(const cJSON *root, attn_tokenizer *t) {
    const cJSON *obj;
    int present;
    const char *type = type_of(root, "pre_tokenizer", &obj, &present);
    if (present < 0) return ATTN_ERR_FORMAT;
    char *pats[TEXT_MAX_STAGES] = {0};
    unsigned char merged[TEXT_MAX_STAGES] = {0};
    int n = 0, saw_byte_level = 0;
    attn_status s = ATTN_OK;
    if (!type && t->sp) {
        /* no pre-tokenizer: each text is one piece */
    } else if (type && strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, "pretokenizers");
        if (!cJSON_IsArray(list)) return bad("%s must be an array", "pre_tokenizer.pretokenizers");
        int i = 0;
        const cJSON *step;
        cJSON_ArrayForEach(step, list) {
            if ((s = pretok_step(step, i++, pats, &n, merged, &saw_byte_level, t)) != ATTN_OK)
                break;
        }
        if (s == ATTN_OK && !saw_byte_level && !t->sp)
            s = bad("%s", "a byte-level BPE needs a ByteLevel step at the end of its "
                          "pre_tokenizer Sequence");
    } else if (type && (t->sp ? strcmp(type, "Split") == 0 : strcmp(type, "ByteLevel") == 0)) {
        s = pretok_step(obj, 0, pats, &n, merged, &saw_byte_level, t);
    } else if (t->sp) {
        return bad("pre_tokenizer '%.50s' is not supported for a SentencePiece-style BPE (null, "
                   "Split, or a Sequence of Split steps are)",
                   type);
    } else {
        return bad("pre_tokenizer must be ByteLevel, or a Sequence of Split steps and ByteLevel, "
                   "for a BPE model (found %s)",
                   type ? type : "none");
    }
    if (s == ATTN_OK) s = text_regex_create_chain((const char *const *)pats, n, &t->re);
    for (int i = 0; s == ATTN_OK && i < n; i++)
        if (merged[i]) text_regex_merge_with_previous(t->re, i);
    for (int i = 0; i < n; i++)
        free(pats[i]);
    return s;
}

/* The decoder of a SentencePiece-style BPE: a Sequence of Replace "▁" -> " ", ByteFallback,
 * Fuse and Strip (spaces at the start, after Fuse), each at most once, or null. */
static attn_status read_sp_decoder(const cJSON *dec, const char *type, attn_tokenizer *t) {
    if (!type) return ATTN_OK;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(dec, "decoders"), *step;
    if (strcmp(type, "Sequence") != 0 || !cJSON_IsArray(list))
        return bad("decoder '%.100s' is not supported for a SentencePiece-style BPE (a Sequence "
                   "of Replace, ByteFallback, Fuse and Strip is)",
                   type);
    int fused = 0;
    cJSON_ArrayForEach(step, list) {
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(step, "type");
        const char *name = cJSON_IsString(ty) ? ty->valuestring : "?";
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(step, "pattern"), "String");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(step, "content");
        const cJSON *start = cJSON_GetObjectItemCaseSensitive(step, "start");
        const cJSON *stop = cJSON_GetObjectItemCaseSensitive(step, "stop");
        int k;
        if (strcmp(name, "Replace") == 0 && !t->sp_decode_replace && cJSON_IsString(from) &&
            strcmp(from->valuestring, "\xe2\x96\x81") == 0 && cJSON_IsString(content) &&
            strcmp(content->valuestring, " ") == 0) {
            t->sp_decode_replace = 1;
        } else if (strcmp(name, "ByteFallback") == 0 || strcmp(name, "Fuse") == 0) {
            fused |= strcmp(name, "Fuse") == 0;
        } else if (strcmp(name, "Strip") == 0 && fused && cJSON_IsString(content) &&
                   strcmp(content->valuestring, " ") == 0 && get_id(start, &k) && k <= 16 &&
                   get_id(stop, &t->sp_strip) && t->sp_strip == 0) {
            t->sp_strip = k;
        } else {
            return bad("decoder step '%.100s' is not supported (Replace \"\xe2\x96\x81\" by "
                       "\" \", ByteFallback, Fuse, and Strip of leading spaces after Fuse are)",
                       name);
        }
    }
    return ATTN_OK;
}

/* The decoder and the model options must be the ones bpe.c implements. */
static attn_status check_bpe_options(const cJSON *root, const cJSON *model, attn_tokenizer *t) {
    if ((t->fuse_unk = get_bool(model, "fuse_unk", 0)) < 0)
        return bad("%s must be a boolean", "model.fuse_unk");
    if (t->fuse_unk && !t->sp)
        return bad("%s without byte_fallback is not supported (SentencePiece-style BPE is "
                   "recognised by byte_fallback)",
                   "model.fuse_unk");
    const cJSON *obj;
    int present;
    const char *type = type_of(root, "decoder", &obj, &present);
    if (present < 0) return ATTN_ERR_FORMAT;
    if (t->sp) {
        ATTN_TRY(read_sp_decoder(obj, type, t));
    } else if (type && strcmp(type, "ByteLevel") != 0) {
        return bad("decoder '%.100s' is not supported for a BPE model (ByteLevel is)", type);
    }
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (dropout && !cJSON_IsNull(dropout) &&
        !(cJSON_IsNumber(dropout) && dropout->valuedouble == 0))
        return bad("%s is not supported", "model.dropout");
    static const char *const affixes[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(model, affixes[i]);
        if (a && !cJSON_IsNull(a) && !(cJSON_IsString(a) && a->valuestring[0] == '\0'))
            return bad("model.%s is not supported for a byte-level BPE", affixes[i]);
    }
    if ((t->ignore_merges = get_bool(model, "ignore_merges", 0)) < 0)
        return bad("%s must be a boolean", "model.ignore_merges");
    return ATTN_OK;
}

/* The id of model token s, or -1 with an error naming merge r. */
static int32_t merge_part(const attn_tokenizer *t, int r, const char *s) {
    int32_t id = text_strmap_find(&t->vocab, s, strlen(s));
    if (id < 0 || !(t->flags[id] & TEXT_TOK_MODEL)) {
        attn_error(ATTN_ERR_FORMAT, "model.merges[%d]: '%.100s' is not in the vocabulary", r, s);
        return -1;
    }
    return id;
}

/* Reads model.merges ("a b" strings or ["a", "b"] pairs) into ids. */
static attn_status read_merges(const cJSON *model, attn_tokenizer *t, int32_t (**out)[2], int *n) {
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsArray(merges)) return bad("%s must be an array", "model.merges");
    int count = cJSON_GetArraySize(merges);
    int32_t(*m)[2] = malloc(((size_t)count + 1) * sizeof *m);
    char *buf = NULL;
    if (!m) return attn_error(ATTN_ERR_NOMEM, "out of memory for %d merges", count);
    attn_status s = ATTN_OK;
    int r = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, merges) {
        const char *a = NULL, *b = NULL;
        if (cJSON_IsString(item)) {
            const char *sp = strchr(item->valuestring, ' ');
            free(buf);
            buf = strdup(item->valuestring);
            if (!buf) {
                s = attn_error(ATTN_ERR_NOMEM, "out of memory");
                break;
            }
            if (sp && !strchr(sp + 1, ' ')) {
                buf[sp - item->valuestring] = '\0';
                a = buf;
                b = buf + (sp - item->valuestring) + 1;
            }
        } else if (cJSON_IsArray(item) && cJSON_GetArraySize(item) == 2 &&
                   cJSON_IsString(item->child) && cJSON_IsString(item->child->next)) {
            a = item->child->valuestring;
            b = item->child->next->valuestring;
        }
        if (!a) {
            s = attn_error(ATTN_ERR_FORMAT,
                           "model.merges[%d] is neither \"left right\" (one space) nor "
                           "[\"left\", \"right\"]",
                           r);
            break;
        }
        if ((m[r][0] = merge_part(t, r, a)) < 0 || (m[r][1] = merge_part(t, r, b)) < 0) {
            s = ATTN_ERR_FORMAT;
            break;
        }
        r++;
    }
    free(buf);
    if (s != ATTN_OK) {
        free(m);
        return s;
    }
    *out = m;
    *n = r;
    return ATTN_OK;
}

/* Fills the empty BPE tokenizer t from the parsed file. */
static attn_status read_bpe(const cJSON *root, const cJSON *model, attn_tokenizer *t) {
    if ((t->byte_fallback = get_bool(model, "byte_fallback", 0)) < 0)
        return bad("%s must be a boolean", "model.byte_fallback");
    t->sp = t->byte_fallback; /* SentencePiece-style: characters, not bytes */
    ATTN_TRY(read_bpe_pretokenizer(root, t));
    ATTN_TRY(check_bpe_options(root, model, t));
    ATTN_TRY(read_bpe_normalizer(root, t));
    ATTN_TRY(read_vocab(root, model, t->norm_flags != 0 || t->n_sp_norm > 0, t));
    ATTN_TRY(read_post_processor(root, t));
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (t->sp && cJSON_IsString(unk)) {
        t->unk_id = text_strmap_find(&t->vocab, unk->valuestring, strlen(unk->valuestring));
        if (t->unk_id < 0)
            return bad("model.unk_token '%.100s' is not in the vocabulary", unk->valuestring);
    } else if (unk && !cJSON_IsNull(unk) && !cJSON_IsString(unk)) {
        return bad("%s must be a string or null", "model.unk_token");
    }
    int32_t(*merges)[2] = NULL;
    int n = 0;
    ATTN_TRY(read_merges(model, t, &merges, &n));
    attn_status s = text_bpe_finish(t, (const int32_t(*)[2])merges, n);
    free(merges);
    return s;
}

/* ---- WordPiece ---------------------------------------------------------------------------- */

/* t->bert from root.normalizer (null: every step off), with the Hugging Face defaults. */
static attn_status read_bert_normalizer(const cJSON *root, attn_tokenizer *t) {
    const cJSON *n;
    int present;
    const char *type = type_of(root, "normalizer", &n, &present);
    t->bert = (text_bert_norm){0, 0, 0, 0};
    if (present <= 0) return present < 0 ? ATTN_ERR_FORMAT : ATTN_OK;
    if (strcmp(type, "BertNormalizer") != 0)
        return bad("normalizer '%.100s' is not supported for WordPiece (BertNormalizer is)", type);
    t->bert.clean_text = get_bool(n, "clean_text", 1);
    t->bert.chinese_chars = get_bool(n, "handle_chinese_chars", 1);
    t->bert.lowercase = get_bool(n, "lowercase", 1);
    t->bert.strip_accents = get_bool(n, "strip_accents", t->bert.lowercase); /* null: as lower */
    if (t->bert.clean_text < 0 || t->bert.chinese_chars < 0 || t->bert.lowercase < 0 ||
        t->bert.strip_accents < 0)
        return bad("%s options must be booleans (strip_accents may be null)", "normalizer");
    return ATTN_OK;
}

/* Fills the empty WordPiece tokenizer t from the parsed file. */
static attn_status read_wordpiece(const cJSON *root, const cJSON *model, attn_tokenizer *t) {
    ATTN_TRY(read_bert_normalizer(root, t));
    const cJSON *obj;
    int present;
    const char *type = type_of(root, "pre_tokenizer", &obj, &present);
    if (present < 0) return ATTN_ERR_FORMAT;
    if (type && strcmp(type, "BertPreTokenizer") != 0)
        return bad("pre_tokenizer '%.100s' is not supported for WordPiece (BertPreTokenizer is)",
                   type);
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(model, "continuing_subword_prefix");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(model, "max_input_chars_per_word");
    if ((unk && !cJSON_IsString(unk)) || (prefix && !cJSON_IsString(prefix)) ||
        (max && !get_id(max, &t->max_chars)))
        return bad("%s: unk_token and continuing_subword_prefix must be strings, "
                   "max_input_chars_per_word an integer",
                   "model");
    if (t->max_chars > (1 << 20)) return bad("%s is too large", "model.max_input_chars_per_word");
    const char *p = prefix ? prefix->valuestring : "##";
    type = type_of(root, "decoder", &obj, &present);
    if (present < 0) return ATTN_ERR_FORMAT;
    if (type && strcmp(type, "WordPiece") != 0)
        return bad("decoder '%.100s' is not supported for WordPiece", type);
    if (type) {
        const cJSON *dp = cJSON_GetObjectItemCaseSensitive(obj, "prefix");
        t->cleanup = get_bool(obj, "cleanup", 1);
        if (t->cleanup < 0) return bad("%s must be a boolean", "decoder.cleanup");
        if (dp && (!cJSON_IsString(dp) || strcmp(dp->valuestring, p) != 0))
            return bad("%s must be the model's continuing_subword_prefix", "decoder.prefix");
    }
    if (!(t->prefix = strdup(p))) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    int has_normalizer =
        t->bert.clean_text || t->bert.chinese_chars || t->bert.lowercase || t->bert.strip_accents;
    ATTN_TRY(read_vocab(root, model, has_normalizer, t));
    ATTN_TRY(read_post_processor(root, t));
    const char *unk_name = unk ? unk->valuestring : "[UNK]";
    t->unk_id = text_strmap_find(&t->vocab, unk_name, strlen(unk_name));
    if (t->unk_id < 0) return bad("model.unk_token '%.100s' is not in the vocabulary", unk_name);
    return text_wordpiece_finish(t);
}

/* ---- entry points ------------------------------------------------------------------------- */

attn_status attn_tokenizer_from_json(const char *json, size_t len, attn_tokenizer **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "tokenizer from json: NULL output");
    *out = NULL;
    if (!json) return attn_error(ATTN_ERR_INVALID, "tokenizer from json: NULL text");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        return attn_error(ATTN_ERR_FORMAT, "tokenizer.json is not valid JSON (error near byte %zu)",
                          at);
    }
    attn_status s = text_tokenizer_from_parsed(root, out);
    cJSON_Delete(root);
    return s;
}

attn_status text_tokenizer_from_parsed(const struct cJSON *root, attn_tokenizer **out) {
    *out = NULL;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    attn_status s = ATTN_OK;
    attn_tokenizer *t = NULL;
    if (!cJSON_IsObject(root) || !cJSON_IsObject(model) || !cJSON_IsString(type)) {
        s = bad("tokenizer.json needs an object \"model\" with a string \"type\"%s", "");
    } else if (strcmp(type->valuestring, "BPE") != 0 && strcmp(type->valuestring, "WordPiece")) {
        s = bad("model.type '%.100s' is not supported (BPE and WordPiece are)", type->valuestring);
    } else {
        int bpe = strcmp(type->valuestring, "BPE") == 0;
        t = text_tokenizer_new(bpe ? ATTN_TOKENIZER_BPE : ATTN_TOKENIZER_WORDPIECE);
        if (!t)
            s = attn_error(ATTN_ERR_NOMEM, "out of memory for a tokenizer");
        else
            s = bpe ? read_bpe(root, model, t) : read_wordpiece(root, model, t);
    }
    if (s != ATTN_OK) {
        attn_tokenizer_free(t);
        return s;
    }
    *out = t;
    return ATTN_OK;
}

attn_status attn_tokenizer_load(const char *path, attn_tokenizer **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "tokenizer load: NULL output");
    *out = NULL;
    void *data;
    size_t size;
    ATTN_TRY(attn_file_read_all(path, &data, &size));
    const char *s = data;
    size_t bom = size >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0, i = bom;
    while (i < size && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    /* A tokenizer.json is an object; a vocab.txt is one token per line (no token starts a
     * file with '{': BERT's first line is [PAD]). */
    attn_status st = i < size && s[i] == '{' ? attn_tokenizer_from_json(s + i, size - i, out)
                                             : text_load_vocab_txt(s + bom, size - bom, out);
    free(data);
    if (st != ATTN_OK) return attn_error_context(st, "loading %s", path);
    return ATTN_OK;
}
