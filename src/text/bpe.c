/* text/bpe.c: byte-level BPE encoding and decoding (GPT-2 / Hugging Face semantics).
 *
 * Encoding: normalise (optional), pre-tokenise (pretokenize.c), then for each pre-token start
 * from its byte tokens and repeatedly merge the adjacent pair with the lowest merge rank, the
 * leftmost one on ties, until no adjacent pair has a merge. This is what the Hugging Face
 * `tokenizers` BPE does (a heap of (rank, position) with stale entries skipped); for merges
 * learned by training it equals GPT-2's "merge every occurrence of the best bigram" loop.
 * A pre-token's ids are remembered for the rest of one encode call (the tokenizer itself stays
 * immutable, so threads may share it).
 *
 * With ignore_merges (Llama 3) a pre-token that is itself a model token is that token, whatever
 * the merges would give. Added tokens are split out before (added.c). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/text_internal.h"

/* ---- building ---------------------------------------------------------------------------- */

/* Finds each byte's token. */
static attn_status find_byte_tokens(attn_tokenizer *t) {
    for (int b = 0; b < 256; b++) {
        char s[2];
        int n = text_byte_to_utf8((unsigned char)b, s);
        int32_t id = text_strmap_find(&t->vocab, s, (size_t)n);
        if (id < 0 || !(t->flags[id] & TEXT_TOK_MODEL) || (t->flags[id] & TEXT_TOK_SPECIAL)) {
            return attn_error(ATTN_ERR_FORMAT,
                              "the vocabulary lacks the token '%.*s' of byte 0x%02x (a byte-level "
                              "BPE needs all 256)",
                              n, s, b);
        }
        t->byte_id[b] = id;
    }
    return ATTN_OK;
}

/* Resolves merge r = (a, b) into the id of the token a + b and records its rank. */
static attn_status add_merge(attn_tokenizer *t, int r, char *scratch) {
    int32_t a = t->merges[r][0], b = t->merges[r][1];
    if (a < 0 || a >= t->vocab.n || b < 0 || b >= t->vocab.n)
        return attn_error(ATTN_ERR_FORMAT, "merge %d: id %d or %d is not in the vocabulary", r, a,
                          b);
    size_t la, lb;
    const char *sa = text_strmap_key(&t->vocab, a, &la), *sb = text_strmap_key(&t->vocab, b, &lb);
    memcpy(scratch, sa, la);
    memcpy(scratch + la, sb, lb);
    scratch[la + lb] = '\0';
    int32_t c = text_strmap_find(&t->vocab, scratch, la + lb);
    if (c < 0 || !(t->flags[c] & TEXT_TOK_MODEL)) {
        return attn_error(ATTN_ERR_FORMAT,
                          "merge %d ('%.100s' '%.100s') gives '%.200s', which is not in the "
                          "vocabulary",
                          r, sa, sb, scratch);
    }
    if ((t->flags[a] | t->flags[b] | t->flags[c]) & TEXT_TOK_SPECIAL) {
        return attn_error(ATTN_ERR_FORMAT, "merge %d ('%.100s' '%.100s') involves a special token",
                          r, sa, sb);
    }
    t->merge_result[r] = c;
    if (text_u64map_put(&t->merge_rank, text_pair_key(a, b), r) != ATTN_OK)
        return attn_error(ATTN_ERR_NOMEM, "out of memory for %d merges", t->n_merges);
    return ATTN_OK;
}

/* The bytes each token decodes to: its characters mapped back through bytes_to_unicode (a
 * character outside the 256 is kept as its own UTF-8); added tokens decode to their text. */
