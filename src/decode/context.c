/* decode/context.c: KV-cached incremental decoding over a model's decoder stack, stream by
 * stream: each stream has its own cached length, so streams may sit at different positions, and
 * attn_context_reorder copies streams onto others (beam search).
 *
 * The context owns everything that changes while decoding (KV caches, activations of the new
 * positions, the source's cross-attention keys/values, logits); the model is only read, through
 * models/stack.h (the same stack forward as training). All memory is allocated in
 * attn_context_create; feeding tokens and reordering allocate nothing. */
#include "attn/decode.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "models/stack.h"

struct attn_context {
    const attn_model *m;
    int B, cap, L;         /* streams, positions per stream, decoder layers */
    attn_kv_cache *caches; /* one per decoder layer, sharing len, n_new and kv_len */
    float *arena;          /* everything below points into it */
    float *act_base[2];    /* two activation sets, bound per call since shapes vary */
    float *x;              /* (B, T, C) embeddings of the new positions */
    float *h;              /* (B, T, C) the stack's output */
    float *last;           /* (B, C) each stream's output at its last position (zeros: none) */
    float *logits;         /* (B, V) */
    float *swap;           /* one stream's rows of the largest array, for reorder */
    size_t swap_floats;
    int *len;     /* (B) cached positions per stream */
    int *n_new;   /* (B) new positions per stream of the current call */
    int *kv_len;  /* (B) attention scratch */
    int *src_len; /* seq2seq: (B) */
    int *plan;    /* reorder: (4B) copy operations */
    int *need;    /* reorder: (B) */
    int n_plan;
    int src_T, has_source;
    int active; /* feeding and reordering touch streams [0, active) (attn_context_set_active) */
};

attn_status attn_context_create(const attn_model *m, int batch, int max_len, attn_context **out) {
    *out = NULL;
    const attn_config *c = attn_model_config(m);
    if (c->arch == ATTN_ARCH_CLASSIFIER || c->arch == ATTN_ARCH_CTC)
        return attn_error(ATTN_ERR_INVALID, "decoding needs a decoder_lm or seq2seq model");
    if (batch <= 0 || max_len <= 0 || max_len > c->max_len)
        return attn_error(ATTN_ERR_INVALID,
                          "decoding context: batch %d, max_len %d (model max_len %d)", batch,
                          max_len, c->max_len);
    int B = batch, C = c->d_model, V = c->vocab_size, P = c->max_len;
    int L = attn_stack_layers(m, ATTN_STACK_DECODER), is_s2s = c->arch == ATTN_ARCH_SEQ2SEQ;
    /* Activations: big enough for a prefill of max_len decoder positions, and for the encoder
     * over a source of up to the model's max_len. */
    attn_layer_shape dshape = attn_stack_layer_shape(m, ATTN_STACK_DECODER, B, max_len, P);
    size_t acts = attn_layer_acts_floats(&dshape, 0);
    if (is_s2s) {
        attn_layer_shape eshape = attn_stack_layer_shape(m, ATTN_STACK_ENCODER, B, P, 0);
        size_t e = attn_layer_acts_floats(&eshape, 0);
        if (e > acts) acts = e;
    }
    size_t kv = 2 * (size_t)B * max_len * C + (is_s2s ? 2 * (size_t)B * P * C : 0);
    size_t xs = (size_t)B * (is_s2s && P > max_len ? P : max_len) * C;
    size_t swap = (size_t)max_len * C;
    if (is_s2s && 2 * (size_t)P * C > swap) swap = 2 * (size_t)P * C;
    if ((size_t)V > swap) swap = V;
    size_t ints = 9 * (size_t)B;
    size_t total = 2 * acts + (size_t)L * kv + 2 * xs + (size_t)B * C + (size_t)B * V + swap + ints;
    attn_context *ctx = calloc(1, sizeof *ctx);
    if (ctx) ctx->caches = calloc((size_t)L, sizeof *ctx->caches);
    if (ctx) ctx->arena = malloc(total * sizeof(float));
    if (!ctx || !ctx->caches || !ctx->arena) {
        attn_context_free(ctx);
        return attn_error(ATTN_ERR_NOMEM, "decoding context: out of memory (%zu MB)",
                          total * sizeof(float) >> 20);
    }
    ctx->m = m, ctx->B = B, ctx->cap = max_len, ctx->L = L, ctx->active = B;
    float *p = ctx->arena;
    ctx->act_base[0] = p, p += acts;
    ctx->act_base[1] = p, p += acts;
    ctx->x = p, p += xs;
    ctx->h = p, p += xs;
    ctx->last = p, p += (size_t)B * C;
    ctx->logits = p, p += (size_t)B * V;
    ctx->swap = p, p += swap;
    ctx->swap_floats = swap;
    int *ip = (int *)p;
    ctx->len = ip, ip += B;
    ctx->n_new = ip, ip += B;
    ctx->kv_len = ip, ip += B;
    ctx->src_len = ip, ip += B;
    ctx->need = ip, ip += B;
    ctx->plan = ip, ip += 4 * B;
    p += ints;
    for (int l = 0; l < L; l++) {
        attn_kv_cache *kc = &ctx->caches[l];
        kc->cap = max_len;
        kc->k = p, p += (size_t)B * max_len * C;
        kc->v = p, p += (size_t)B * max_len * C;
        if (is_s2s) kc->cross_kv = p, p += 2 * (size_t)B * P * C;
        kc->len = ctx->len;
        kc->kv_len = ctx->kv_len;
    }
    attn_context_reset(ctx);
    *out = ctx;
    return ATTN_OK;
}

