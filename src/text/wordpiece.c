/* text/wordpiece.c: BERT's WordPiece: greedy longest-match-first over each word of the basic
 * tokenizer (wordpiece_normalize.c), and loading a vocab.txt.
 *
 * A word is cut from the left: the longest prefix in the vocabulary is the first piece, then the
 * longest "##"-prefixed continuation of the rest, and so on. If some rest has no piece at all,
 * or the word is longer than max_chars (100) code points, the whole word is one [UNK]. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/text_internal.h"

attn_status text_wordpiece_finish(attn_tokenizer *t) {
    if (!t->prefix) {
        if (!(t->prefix = malloc(3)))
            return attn_error(ATTN_ERR_NOMEM, "out of memory for the WordPiece prefix");
        memcpy(t->prefix, "##", 3);
    }
    if (t->max_chars < 1) {
        return attn_error(ATTN_ERR_FORMAT, "WordPiece: max_input_chars_per_word %d < 1",
                          t->max_chars);
    }
    if (t->unk_id < 0 || t->unk_id >= t->vocab.n || !(t->flags[t->unk_id] & TEXT_TOK_MODEL))
        return attn_error(ATTN_ERR_FORMAT, "WordPiece: the unknown token is not in the vocabulary");
    return text_added_finish(t);
}

typedef struct {
    const attn_tokenizer *t;
    text_ints *out;
    size_t *char_off; /* [max_chars + 1] byte offset of each code point of the word */
    text_buf key;     /* prefix + piece */
} wp_state;

/* The id of the model token word[a..b) (prefixed when `cont`), or -1. */
static int32_t lookup(wp_state *st, const char *w, size_t a, size_t b, int cont) {
    st->key.len = 0;
    if (cont && text_buf_append(&st->key, st->t->prefix, strlen(st->t->prefix))) return -2;
    if (text_buf_append(&st->key, w + a, b - a)) return -2;
    int32_t id = text_strmap_find(&st->t->vocab, st->key.data, st->key.len);
    return id >= 0 && (st->t->flags[id] & TEXT_TOK_MODEL) ? id : -1;
}

/* text_piece_fn: appends the pieces of one word (or [UNK]) to the wp_state in user. */
static attn_status encode_word(const char *w, size_t len, int is_byte, void *user) {
    wp_state *st = user;
    const attn_tokenizer *t = st->t;
    size_t n = 0; /* code points */
    for (size_t i = 0; i < len; n++) {
        if (n >= (size_t)t->max_chars) return text_ints_push(st->out, t->unk_id);
        int32_t cp;
        int k = text_utf8_decode((const unsigned char *)w + i, len - i, &cp);
        st->char_off[n] = i;
        i += k ? (size_t)k : 1;
    }
    st->char_off[n] = len;
    size_t first = st->out->len;
    for (size_t start = 0; start < n;) {
        int32_t id = -1;
        size_t end = n;
        for (; end > start; end--) {
            id = lookup(st, w, st->char_off[start], st->char_off[end], start > 0);
            if (id == -2) return attn_error(ATTN_ERR_NOMEM, "WordPiece: out of memory");
            if (id >= 0) break;
        }
        if (id < 0) { /* no piece fits: the whole word is unknown */
            st->out->len = first;
            return text_ints_push(st->out, t->unk_id);
        }
        ATTN_TRY(text_ints_push(st->out, id));
        start = end;
    }
    return ATTN_OK;
}

attn_status text_wordpiece_encode(const attn_tokenizer *t, const char *text, size_t len,
                                  text_ints *out) {
    wp_state st = {.t = t, .out = out};
    st.char_off = malloc(((size_t)t->max_chars + 1) * sizeof *st.char_off);
    if (!st.char_off) return attn_error(ATTN_ERR_NOMEM, "WordPiece: out of memory");
    attn_status s = text_bert_split(&t->bert, text, len, encode_word, &st);
    free(st.char_off);
    free(st.key.data);
    return s;
}

/* Appends `token` to b, then replaces what the Hugging Face decoder's clean-up replaces, in its
 * order: " ." -> ".", " ?" -> "?", " !" -> "!", " ," -> ",", " ' " -> "'", " n't" -> "n't",
 * " 'm" -> "'m", " do not" -> " don't", " 's" -> "'s", " 've" -> "'ve", " 're" -> "'re". */