static attn_status build_decoded_bytes(attn_tokenizer *t) {
    text_buf b = {0};
    t->bytes_off = malloc(((size_t)t->vocab.n + 1) * sizeof *t->bytes_off);
    if (!t->bytes_off) return attn_error(ATTN_ERR_NOMEM, "out of memory for the vocabulary");
    for (int32_t id = 0; id < t->vocab.n; id++) {
        t->bytes_off[id] = b.len;
        size_t len;
        const unsigned char *s = (const unsigned char *)text_strmap_key(&t->vocab, id, &len);
        if (t->sp) { /* the decoder chain applies to added tokens too ("▁▁" in Gemma) */
            if (text_sp_token_bytes(t, id, &b) != ATTN_OK) goto oom;
            continue;
        }
        if (t->flags[id] & TEXT_TOK_ADDED) {
            if (text_buf_append(&b, s, len) != ATTN_OK) goto oom;
            continue;
        }
        for (size_t i = 0; i < len;) {
            int32_t cp;
            int k = text_utf8_decode(s + i, len - i, &cp);
            if (k == 0) { /* loaded vocabularies are checked; be safe anyway */
                k = 1;
                cp = -1;
            }
            int byte = text_char_to_byte(cp);
            unsigned char one = (unsigned char)byte;
            if (text_buf_append(&b, byte >= 0 ? &one : s + i, byte >= 0 ? 1 : (size_t)k)) goto oom;
            i += (size_t)k;
        }
    }
    t->bytes_off[t->vocab.n] = b.len;
    t->bytes = b.data ? b.data : malloc(1);
    if (!t->bytes) goto oom;
    return ATTN_OK;
oom:
    free(b.data);
    return attn_error(ATTN_ERR_NOMEM, "out of memory for the decoded vocabulary");
}

attn_status text_bpe_finish(attn_tokenizer *t, const int32_t (*merges)[2], int n_merges) {
    ATTN_TRY(t->sp ? text_sp_finish(t) : find_byte_tokens(t));
    size_t longest = 0;
    for (int32_t i = 0; i < t->vocab.n; i++)
        if (t->vocab.entries[i].len > longest) longest = t->vocab.entries[i].len;
    t->n_merges = n_merges;
    t->merges = malloc(((size_t)n_merges + 1) * sizeof *t->merges);
    t->merge_result = malloc(((size_t)n_merges + 1) * sizeof *t->merge_result);
    char *scratch = malloc(2 * longest + 1);
    if (!t->merges || !t->merge_result || !scratch) {
        free(scratch);
        return attn_error(ATTN_ERR_NOMEM, "out of memory for %d merges", n_merges);
    }
    if (n_merges) memcpy(t->merges, merges, (size_t)n_merges * sizeof *t->merges);
    attn_status s = ATTN_OK;
    for (int r = 0; r < n_merges && s == ATTN_OK; r++)
        s = add_merge(t, r, scratch);
    free(scratch);
    ATTN_TRY(s);
    ATTN_TRY(build_decoded_bytes(t));
    ATTN_TRY(text_added_finish(t));
    if (t->re) return ATTN_OK;
    return t->sp ? text_regex_create_chain(NULL, 0, &t->re) : text_regex_create(&t->re);
}

/* ---- encoding one pre-token ---------------------------------------------------------------- */

typedef struct {
    int id;         /* -1 once merged into its left neighbour */
    int prev, next; /* -1 at the ends */
} bpe_symbol;

typedef struct {
    const attn_tokenizer *t;
    text_ints *out;
    bpe_symbol *syms;
    uint64_t *heap; /* (rank << 32 | position), a min-heap */
    size_t cap;     /* of syms; heap has 3 * cap */
    text_strmap cache;
    text_ints cache_ids; /* per cached pre-token: count, then the ids */
    int use_cache;
    text_buf mapped; /* a pre-token in the vocabulary's byte-mapped form (ignore_merges) */
    text_ints first; /* the first symbols of a pre-token */
} bpe_state;

/* Pushes x on the min-heap h[0..*n) (room is known to exist). */
static void heap_push(uint64_t *h, size_t *n, uint64_t x) {
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > x) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

