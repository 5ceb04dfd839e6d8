/* text/bpe_train.c: learning a byte-level BPE from texts.
 *
 * 1. Pre-tokenise every text (after NFC + lower-case with `lowercase`) and count each distinct
 *    pre-token ("word") in a hash map. Bytes that are not valid UTF-8 are not counted: they stay
 *    byte tokens.
 * 2. Every word becomes its sequence of byte tokens; count every adjacent pair, weighted by the
 *    word's frequency, and remember for each pair the words that contain it.
 * 3. Repeat until the vocabulary is full: take the most frequent pair (a, b) from a max-heap,
 *    add the token a+b, and rewrite only the words listed for (a, b), updating the counts of the
 *    pairs around each occurrence (x a b y: x a, b y lose, x ab, ab y gain). Heap entries are not
 *    updated in place: an entry whose count is stale is dropped, or pushed again with the current
 *    count, when it reaches the top (lazy invalidation); a pair whose count grows is pushed anew.
 *
 * Ties: among pairs of equal count, the one with the smallest (left id, right id) wins. Ids
 * follow the vocabulary order: [PAD] [UNK] [CLS] [SEP] [MASK] = 0..4, byte b = 5 + b, then the
 * merged tokens in the order they were learned. So equal counts go by byte value first, and older
 * tokens before newer ones. This is also the Hugging Face trainer's rule, up to its id order.
 * Training stops early when the best pair is seen fewer than min_frequency times (or no pair is
 * left). If a+b is already a token (two merges can spell the same string), the merge is still
 * recorded and reuses that id, as the Hugging Face trainer does. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/text_internal.h"

#define FIRST_BYTE_ID ATTN_SPECIAL_COUNT

typedef struct {
    int32_t a, b;
    int64_t count;
    int32_t *where; /* words that contain or contained the pair (possibly repeated) */
    int32_t n_where, cap_where;
    int32_t stamp; /* last merge step that queued it */
} train_pair;

typedef struct {
    int64_t count;
    int32_t a, b;
} heap_entry;

typedef struct {
    /* words: symbols of word w at sym[off[w] .. off[w] + len[w]) */
    int32_t *sym;
    size_t *off;
    int32_t *len;
    int64_t *freq;
    int32_t n_words;
    /* pairs */
    train_pair *pairs;
    int32_t n_pairs, cap_pairs;
    text_u64map pair_index;
    heap_entry *heap;
    size_t n_heap, cap_heap;
    int32_t *touched; /* pairs that gained during the current step */
    int32_t n_touched, cap_touched;
    int32_t step;
} trainer;

/* Records the out-of-memory error of training. */
static attn_status oom(void) {
    return attn_error(ATTN_ERR_NOMEM, "out of memory while training the BPE");
}

/* Grows *p (elements of `size` bytes, capacity *cap) to hold at least `need`. */
static int grow(void *p, int32_t *cap, int32_t need, size_t size) {
    if (need <= *cap) return 0;
    int64_t c = *cap ? *cap : 4;
    while (c < need)
        c *= 2;
    if (c > INT32_MAX) c = INT32_MAX;
    void *q = realloc(*(void **)p, (size_t)c * size);
    if (!q) return -1;
    *(void **)p = q;
    *cap = (int32_t)c;
    return 0;
}

/* ---- the heap: largest count first, then smallest (a, b) -------------------------------- */

/* Nonzero when x pops before y: a larger count, then a smaller (a, b). */
static int heap_before(heap_entry x, heap_entry y) {
    if (x.count != y.count) return x.count > y.count;
    if (x.a != y.a) return x.a < y.a;
    return x.b < y.b;
}

/* Pushes e, growing the heap; ATTN_ERR_NOMEM when that fails. */
static attn_status heap_push(trainer *tr, heap_entry e) {
    if (tr->n_heap == tr->cap_heap) {
        size_t cap = tr->cap_heap ? 2 * tr->cap_heap : 1024;
        heap_entry *h = realloc(tr->heap, cap * sizeof *h);
        if (!h) return oom();
        tr->heap = h;
        tr->cap_heap = cap;
    }
    size_t i = tr->n_heap++;
    while (i > 0 && heap_before(e, tr->heap[(i - 1) / 2])) {
        tr->heap[i] = tr->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    tr->heap[i] = e;
    return ATTN_OK;
}

/* Removes and returns the top of the non-empty heap. */
static heap_entry heap_pop(trainer *tr) {
    heap_entry top = tr->heap[0], x = tr->heap[--tr->n_heap];
    size_t i = 0, n = tr->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_before(tr->heap[c + 1], tr->heap[c])) c++;
        if (!heap_before(tr->heap[c], x)) break;
        tr->heap[i] = tr->heap[c];
        i = c;
    }
    tr->heap[i] = x;
    return top;
}

