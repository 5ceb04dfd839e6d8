/* models/attention_maps.c: the attention probabilities of one sequence, layer by layer.
 *
 * The model's forward uses the fused attention kernel, which never holds the probabilities. Here
 * the stack is re-run as forward.c runs it (embedding, attn_layer_forward per layer, final
 * LayerNorm), in buffers of our own so the model stays untouched; after each layer the projected
 * q/k/v it saved go through the reference kernel attn_sdpa_probs, whose probabilities
 * P = softmax(q k^T / sqrt(D) + mask) are the map of that layer and P v is the same attention
 * output the layer computed (tests/models/test_attention_maps.c holds the two together). */
#include "models/model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/viz.h"
#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/embedding.h"
#include "kernels/layernorm.h"

attn_maps_kind attn_maps_default_kind(attn_arch arch) {
    switch (arch) {
    case ATTN_ARCH_DECODER_LM:
        return ATTN_MAPS_DECODER_SELF;
    case ATTN_ARCH_SEQ2SEQ:
        return ATTN_MAPS_DECODER_CROSS;
    default:
        return ATTN_MAPS_ENCODER_SELF;
    }
}

static const char *const kind_names[] = {"encoder_self", "decoder_self", "decoder_cross"};
#define N_KINDS ((int)(sizeof kind_names / sizeof kind_names[0]))

const char *attn_maps_kind_name(attn_maps_kind kind) {
    return (int)kind >= 0 && (int)kind < N_KINDS ? kind_names[kind] : "?";
}

attn_status attn_maps_kind_parse(const char *name, attn_maps_kind *out) {
    for (int i = 0; name && out && i < N_KINDS; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (attn_maps_kind)i;
            return ATTN_OK;
        }
    }
    return attn_error(ATTN_ERR_INVALID,
                      "unknown attention map kind '%s' (encoder_self, decoder_self, decoder_cross)",
                      name ? name : "(null)");
}

const float *attn_maps_head(const attn_maps *maps, int layer, int head) {
    if (!maps || !maps->probs || layer < 0 || layer >= maps->n_layers || head < 0 ||
        head >= maps->n_heads)
        return NULL;
    size_t per_head = (size_t)maps->n_queries * maps->n_keys;
    return maps->probs + ((size_t)layer * maps->n_heads + head) * per_head;
}

void attn_maps_free(attn_maps *maps) {
    if (!maps) return;
    free(maps->probs);
    memset(maps, 0, sizeof *maps);
}

/* ---- checks ------------------------------------------------------------------------------- */

/* Every id in [0, V), or ATTN_ERR_INVALID naming the first that is not. */
static attn_status check_ids(const char *what, const int *ids, int n, int V) {
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return attn_error(ATTN_ERR_INVALID, "attention maps: %s[%d] = %d is outside [0, %d)",
                              what, i, ids[i], V);
    return ATTN_OK;
}

/* The same rules as attn_model_forward's, for one sequence, plus: the kind exists. */
static attn_status check_request(const attn_model *m, const attn_batch *b, attn_maps_kind which) {
    const attn_config *c = &m->cfg;
    if (b->B != 1)
        return attn_error(ATTN_ERR_INVALID, "attention maps: need a batch of one sequence, got %d",
                          b->B);
    if (b->T <= 0 || b->T > c->max_len || !b->tokens)
        return attn_error(ATTN_ERR_INVALID,
                          "attention maps: need tokens with 0 < T <= max_len (%d), got T = %d",
                          c->max_len, b->T);
    ATTN_TRY(check_ids("tokens", b->tokens, b->T, c->vocab_size));
    if (b->lengths && (b->lengths[0] < 1 || b->lengths[0] > b->T))
        return attn_error(ATTN_ERR_INVALID, "attention maps: length %d is outside [1, %d]",
                          b->lengths[0], b->T);
    int has_enc = c->arch != ATTN_ARCH_DECODER_LM, has_dec = c->arch != ATTN_ARCH_CLASSIFIER;
    int ok = which == ATTN_MAPS_ENCODER_SELF    ? has_enc
             : which == ATTN_MAPS_DECODER_SELF  ? has_dec
             : which == ATTN_MAPS_DECODER_CROSS ? c->arch == ATTN_ARCH_SEQ2SEQ
                                                : 0;
    if (!ok)
        return attn_error(ATTN_ERR_INVALID, "attention maps: a %s model has no %s attention",
                          attn_arch_name(c->arch), attn_maps_kind_name(which));
    if (c->arch == ATTN_ARCH_SEQ2SEQ) {
        if (b->Tt <= 0 || b->Tt > c->max_len || !b->tgt_in)
            return attn_error(ATTN_ERR_INVALID,
                              "attention maps: seq2seq needs tgt_in with 0 < Tt <= max_len (%d), "
                              "got Tt = %d",
                              c->max_len, b->Tt);
        ATTN_TRY(check_ids("tgt_in", b->tgt_in, b->Tt, c->vocab_size));
    }
    return ATTN_OK;
}

