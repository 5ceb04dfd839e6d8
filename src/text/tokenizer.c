/* text/tokenizer.c: the attn_tokenizer handle: creation, accessors, and encode/decode dispatched
 * to the byte-level BPE (bpe.c) or WordPiece (wordpiece.c), after the added tokens are split out
 * (added.c). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/text_internal.h"

static const char *const special_names[ATTN_SPECIAL_COUNT] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]",
                                                              "[MASK]"};

attn_tokenizer *text_tokenizer_new(attn_tokenizer_kind kind) {
    attn_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->kind = kind;
    for (int i = 0; i < ATTN_SPECIAL_COUNT; i++)
        t->special_ids[i] = -1;
    t->unk_id = -1;
    t->max_chars = 100;
    t->cleanup = 1;
    return t;
}

attn_status text_tokenizer_add(attn_tokenizer *t, const char *s, size_t len, int flags) {
    int inserted;
    int32_t n = t->vocab.n;
    if (n >= (1 << 30)) return attn_error(ATTN_ERR_FORMAT, "more than 2^30 tokens");
    /* Grow the flags first: a failure then leaves the vocabulary unchanged. */
    unsigned char *f = realloc(t->flags, (size_t)n + 1);
    if (!f) return attn_error(ATTN_ERR_NOMEM, "out of memory for %d tokens", n + 1);
    t->flags = f;
    int32_t id = text_strmap_insert(&t->vocab, s, len, 0, &inserted);
    if (id < 0) return attn_error(ATTN_ERR_NOMEM, "out of memory for %d tokens", n + 1);
    if (!inserted) {
        return attn_error(ATTN_ERR_FORMAT, "token '%.*s' appears twice (ids %d and %d)",
                          (int)(len > 200 ? 200 : len), s, id, n);
    }
    t->flags[id] = (unsigned char)flags;
    return ATTN_OK;
}

void text_tokenizer_find_specials(attn_tokenizer *t) {
    for (int i = 0; i < ATTN_SPECIAL_COUNT; i++)
        t->special_ids[i] = text_strmap_find(&t->vocab, special_names[i], strlen(special_names[i]));
}

void attn_tokenizer_free(attn_tokenizer *t) {
    if (!t) return;
    text_strmap_free(&t->vocab);
    free(t->flags);
    free(t->merges);
    free(t->merge_result);
    text_u64map_free(&t->merge_rank);
    free(t->bytes);
    free(t->bytes_off);
    text_regex_free(t->re);
    free(t->added);
    free(t->post_unsupported);
    text_sp_free(t);
    free(t->prefix);
    free(t);
}

attn_tokenizer_kind attn_tokenizer_get_kind(const attn_tokenizer *t) {
    return t ? t->kind : ATTN_TOKENIZER_BPE;
}

int attn_tokenizer_vocab_size(const attn_tokenizer *t) {
    return t ? t->vocab.n : 0;
}

int attn_tokenizer_special(const attn_tokenizer *t, attn_special which) {
    if (!t || (int)which < 0 || which >= ATTN_SPECIAL_COUNT) return -1;
    return t->special_ids[which];
}

const char *attn_tokenizer_token(const attn_tokenizer *t, int id) {
    if (!t || id < 0 || id >= t->vocab.n) return NULL;
    return text_strmap_key(&t->vocab, id, NULL);
}

const char *attn_tokenizer_token_bytes(const attn_tokenizer *t, int id, size_t *len) {
    if (len) *len = 0;
    if (!t || t->kind != ATTN_TOKENIZER_BPE || id < 0 || id >= t->vocab.n) return NULL;
    if (t->flags[id] & TEXT_TOK_SPECIAL) return "";
    if (len) *len = t->bytes_off[id + 1] - t->bytes_off[id];
    return t->bytes + t->bytes_off[id];
}

attn_encode_params attn_encode_default_params(void) {
    return (attn_encode_params){.allow_special = 0, .add_special = 0};
}

attn_status attn_tokenizer_encode(const attn_tokenizer *t, const char *text, size_t len, int **ids,
                                  int *n) {
    return attn_tokenizer_encode_with(t, text, len, attn_encode_default_params(), ids, n);
}

/* out gets prefix ids, the text's ids, suffix ids (add_special), or the text's ids alone. */
static attn_status encode_into(const attn_tokenizer *t, const char *text, size_t len,
                               attn_encode_params p, text_ints *out) {
    if (p.add_special && t->post_unsupported)
        return attn_error(ATTN_ERR_INVALID,
                          "tokenizer encode: add_special: the post_processor '%.100s' is not "
                          "supported (TemplateProcessing, BertProcessing, RobertaProcessing and "
                          "ByteLevel are)",
                          t->post_unsupported);
    for (int i = 0; p.add_special && i < t->n_prefix; i++)
        ATTN_TRY(text_ints_push(out, t->prefix_ids[i]));
    ATTN_TRY(text_encode_with_added(t, text, len, p.allow_special, out));
    for (int i = 0; p.add_special && i < t->n_suffix; i++)
        ATTN_TRY(text_ints_push(out, t->suffix_ids[i]));
    return ATTN_OK;
}

attn_status attn_tokenizer_encode_with(const attn_tokenizer *t, const char *text, size_t len,
                                       attn_encode_params params, int **ids, int *n) {
    if (!ids || !n) return attn_error(ATTN_ERR_INVALID, "tokenizer encode: NULL output");
    *ids = NULL;
    *n = 0;
    if (!t || (!text && len > 0))
        return attn_error(ATTN_ERR_INVALID, "tokenizer encode: NULL tokenizer or text");
    text_ints out = {0};
    attn_status s = encode_into(t, text, len, params, &out);
    if (s == ATTN_OK && out.len > (size_t)INT32_MAX)
        s = attn_error(ATTN_ERR_INVALID, "tokenizer encode: more than 2^31 tokens");
    if (s == ATTN_OK && !out.data) { /* an empty result is still a buffer the caller frees */
        s = text_ints_push(&out, 0);
        out.len = 0;
    }
    if (s != ATTN_OK) {
        free(out.data);
        return s;
    }
    *ids = out.data;
    *n = (int)out.len;
    return ATTN_OK;
}

attn_status attn_tokenizer_decode(const attn_tokenizer *t, const int *ids, int n, char **text,
                                  size_t *len) {
    if (!text || !len) return attn_error(ATTN_ERR_INVALID, "tokenizer decode: NULL output");
    *text = NULL;
    *len = 0;
    if (!t || n < 0 || (!ids && n > 0))
        return attn_error(ATTN_ERR_INVALID, "tokenizer decode: NULL tokenizer or ids, or n < 0");
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->vocab.n) {
            return attn_error(ATTN_ERR_INVALID,
                              "tokenizer decode: id %d (position %d) is outside "
                              "the vocabulary of %d",
                              ids[i], i, t->vocab.n);
        }
    }
    text_buf b = {0};
    attn_status s = t->kind == ATTN_TOKENIZER_BPE ? text_bpe_decode(t, ids, n, &b)
                                                  : text_wordpiece_decode(t, ids, n, &b);
    if (s == ATTN_OK) s = text_buf_append(&b, "", 1);
    if (s != ATTN_OK) {
        free(b.data);
        return s;
    }
    *text = b.data;
    *len = b.len - 1;
    return ATTN_OK;
}
