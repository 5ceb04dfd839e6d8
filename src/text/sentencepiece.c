/* text/sentencepiece.c: what a SentencePiece-style BPE (Llama 2, Gemma) adds to bpe.c.
 *
 * Such a file has no ByteLevel step: its vocabulary holds characters, with "▁" (U+2581) for a
 * space, put there by its normalisers (Llama 2: Prepend "▁", then Replace " " by "▁"; Gemma:
 * the Replace alone). A pre-token starts as its characters' tokens; a character the vocabulary
 * lacks becomes the tokens <0x..> of its UTF-8 bytes (byte_fallback), or the unknown token, and
 * consecutive unknown characters are one unknown token (fuse_unk), as Hugging Face's BPE does.
 * Then the merges run as for byte-level BPE. An invalid UTF-8 byte is its <0x..> token (so such
 * a tokenizer, unlike Hugging Face's, which cannot take invalid text, keeps every byte).
 *
 * Decoding: the decoder chain of these files (Replace "▁" by " ", ByteFallback, Fuse, Strip) is
 * each token's text with "▁" as a space, the <0x..> tokens as their bytes (given back as they
 * are, where Hugging Face would write U+FFFD for bytes that are not UTF-8), and then the leading
 * spaces Strip removes from the start of the text. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/text_internal.h"

static const char space_mark[] = "\xe2\x96\x81"; /* U+2581, "▁" */

attn_status text_sp_finish(attn_tokenizer *t) {
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        int32_t id = text_strmap_find(&t->vocab, name, 6);
        t->sp_byte_id[b] = id >= 0 && (t->flags[id] & TEXT_TOK_MODEL) ? id : -1;
    }
    if (t->unk_id >= 0 && !(t->flags[t->unk_id] & TEXT_TOK_MODEL))
        return attn_error(ATTN_ERR_FORMAT, "model.unk_token is not a token of the model");
    return ATTN_OK;
}

void text_sp_free(attn_tokenizer *t) {
    for (int i = 0; i < t->n_sp_norm; i++) {
        free(t->sp_norm[i].from);
        free(t->sp_norm[i].text);
    }
    t->n_sp_norm = 0;
}

/* Appends s[0..n) to b with every `from` replaced by `to`. */
static attn_status replace_all(const char *s, size_t n, const char *from, const char *to,
                               text_buf *b) {
    size_t fl = strlen(from), tl = strlen(to), last = 0;
    for (size_t i = 0; fl > 0 && i + fl <= n;) {
        if (memcmp(s + i, from, fl) == 0) {
            ATTN_TRY(text_buf_append(b, s + last, i - last));
            ATTN_TRY(text_buf_append(b, to, tl));
            i += fl;
            last = i;
        } else {
            i++;
        }
    }
    return text_buf_append(b, s + last, n - last);
}

attn_status text_sp_normalize(const attn_tokenizer *t, const char *text, size_t len, char **out,
                              size_t *out_len) {
    text_buf cur = {0};
    attn_status s = text_buf_append(&cur, text, len);
    for (int i = 0; i < t->n_sp_norm && s == ATTN_OK; i++) {
        const text_sp_step *st = &t->sp_norm[i];
        text_buf next = {0};
        if (st->prepend) {
            if (cur.len > 0) s = text_buf_append(&next, st->text, strlen(st->text));
            if (s == ATTN_OK) s = text_buf_append(&next, cur.data, cur.len);
        } else {
            s = replace_all(cur.data ? cur.data : "", cur.len, st->from, st->text, &next);
        }
        free(cur.data);
        cur = next;
    }
    if (s == ATTN_OK) s = text_buf_append(&cur, "", 1);
    if (s != ATTN_OK) {
        free(cur.data);
        return s;
    }
    *out = cur.data;
    *out_len = cur.len - 1;
    return ATTN_OK;
}

/* Appends the unknown token (once for a run, with fuse_unk), or fails naming the character. */
static attn_status push_unk(const attn_tokenizer *t, const char *c, int k, text_ints *ids,
                            int *last_unk) {
    if (t->unk_id < 0)
        return attn_error(ATTN_ERR_INVALID,
                          "encode: '%.*s' is not in the vocabulary, which has no unknown token", k,
                          c);
    if (t->fuse_unk && *last_unk) return ATTN_OK;
    *last_unk = 1;
    return text_ints_push(ids, t->unk_id);
}

attn_status text_sp_initial_ids(const attn_tokenizer *t, const char *piece, size_t len, int is_byte,
                                text_ints *ids) {
    int last_unk = 0;
    for (size_t i = 0; i < len;) {
        int32_t cp;
        int k = is_byte ? 0 : text_utf8_decode((const unsigned char *)piece + i, len - i, &cp);
        if (k == 0) { /* an invalid byte: its byte token */
            int id = t->sp_byte_id[(unsigned char)piece[i]];
            if (id >= 0) {
                ATTN_TRY(text_ints_push(ids, id));
                last_unk = 0;
            } else {
                ATTN_TRY(push_unk(t, piece + i, 1, ids, &last_unk));
            }
            i++;
            continue;
        }
        int32_t id = text_strmap_find(&t->vocab, piece + i, (size_t)k);
        if (id >= 0 && (t->flags[id] & TEXT_TOK_MODEL)) {
            ATTN_TRY(text_ints_push(ids, id));
            last_unk = 0;
        } else {
            int all = t->byte_fallback;
            for (int j = 0; all && j < k; j++)
                all = t->sp_byte_id[(unsigned char)piece[i + j]] >= 0;
            if (all) {
                for (int j = 0; j < k; j++)
                    ATTN_TRY(text_ints_push(ids, t->sp_byte_id[(unsigned char)piece[i + j]]));
                last_unk = 0;
            } else {
                ATTN_TRY(push_unk(t, piece + i, k, ids, &last_unk));
            }
        }
        i += (size_t)k;
    }
    return ATTN_OK;
}

attn_status text_sp_token_bytes(const attn_tokenizer *t, int32_t id, text_buf *b) {
    size_t len;
    const char *s = text_strmap_key(&t->vocab, id, &len);
    if (t->byte_fallback && len == 6 && s[0] == '<') {
        for (int v = 0; v < 256; v++)
            if (t->sp_byte_id[v] == id) {
                unsigned char one = (unsigned char)v;
                return text_buf_append(b, &one, 1);
            }
    }
    return t->sp_decode_replace ? replace_all(s, len, space_mark, " ", b)
                                : text_buf_append(b, s, len);
}
