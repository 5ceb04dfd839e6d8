/* text/text_internal.h: what the files of src/text share: hash maps, UTF-8 helpers, the GPT-2
 * byte <-> character mapping, pre-tokenisation, normalisers and the tokenizer struct itself.
 *
 * Ownership: every struct here owns the memory it points to and is released by its *_free.
 * Errors: functions returning attn_status set the last-error message (core/error.h). */
#ifndef ATTN_TEXT_INTERNAL_H
#define ATTN_TEXT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "attn/tokenizer.h"

/* ---- hashmap.c: a string-keyed map that keeps insertion order ---------------------------- */

/* Entry i of a text_strmap: key bytes at arena + off (NUL-terminated copy), any int64 value. */
typedef struct {
    size_t off;
    uint32_t len;
    uint32_t hash;
    int64_t value;
} text_strmap_entry;

/* Keys are copied into one arena; entries are dense in insertion order (entry i is the i-th key
 * inserted), so a vocabulary stored here has entry index == token id. Zero-initialise to use. */
typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    text_strmap_entry *entries;
    int32_t n, cap;
    int32_t *table; /* open addressing over entry indices, -1 = empty; size mask + 1 */
    uint32_t mask;
} text_strmap;

/* Releases everything; the map is zeroed and may be reused. */
void text_strmap_free(text_strmap *m);
/* Index of `key` (len bytes, any content), or -1. */
int32_t text_strmap_find(const text_strmap *m, const void *key, size_t len);
/* Index of `key`, inserting it with value `init` when absent (*inserted tells which; may be
 * NULL). Returns -1 when memory runs out or the map would exceed INT32_MAX entries / a key
 * UINT32_MAX bytes (the map is unchanged then). */
int32_t text_strmap_insert(text_strmap *m, const void *key, size_t len, int64_t init,
                           int *inserted);
/* The key of entry i (NUL-terminated; its length in *len when len is not NULL). */
static inline const char *text_strmap_key(const text_strmap *m, int32_t i, size_t *len) {
    if (len) *len = m->entries[i].len;
    return m->arena + m->entries[i].off;
}

/* ---- hashmap.c: uint64 -> int32 map ------------------------------------------------------- */

/* Open addressing; UINT64_MAX cannot be a key. Zero-initialise to use. */
typedef struct {
    uint64_t *keys;
    int32_t *values;
    uint32_t mask;
    uint32_t n;
} text_u64map;

void text_u64map_free(text_u64map *m);
/* The value stored for key, or `missing`. */
int32_t text_u64map_get(const text_u64map *m, uint64_t key, int32_t missing);
/* Stores key -> value, replacing an older value. ATTN_ERR_NOMEM when growing fails. */
attn_status text_u64map_put(text_u64map *m, uint64_t key, int32_t value);