void attn_context_free(attn_context *ctx) {
    if (!ctx) return;
    free(ctx->caches);
    free(ctx->arena);
    free(ctx);
}

void attn_context_reset(attn_context *ctx) {
    ctx->active = ctx->B;
    memset(ctx->len, 0, (size_t)ctx->B * sizeof(int));
    memset(ctx->last, 0, (size_t)ctx->B * attn_model_config(ctx->m)->d_model * sizeof(float));
    ctx->has_source = 0;
}

int attn_context_length(const attn_context *ctx) {
    int n = 0;
    for (int b = 0; b < ctx->B; b++)
        if (ctx->len[b] > n) n = ctx->len[b];
    return n;
}

int attn_context_stream_length(const attn_context *ctx, int stream) {
    return stream >= 0 && stream < ctx->B ? ctx->len[stream] : -1;
}

/* The two ping-pong activation sets bound at stack `which`'s shape (B, T, Tk). */
static void bind_acts(attn_context *ctx, attn_layer_acts a[2], attn_stack_kind which, int T,
                      int Tk) {
    attn_layer_shape s = attn_stack_layer_shape(ctx->m, which, ctx->B, T, Tk);
    attn_layer_acts_bind(&a[0], &s, 0, ctx->act_base[0]);
    attn_layer_acts_bind(&a[1], &s, 0, ctx->act_base[1]);
}

/* Encodes a source of ids or features (checked) and keeps every decoder layer's cross-attention
 * keys and values of it. */
/* Encodes n_src sources (n_src divides the streams) and gives source s to streams
 * [s G, (s + 1) G), G = B / n_src: the encoder and the cross-attention keys / values run once per
 * source, then their rows are copied to the source's streams (the beams of one sentence). */
