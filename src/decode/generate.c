/* decode/generate.c: sampling continuations from a decoder LM with a KV cache, one stream or a
 * batch of them in lockstep (attn/decode.h). */
#include "attn/decode.h"

#include <stdlib.h>

#include "core/error.h"

/* Everything attn_generate_batch checks before it allocates. */
static attn_status check_batch(const attn_model *m, int n, const int *const *prompts,
                               const int *n_prompt, int max_new, attn_sampler *const *samplers) {
    const attn_config *c = attn_model_config(m);
    if (c->arch != ATTN_ARCH_DECODER_LM)
        return attn_error(ATTN_ERR_INVALID, "generate needs a decoder_lm model, not %s",
                          attn_arch_name(c->arch));
    if (n < 1) return attn_error(ATTN_ERR_INVALID, "generate: %d streams, need at least 1", n);
    if (max_new < 0) return attn_error(ATTN_ERR_INVALID, "max_new %d < 0", max_new);
    for (int i = 0; i < n; i++) {
        if (n_prompt[i] < 1 || n_prompt[i] > c->max_len)
            return attn_error(ATTN_ERR_INVALID, "prompt %d of %d tokens: need 1 to %d", i,
                              n_prompt[i], c->max_len);
        if (!samplers[i]) return attn_error(ATTN_ERR_INVALID, "prompt %d has no sampler", i);
        for (int t = 0; t < n_prompt[i]; t++)
            if (prompts[i][t] < 0 || prompts[i][t] >= c->vocab_size)
                return attn_error(ATTN_ERR_INVALID, "prompt %d: token %d is outside [0, %d)", i,
                                  prompts[i][t], c->vocab_size);
    }
    return ATTN_OK;
}

/* Where the lockstep loop keeps each stream. */
typedef struct {
    int len;  /* n_prompt[i] */
    int cap;  /* positions it may reach: min(len + max_new, max_len) */
    int done; /* stopped: fed a placeholder from now on */
} stream_state;

/* Chooses the token each stream feeds at position t (= the context's length), sampling from its
 * logits (n, V) where its prompt is used up (max_new > 0). Returns the number of streams still
 * going, or -1 when a stream's logits cannot be sampled (the error is set). */
static int step_streams(stream_state *s, int n, int t, const int *const *prompts, int max_new,
                        attn_sampler *const *samplers, int stop_id, attn_stream_callback cb,
                        void *user, const float *logits, int V, int *out, int *n_out, int *next) {
    int active = 0;
    for (int i = 0; i < n; i++) {
        next[i] = 0; /* placeholder for a finished stream */
        if (s[i].done) continue;
        if (t < s[i].len) { /* still inside its prompt: force the next prompt token */
            next[i] = prompts[i][t];
            active++;
            continue;
        }
        int tok;
        attn_status st = attn_sampler_draw(samplers[i], logits + (size_t)i * V, &tok);
        if (st != ATTN_OK) {
            attn_error_context(st, "stream %d, position %d", i, t);
            return -1;
        }
        out[(size_t)i * max_new + n_out[i]++] = tok;
        next[i] = tok;
        /* t >= cap: the token would go to position t, past what this stream may use */
        if (tok == stop_id || (cb && cb(i, tok, user)) || n_out[i] >= max_new || t >= s[i].cap)
            s[i].done = 1;
        else
            active++;
    }
    return active;
}

attn_status attn_generate_batch(const attn_model *m, int n, const int *const *prompts,
                                const int *n_prompt, int max_new, attn_sampler *const *samplers,
                                int stop_id, attn_stream_callback cb, void *user, int *out,
                                int *n_out) {
    for (int i = 0; i < n; i++)
        n_out[i] = 0;
    ATTN_TRY(check_batch(m, n, prompts, n_prompt, max_new, samplers));
    if (max_new == 0) return ATTN_OK;
    const attn_config *c = attn_model_config(m);
    int p0 = c->max_len, cap = 0;
    for (int i = 0; i < n; i++) {
        int ci = n_prompt[i] + max_new < c->max_len ? n_prompt[i] + max_new : c->max_len;
        if (n_prompt[i] < p0) p0 = n_prompt[i];
        if (ci > cap) cap = ci;
    }
    stream_state *s = calloc((size_t)n, sizeof *s);
    int *feed = malloc((size_t)n * p0 * sizeof *feed); /* (n, p0), then (n, 1) per step */
    attn_context *ctx = NULL;
    attn_status st = s && feed ? attn_context_create(m, n, cap, &ctx)
                               : attn_error(ATTN_ERR_NOMEM, "generate: out of memory");
    for (int i = 0; st == ATTN_OK && i < n; i++) {
        s[i].len = n_prompt[i];
        s[i].cap = n_prompt[i] + max_new < c->max_len ? n_prompt[i] + max_new : c->max_len;
        for (int t = 0; t < p0; t++)
            feed[(size_t)i * p0 + t] = prompts[i][t];
    }
    const float *logits;
    if (st == ATTN_OK) st = attn_context_feed(ctx, feed, p0, &logits);
    while (st == ATTN_OK) {
        int t = attn_context_length(ctx);
        int active = step_streams(s, n, t, prompts, max_new, samplers, stop_id, cb, user, logits,
                                  c->vocab_size, out, n_out, feed);
        if (active < 0) st = ATTN_ERR_NUMERIC; /* attn_sampler_draw's only error once checked */
        if (active <= 0) break;
        st = attn_context_feed(ctx, feed, 1, &logits);
    }
    attn_context_free(ctx);
    free(feed);
    free(s);
    return st;
}

/* attn_generate's callback seen as a batch callback of one stream. */
typedef struct {
    attn_token_callback cb;
    void *user;
} solo_callback;

static int call_solo(int stream, int token, void *user) {
    (void)stream;
    const solo_callback *sc = user;
    return sc->cb(token, sc->user);
}

attn_status attn_generate(const attn_model *m, const int *prompt, int n_prompt, int max_new,
                          attn_sampler *sampler, int stop_id, attn_token_callback cb, void *user,
                          int *out, int *n_out) {
    solo_callback sc = {cb, user};
    return attn_generate_batch(m, 1, &prompt, &n_prompt, max_new, &sampler, stop_id,
                               cb ? call_solo : NULL, &sc, out, n_out);
}
