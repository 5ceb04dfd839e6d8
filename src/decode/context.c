/* decode/context.c: KV-cached incremental decoding over a model's decoder stack.
 *
 * The context owns everything that changes while decoding (KV caches, activations of the new
 * positions, the encoded source, logits); the model is only read. All memory is allocated in
 * attn_context_create; feeding tokens allocates nothing. */
#include "attn/decode.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "kernels/embedding.h"
#include "kernels/layernorm.h"
#include "kernels/linear.h"
#include "models/model_internal.h"

struct attn_context {
    const attn_model *m;
    int B, cap;
    attn_kv_cache *caches; /* one per decoder layer */
    float *arena;          /* everything below points into it */
    float *act_base[2];    /* two activation sets, bound per call since shapes vary */
    float *x;              /* (B, T, C) embeddings of the new positions */
    float *last;           /* (B, C) final states of each stream's last position */
    float *normed;         /* (B, C) */
    float *logits;         /* (B, V) */
    float *mem;            /* seq2seq: (B, max_len, C) the encoded source */
    int *src_len;          /* seq2seq: (B) */
    int src_T, has_source;
};

attn_status attn_context_create(const attn_model *m, int batch, int max_len, attn_context **out) {
    *out = NULL;
    const attn_config *c = &m->cfg;
    if (c->arch == ATTN_ARCH_CLASSIFIER)
        return attn_error(ATTN_ERR_INVALID, "decoding needs a decoder_lm or seq2seq model");
    if (batch <= 0 || max_len <= 0 || max_len > c->max_len)
        return attn_error(ATTN_ERR_INVALID,
                          "decoding context: batch %d, max_len %d (model max_len %d)", batch,
                          max_len, c->max_len);
    int B = batch, C = c->d_model, L = m->dec.n_layers, P = c->max_len;
    int is_s2s = c->arch == ATTN_ARCH_SEQ2SEQ;
    /* Activations: big enough for a prefill of max_len decoder positions, and for the encoder
     * over a source of up to the model's max_len. */
    attn_layer_shape dshape = attn_stack_shape(m, &m->dec, B, max_len, P);
    size_t acts = attn_layer_acts_floats(&dshape, 0);
    if (is_s2s) {
        attn_layer_shape eshape = attn_stack_shape(m, &m->enc, B, P, 0);
        size_t e = attn_layer_acts_floats(&eshape, 0);
        if (e > acts) acts = e;
    }
    size_t kv = 2 * (size_t)B * max_len * C + (is_s2s ? 2 * (size_t)B * P * C : 0);
    size_t xs = (size_t)B * (is_s2s && P > max_len ? P : max_len) * C;
    size_t total = 2 * acts + (size_t)L * kv + xs + 2 * (size_t)B * C + (size_t)B * c->vocab_size +
                   (is_s2s ? (size_t)B * P * C + B : 0);
    attn_context *ctx = calloc(1, sizeof *ctx);
    if (ctx) ctx->caches = calloc((size_t)L, sizeof *ctx->caches);
    if (ctx) ctx->arena = malloc(total * sizeof(float));
    if (!ctx || !ctx->caches || !ctx->arena) {
        attn_context_free(ctx);
        return attn_error(ATTN_ERR_NOMEM, "decoding context: out of memory (%zu MB)",
                          total * sizeof(float) >> 20);
    }
    ctx->m = m, ctx->B = B, ctx->cap = max_len;
    float *p = ctx->arena;
    ctx->act_base[0] = p, p += acts;
    ctx->act_base[1] = p, p += acts;
    for (int l = 0; l < L; l++) {
        attn_kv_cache *kc = &ctx->caches[l];
        kc->cap = max_len;
        kc->k = p, p += (size_t)B * max_len * C;
        kc->v = p, p += (size_t)B * max_len * C;
        if (is_s2s) kc->cross_kv = p, p += 2 * (size_t)B * P * C;
    }
    ctx->x = p, p += xs;
    ctx->last = p, p += (size_t)B * C;
    ctx->normed = p, p += (size_t)B * C;
    ctx->logits = p, p += (size_t)B * c->vocab_size;
    if (is_s2s) {
        ctx->mem = p, p += (size_t)B * P * C;
        ctx->src_len = (int *)p;
    }
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
    for (int l = 0; l < ctx->m->dec.n_layers; l++) {
        ctx->caches[l].len = 0;
        ctx->caches[l].cross_ready = 0;
    }
    ctx->has_source = 0;
}

int attn_context_length(const attn_context *ctx) {
    return ctx->m->dec.n_layers ? ctx->caches[0].len : 0;
}

/* Runs the layers of st over x (B, T, C) with the two ping-pong activation sets; returns the
 * output of the last layer. caches: NULL for the encoder. */