/* Removes and returns the smallest entry of the non-empty min-heap h[0..*n). */
static uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= x) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
    return top;
}

/* Pushes the pair starting at symbol i, if it has a merge. */
static void push_pair(const attn_tokenizer *t, const bpe_symbol *s, int i, uint64_t *heap,
                      size_t *n) {
    if (i < 0 || s[i].next < 0) return;
    int32_t r = text_u64map_get(&t->merge_rank, text_pair_key(s[i].id, s[s[i].next].id), -1);
    if (r >= 0) heap_push(heap, n, (uint64_t)r << 32 | (uint32_t)i);
}

/* Appends the merged ids of one pre-token, whose first symbols are first[0..n) (n >= 1), to
 * st->out. */
static attn_status merge_word(bpe_state *st, const int *first, size_t n) {
    const attn_tokenizer *t = st->t;
    if (n > st->cap) {
        if (n > (size_t)INT32_MAX / 4)
            return attn_error(ATTN_ERR_INVALID, "a pre-token of %zu bytes is too long", n);
        free(st->syms);
        free(st->heap);
        st->syms = malloc(n * sizeof *st->syms);
        st->heap = malloc(3 * n * sizeof *st->heap);
        st->cap = st->syms && st->heap ? n : 0;
        if (!st->cap) return attn_error(ATTN_ERR_NOMEM, "out of memory for %zu bytes", n);
    }
    bpe_symbol *s = st->syms;
    for (size_t i = 0; i < n; i++)
        s[i] = (bpe_symbol){first[i], (int)i - 1, i + 1 < n ? (int)i + 1 : -1};
    size_t hn = 0;
    for (size_t i = 0; i + 1 < n; i++)
        push_pair(t, s, (int)i, st->heap, &hn);
    while (hn > 0) {
        uint64_t top = heap_pop(st->heap, &hn);
        int32_t r = (int32_t)(top >> 32);
        int pos = (int)(uint32_t)top;
        int nx = s[pos].next;
        if (s[pos].id < 0 || nx < 0) continue; /* stale: merged away */
        if (text_u64map_get(&t->merge_rank, text_pair_key(s[pos].id, s[nx].id), -1) != r)
            continue; /* stale: the pair at pos changed */
        s[pos].id = t->merge_result[r];
        s[pos].next = s[nx].next;
        if (s[nx].next >= 0) s[s[nx].next].prev = pos;
        s[nx].id = -1;
        push_pair(t, s, s[pos].prev, st->heap, &hn);
        push_pair(t, s, pos, st->heap, &hn);
    }
    for (int i = 0; i >= 0; i = s[i].next)
        ATTN_TRY(text_ints_push(st->out, s[i].id));
    return ATTN_OK;
}

/* The id of the model token whose bytes are p[0..n), -1 if none, -2 when out of memory. */
static int32_t whole_token(bpe_state *st, const unsigned char *p, size_t n) {
    st->mapped.len = 0;
    if (st->t->sp && text_buf_append(&st->mapped, p, n) != ATTN_OK) return -2;
    for (size_t i = 0; !st->t->sp && i < n; i++) {
        char c[2];
        if (text_buf_append(&st->mapped, c, (size_t)text_byte_to_utf8(p[i], c)) != ATTN_OK)
            return -2;
    }
    int32_t id = text_strmap_find(&st->t->vocab, st->mapped.data, st->mapped.len);
    return id >= 0 && (st->t->flags[id] & TEXT_TOK_MODEL) ? id : -1;
}

/* Pre-tokens this long are not cached: they rarely repeat. */
#define BPE_CACHE_MAX_PIECE 64
#define BPE_CACHE_MAX_ENTRIES (1 << 20)

/* text_piece_fn: appends the ids of one pre-token to the bpe_state in user (from the cache
 * when it was seen before in this call). */
