/* attn/decode.h: KV-cached incremental decoding and token sampling.
 *
 * The model (immutable weights) is kept apart from the per-stream context (KV caches, scratch):
 * several contexts can decode from one model. */
#ifndef ATTN_DECODE_H
#define ATTN_DECODE_H

#include <stdint.h>

#include "attn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    float temperature; /* 0: greedy (argmax); otherwise logits / temperature */
    int top_k;         /* keep the k most likely tokens (0: all) */
    float top_p;       /* keep the smallest set whose probability reaches top_p (1: all) */
    uint64_t seed;
} attn_sampler_params;

/* temperature 1, top_k 0, top_p 1, seed 0 */
ATTN_API attn_sampler_params attn_sampler_default_params(void);

typedef struct attn_sampler attn_sampler;
ATTN_API attn_status attn_sampler_create(int vocab_size, attn_sampler_params params,
                                         attn_sampler **out);
ATTN_API void attn_sampler_free(attn_sampler *s);
/* Draws one token id from logits (vocab_size floats, unchanged). It cannot fail: NaN logits count
 * as probability 0 and a non-finite maximum falls back to argmax; use attn_sampler_draw to have
 * such logits refused. */
ATTN_API int attn_sampler_sample(attn_sampler *s, const float *logits);
/* attn_sampler_sample into *token, after checking the logits: each must be finite or -inf (a
 * masked token) and one at least finite. Otherwise ATTN_ERR_NUMERIC naming the first NaN or +inf
 * logit (a model with non-finite weights or activations), *token untouched and nothing drawn.
 * attn_generate and attn_generate_batch sample with it. Allocates nothing. */
ATTN_API attn_status attn_sampler_draw(attn_sampler *s, const float *logits, int *token);

/* A decoding context: KV caches for `batch` streams of up to max_len positions each.
 *
 * Every stream has its own cached length: streams may sit at different positions (fed different
 * numbers of tokens with attn_context_feed_streams, or copied onto one another with
 * attn_context_reorder), and each stream's causal attention and positions follow its own length.
 * Beam search keeps one stream per hypothesis: feed each its last token, score, then
 * attn_context_reorder with the surviving hypotheses' parents. A batched generator feeds prompts
 * of different lengths at once with attn_context_feed_streams. */
typedef struct attn_context attn_context;
ATTN_API attn_status attn_context_create(const attn_model *m, int batch, int max_len,
                                         attn_context **out);
ATTN_API void attn_context_free(attn_context *ctx);
/* Forgets every cached position of every stream (and the source of a seq2seq model). */
ATTN_API void attn_context_reset(attn_context *ctx);
/* Positions cached so far: the longest stream's (every stream's while they go in lockstep). */
ATTN_API int attn_context_length(const attn_context *ctx);
/* Positions cached by stream `stream`, or -1 if there is no such stream. */
ATTN_API int attn_context_stream_length(const attn_context *ctx, int stream);

/* seq2seq only: encodes the source once and computes every decoder layer's cross-attention keys
 * and values from it, kept until the next set_source or reset (feeding only reads them).
 * src: (batch, T), lengths: (batch) or NULL. Forgets every cached target position. */
ATTN_API attn_status attn_context_set_source(attn_context *ctx, const int *src, const int *lengths,
                                             int T);
/* From now on feeding and reordering concern streams [0, n) only (the others keep their state,
 * unread and unchanged, until a larger n is set again; reset sets every stream). What a batch
 * drops when its last streams are done: their rows leave the products. The arrays passed to
 * feed / feed_streams / reorder then have n entries. ATTN_ERR_INVALID for n outside [1, batch]. */
ATTN_API attn_status attn_context_set_active(attn_context *ctx, int n);

/* n_src sources (src: (n_src, T), lengths (n_src) or NULL) for batch streams, n_src dividing
 * batch: source s is the source of streams [s G, (s + 1) G), G = batch / n_src (the G beams of a
 * sentence). The encoder and the cross-attention keys / values run once per source; their rows
 * are then copied to each of its streams. */
ATTN_API attn_status attn_context_set_source_shared(attn_context *ctx, const int *src,
                                                    const int *lengths, int T, int n_src);
/* The same for a model whose encoder reads features (n_features > 0): features (batch, T,
 * n_features). Each function refuses the other kind of model (ATTN_ERR_INVALID). */
ATTN_API attn_status attn_context_set_source_features(attn_context *ctx, const float *features,
                                                      const int *lengths, int T);
/* n_src feature sources (n_src, T, n_features) shared by the streams as
 * attn_context_set_source_shared does (the beams of one utterance). */
ATTN_API attn_status attn_context_set_source_features_shared(attn_context *ctx,
                                                             const float *features,
                                                             const int *lengths, int T, int n_src);

/* Appends T tokens to every stream (tokens: (batch, T)) and computes the logits of the LAST new
 * position of each stream into *logits: (batch, vocab), owned by the context, valid until the next
 * call. A stream's length plus T exceeding max_len is ATTN_ERR_INVALID. Decoder LM and seq2seq
 * only. */
ATTN_API attn_status attn_context_feed(attn_context *ctx, const int *tokens, int T,
                                       const float **logits);

/* attn_context_feed with a number of tokens per stream: stream b appends the first counts[b]
 * (0..T) ids of its row of tokens (batch, T) (the rest of the row is not read). *logits as
 * attn_context_feed; the row of a stream fed 0 tokens keeps the logits of its last position
 * (zeros if it has none). Errors (nothing changed): a count outside [0, T] or past max_len, no
 * token at all, an id out of range, a seq2seq model without a source. */