/* ---- one stack ---------------------------------------------------------------------------- */

/* What a stack runs over: ids (1, T), x_len (the self-attention's key padding) and, for a
 * decoder with cross-attention, the memory mem (1, Tk, C) and its key padding mem_len. */
typedef struct {
    const int *ids;
    int T;
    const int *x_len;
    const float *mem;
    int Tk;
    const int *mem_len;
} stack_input;

/* The reference attention over the q/k/v that layer sublayer `sa` saved (the views of
 * nn/mha.c): writes probs (H, T, Tk) and the attention output into o (T, C). */
static void sublayer_probs(const attn_layer_shape *s, const attn_sublayer_acts *sa, int cross,
                           const stack_input *in, float *probs, float *o) {
    int T = s->T, C = s->C;
    attn_sdpa_args a = {.B = 1,
                        .H = s->H,
                        .Tq = T,
                        .D = C / s->H,
                        .scale = 1.0f / sqrtf((float)(C / s->H)),
                        .q = sa->qkv};
    if (!cross) { /* qkv: (T, 3C) */
        a.Tk = T, a.causal = s->causal, a.kv_len = in->x_len;
        a.k = sa->qkv + C, a.v = sa->qkv + 2 * C;
        a.q_rs = a.k_rs = a.v_rs = 3L * C;
        a.q_bs = a.k_bs = a.v_bs = (long)T * 3 * C;
    } else { /* q: (T, C), then kv: (Tk, 2C) */
        const float *kv = sa->qkv + (size_t)T * C;
        a.Tk = in->Tk, a.causal = 0, a.kv_len = in->mem_len;
        a.q_rs = C, a.q_bs = (long)T * C;
        a.k = kv, a.v = kv + C;
        a.k_rs = a.v_rs = 2L * C, a.k_bs = a.v_bs = (long)in->Tk * 2 * C;
    }
    attn_sdpa_probs(&a, o, (long)T * C, C, probs);
}

/* Runs stack st over `in` in inference, as forward.c's stack_forward does, and writes its output
 * (after the final LayerNorm of a pre-LN model) to out (T, C) when out is not NULL. With probs
 * not NULL, the maps of sublayer `sub` (0: self-attention, 1: cross-attention) of every layer
 * go to probs (L, H, T, Tk). */