static attn_status set_source(attn_context *ctx, const int *src, const float *features,
                              const int *lengths, int T, int n_src) {
    const attn_model *m = ctx->m;
    const attn_config *c = attn_model_config(m);
    if (c->arch != ATTN_ARCH_SEQ2SEQ)
        return attn_error(ATTN_ERR_INVALID, "set_source: the model is not seq2seq");
    if (!features != !c->n_features)
        return attn_error(ATTN_ERR_INVALID, "set_source: the model's encoder reads %s",
                          c->n_features ? "features (attn_context_set_source_features)"
                                        : "token ids (attn_context_set_source)");
    int Ts = attn_model_encoder_length(m, T); /* the encoder's positions */
    if (T <= 0 || Ts < 1 || Ts > c->max_len)
        return attn_error(ATTN_ERR_INVALID, "source length %d%s outside [1, %d]", Ts,
                          c->subsample ? " (after subsampling by 4)" : "", c->max_len);
    if (n_src < 1 || ctx->B % n_src != 0)
        return attn_error(ATTN_ERR_INVALID, "set_source: %d sources for %d streams", n_src, ctx->B);
    int B = n_src, G = ctx->B / n_src, C = c->d_model;
    if (features)
        ATTN_TRY(attn_check_features(features, (long)B * T * c->n_features));
    else
        ATTN_TRY(attn_check_ids("source", src, (long)B * T, c->vocab_size));
    int min_len = c->subsample ? 7 : 1;
    for (int b = 0; b < B; b++) {
        int len = lengths ? lengths[b] : T;
        if (len < min_len || len > T)
            return attn_error(ATTN_ERR_INVALID, "source lengths[%d] = %d outside [%d, %d]", b, len,
                              min_len, T);
    }
    float *sub = NULL; /* the convolutions' output, what the encoder stack reads */
    if (c->subsample) {
        size_t n1, n2;
        attn_subsample_forward(m, NULL, B, T, NULL, NULL, &n1, &n2);
        sub = malloc((n1 + n2) * sizeof(float));
        if (!sub) return attn_error(ATTN_ERR_NOMEM, "set_source: %zu floats", n1 + n2);
        attn_status st = attn_subsample_forward(m, features, B, T, sub + n2, sub, NULL, NULL);
        if (st != ATTN_OK) {
            free(sub);
            return st;
        }
        features = sub;
    }
    attn_context_reset(ctx);
    for (int b = 0; b < B; b++)
        ctx->src_len[b] = attn_model_encoder_length(m, lengths ? lengths[b] : T);
    T = Ts;
    attn_layer_acts acts[2];
    bind_acts(ctx, acts, ATTN_STACK_ENCODER, T, 0);
    attn_stack_run r = {.B = B,
                        .T = T,
                        .ids = src,
                        .features = features,
                        .x_len = ctx->src_len,
                        .emb = ctx->x,
                        .acts = acts,
                        .n_acts = 2,
                        .out = ctx->h};
    const float *mem = attn_stack_forward(m, ATTN_STACK_ENCODER, &r); // (B, T, C)
    free(sub);
    if (!mem) return ATTN_ERR_NOMEM; /* the kernel's message */
    /* the cross-attention keys and values of every decoder layer, once per source */
    for (int l = 0; l < ctx->L; l++)
        attn_stack_cross_kv(m, l, (float *)ctx->caches[l].cross_kv, mem, B, T); // (B, T, 2C)
    size_t rows = (size_t)T * 2 * C;            /* one stream's keys and values */
    for (int s = B - 1; G > 1 && s >= 0; s--) { /* last first: no source is overwritten unread */
        for (int g = G - 1; g >= 0; g--) {
            for (int l = 0; l < ctx->L; l++) {
                float *kv = (float *)ctx->caches[l].cross_kv;
                if (s * G + g != s)
                    memcpy(kv + (s * G + g) * rows, kv + s * rows, rows * sizeof(float));
            }
            ctx->src_len[s * G + g] = ctx->src_len[s];
        }
    }
    ctx->src_T = T;
    ctx->has_source = 1;
    return ATTN_OK;
}

attn_status attn_context_set_source(attn_context *ctx, const int *src, const int *lengths, int T) {
    return set_source(ctx, src, NULL, lengths, T, ctx->B);
}

attn_status attn_context_set_source_shared(attn_context *ctx, const int *src, const int *lengths,
                                           int T, int n_src) {
    if (!src) return attn_error(ATTN_ERR_INVALID, "set_source: NULL source");
    return set_source(ctx, src, NULL, lengths, T, n_src);
}

attn_status attn_context_set_source_features(attn_context *ctx, const float *features,
                                             const int *lengths, int T) {
    if (!features) return attn_error(ATTN_ERR_INVALID, "set_source: NULL features");
    return set_source(ctx, NULL, features, lengths, T, ctx->B);
}

attn_status attn_context_set_source_features_shared(attn_context *ctx, const float *features,
                                                    const int *lengths, int T, int n_src) {
    if (!features) return attn_error(ATTN_ERR_INVALID, "set_source: NULL features");
    return set_source(ctx, NULL, features, lengths, T, n_src);
}

/* Feeds stream b's n_new[b] tokens of tokens (B, T) (uniform: every stream T tokens at one
 * length), then the logits of each stream fed. Checked by the callers; ATTN_ERR_NOMEM when the
 * attention kernel cannot allocate (no stream then advances). */
