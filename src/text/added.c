/* text/added.c: added tokens (special and not), split out of the text before anything else.
 *
 * Hugging Face (and transformers.js) cut the text at its added tokens first: at each position
 * the longest added token that starts there is taken, else the position moves on; the text
 * between added tokens is normalised, pre-tokenised and encoded by the model, each part on its
 * own. Non-special added tokens (Qwen's "<think>") are always split out; special ones
 * ("<|endoftext|>", "[CLS]") only when the caller allows it (attn_encode_params.allow_special),
 * so that user text cannot inject control tokens by default.
 *
 * The table: the ids of the added tokens sorted by first byte, then by length descending, with
 * the start of each first byte's bucket, so the first token of a bucket that matches is the
 * longest. Added tokens are valid UTF-8, so a match always starts at a character boundary. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/text_internal.h"

typedef struct {
    unsigned char first;
    size_t len;
    int id;
} added_key;

static int by_first_byte_then_longest(const void *pa, const void *pb) {
    const added_key *a = pa, *b = pb;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return a->id - b->id;
}

attn_status text_added_finish(attn_tokenizer *t) {
    int count = 0;
    for (int32_t id = 0; id < t->vocab.n; id++)
        if (t->flags[id] & TEXT_TOK_ADDED) count++;
    free(t->added);
    t->added = malloc(((size_t)count + 1) * sizeof *t->added);
    added_key *keys = malloc(((size_t)count + 1) * sizeof *keys);
    if (!t->added || !keys) {
        free(keys);
        return attn_error(ATTN_ERR_NOMEM, "out of memory for %d added tokens", count);
    }
    int k = 0;
    for (int32_t id = 0; id < t->vocab.n; id++) {
        if (!(t->flags[id] & TEXT_TOK_ADDED)) continue;
        size_t len;
        const char *s = text_strmap_key(&t->vocab, id, &len);
        keys[k++] = (added_key){(unsigned char)s[0], len, id};
    }
    qsort(keys, (size_t)count, sizeof *keys, by_first_byte_then_longest);
    memset(t->added_start, 0, sizeof t->added_start);
    for (int i = 0; i < count; i++) {
        t->added[i] = keys[i].id;
        t->added_start[keys[i].first + 1]++;
    }
    free(keys);
    for (int b = 0; b < 256; b++)
        t->added_start[b + 1] += t->added_start[b];
    return ATTN_OK;
}

/* The id of the longest allowed added token at text[0..len), or -1; its length in *n. */
static int match_added(const attn_tokenizer *t, const char *text, size_t len, int allow_special,
                       size_t *n) {
    unsigned char b = (unsigned char)text[0];
    for (int i = t->added_start[b]; i < t->added_start[b + 1]; i++) {
        int id = t->added[i];
        if (!allow_special && (t->flags[id] & TEXT_TOK_SPECIAL)) continue;
        size_t tl;
        const char *tok = text_strmap_key(&t->vocab, id, &tl);
        if (tl <= len && memcmp(tok, text, tl) == 0) {
            *n = tl;
            return id;
        }
    }
    return -1;
}

/* The model's own encoding of a part between added tokens. */
static attn_status encode_part(const attn_tokenizer *t, const char *text, size_t len,
                               text_ints *out) {
    if (len == 0) return ATTN_OK;
    return t->kind == ATTN_TOKENIZER_BPE ? text_bpe_encode(t, text, len, out)
                                         : text_wordpiece_encode(t, text, len, out);
}

attn_status text_encode_with_added(const attn_tokenizer *t, const char *text, size_t len,
                                   int allow_special, text_ints *out) {
    size_t part = 0; /* start of the text not yet encoded */
    if (t->added && t->added_start[256] > 0) {
        for (size_t pos = 0; pos < len;) {
            size_t n;
            int id = t->added_start[(unsigned char)text[pos] + 1] >
                             t->added_start[(unsigned char)text[pos]]
                         ? match_added(t, text + pos, len - pos, allow_special, &n)
                         : -1;
            if (id < 0) {
                pos++;
                continue;
            }
            ATTN_TRY(encode_part(t, text + part, pos - part, out));
            ATTN_TRY(text_ints_push(out, id));
            pos += n;
            part = pos;
        }
    }
    return encode_part(t, text + part, len - part, out);
}