static const float *run_layers(attn_context *ctx, const attn_stack *st, const float *x, int T,
                               int Tk, const int *x_len, attn_kv_cache *caches) {
    const attn_model *m = ctx->m;
    attn_layer_shape s = attn_stack_shape(m, st, ctx->B, T, Tk);
    attn_layer_acts a[2];
    attn_layer_acts_bind(&a[0], &s, 0, ctx->act_base[0]);
    attn_layer_acts_bind(&a[1], &s, 0, ctx->act_base[1]);
    const int *mem_len = ctx->has_source ? ctx->src_len : NULL;
    for (int l = 0; l < st->n_layers; l++) {
        attn_layer_forward(&s, &st->p[l], &a[l & 1], x, ctx->mem, x_len, mem_len,
                           caches ? &caches[l] : NULL, NULL, 0);
        x = a[l & 1].out;
    }
    return x;
}

attn_status attn_context_set_source(attn_context *ctx, const int *src, const int *lengths, int T) {
    const attn_model *m = ctx->m;
    const attn_config *c = &m->cfg;
    if (c->arch != ATTN_ARCH_SEQ2SEQ)
        return attn_error(ATTN_ERR_INVALID, "set_source: the model is not seq2seq");
    if (T <= 0 || T > c->max_len)
        return attn_error(ATTN_ERR_INVALID, "source length %d outside [1, %d]", T, c->max_len);
    int B = ctx->B, C = c->d_model;
    for (long i = 0; i < (long)B * T; i++)
        if (src[i] < 0 || src[i] >= c->vocab_size)
            return attn_error(ATTN_ERR_INVALID, "source[%ld] = %d is outside [0, %d)", i, src[i],
                              c->vocab_size);
    for (int b = 0; b < B; b++) {
        int len = lengths ? lengths[b] : T;
        if (len < 1 || len > T)
            return attn_error(ATTN_ERR_INVALID, "source lengths[%d] = %d outside [1, %d]", b, len,
                              T);
        ctx->src_len[b] = len;
    }
    attn_context_reset(ctx);
    const float *pos = m->pos_emb ? m->pos_emb : m->pos_table;
    attn_embedding_forward(ctx->x, src, m->tok_emb, pos, B, T, C, 0, attn_model_embed_scale(m));
    ctx->has_source = 0; /* the encoder's self-attention uses src_len as its own padding */
    const float *h = run_layers(ctx, &m->enc, ctx->x, T, 0, ctx->src_len, NULL);
    if (c->norm == ATTN_NORM_PRE)
        attn_layernorm_forward(ctx->mem, NULL, NULL, h, m->enc.lnf.w, m->enc.lnf.b, B * T, C,
                               c->ln_eps);
    else
        memcpy(ctx->mem, h, (size_t)B * T * C * sizeof(float));
    ctx->src_T = T;
    ctx->has_source = 1;
    return ATTN_OK;
}

attn_status attn_context_feed(attn_context *ctx, const int *tokens, int T, const float **logits) {
    const attn_model *m = ctx->m;
    const attn_config *c = &m->cfg;
    int B = ctx->B, C = c->d_model, V = c->vocab_size;
    int pos0 = attn_context_length(ctx);
    if (c->arch == ATTN_ARCH_SEQ2SEQ && !ctx->has_source)
        return attn_error(ATTN_ERR_INVALID, "feed: set the source of a seq2seq model first");
    if (T <= 0 || pos0 + T > ctx->cap)
        return attn_error(ATTN_ERR_INVALID,
                          "feed: %d new positions after %d exceed the context's %d", T, pos0,
                          ctx->cap);
    for (long i = 0; i < (long)B * T; i++)
        if (tokens[i] < 0 || tokens[i] >= V)
            return attn_error(ATTN_ERR_INVALID, "token %d is outside [0, %d)", tokens[i], V);
    const float *pos = m->pos_emb ? m->pos_emb : m->pos_table;
    attn_embedding_forward(ctx->x, tokens, m->tok_emb, pos, B, T, C, pos0,
                           attn_model_embed_scale(m));
    const float *h = run_layers(ctx, &m->dec, ctx->x, T, ctx->src_T, NULL, ctx->caches);
    for (int l = 0; l < m->dec.n_layers; l++)
        ctx->caches[l].len += T;
    for (int b = 0; b < B; b++)
        memcpy(ctx->last + (size_t)b * C, h + ((size_t)b * T + T - 1) * C,
               (size_t)C * sizeof(float));
    const float *fin = ctx->last;
    if (c->norm == ATTN_NORM_PRE) {
        attn_layernorm_forward(ctx->normed, NULL, NULL, ctx->last, m->dec.lnf.w, m->dec.lnf.b, B, C,
                               c->ln_eps);
        fin = ctx->normed;
    }
    attn_linear_forward(ctx->logits, fin, m->tok_emb, NULL, B, C, V);
    *logits = ctx->logits;
    return ATTN_OK;
}