/* ---- pair counts ------------------------------------------------------------------------ */

/* Adds delta to the count of (a, b), creating the pair; with delta > 0 records word w as
 * containing it and marks the pair to be queued at the end of the step. */
static attn_status pair_add(trainer *tr, int32_t a, int32_t b, int64_t delta, int32_t w) {
    uint64_t key = text_pair_key(a, b);
    int32_t i = text_u64map_get(&tr->pair_index, key, -1);
    if (i < 0) {
        if (grow(&tr->pairs, &tr->cap_pairs, tr->n_pairs + 1, sizeof *tr->pairs)) return oom();
        i = tr->n_pairs++;
        tr->pairs[i] = (train_pair){.a = a, .b = b, .stamp = -1};
        if (text_u64map_put(&tr->pair_index, key, i) != ATTN_OK) return oom();
    }
    train_pair *p = &tr->pairs[i];
    p->count += delta;
    if (delta <= 0) return ATTN_OK;
    if (p->n_where == 0 || p->where[p->n_where - 1] != w) {
        if (grow(&p->where, &p->cap_where, p->n_where + 1, sizeof *p->where)) return oom();
        p->where[p->n_where++] = w;
    }
    if (p->stamp != tr->step) {
        p->stamp = tr->step;
        if (grow(&tr->touched, &tr->cap_touched, tr->n_touched + 1, sizeof *tr->touched))
            return oom();
        tr->touched[tr->n_touched++] = i;
    }
    return ATTN_OK;
}

/* Rewrites every (a, b) of word w as c, left to right without overlaps, updating pair counts. */
static attn_status merge_in_word(trainer *tr, int32_t w, int32_t a, int32_t b, int32_t c) {
    int32_t *s = tr->sym + tr->off[w];
    int32_t n = tr->len[w], j = 0;
    int64_t f = tr->freq[w];
    for (int32_t i = 0; i < n;) {
        if (i + 1 < n && s[i] == a && s[i + 1] == b) {
            if (j > 0) { /* the left neighbour, already rewritten: x a -> x c */
                ATTN_TRY(pair_add(tr, s[j - 1], a, -f, w));
                ATTN_TRY(pair_add(tr, s[j - 1], c, f, w));
            }
            if (i + 2 < n) { /* b y -> c y */
                ATTN_TRY(pair_add(tr, b, s[i + 2], -f, w));
                ATTN_TRY(pair_add(tr, c, s[i + 2], f, w));
            }
            ATTN_TRY(pair_add(tr, a, b, -f, w));
            s[j++] = c;
            i += 2;
        } else {
            s[j++] = s[i++];
        }
    }
    tr->len[w] = j;
    return ATTN_OK;
}

/* ---- counting words ---------------------------------------------------------------------- */

/* text_piece_fn: counts one pre-token in the word map `user`. */
static attn_status count_piece(const char *piece, size_t len, int is_byte, void *user) {
    if (is_byte || len < 2) return ATTN_OK; /* no pair inside: nothing to learn */
    text_strmap *words = user;
    int32_t i = text_strmap_insert(words, piece, len, 0, NULL);
    if (i < 0) return oom();
    words->entries[i].value++;
    return ATTN_OK;
}

/* Counts the pre-tokens of all texts into `words`. */
static attn_status count_words(const char *const *texts, const size_t *lengths, size_t n,
                               int norm_flags, const text_regex *re, text_strmap *words) {
    for (size_t k = 0; k < n; k++) {
        const char *text = texts[k];
        size_t len = lengths ? lengths[k] : (text ? strlen(text) : 0);
        if (!text && len > 0) return attn_error(ATTN_ERR_INVALID, "train bpe: text %zu is NULL", k);
        if (len == 0) continue;
        char *normalized = NULL;
        if (norm_flags) {
            ATTN_TRY(text_normalize(text, len, norm_flags, &normalized, &len));
            text = normalized;
        }
        attn_status s = text_pretokenize(re, text, len, count_piece, words);
        free(normalized);
        ATTN_TRY(s);
    }
    return ATTN_OK;
}

