/* attn/tokenizer.h: text <-> token ids.
 *
 * Two kinds behind one handle:
 *   - byte-level BPE as GPT-2 does it (pre-tokenisation regex, bytes mapped to printable
 *     characters, ranked merges), trainable from a corpus, saved and loaded in the Hugging Face
 *     tokenizer.json layout (also the published files of Llama 3 and Qwen: their own Split
 *     patterns, NFC, added tokens), or imported from GPT-2's encoder.json + vocab.bpe; and the
 *     SentencePiece-style BPE of Llama 2 and Gemma (byte fallback, "▁" for spaces);
 *   - WordPiece as BERT does it (basic tokenizer + greedy longest match with "##"
 *     continuations), loaded from a vocab.txt (or its tokenizer.json).
 * A tokenizer is immutable after creation and may be shared by threads. */
#ifndef ATTN_TOKENIZER_H
#define ATTN_TOKENIZER_H

#include <stddef.h>

#include "attn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct attn_tokenizer attn_tokenizer;

typedef enum {
    ATTN_TOKENIZER_BPE = 0,
    ATTN_TOKENIZER_WORDPIECE = 1,
} attn_tokenizer_kind;

typedef enum {
    ATTN_SPECIAL_PAD = 0,
    ATTN_SPECIAL_UNK = 1,
    ATTN_SPECIAL_CLS = 2, /* also the BOS of a language model */
    ATTN_SPECIAL_SEP = 3, /* also the EOS */
    ATTN_SPECIAL_MASK = 4,
    ATTN_SPECIAL_COUNT = 5,
} attn_special;

typedef struct {
    int vocab_size;    /* total, special tokens and the 256 byte tokens included */
    int min_frequency; /* merges of pairs seen fewer times are not learned */
    int lowercase;     /* nonzero: NFC + lower-case before pre-tokenisation */
} attn_bpe_train_params;

/* vocab_size 16000, min_frequency 2, lowercase 0 */
ATTN_API attn_bpe_train_params attn_bpe_train_default_params(void);

/* Learns a byte-level BPE from n texts (UTF-8, any length). Special tokens [PAD] [UNK] [CLS]
 * [SEP] [MASK] take ids 0..4. */
ATTN_API attn_status attn_tokenizer_train_bpe(const char *const *texts, const size_t *lengths,
                                              size_t n, attn_bpe_train_params params,
                                              attn_tokenizer **out);

/* Loads a tokenizer.json (BPE or WordPiece) or a WordPiece vocab.txt, told apart by content. */
ATTN_API attn_status attn_tokenizer_load(const char *path, attn_tokenizer **out);
/* The same from a tokenizer.json held in memory (e.g. a checkpoint's metadata). */
ATTN_API attn_status attn_tokenizer_from_json(const char *json, size_t len, attn_tokenizer **out);
/* Writes / returns (malloc'd, the caller frees) the Hugging Face tokenizer.json layout. */
ATTN_API attn_status attn_tokenizer_save(const attn_tokenizer *t, const char *path);
ATTN_API attn_status attn_tokenizer_to_json(const attn_tokenizer *t, char **json);
ATTN_API void attn_tokenizer_free(attn_tokenizer *t);

ATTN_API attn_tokenizer_kind attn_tokenizer_get_kind(const attn_tokenizer *t);
ATTN_API int attn_tokenizer_vocab_size(const attn_tokenizer *t);
/* Id of a special token, or -1 if the vocabulary has none. */
ATTN_API int attn_tokenizer_special(const attn_tokenizer *t, attn_special which);
/* The token's string as stored in the vocabulary (BPE: byte-mapped form); NULL if out of range. */
ATTN_API const char *attn_tokenizer_token(const attn_tokenizer *t, int id);

/* The bytes token id stands for inside a decoded text (*len of them, not NUL-terminated): for a
 * BPE (byte-level or SentencePiece-style) what attn_tokenizer_decode puts out for it, before the
 * decoder strips leading spaces from the start of a whole text; a special token stands for none.
 * NULL for a WordPiece tokenizer (its decoder puts spaces between words) or an id out of range.
 * Decoding one id at a time with it streams a text as it is generated. */
ATTN_API const char *attn_tokenizer_token_bytes(const attn_tokenizer *t, int id, size_t *len);

/* Encodes len bytes of UTF-8 (no special tokens added, none matched in the text; non-special
 * added tokens are split out first). *ids is malloc'd (the caller frees).
 * Invalid UTF-8: the byte-level BPE encodes the bytes as they are (decode gives them back);
 * WordPiece returns ATTN_ERR_INVALID naming the byte offset. */
ATTN_API attn_status attn_tokenizer_encode(const attn_tokenizer *t, const char *text, size_t len,
                                           int **ids, int *n);
typedef struct {
    /* nonzero: the text of a special added token ("<|endoftext|>", "[CLS]") becomes its id, as
     * Hugging Face's encode does; zero (the default): it is encoded as the plain text it is, so
     * user text cannot inject control tokens. Non-special added tokens are always matched. */
    int allow_special;
    /* nonzero: put the tokens the tokenizer's post-processor adds around a text ([CLS] x [SEP]
     * for BERT, <|begin_of_text|> x for Llama 3); ATTN_ERR_INVALID if the file's
     * post_processor is of a kind this library cannot apply. */
    int add_special;
} attn_encode_params;

/* allow_special 0, add_special 0: what attn_tokenizer_encode does. */
ATTN_API attn_encode_params attn_encode_default_params(void);
/* attn_tokenizer_encode with options. */
ATTN_API attn_status attn_tokenizer_encode_with(const attn_tokenizer *t, const char *text,
                                                size_t len, attn_encode_params params, int **ids,
                                                int *n);

/* GPT-2's own files: encoder.json ({token: id}) and vocab.bpe ("#version" line, then one merge
 * "left right" per line), read as the byte-level BPE of GPT-2 (its pattern; <|endoftext|>, when
 * present, a special token). Save it with attn_tokenizer_save to get a tokenizer.json. */
ATTN_API attn_status attn_tokenizer_import_gpt2(const char *encoder_json_path,
                                                const char *vocab_bpe_path, attn_tokenizer **out);

/* Decodes ids (special tokens skipped) to a malloc'd NUL-terminated string; *len excludes the NUL.
 * Byte-level BPE without a normaliser: decode(encode(x)) == x for every input (with NFC or
 * lower-casing: the normalised x; SentencePiece-style: x, a "▁" in it coming back as a space).
 * Ids out of range are ATTN_ERR_INVALID. */
ATTN_API attn_status attn_tokenizer_decode(const attn_tokenizer *t, const int *ids, int n,
                                           char **text, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