static attn_status feed(attn_context *ctx, const int *tokens, int T, int uniform) {
    const attn_model *m = ctx->m;
    const attn_config *c = attn_model_config(m);
    int B = ctx->active, C = c->d_model;
    attn_layer_acts acts[2];
    bind_acts(ctx, acts, ATTN_STACK_DECODER, T, ctx->src_T);
    for (int l = 0; l < ctx->L; l++) {
        ctx->caches[l].n_new = uniform ? NULL : ctx->n_new;
        ctx->caches[l].uniform = uniform;
    }
    attn_stack_run r = {.B = B,
                        .T = T,
                        .ids = tokens,
                        .pos0 = ctx->len,
                        .n_valid = uniform ? NULL : ctx->n_new,
                        .Tk = ctx->src_T,
                        .mem_len = ctx->has_source ? ctx->src_len : NULL,
                        .emb = ctx->x,
                        .acts = acts,
                        .n_acts = 2,
                        .out = ctx->h,
                        .caches = ctx->caches};
    const float *h = attn_stack_forward(m, ATTN_STACK_DECODER, &r); // (B, T, C)
    if (!h) return ATTN_ERR_NOMEM; /* the kernel's message; no stream advanced */
    for (int b = 0; b < B; b++) {
        int n = ctx->n_new[b];
        if (n)
            memcpy(ctx->last + (size_t)b * C, h + ((size_t)b * T + n - 1) * C,
                   (size_t)C * sizeof(float));
        ctx->len[b] += n;
    }
    attn_model_tied_logits(m, ctx->logits, ctx->last, B); // (B, V)
    return ATTN_OK;
}

static attn_status check_feed(const attn_context *ctx, int T) {
    const attn_config *c = attn_model_config(ctx->m);
    if (c->arch == ATTN_ARCH_SEQ2SEQ && !ctx->has_source)
        return attn_error(ATTN_ERR_INVALID, "feed: set the source of a seq2seq model first");
    if (T <= 0 || T > ctx->cap)
        return attn_error(ATTN_ERR_INVALID, "feed: %d new positions, need 1 to %d", T, ctx->cap);
    return ATTN_OK;
}

attn_status attn_context_feed(attn_context *ctx, const int *tokens, int T, const float **logits) {
    const attn_config *c = attn_model_config(ctx->m);
    ATTN_TRY(check_feed(ctx, T));
    int B = ctx->active, uniform = 1;
    for (int b = 0; b < B; b++) {
        if (ctx->len[b] + T > ctx->cap)
            return attn_error(ATTN_ERR_INVALID,
                              "feed: %d new positions after %d exceed the context's %d", T,
                              ctx->len[b], ctx->cap);
        uniform = uniform && ctx->len[b] == ctx->len[0];
    }
    ATTN_TRY(attn_check_ids("tokens", tokens, (long)B * T, c->vocab_size));
    for (int b = 0; b < B; b++)
        ctx->n_new[b] = T;
    ATTN_TRY(feed(ctx, tokens, T, uniform));
    *logits = ctx->logits;
    return ATTN_OK;
}

attn_status attn_context_feed_streams(attn_context *ctx, const int *tokens, int T,
                                      const int *counts, const float **logits) {
    const attn_config *c = attn_model_config(ctx->m);
    ATTN_TRY(check_feed(ctx, T));
    int B = ctx->active, fed = 0;
    for (int b = 0; b < B; b++) {
        if (counts[b] < 0 || counts[b] > T || ctx->len[b] + counts[b] > ctx->cap)
            return attn_error(ATTN_ERR_INVALID,
                              "feed: stream %d: %d new positions (of %d) after %d exceed the "
                              "context's %d",
                              b, counts[b], T, ctx->len[b], ctx->cap);
        ATTN_TRY(attn_check_ids("tokens", tokens + (size_t)b * T, counts[b], c->vocab_size));
        fed += counts[b];
    }
    if (!fed) return attn_error(ATTN_ERR_INVALID, "feed: no stream has a token to feed");
    memcpy(ctx->n_new, counts, (size_t)B * sizeof(int));
    ATTN_TRY(feed(ctx, tokens, T, 0));
    *logits = ctx->logits;
    return ATTN_OK;
}

/* ---- reorder ------------------------------------------------------------------------------ */