/* Turns the counted words into byte-id sequences and counts their pairs. */
static attn_status init_words(trainer *tr, const text_strmap *words) {
    tr->n_words = words->n;
    size_t total = 0;
    for (int32_t w = 0; w < words->n; w++)
        total += words->entries[w].len;
    tr->sym = malloc((total + 1) * sizeof *tr->sym);
    tr->off = malloc(((size_t)words->n + 1) * sizeof *tr->off);
    tr->len = malloc(((size_t)words->n + 1) * sizeof *tr->len);
    tr->freq = malloc(((size_t)words->n + 1) * sizeof *tr->freq);
    if (!tr->sym || !tr->off || !tr->len || !tr->freq) return oom();
    size_t pos = 0;
    for (int32_t w = 0; w < words->n; w++) {
        size_t len;
        const unsigned char *s = (const unsigned char *)text_strmap_key(words, w, &len);
        tr->off[w] = pos;
        tr->len[w] = (int32_t)len;
        tr->freq[w] = words->entries[w].value;
        for (size_t i = 0; i < len; i++)
            tr->sym[pos + i] = FIRST_BYTE_ID + s[i];
        for (size_t i = 0; i + 1 < len; i++)
            ATTN_TRY(pair_add(tr, tr->sym[pos + i], tr->sym[pos + i + 1], tr->freq[w], w));
        pos += len;
    }
    for (int32_t i = 0; i < tr->n_pairs; i++)
        ATTN_TRY(heap_push(tr, (heap_entry){tr->pairs[i].count, tr->pairs[i].a, tr->pairs[i].b}));
    return ATTN_OK;
}

/* ---- the merge loop ---------------------------------------------------------------------- */

/* The id of token a+b, added to the vocabulary when new. */
static attn_status merged_token(attn_tokenizer *t, int32_t a, int32_t b, text_buf *scratch,
                                int32_t *c) {
    size_t la, lb;
    const char *sa = text_strmap_key(&t->vocab, a, &la);
    scratch->len = 0;
    ATTN_TRY(text_buf_append(scratch, sa, la));
    const char *sb = text_strmap_key(&t->vocab, b, &lb);
    ATTN_TRY(text_buf_append(scratch, sb, lb));
    *c = text_strmap_find(&t->vocab, scratch->data, scratch->len);
    if (*c >= 0) return ATTN_OK;
    *c = t->vocab.n;
    return text_tokenizer_add(t, scratch->data, scratch->len, TEXT_TOK_MODEL);
}

/* Applies merge (a, b) -> c to every word listed for the pair, then queues the pairs that grew. */
static attn_status apply_merge(trainer *tr, int32_t pair, int32_t c) {
    int32_t a = tr->pairs[pair].a, b = tr->pairs[pair].b;
    int32_t *where = tr->pairs[pair].where, n_where = tr->pairs[pair].n_where;
    tr->pairs[pair].where = NULL; /* detached: pair_add may move tr->pairs */
    tr->pairs[pair].n_where = tr->pairs[pair].cap_where = 0;
    tr->n_touched = 0;
    attn_status s = ATTN_OK;
    for (int32_t k = 0; k < n_where && s == ATTN_OK; k++)
        s = merge_in_word(tr, where[k], a, b, c);
    free(where);
    for (int32_t k = 0; k < tr->n_touched && s == ATTN_OK; k++) {
        const train_pair *p = &tr->pairs[tr->touched[k]];
        if (p->count > 0) s = heap_push(tr, (heap_entry){p->count, p->a, p->b});
    }
    tr->step++;
    return s;
}