static attn_status append_cleaned(text_buf *b, const char *token, size_t len) {
    static const char *const from[] = {" .",  " ?",      " !",  " ,",   " ' ", " n't",
                                       " 'm", " do not", " 's", " 've", " 're"};
    static const char *const to[] = {".",  "?",      "!",  ",",   "'",  "n't",
                                     "'m", " don't", "'s", "'ve", "'re"};
    text_buf cur = {0}, next = {0};
    attn_status s = text_buf_append(&cur, token, len);
    for (size_t r = 0; r < sizeof from / sizeof *from && s == ATTN_OK; r++) {
        size_t fl = strlen(from[r]), tl = strlen(to[r]);
        next.len = 0;
        for (size_t i = 0; i < cur.len && s == ATTN_OK;) {
            if (cur.len - i >= fl && memcmp(cur.data + i, from[r], fl) == 0) {
                s = text_buf_append(&next, to[r], tl);
                i += fl;
            } else {
                s = text_buf_append(&next, cur.data + i, 1);
                i++;
            }
        }
        text_buf swap = cur;
        cur = next;
        next = swap;
    }
    if (s == ATTN_OK) s = text_buf_append(b, cur.data, cur.len);
    free(cur.data);
    free(next.data);
    return s;
}

/* Hugging Face's WordPiece decoder: tokens joined by spaces, except that a token starting with
 * the prefix (not the first) loses it and joins its left neighbour; each token then cleaned. */
attn_status text_wordpiece_decode(const attn_tokenizer *t, const int *ids, int n, text_buf *out) {
    size_t pl = strlen(t->prefix);
    text_buf tok = {0};
    attn_status s = ATTN_OK;
    int emitted = 0;
    for (int i = 0; i < n && s == ATTN_OK; i++) {
        if (t->flags[ids[i]] & TEXT_TOK_SPECIAL) continue;
        size_t len;
        const char *str = text_strmap_key(&t->vocab, ids[i], &len);
        tok.len = 0;
        if (emitted && pl > 0 && len >= pl && memcmp(str, t->prefix, pl) == 0) {
            s = text_buf_append(&tok, str + pl, len - pl);
        } else {
            if (emitted) s = text_buf_append(&tok, " ", 1);
            if (s == ATTN_OK) s = text_buf_append(&tok, str, len);
        }
        if (s == ATTN_OK)
            s = t->cleanup ? append_cleaned(out, tok.data, tok.len)
                           : text_buf_append(out, tok.data, tok.len);
        emitted++;
    }
    free(tok.data);
    return s;
}

/* ---- vocab.txt ---------------------------------------------------------------------------- */

/* Nonzero when s[0..n) holds only line ends. */
static int only_newlines(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\n' && s[i] != '\r') return 0;
    return 1;
}

attn_status text_load_vocab_txt(const char *data, size_t len, attn_tokenizer **out) {
    *out = NULL;
    attn_tokenizer *t = text_tokenizer_new(ATTN_TOKENIZER_WORDPIECE);
    if (!t) return attn_error(ATTN_ERR_NOMEM, "out of memory for a tokenizer");
    t->bert = (text_bert_norm){1, 1, 1, 1}; /* bert-base-uncased */
    attn_status s = ATTN_OK;
    size_t pos = 0;
    for (int line = 1; pos < len && s == ATTN_OK; line++) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len, n = end - pos;
        if (n > 0 && data[pos + n - 1] == '\r') n--;               /* CRLF files */
        if (n == 0 && only_newlines(data + pos, len - pos)) break; /* trailing blank lines */
        if (n == 0) {
            s = attn_error(ATTN_ERR_FORMAT, "vocab.txt line %d: empty token", line);
        } else if (memchr(data + pos, '\0', n) ||
                   text_utf8_valid_prefix((const unsigned char *)data + pos, n) != n) {
            s = attn_error(ATTN_ERR_FORMAT, "vocab.txt line %d: not valid UTF-8 text", line);
        } else if ((s = text_tokenizer_add(t, data + pos, n, TEXT_TOK_MODEL)) != ATTN_OK) {
            attn_error_context(s, "vocab.txt line %d", line);
        }
        pos = end + 1;
    }
    if (s == ATTN_OK && t->vocab.n == 0) s = attn_error(ATTN_ERR_FORMAT, "vocab.txt is empty");
    if (s == ATTN_OK) {
        text_tokenizer_find_specials(t);
        for (int i = 0; i < ATTN_SPECIAL_COUNT; i++)
            if (t->special_ids[i] >= 0)
                t->flags[t->special_ids[i]] |= TEXT_TOK_ADDED | TEXT_TOK_SPECIAL;
        t->unk_id = t->special_ids[ATTN_SPECIAL_UNK];
        if (t->special_ids[ATTN_SPECIAL_CLS] >= 0 && t->special_ids[ATTN_SPECIAL_SEP] >= 0) {
            t->prefix_ids[t->n_prefix++] = t->special_ids[ATTN_SPECIAL_CLS]; /* add_special */
            t->suffix_ids[t->n_suffix++] = t->special_ids[ATTN_SPECIAL_SEP];
        }
        if (t->unk_id < 0) s = attn_error(ATTN_ERR_FORMAT, "vocab.txt has no [UNK] token");
    }
    if (s == ATTN_OK) s = text_wordpiece_finish(t);
    if (s != ATTN_OK) {
        attn_tokenizer_free(t);
        return s;
    }
    *out = t;
    return ATTN_OK;
}
