/* models/stack.c: the one forward of a stack (models/stack.h), used by training
 * (models/forward.c), KV-cached decoding (decode/context.c) and attention maps
 * (models/attention_maps.c):
 *     x = dropout(embed(ids, pos0)) ; x = layer_l(x) for every layer ; out = ln_f(x) (pre-LN) */
#include "models/stack.h"

#include <string.h>

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "kernels/layernorm.h"
#include "kernels/linear.h"
#include "models/model_internal.h"
#include "nn/mha.h"

static const attn_stack *stack_of(const attn_model *m, attn_stack_kind which) {
    return which == ATTN_STACK_ENCODER ? &m->enc : &m->dec;
}

int attn_stack_layers(const attn_model *m, attn_stack_kind which) {
    return stack_of(m, which)->n_layers;
}

attn_layer_shape attn_stack_layer_shape(const attn_model *m, attn_stack_kind which, int B, int T,
                                        int Tk) {
    return attn_stack_shape(m, stack_of(m, which), B, T, Tk);
}

void attn_stack_cross_kv(const attn_model *m, int layer, float *kv, const float *mem, int B,
                         int Tk) {
    attn_mha_cross_kv(&m->dec.p[layer].cross_attn, kv, mem, B * Tk, m->cfg.d_model);
}

void attn_model_tied_logits(const attn_model *m, float *logits, const float *h, int rows) {
    attn_linear_forward(logits, h, m->tok_emb, NULL, rows, m->cfg.d_model, m->cfg.vocab_size);
}

attn_status attn_subsample_forward(const attn_model *m, const float *x, int B, int T, float *y1,
                                   float *y2, size_t *y1_floats, size_t *y2_floats) {
    const attn_config *c = &m->cfg;
    int F = c->n_features, K = c->conv_channels;
    int T1 = (T - 1) / 2, F1 = (F - 1) / 2, T2 = attn_subsampled_length(T);
    size_t n1 = (size_t)B * T1 * F1 * K, n2 = (size_t)B * T2 * m->in_features;
    if (y1_floats) *y1_floats = n1;
    if (y2_floats) *y2_floats = n2;
    if (!x) return ATTN_OK;
    ATTN_TRY(attn_conv2d_forward(y1, x, m->conv1_w, m->conv1_b, B, T, F, 1, K, 3, 2));
    attn_activation_forward(ATTN_ACT_RELU, y1, y1, (long)n1); // (B, T1, F1, K)
    ATTN_TRY(attn_conv2d_forward(y2, y1, m->conv2_w, m->conv2_b, B, T1, F1, K, K, 3, 2));
    attn_activation_forward(ATTN_ACT_RELU, y2, y2, (long)n2); // (B, T2, F2 K)
    return ATTN_OK;
}

/* emb (B, T, C) = scale * tok[ids] + pos[pos0 + t]: one call when every row starts at the same
 * position and is full, else row by row over its n_valid ids, the padding zeroed. A
 * feature-input encoder: emb = features input_proj^T + b + pos[t]. */
static void embed(const attn_model *m, const attn_stack_run *r) {
    int B = r->B, T = r->T, C = m->cfg.d_model;
    const float *pos = m->pos_emb ? m->pos_emb : m->pos_table;
    if (r->features) {
        attn_linear_forward(r->emb, r->features, m->in_w, m->in_b, B * T, m->in_features,
                            C);                          // (B, T, C)
        attn_positions_forward(r->emb, pos, B, T, C, 0); // (B, T, C) += pos[t]
        return;
    }
    float scale = attn_model_embed_scale(m);
    int same = !r->n_valid;
    for (int b = 1; same && r->pos0 && b < B; b++)
        same = r->pos0[b] == r->pos0[0];
    if (same) {
        attn_embedding_forward(r->emb, r->ids, m->tok_emb, pos, B, T, C, r->pos0 ? r->pos0[0] : 0,
                               scale);
        return;
    }
    for (int b = 0; b < B; b++) {
        int n = r->n_valid ? r->n_valid[b] : T;
        float *row = r->emb + (size_t)b * T * C;
        if (n)
            attn_embedding_forward(row, r->ids + (size_t)b * T, m->tok_emb, pos, 1, n, C,
                                   r->pos0 ? r->pos0[b] : 0, scale);
        memset(row + (size_t)n * C, 0, (size_t)(T - n) * C * sizeof(float));
    }
}

const float *attn_stack_forward(const attn_model *m, attn_stack_kind which,
                                const attn_stack_run *r) {
    const attn_config *c = &m->cfg;
    const attn_stack *st = stack_of(m, which);
    int B = r->B, T = r->T, C = c->d_model, H = c->n_heads;
    long BTC = (long)B * T * C;
    attn_layer_shape s = attn_stack_shape(m, st, B, T, r->Tk);
    size_t map_floats = (size_t)B * H * T * (r->probs_cross ? r->Tk : T);

    embed(m, r); // (B, T, C)
    if (r->training && c->dropout > 0)
        attn_dropout_forward(r->emb, r->emb_mask, r->emb, BTC, c->dropout, r->rng); // (B, T, C)
    const float *x = r->emb;
    for (int l = 0; l < st->n_layers; l++) {
        attn_layer_acts *a = &r->acts[l % r->n_acts];
        float *probs = r->probs ? r->probs + l * map_floats : NULL;
        attn_layer_run run = {.training = r->training,
                              .rng = r->rng,
                              .cache = r->caches ? &r->caches[l] : NULL,
                              .self_probs = r->probs_cross ? NULL : probs,
                              .cross_probs = r->probs_cross ? probs : NULL};
        attn_status ok =
            which == ATTN_STACK_ENCODER
                ? attn_encoder_layer_forward(&s, &st->p[l], a, x, r->x_len, &run) // (B, T, C)
                : attn_decoder_layer_forward(&s, &st->p[l], a, x, r->x_len, r->mem, r->mem_len,
                                             &run); // (B, T, C)
        if (ok != ATTN_OK) return NULL;
        x = a->out;
    }
    if (c->norm == ATTN_NORM_POST) return x;
    attn_layernorm_forward(r->out, r->out_mean, r->out_rstd, x, st->lnf.w, st->lnf.b, B * T, C,
                           c->ln_eps); // (B, T, C) ln_f
    return r->out;
}