static inline uint64_t text_pair_key(int32_t a, int32_t b) {
    return (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
}

/* ---- utf8.c ------------------------------------------------------------------------------- */

/* Decodes one strictly valid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF) at s[0..n), n >= 1. Returns its length 1..4 and the code point in *cp, or 0 when
 * s does not start with a valid sequence. This is the same definition PCRE2 checks, so text
 * accepted here can be matched with PCRE2_NO_UTF_CHECK. */
int text_utf8_decode(const unsigned char *s, size_t n, int32_t *cp);
/* Length of the longest valid UTF-8 prefix of s[0..n). */
size_t text_utf8_valid_prefix(const unsigned char *s, size_t n);
/* Writes the UTF-8 of cp (0..0x10FFFF) to out (room for 4); returns its length. */
int text_utf8_encode(int32_t cp, unsigned char *out);

/* A growable byte buffer (zero-initialise; free .data). */
typedef struct {
    char *data;
    size_t len, cap;
} text_buf;
/* Appends n bytes; ATTN_ERR_NOMEM on failure (the buffer is unchanged then). */
attn_status text_buf_append(text_buf *b, const void *p, size_t n);

/* A growable int array (zero-initialise; free .data). */
typedef struct {
    int *data;
    size_t len, cap;
} text_ints;
attn_status text_ints_push(text_ints *v, int x);

/* ---- bytes_unicode.c: GPT-2's bytes_to_unicode ------------------------------------------- */

/* The printable character byte b is shown as: b itself for '!'..'~', U+00A1..U+00AC and
 * U+00AE..U+00FF; the other 68 bytes (controls, space, U+007F..U+00A0, U+00AD) become
 * U+0100 + their rank among them, in byte order ("Ġ" U+0120 is the space). */
int32_t text_byte_to_char(unsigned char b);
/* The byte shown by character cp, or -1 if cp is none of the 256. */
int text_char_to_byte(int32_t cp);
/* UTF-8 of the character of byte b into out (room for 2); returns its length (1 or 2). */
int text_byte_to_utf8(unsigned char b, char *out);

/* ---- pretokenize.c: GPT-2's pattern, or a file's chain of Split patterns ------------------ */

#define TEXT_MAX_STAGES 4
extern const char text_gpt2_pattern[];

/* A chain of 0..TEXT_MAX_STAGES patterns compiled with PCRE2_UTF | PCRE2_UCP (and JIT when the
 * library has it). Immutable; may be shared by threads. */
typedef struct text_regex text_regex;
/* GPT-2's pattern alone. */
attn_status text_regex_create(text_regex **out);
/* The patterns (Hugging Face / Oniguruma syntax, translated where engines differ; see
 * pretokenize.c) in order. ATTN_ERR_FORMAT names a pattern that is refused or does not compile. */
attn_status text_regex_create_chain(const char *const *patterns, int n, text_regex **out);
/* Stage i keeps each match with the gap before it (behavior MergedWithPrevious); at load only. */
void text_regex_merge_with_previous(text_regex *re, int i);
int text_regex_merged(const text_regex *re, int i);
int text_regex_count(const text_regex *re);
/* Pattern i as it was given (before translation). */
const char *text_regex_source(const text_regex *re, int i);
void text_regex_free(text_regex *re);

/* Called for each pre-token in order. is_byte: a single byte that is not valid UTF-8 (it is
 * encoded as its byte token). A nonzero return stops the split and is returned by it. */
typedef attn_status (*text_piece_fn)(const char *piece, size_t len, int is_byte, void *user);

/* Splits text[0..len) (any bytes) into pre-tokens: each maximal valid UTF-8 run is cut by the
 * first pattern (matches and the gaps between them), each piece by the next pattern, and so on;
 * each invalid byte is a piece of its own. Concatenating the pieces gives the text back exactly.
 * Errors: ATTN_ERR_NOMEM, ATTN_ERR_INVALID (a pattern past its match limit), or what fn returned.
 */
attn_status text_pretokenize(const text_regex *re, const char *text, size_t len, text_piece_fn fn,
                             void *user);

/* ---- normalize.c: the byte-level BPE normaliser ------------------------------------------ */

enum { TEXT_NORM_NFC = 1, TEXT_NORM_LOWER = 2 };

/* Applies the flags (TEXT_NORM_*) to the valid UTF-8 runs of text (invalid bytes are copied as
 * they are): NFC of the per-code-point simple lower-case mapping (utf8proc_tolower) when both are
 * set. *out is malloc'd (NUL-terminated, *out_len without it); the caller frees it. */
attn_status text_normalize(const char *text, size_t len, int flags, char **out, size_t *out_len);

/* ---- the tokenizer ------------------------------------------------------------------------ */

/* One normaliser of a SentencePiece-style file: prepend `text` to a non-empty string
 * (Prepend), or replace every `from` by `text` (Replace with a String pattern). */
typedef struct {
    int prepend;
    char *from, *text;
} text_sp_step;

/* Flags of each id. A token may be in the model's vocabulary, an added token, or both. */
enum { TEXT_TOK_MODEL = 1, TEXT_TOK_ADDED = 2, TEXT_TOK_SPECIAL = 4 };

typedef struct {
    int clean_text;    /* drop controls, map whitespace to ' ' */
    int chinese_chars; /* put spaces around CJK ideographs */
    int strip_accents; /* NFD, then drop nonspacing marks (Mn) */
    int lowercase;
} text_bert_norm;

struct attn_tokenizer {
    attn_tokenizer_kind kind;
    text_strmap vocab;    /* token string -> id: entry i is token i */
    unsigned char *flags; /* [vocab.n] TEXT_TOK_* */
    int special_ids[ATTN_SPECIAL_COUNT];

    /* byte-level BPE */
    int norm_flags;        /* TEXT_NORM_* */
    int byte_id[256];      /* id of each byte's token */
    int32_t (*merges)[2];  /* [n_merges] (left, right) in rank order */
    int32_t *merge_result; /* [n_merges] id of the merged token */
    int n_merges;
    text_u64map merge_rank; /* pair key -> rank (the last of duplicated merges wins) */
    char *bytes;            /* decoded bytes of every token, token i at bytes_off[i] */
    size_t *bytes_off;      /* [vocab.n + 1] */
    text_regex *re;
    int ignore_merges; /* a pre-token that is a model token is that token (Llama 3) */

    /* SentencePiece-style BPE (Llama 2, Gemma; sentencepiece.c): no ByteLevel step, so the
     * first symbols of a pre-token are its characters, "▁" stands for a space */
    int sp;
    int byte_fallback;       /* a character not in the vocabulary becomes its <0xNN> tokens */
    int fuse_unk;            /* consecutive unknown characters are one unk token */
    int sp_byte_id[256];     /* id of <0xNN>, or -1 */
    text_sp_step sp_norm[4]; /* Prepend / Replace normalisers, in order, after norm_flags */
    int n_sp_norm;
    int sp_decode_replace; /* the decoder turns "▁" back into ' ' */
    int sp_strip;          /* spaces the decoder strips from the start of the text */

    /* added tokens, split out of the text before normalisation (added.c) */
    int *added;           /* ids of the added tokens by (first byte, length descending) */
    int added_start[257]; /* added[added_start[b] .. added_start[b + 1]) start with byte b */
    /* add_special: the ids put before and after a text (post_processor), or why not */
    int prefix_ids[4], suffix_ids[4];
    int n_prefix, n_suffix;
    char *post_unsupported; /* NULL, or the post_processor type add_special cannot apply */

    /* WordPiece */
    text_bert_norm bert;
    char *prefix; /* continuing-subword prefix ("##") */
    int max_chars;
    int unk_id;
    int cleanup; /* the decoder's clean-up of spaces before punctuation */
};

/* tokenizer.c: a zeroed tokenizer of `kind` with no tokens (special ids -1); freed with
 * attn_tokenizer_free. NULL when out of memory. */
attn_tokenizer *text_tokenizer_new(attn_tokenizer_kind kind);
/* Appends token `s` (len bytes) with TEXT_TOK_* flags; its id is the previous count. Errors:
 * ATTN_ERR_FORMAT if the token is already present (message names it), ATTN_ERR_NOMEM. */
attn_status text_tokenizer_add(attn_tokenizer *t, const char *s, size_t len, int flags);
/* Sets special_ids[] from tokens named [PAD] [UNK] [CLS] [SEP] [MASK]. */
void text_tokenizer_find_specials(attn_tokenizer *t);

/* sentencepiece.c: for a tokenizer with t->sp set. text_sp_finish finds the <0xNN> tokens and
 * checks the unknown token; text_sp_normalize applies t->sp_norm to text[0..len) (a malloc'd
 * copy in *out, the caller frees); text_sp_initial_ids appends the first symbols of a valid
 * UTF-8 pre-token (or, is_byte, of one invalid byte) to ids: each character's token, else its
 * <0xNN> tokens (byte_fallback), else the unknown token (fused with a previous one when
 * fuse_unk). ATTN_ERR_INVALID when a character has none of them. text_sp_token_bytes appends
 * what model token id decodes to. */
attn_status text_sp_finish(attn_tokenizer *t);
attn_status text_sp_normalize(const attn_tokenizer *t, const char *text, size_t len, char **out,
                              size_t *out_len);
attn_status text_sp_initial_ids(const attn_tokenizer *t, const char *piece, size_t len, int is_byte,
                                text_ints *ids);
attn_status text_sp_token_bytes(const attn_tokenizer *t, int32_t id, text_buf *b);
void text_sp_free(attn_tokenizer *t);

/* added.c: builds t->added from the TEXT_TOK_ADDED flags (called by the *_finish functions).
 * ATTN_ERR_NOMEM. */
attn_status text_added_finish(attn_tokenizer *t);
/* Encodes text[0..len) with the added tokens split out first, as Hugging Face does: at each
 * position the longest added token (special ones only when allow_special) is taken; the text
 * between them goes to the model's own encoder. */
attn_status text_encode_with_added(const attn_tokenizer *t, const char *text, size_t len,
                                   int allow_special, text_ints *out);

/* bpe.c: completes a BPE tokenizer whose vocabulary is filled: checks that every byte token is in
 * it, resolves merges[0..n) (ids, copied) into merged ids, builds the rank map, decoded bytes and
 * the pattern (GPT-2's, unless t->re is already set). ATTN_ERR_FORMAT names the first offending
 * byte or merge. */
attn_status text_bpe_finish(attn_tokenizer *t, const int32_t (*merges)[2], int n_merges);
/* Appends the ids of text[0..len) (any bytes) to out / the bytes of ids[0..n) (checked to be in
 * range by the caller) to out. Errors: ATTN_ERR_NOMEM. */
attn_status text_bpe_encode(const attn_tokenizer *t, const char *text, size_t len, text_ints *out);
attn_status text_bpe_decode(const attn_tokenizer *t, const int *ids, int n, text_buf *out);

/* wordpiece.c: checks the unk token and options of a filled WordPiece tokenizer. */
attn_status text_wordpiece_finish(attn_tokenizer *t);
/* Appends the ids of the UTF-8 text[0..len) to out (ATTN_ERR_INVALID naming the offset of an
 * invalid byte) / the text of ids[0..n) (in range) to out. */
attn_status text_wordpiece_encode(const attn_tokenizer *t, const char *text, size_t len,
                                  text_ints *out);
attn_status text_wordpiece_decode(const attn_tokenizer *t, const int *ids, int n, text_buf *out);
/* wordpiece_normalize.c: BERT's normaliser and pre-tokeniser: calls fn once per word (UTF-8) of
 * the valid UTF-8 text (ATTN_ERR_INVALID naming the byte offset otherwise). */
attn_status text_bert_split(const text_bert_norm *opt, const char *text, size_t len,
                            text_piece_fn fn, void *user);

/* tokenizer_json_read.c: a tokenizer from a parsed tokenizer.json (a cJSON object; only read). */
struct cJSON;
attn_status text_tokenizer_from_parsed(const struct cJSON *root, attn_tokenizer **out);

/* wordpiece.c: a WordPiece tokenizer (bert-base-uncased options) from the vocab.txt in
 * data[0..len). ATTN_ERR_FORMAT names the line of an empty, duplicated or non-UTF-8 token. */
attn_status text_load_vocab_txt(const char *data, size_t len, attn_tokenizer **out);

#endif