static attn_status merge_loop(trainer *tr, attn_tokenizer *t, attn_bpe_train_params params,
                              int32_t (**merges)[2], int *n_merges) {
    int32_t cap = 0;
    text_buf scratch = {0};
    attn_status s = ATTN_OK;
    while (t->vocab.n < params.vocab_size && tr->n_heap > 0 && s == ATTN_OK) {
        heap_entry top = heap_pop(tr);
        int32_t pair = text_u64map_get(&tr->pair_index, text_pair_key(top.a, top.b), -1);
        int64_t count = tr->pairs[pair].count;
        if (count != top.count) { /* stale */
            if (count > 0 && count < top.count)
                s = heap_push(tr, (heap_entry){count, top.a, top.b});
            continue;
        }
        if (count <= 0 || count < params.min_frequency) break; /* the best is not good enough */
        int32_t c;
        if ((s = merged_token(t, top.a, top.b, &scratch, &c)) != ATTN_OK) break;
        if (grow(merges, &cap, *n_merges + 1, sizeof **merges)) {
            s = oom();
            break;
        }
        (*merges)[*n_merges][0] = top.a;
        (*merges)[*n_merges][1] = top.b;
        (*n_merges)++;
        s = apply_merge(tr, pair, c);
    }
    free(scratch.data);
    return s;
}

/* Releases the trainer's words, pairs and heap. */
static void trainer_free(trainer *tr) {
    free(tr->sym);
    free(tr->off);
    free(tr->len);
    free(tr->freq);
    for (int32_t i = 0; i < tr->n_pairs; i++)
        free(tr->pairs[i].where);
    free(tr->pairs);
    text_u64map_free(&tr->pair_index);
    free(tr->heap);
    free(tr->touched);
}

attn_bpe_train_params attn_bpe_train_default_params(void) {
    return (attn_bpe_train_params){.vocab_size = 16000, .min_frequency = 2, .lowercase = 0};
}

/* The 5 special tokens and the 256 byte tokens, in id order. */
static attn_status add_base_vocab(attn_tokenizer *t) {
    static const char *const names[ATTN_SPECIAL_COUNT] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]",
                                                          "[MASK]"};
    for (int i = 0; i < ATTN_SPECIAL_COUNT; i++)
        ATTN_TRY(text_tokenizer_add(t, names[i], strlen(names[i]),
                                    TEXT_TOK_MODEL | TEXT_TOK_ADDED | TEXT_TOK_SPECIAL));
    for (int b = 0; b < 256; b++) {
        char s[2];
        ATTN_TRY(text_tokenizer_add(t, s, (size_t)text_byte_to_utf8((unsigned char)b, s),
                                    TEXT_TOK_MODEL));
    }
    text_tokenizer_find_specials(t);
    return ATTN_OK;
}

attn_status attn_tokenizer_train_bpe(const char *const *texts, const size_t *lengths, size_t n,
                                     attn_bpe_train_params params, attn_tokenizer **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "train bpe: NULL output");
    *out = NULL;
    if (!texts && n > 0) return attn_error(ATTN_ERR_INVALID, "train bpe: NULL texts");
    int base = ATTN_SPECIAL_COUNT + 256;
    if (params.vocab_size < base || params.vocab_size > (1 << 24)) {
        return attn_error(ATTN_ERR_INVALID,
                          "train bpe: vocab_size %d is outside [%d, %d] (5 special tokens and 256 "
                          "byte tokens come first)",
                          params.vocab_size, base, 1 << 24);
    }
    if (params.min_frequency < 0)
        return attn_error(ATTN_ERR_INVALID, "train bpe: min_frequency %d < 0",
                          params.min_frequency);
    attn_tokenizer *t = text_tokenizer_new(ATTN_TOKENIZER_BPE);
    if (!t) return oom();
    t->norm_flags = params.lowercase ? TEXT_NORM_NFC | TEXT_NORM_LOWER : 0;
    trainer tr = {0};
    text_strmap words = {0};
    int32_t(*merges)[2] = NULL;
    int n_merges = 0;
    attn_status s = add_base_vocab(t);
    if (s == ATTN_OK) s = text_regex_create(&t->re);
    if (s == ATTN_OK) s = count_words(texts, lengths, n, t->norm_flags, t->re, &words);
    if (s == ATTN_OK) s = init_words(&tr, &words);
    text_strmap_free(&words);
    if (s == ATTN_OK) s = merge_loop(&tr, t, params, &merges, &n_merges);
    trainer_free(&tr);
    if (s == ATTN_OK) {
        text_regex_free(t->re); /* text_bpe_finish builds its own */
        t->re = NULL;
        s = text_bpe_finish(t, (const int32_t(*)[2])merges, n_merges);
    }
    free(merges);
    if (s != ATTN_OK) {
        attn_tokenizer_free(t);
        return s;
    }
    *out = t;
    return ATTN_OK;
}
