/* attn/lm.h: decoder language models as library calls: text to ids (bytes, or a BPE tokenizer),
 * train, evaluate in bits per byte. Generation is attn_lm_generate (below) over attn_generate_batch
 * (attn/decode.h).
 *
 *     attn_tokenizer *tok = NULL;                               // NULL: one id per byte
 *     attn_tokenizer_load("tokenizer.json", &tok);              // or a BPE of your own
 *     int *ids; size_t n;
 *     attn_lm_read_text("corpus.txt", tok, &ids, &n);
 *     attn_config cfg = attn_lm_default_config();               // change layers, d_model, ...
 *     cfg.vocab_size = attn_tokenizer_vocab_size(tok);
 *     attn_model *m;  attn_model_create(&cfg, 1, &m);
 *     attn_lm_params p = attn_lm_default_params();             // steps, batch, schedule, ...
 *     p.tokenizer = tok;                                        // saved with the model
 *     p.train.save_path = "lm.safetensors";
 *     attn_lm_train(m, NULL, NULL, ids, n * 9 / 10, ids + n * 9 / 10, n - n * 9 / 10, &p, NULL);
 *     attn_lm_score sc;  attn_lm_evaluate(m, tok, ids, n, 16, &sc);  // sc.bits_per_byte
 */
#ifndef ATTN_LM_H
#define ATTN_LM_H

#include <stddef.h>

#include "attn/decode.h"
#include "attn/model.h"
#include "attn/tokenizer.h"
#include "attn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ids of len bytes of text: through tok (attn_tokenizer_encode: no special tokens added or
 * matched), or one id per byte (0..255) when tok is NULL. *ids malloc'd (the caller frees), *n of
 * them. Errors: ATTN_ERR_INVALID (a WordPiece tokenizer: its decoding loses spaces, so a language
 * model cannot use it; more than INT_MAX tokens), the tokenizer's, ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_lm_encode(const attn_tokenizer *tok, const char *text, size_t len,
                                    int **ids, size_t *n);

/* attn_lm_encode of the whole file at path. Errors: attn_lm_encode's, ATTN_ERR_IO (naming the path
 * and the reason). */
ATTN_API attn_status attn_lm_read_text(const char *path, const attn_tokenizer *tok, int **ids,
                                       size_t *n);

/* The lines of a file as prompts for attn_lm_generate: each line (without "\n" or "\r\n"; a last
 * line needs no "\n"; an empty line stands for a newline) through attn_lm_encode. */
typedef struct {
    int n;     /* prompts (lines) */
    int **ids; /* n arrays of ids */
    int *len;  /* ids of each, 1..max_len */
} attn_lm_prompts;

/* Reads path ("-": standard input) into *out (zeroed on error). Errors: ATTN_ERR_IO (naming the
 * path), ATTN_ERR_FORMAT for an empty file or a line of more than max_len ids ("PATH: line L has
 * N tokens, more than the model's context of max_len"), attn_lm_encode's (with the line),
 * ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_lm_read_prompts(const char *path, const attn_tokenizer *tok, int max_len,
                                          attn_lm_prompts *out);
/* Frees what *p holds and zeroes it; safe on a zeroed struct. */
ATTN_API void attn_lm_prompts_free(attn_lm_prompts *p);

/* The bytes id stands for in a text (*len of them, not NUL-terminated): tok's
 * attn_tokenizer_token_bytes, or the byte itself when tok is NULL. NULL for an id outside the
 * vocabulary. Printing these one id after another streams a generated text. */
ATTN_API const char *attn_lm_token_bytes(const attn_tokenizer *tok, int id, size_t *len);

/* Loads a language model checkpoint (attn train lm, attn_lm_train): a decoder LM and the tokenizer
 * of its "tokenizer" metadata into *tok: NULL for a byte-level model (the entry "bytes", or none,
 * and a vocabulary of 256), else the tokenizer.json stored there, whose vocabulary must be the
 * model's. tok may be NULL only for a byte-level model. Errors: attn_model_load's, ATTN_ERR_FORMAT
 * (a stored tokenizer that does not load or does not fit), ATTN_ERR_INVALID naming what the model
 * is instead. */
ATTN_API attn_status attn_lm_load(const char *path, attn_model **model, attn_tokenizer **tok);

/* The tokenizer a language model checkpoint was trained with (NULL for a byte-level one), checked
 * against its vocabulary of vocab_size: what a resumed run encodes its text with. Errors as
 * attn_lm_load's. */
ATTN_API attn_status attn_lm_load_tokenizer(const char *path, int vocab_size, attn_tokenizer **tok);

/* ---- the texts of a training run ----------------------------------------------------------- */

/* Where attn_lm_texts_read finds the training and validation text and which tokens it makes. */
typedef struct {
    const char *path;     /* the training text (required) */
    const char *val_path; /* the validation text; NULL: the last val_fraction of path's bytes */
    double val_fraction;  /* 0.1; the cut moves back to a UTF-8 character's start under a BPE */
    /* The tokens (borrowed); NULL with vocab_size > 0: a byte-level BPE of vocab_size tokens
     * (attn_tokenizer_train_bpe's defaults) learnt from the training part only; NULL and 0: bytes.
     */
    const attn_tokenizer *tokenizer;
    int vocab_size;
} attn_lm_texts_params;

typedef struct {
    int *train, *val; /* the ids of both parts (malloc'd) */
    size_t n_train, n_val;
    attn_tokenizer *learnt; /* the BPE learnt here (owned; NULL when none was learnt) */
    const attn_tokenizer
        *tokenizer; /* what the ids are tokens of: params' or learnt (NULL: bytes) */
} attn_lm_texts;