ATTN_API attn_status attn_context_feed_streams(attn_context *ctx, const int *tokens, int T,
                                               const int *counts, const float **logits);

/* Stream i becomes a copy of what stream parents[i] was (its cached keys/values, length, last
 * logits and, for seq2seq, its source): parents: (batch), each in [0, batch), repeats allowed
 * (beam search: parents[i] is the hypothesis that hypothesis i extends). Allocates nothing; copies
 * only the cached positions of the streams that change. ATTN_ERR_INVALID for a parent out of
 * range (nothing changed). */
ATTN_API attn_status attn_context_reorder(attn_context *ctx, const int *parents);

/* Called with each generated token; return nonzero to stop. */
typedef int (*attn_token_callback)(int token, void *user);

/* Decoder LM: feeds the prompt, then samples up to max_new tokens (stopping early at stop_id if
 * >= 0, or when the callback says so, or at the model's max_len). Generated ids go to out
 * (capacity max_new) and their count to *n_out. The stop token, and the one the callback stopped
 * at, are included. This is attn_generate_batch with one stream (and its errors). */
ATTN_API attn_status attn_generate(const attn_model *m, const int *prompt, int n_prompt,
                                   int max_new, attn_sampler *sampler, int stop_id,
                                   attn_token_callback cb, void *user, int *out, int *n_out);

/* Called with each token generated for stream `stream` of a batch; return nonzero to stop that
 * stream (the others go on). */
typedef int (*attn_stream_callback)(int stream, int token, void *user);

/* Decoder LM: continues n prompts together, one context of batch n, so each weight matrix is read
 * once per step for all streams. Stream i continues prompts[i] (n_prompt[i] tokens, 1..max_len)
 * with samplers[i] and stops on its own, exactly as attn_generate would continue it alone: at
 * stop_id, when cb says so, after max_new tokens, or when the model's context is full. A stream
 * gets the tokens it gets alone (the same logits up to rounding: its prompt may be fed in other
 * chunks) provided its sampler is its own; one sampler may serve several streams, which then draw
 * from it in stream order.
 *
 * Prompts of different lengths run in lockstep, all streams at the same position: the first
 * min(n_prompt) tokens of every prompt are fed at once, then each step feeds every stream one
 * token, the next of its prompt while it has one (those logits are not sampled) or the one it just
 * drew; a finished stream is fed a placeholder until the last one stops. So a batch costs as many
 * steps as its longest stream: batch prompts of similar length.
 *
 * Stream i's ids go to out + i * max_new (out: (n, max_new)) and their count to n_out[i].
 * Memory: one context for the whole call (attn_context_create); nothing is allocated per step.
 * Errors: ATTN_ERR_INVALID (not a decoder LM, n < 1, a prompt length or token out of range,
 * max_new < 0, a NULL sampler), ATTN_ERR_NOMEM, ATTN_ERR_NUMERIC (logits to sample from that are
 * NaN or +inf, attn_sampler_draw: the stream and step are named; n_out holds the ids so far). */
ATTN_API attn_status attn_generate_batch(const attn_model *m, int n, const int *const *prompts,
                                         const int *n_prompt, int max_new,
                                         attn_sampler *const *samplers, int stop_id,
                                         attn_stream_callback cb, void *user, int *out, int *n_out);

/* ---- beam search (encoder-decoder) ---------------------------------------------------------- */

typedef struct {
    int beam;             /* K hypotheses kept per sentence (1: greedy) */
    float length_penalty; /* alpha: a hypothesis scores log p / length^alpha (0: plain log p) */
    float max_len_a;      /* at most a * source length + b tokens generated (EOS included), */
    int max_len_b;        /* within the model's context */
    int n_best;           /* hypotheses returned per sentence, 1..beam */
    int bos_id, eos_id;   /* the decoder starts with bos_id; eos_id ends a hypothesis */
    int batch;            /* sentences decoded together */
} attn_beam_params;

/* beam 5, alpha 1, 1.5 x + 10, n_best 1, bos 2 / eos 3 ([CLS] / [SEP] of attn's tokenizers),
 * batch 16 */
ATTN_API attn_beam_params attn_beam_default_params(void);

/* One hypothesis: ids (malloc'd, without the final EOS), its length, its normalised score. */
typedef struct {
    int *ids;
    int n;
    float score;
} attn_hypothesis;

/* Frees the ids of n hypotheses (the array itself is the caller's). */
ATTN_API void attn_hypotheses_free(attn_hypothesis *h, long n);

/* Translates n sentences (srcs[i]: src_len[i] source ids, EOS included) with a seq2seq model,
 * params.batch sentences at a time in one decoding context of batch x beam streams: the sources
 * encoded once per sentence, a KV cache for the decoder. Each step a sentence keeps the best
 * `beam` continuations of its live hypotheses (log probabilities summed); one ending in eos_id is
 * finished, scored log p / length^alpha; the sentence stops with `beam` finished hypotheses or
 * at its length limit, and then takes no more decoder work. out[i * n_best + j] receives sentence
 * i's j-th best (the caller frees them with attn_hypotheses_free); a sentence's result does not
 * depend on the sentences that share its batch. Errors: ATTN_ERR_INVALID (not seq2seq, bad
 * parameters, a source longer than the context), ATTN_ERR_NOMEM, the model's. */
ATTN_API attn_status attn_beam_search(const attn_model *m, const int *const *srcs,
                                      const int *src_len, int n, const attn_beam_params *params,
                                      attn_hypothesis *out);

#ifdef __cplusplus
}
#endif
#endif