/* Orders the copies "stream i <- stream parents[i]" so that no stream is overwritten while
 * another still has to read it: a stream is written once its readers are done; a cycle of
 * streams (a permutation) is broken by saving one of them to the swap buffer. ctx->plan holds
 * (dst, src) pairs: (-1, j) saves stream j, (i, -1) copies the saved stream to i. */
static void plan_reorder(attn_context *ctx, const int *parents) {
    int B = ctx->active, *need = ctx->need, *plan = ctx->plan, n = 0, left = 0;
    int *done = ctx->n_new; /* free between calls */
    for (int i = 0; i < B; i++)
        need[i] = 0;
    for (int i = 0; i < B; i++) {
        done[i] = parents[i] == i;
        if (!done[i]) need[parents[i]]++, left++;
    }
    int saved = -1;
    while (left) {
        int j = -1;
        for (int i = 0; i < B && j < 0; i++)
            if (!done[i] && !need[i]) j = i;
        if (j < 0) { /* only cycles are left: save one stream, its reader reads the copy */
            for (int i = 0; i < B && j < 0; i++)
                if (!done[i]) j = i;
            plan[n++] = -1, plan[n++] = j;
            saved = j;
            need[j] = 0;
        }
        int src = parents[j];
        int from_swap = src == saved && done[src];
        plan[n++] = j, plan[n++] = from_swap ? -1 : src;
        done[j] = 1, left--;
        if (!from_swap) need[src]--;
    }
    ctx->n_plan = n / 2;
}

/* Applies the plan to an array of B rows `stride` bytes apart, of which stream b uses
 * (counts ? counts[b] : 1) * unit bytes (counts: the lengths before the reorder). */
static void reorder_rows(attn_context *ctx, void *base, size_t stride, size_t unit,
                         const int *counts) {
    char *p = base, *swap = (char *)ctx->swap;
    size_t swapped = 0;
    for (int k = 0; k < ctx->n_plan; k++) {
        int dst = ctx->plan[2 * k], src = ctx->plan[2 * k + 1];
        if (dst < 0) {
            swapped = (counts ? (size_t)counts[src] : 1) * unit;
            memcpy(swap, p + src * stride, swapped);
        } else if (src < 0) {
            memcpy(p + dst * stride, swap, swapped);
        } else {
            memcpy(p + dst * stride, p + src * stride, (counts ? (size_t)counts[src] : 1) * unit);
        }
    }
}

attn_status attn_context_set_active(attn_context *ctx, int n) {
    if (!ctx || n < 1 || n > ctx->B)
        return attn_error(ATTN_ERR_INVALID, "set_active: %d streams of %d", n, ctx ? ctx->B : 0);
    ctx->active = n;
    return ATTN_OK;
}

attn_status attn_context_reorder(attn_context *ctx, const int *parents) {
    int B = ctx->active, C = attn_model_config(ctx->m)->d_model,
        V = attn_model_config(ctx->m)->vocab_size;
    for (int i = 0; i < B; i++)
        if (parents[i] < 0 || parents[i] >= B)
            return attn_error(ATTN_ERR_INVALID, "reorder: parents[%d] = %d is outside [0, %d)", i,
                              parents[i], B);
    plan_reorder(ctx, parents);
    size_t f = sizeof(float), kv_row = (size_t)ctx->cap * C * f;
    for (int l = 0; l < ctx->L; l++) {
        attn_kv_cache *kc = &ctx->caches[l];
        reorder_rows(ctx, kc->k, kv_row, (size_t)C * f, ctx->len);
        reorder_rows(ctx, kc->v, kv_row, (size_t)C * f, ctx->len);
        if (ctx->has_source) /* the source's rows go with the stream */
            reorder_rows(ctx, (float *)kc->cross_kv, (size_t)ctx->src_T * 2 * C * f,
                         (size_t)ctx->src_T * 2 * C * f, NULL);
    }
    reorder_rows(ctx, ctx->last, (size_t)C * f, (size_t)C * f, NULL);
    reorder_rows(ctx, ctx->logits, (size_t)V * f, (size_t)V * f, NULL);
    if (ctx->has_source) reorder_rows(ctx, ctx->src_len, sizeof(int), sizeof(int), NULL);
    reorder_rows(ctx, ctx->len, sizeof(int), sizeof(int), NULL); /* last: the sizes above */
    return ATTN_OK;
}