/* path and val_path (or 0.1 of path) read, the tokenizer learnt when asked for, both parts
 * encoded (attn_lm_encode): what `attn train lm` trains and validates on. Errors: ATTN_ERR_IO
 * (naming the file), ATTN_ERR_INVALID (no path, val_fraction outside [0, 1)), the tokenizer's,
 * attn_lm_encode's; *out is zeroed on error. */
ATTN_API attn_lm_texts_params attn_lm_texts_default_params(void);
ATTN_API attn_status attn_lm_texts_read(const attn_lm_texts_params *p, attn_lm_texts *out);
/* Frees the ids and the learnt tokenizer and zeroes *t; safe on a zeroed struct. */
ATTN_API void attn_lm_texts_free(attn_lm_texts *t);

/* A byte-level decoder LM: vocabulary 256, context 128, 4 layers of width 128 with 4 heads,
 * d_ff 512, pre-LN, learned positions, GELU (tanh), no dropout. */
ATTN_API attn_config attn_lm_default_config(void);

typedef struct {
    attn_train_params train; /* steps, accum, schedule, evaluation and checkpoints, callbacks */
    attn_adamw_params adamw; /* when attn_lm_train creates the optimizer */
    int batch;               /* windows per micro-batch */
    int eval_batches;        /* batches of validation windows per evaluation (0: no validation) */
    /* The tokenizer of the ids (borrowed; NULL: bytes). Validation reports bits per byte through
     * it, and every checkpoint stores it (the "tokenizer" metadata: its tokenizer.json, or
     * "bytes") unless train.meta already has a "tokenizer" entry. */
    const attn_tokenizer *tokenizer;
} attn_lm_params;

/* What `attn train lm` does by default: 1000 steps of 16 windows, AdamW (weight decay 0.1, clip 1),
 * 100 warm-up steps then cosine from 1e-3 to 1e-4, seed 1, validation (8 batches) every 100
 * steps and at the end, a resumable checkpoint (with the optimizer) every 500 steps and at the end
 * when train.save_path is set; no tokenizer (bytes). */
ATTN_API attn_lm_params attn_lm_default_params(void);

/* Trains the decoder LM m on random windows of its context length + 1 over train[0..n_train)
 * (attn_lm_windows_source, seeded by params.train.seed) with attn_train; the validation loss
 * (metrics[0]: nats per token; metrics[1]: bits per byte, through params.tokenizer) is over
 * eval_batches batches of
 * windows spread evenly over val[0..n_val), and the best one is recorded in the state. opt may be
 * NULL (one is made from params.adamw and freed), st may be NULL (a new run); a run resumed from
 * attn_checkpoint_load passes both. A caller's own on_eval replaces the validation.
 * The ids are borrowed. Errors: attn_train's, and ATTN_ERR_INVALID (not a decoder LM, an id outside
 * the vocabulary, too little text for one window, a tokenizer whose vocabulary is not the
 * model's). */
ATTN_API attn_status attn_lm_train(attn_model *m, attn_optimizer *opt, attn_train_state *st,
                                   const int *train, size_t n_train, const int *val, size_t n_val,
                                   const attn_lm_params *params, attn_train_result *res);

typedef struct {
    double loss;          /* mean cross-entropy per predicted token, in nats */
    long tokens;          /* tokens predicted: n - 1 */
    long bytes;           /* the bytes those tokens stand for (attn_lm_token_bytes) */
    double bits_per_byte; /* loss * tokens / ln 2 / bytes: comparable across tokenizers */
} attn_lm_score;

/* Scores predicting every id of ids[1..n) from those before it, in windows of the model's context
 * cut one after another (no overlap), `batch` windows per forward; tok is the model's tokenizer
 * (NULL: bytes), for the bytes. Errors: ATTN_ERR_INVALID (not a decoder LM, n < 2, an id outside
 * the vocabulary, a tokenizer of another vocabulary), the model's errors. */
ATTN_API attn_status attn_lm_evaluate(attn_model *m, const attn_tokenizer *tok, const int *ids,
                                      size_t n, int batch, attn_lm_score *out);

/* ---- generation ---------------------------------------------------------------------------- */

typedef struct {
    int max_new;                 /* ids generated per prompt at most */
    int stop_id;                 /* a prompt's continuation ends with this id (-1: none) */
    int batch;                   /* prompts decoded together (attn_generate_batch) */
    attn_sampler_params sampler; /* every prompt gets its own sampler made from these */
    /* Each generated id as it is drawn (stream = the prompt's index); nonzero stops that prompt.
     * May be NULL. */
    attn_stream_callback on_token;
    /* Each prompt's whole continuation, in prompt order, as soon as its batch is done. May be
     * NULL. */
    void (*on_done)(int prompt, const int *ids, int n, void *user);
    void *user;
} attn_lm_generate_params;

/* 256 new ids, no stop id, batch 8, attn_sampler_default_params(), no callbacks. */
ATTN_API attn_lm_generate_params attn_lm_generate_default_params(void);

/* Continues prompts[i] (n_prompt[i] ids, at least 1) for every i < n, params.batch prompts at a
 * time with attn_generate_batch. When a prompt's context is full, the last half of its text is
 * fed again as a fresh prompt and generation goes on (a sliding window), so max_new is not bounded
 * by the model's context. Prompt i gets the ids a lone call would give it with its own sampler
 * (each sampler is made from params.sampler); a prompt longer than the context is cut to the last
 * half of the context first. Errors: ATTN_ERR_INVALID (n < 1, an empty prompt, max_new < 0,
 * batch < 1), ATTN_ERR_NOMEM, the sampler's, attn_generate_batch's (not a decoder LM). */
ATTN_API attn_status attn_lm_generate(const attn_model *m, const int *const *prompts,
                                      const int *n_prompt, int n,
                                      const attn_lm_generate_params *params);

#ifdef __cplusplus
}
#endif
#endif
