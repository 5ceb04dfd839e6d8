/* attn/translator.h: machine translation as library calls: train an encoder-decoder on parallel
 * text, load it, translate sentences with beam search.
 *
 * A translator is a bundle: a seq2seq model and the joint tokenizer of both languages. Its
 * checkpoint holds, as metadata, "task" = "translate", "tokenizer" = the tokenizer.json text and
 * "direction" (e.g. "en-es", informative). Sentences become their tokens + [SEP] (EOS); the
 * decoder starts from [CLS] (BOS).
 *
 *     attn_parallel train, dev;
 *     attn_parallel_read("train.tsv", 1, 2, &train);  attn_parallel_read("dev.tsv", 1, 2, &dev);
 *     attn_translator_params p = attn_translator_default_params();
 *     p.train.save_path = "mt.safetensors";
 *     attn_translator *t;
 *     attn_translator_train(&train, &dev, &p, &t, NULL);
 *     const char *in[] = {"In the beginning"};  char *outs[1];
 *     attn_beam_params b = attn_translator_beam_params(t);
 *     attn_translator_translate(t, in, 1, &b, outs, NULL, NULL);
 */
#ifndef ATTN_TRANSLATOR_H
#define ATTN_TRANSLATOR_H

#include <stdio.h>

#include "attn/data.h"
#include "attn/decode.h"
#include "attn/model.h"
#include "attn/tokenizer.h"
#include "attn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct attn_translator attn_translator;

/* Loads a translator checkpoint (a seq2seq model with its tokenizer in the metadata, [CLS] and
 * [SEP] present, vocabulary sizes equal). Errors: attn_model_load's; ATTN_ERR_MISSING (no
 * tokenizer); ATTN_ERR_FORMAT (it disagrees with the model); ATTN_ERR_INVALID (another task). */
ATTN_API attn_status attn_translator_load(const char *path, attn_translator **out);
ATTN_API void attn_translator_free(attn_translator *t);
ATTN_API attn_model *attn_translator_model(const attn_translator *t);
ATTN_API const attn_tokenizer *attn_translator_tokenizer(const attn_translator *t);

/* attn_beam_default_params() with the translator's BOS / EOS ids. */
ATTN_API attn_beam_params attn_translator_beam_params(const attn_translator *t);

/* Translates lines[0..n): out[i * n_best + j] (malloc'd strings, the caller frees each) receives
 * line i's j-th best translation and scores[i * n_best + j] (may be NULL) its normalised log
 * probability. Lines are sorted by length into batches of b->batch (the order of out is the
 * input order); an empty line translates to "" without running the model; a line longer than
 * the model's context is cut to it (*n_cut, may be NULL, counts them). Errors: the tokenizer's,
 * attn_beam_search's. */
ATTN_API attn_status attn_translator_translate(attn_translator *t, const char *const *lines, int n,
                                               const attn_beam_params *b, char **out, float *scores,
                                               int *n_cut);

/* Called for line `line` (0-based) of a stream once its batch is translated: its text and its
 * b->n_best translations and scores. Nonzero stops the stream (ATTN_ERR_ABORTED). */
typedef int (*attn_translation_callback)(long line, const char *source, char *const *outs,
                                         const float *scores, void *user);

/* Reads `in` line by line (a "\n" or "\r\n" ends a line; the last needs neither) and translates
 * every b->batch lines together with attn_translator_translate, calling on_line for each line in
 * input order as soon as its batch is done: what a pipe of sentences needs. *n_cut (may be NULL)
 * adds the lines cut to the context. Errors: ATTN_ERR_IO (a read error on in),
 * attn_translator_translate's, ATTN_ERR_ABORTED from on_line, ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_translator_translate_stream(attn_translator *t, FILE *in,
                                                      const attn_beam_params *b,
                                                      attn_translation_callback on_line,
                                                      void *user, long *n_cut);

/* ---- training ----------------------------------------------------------------------------- */

typedef struct {
    attn_config model;       /* size and shape (seq2seq); vocab_size comes from the tokenizer */
    attn_train_params train; /* steps, schedule, eval_every, save_path (the best on dev), meta,
                                callbacks; accum */
    attn_adamw_params adamw;
    long max_tokens;       /* pairs x longest side per micro-batch */
    long bucket;           /* pairs per length bucket */
    const char *tokenizer; /* a tokenizer.json with [CLS] and [SEP], or NULL: a byte-level BPE
                              of vocab_size tokens trained on both sides of the training text */
    int vocab_size;
    int lowercase;
    int dev_sentences;     /* dev pairs scored at each evaluation (0: all) */
    attn_beam_params beam; /* how the dev sentences are translated (bos / eos set here) */
    /* 1: each evaluation translates the dev sentences and scores them by corpus BLEU
     * (attn_corpus_bleu: metrics[0], the kept model's measure; metrics[1] the dev loss);
     * 0: the dev loss alone (metrics[0] = -loss) */
    int dev_bleu;
    /* Resuming: with state_path set, the run's state (current weights, AdamW moments, step, seed,
     * best; the tokenizer in the metadata) is written there at every evaluation and when the run
     * ends or stops; with resume set, the run saved there continues from its step (the best
     * weights so far read from train.save_path), ending as the uninterrupted run would (without
     * ema_decay: the average restarts on a resume). The data and options must be the run's. */
    const char *state_path;
    int resume;
} attn_translator_params;

/* The base Transformer of "Attention Is All You Need" shrunk for 2 cores: 4 + 4 layers of width
 * 256, 4 heads, d_ff 1024, post-LN, sinusoidal positions, token embeddings scaled by
 * sqrt(d_model), ReLU, dropout 0.3, label smoothing 0.1, contexts of 128 tokens; a joint BPE of
 * 8000; AdamW (betas 0.9 / 0.98, weight decay 0.0001, clip 1) with the paper's inverse-square-root
 * schedule (lr multiplier 1, 4000 warm-up steps), 4096 tokens per batch, 20000 steps, dev every
 * 1000 on 500 sentences, greedy dev decoding. */
ATTN_API attn_translator_params attn_translator_default_params(void);

typedef struct {
    attn_train_result train;
    double best_metric; /* dev BLEU (or -loss) of the kept model */
    long best_step;
    long n_train, n_truncated;
} attn_translator_result;

/* Trains a translator on the pairs of train (dev may be NULL: no evaluation, the last step is
 * kept): the tokenizer as params say, the pairs encoded (cut to model.max_len), batches by token
 * count (attn_pairs_source), label smoothing from the config, attn_train with keep-best on the
 * dev metric; *out receives the kept translator. Errors: attn_train's, the tokenizer's,
 * ATTN_ERR_INVALID (no pairs, a tokenizer without [CLS] / [SEP]). */
ATTN_API attn_status attn_translator_train(const attn_parallel *train, const attn_parallel *dev,
                                           const attn_translator_params *params,
                                           attn_translator **out, attn_translator_result *res);

#ifdef __cplusplus
}
#endif
#endif