static attn_status encode_piece(const char *piece, size_t len, int is_byte, void *user) {
    bpe_state *st = user;
    const unsigned char *p = (const unsigned char *)piece;
    if (!st->t->sp && (is_byte || len == 1)) return text_ints_push(st->out, st->t->byte_id[p[0]]);
    if (st->t->sp && is_byte) return text_sp_initial_ids(st->t, piece, len, 1, st->out);
    if (st->t->ignore_merges) { /* a pre-token that is a model token is that token */
        int32_t id = whole_token(st, p, len);
        if (id == -2) return attn_error(ATTN_ERR_NOMEM, "out of memory for a pre-token");
        if (id >= 0) return text_ints_push(st->out, id);
    }
    int cacheable = st->use_cache && len <= BPE_CACHE_MAX_PIECE;
    if (cacheable) {
        int32_t e = text_strmap_find(&st->cache, piece, len);
        if (e >= 0) {
            const int *c = st->cache_ids.data + st->cache.entries[e].value;
            for (int i = 1; i <= c[0]; i++)
                ATTN_TRY(text_ints_push(st->out, c[i]));
            return ATTN_OK;
        }
    }
    size_t first = st->out->len;
    st->first.len = 0;
    if (st->t->sp) {
        ATTN_TRY(text_sp_initial_ids(st->t, piece, len, 0, &st->first));
    } else {
        for (size_t i = 0; i < len; i++)
            ATTN_TRY(text_ints_push(&st->first, st->t->byte_id[p[i]]));
    }
    ATTN_TRY(merge_word(st, st->first.data, st->first.len));
    if (cacheable && st->cache.n < BPE_CACHE_MAX_ENTRIES) {
        size_t off = st->cache_ids.len, count = st->out->len - first;
        ATTN_TRY(text_ints_push(&st->cache_ids, (int)count));
        for (size_t i = first; i < st->out->len; i++)
            ATTN_TRY(text_ints_push(&st->cache_ids, st->out->data[i]));
        if (text_strmap_insert(&st->cache, piece, len, (int64_t)off, NULL) < 0)
            st->use_cache = 0; /* out of memory for the cache: carry on without it */
    }
    return ATTN_OK;
}

attn_status text_bpe_encode(const attn_tokenizer *t, const char *text, size_t len, text_ints *out) {
    char *normalized = NULL, *sp_normalized = NULL;
    if (t->norm_flags) {
        ATTN_TRY(text_normalize(text, len, t->norm_flags, &normalized, &len));
        text = normalized;
    }
    if (t->n_sp_norm) {
        attn_status s = text_sp_normalize(t, text, len, &sp_normalized, &len);
        free(normalized);
        normalized = sp_normalized;
        ATTN_TRY(s);
        text = normalized;
    }
    /* Short texts rarely repeat a pre-token: the cache is not worth building. */
    bpe_state st = {.t = t, .out = out, .use_cache = len >= 256};
    attn_status s = text_pretokenize(t->re, text, len, encode_piece, &st);
    free(st.syms);
    free(st.heap);
    text_strmap_free(&st.cache);
    free(st.cache_ids.data);
    free(st.mapped.data);
    free(st.first.data);
    free(normalized);
    return s;
}

attn_status text_bpe_decode(const attn_tokenizer *t, const int *ids, int n, text_buf *out) {
    for (int i = 0; i < n; i++) {
        if (t->flags[ids[i]] & TEXT_TOK_SPECIAL) continue;
        size_t a = t->bytes_off[ids[i]], b = t->bytes_off[ids[i] + 1];
        ATTN_TRY(text_buf_append(out, t->bytes + a, b - a));
    }
    size_t strip = 0; /* the decoder's Strip: leading spaces */
    while (strip < (size_t)t->sp_strip && strip < out->len && out->data[strip] == ' ')
        strip++;
    if (strip) {
        memmove(out->data, out->data + strip, out->len - strip);
        out->len -= strip;
    }
    return ATTN_OK;
}