static attn_status stack_run(const attn_model *m, const attn_stack *st, const stack_input *in,
                             int sub, float *probs, float *out) {
    const attn_config *c = &m->cfg;
    int T = in->T, C = c->d_model, H = c->n_heads;
    attn_layer_shape s = {.B = 1,
                          .T = T,
                          .Tk = st->cross ? in->Tk : 0,
                          .C = C,
                          .H = H,
                          .F = c->d_ff,
                          .causal = st->causal,
                          .cross = st->cross,
                          .norm = c->norm,
                          .act = c->act,
                          .dropout = c->dropout,
                          .eps = c->ln_eps};
    size_t TC = (size_t)T * C, per_layer = attn_layer_acts_floats(&s, 0);
    float *buf = malloc((2 * TC + 2 * per_layer) * sizeof(float));
    if (!buf)
        return attn_error(ATTN_ERR_NOMEM, "attention maps: cannot allocate %zu floats",
                          2 * TC + 2 * per_layer);
    float *emb = buf, *o = buf + TC;
    attn_layer_acts acts[2]; /* layer l writes acts[l % 2] and reads the other's output */
    attn_layer_acts_bind(&acts[0], &s, 0, buf + 2 * TC);
    attn_layer_acts_bind(&acts[1], &s, 0, buf + 2 * TC + per_layer);

    const float *pos = m->pos_emb ? m->pos_emb : m->pos_table;
    attn_embedding_forward(emb, in->ids, m->tok_emb, pos, 1, T, C, 0, attn_model_embed_scale(m));
    const float *x = emb;
    size_t map_floats = (size_t)H * T * (sub ? in->Tk : T);
    for (int l = 0; l < st->n_layers; l++) {
        attn_layer_acts *a = &acts[l % 2];
        attn_layer_forward(&s, &st->p[l], a, x, in->mem, in->x_len, in->mem_len, NULL, NULL, 0);
        if (probs) sublayer_probs(&s, &a->sub[sub], sub, in, probs + l * map_floats, o);
        x = a->out;
    }
    if (out && c->norm == ATTN_NORM_PRE)
        attn_layernorm_forward(out, NULL, NULL, x, st->lnf.w, st->lnf.b, T, C, c->ln_eps);
    else if (out)
        memcpy(out, x, TC * sizeof(float));
    free(buf);
    return ATTN_OK;
}

/* ---- the maps ----------------------------------------------------------------------------- */

attn_status attn_model_attention_maps(const attn_model *m, const attn_batch *batch,
                                      attn_maps_kind which, attn_maps *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!m || !batch || !out)
        return attn_error(ATTN_ERR_INVALID, "attention maps: NULL model, batch or output");
    ATTN_TRY(check_request(m, batch, which));
    const attn_config *c = &m->cfg;
    int T = batch->T, is_s2s = c->arch == ATTN_ARCH_SEQ2SEQ;
    int Tq = which == ATTN_MAPS_ENCODER_SELF ? T : is_s2s ? batch->Tt : T;
    int Tk = which == ATTN_MAPS_DECODER_SELF ? Tq : T;
    const attn_stack *st = which == ATTN_MAPS_ENCODER_SELF ? &m->enc : &m->dec;
    size_t n = (size_t)st->n_layers * c->n_heads * Tq * Tk;
    float *probs = malloc((n ? n : 1) * sizeof(float));
    if (!probs) return attn_error(ATTN_ERR_NOMEM, "attention maps: cannot allocate %zu floats", n);

    attn_status status;
    stack_input src = {.ids = batch->tokens, .T = T, .x_len = batch->lengths};
    if (which == ATTN_MAPS_ENCODER_SELF) {
        status = stack_run(m, &m->enc, &src, 0, probs, NULL);
    } else if (!is_s2s) {
        status = stack_run(m, &m->dec, &src, 0, probs, NULL);
    } else {
        /* the decoder needs the encoder's output (its memory) first */
        float *mem = malloc((size_t)T * c->d_model * sizeof(float));
        status = mem ? stack_run(m, &m->enc, &src, 0, NULL, mem)
                     : attn_error(ATTN_ERR_NOMEM, "attention maps: cannot allocate the memory");
        stack_input tgt = {.ids = batch->tgt_in,
                           .T = batch->Tt,
                           .x_len = NULL, /* the decoder's self-attention is only causal */
                           .mem = mem,
                           .Tk = T,
                           .mem_len = batch->lengths};
        if (status == ATTN_OK)
            status = stack_run(m, &m->dec, &tgt, which == ATTN_MAPS_DECODER_CROSS, probs, NULL);
        free(mem);
    }
    if (status != ATTN_OK) {
        free(probs);
        return status;
    }
    *out = (attn_maps){.kind = which,
                       .n_layers = st->n_layers,
                       .n_heads = c->n_heads,
                       .n_queries = Tq,
                       .n_keys = Tk,
                       .probs = probs};
    return ATTN_OK;
}
