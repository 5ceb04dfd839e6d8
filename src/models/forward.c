/* models/forward.c: the forward and backward passes of the three families over the activation
 * arena (docs/FORMATS.md, "The exact computation"). */
#include "models/model_internal.h"
#include "models/stack.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/crossentropy.h"
#include "kernels/ctc.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "kernels/layernorm.h"
#include "kernels/linear.h"
#include "kernels/residual.h"
#include "kernels/softmax.h"
#include "nn/pool.h"

/* ---- activation arena --------------------------------------------------------------------- */

attn_layer_shape attn_stack_shape(const attn_model *m, const attn_stack *st, int B, int T, int Tk) {
    const attn_config *c = &m->cfg;
    attn_layer_shape s = {.B = B,
                          .T = T,
                          .Tk = Tk,
                          .C = c->d_model,
                          .H = c->n_heads,
                          .F = c->d_ff,
                          .cross = st->cross,
                          .norm = c->norm,
                          .act = c->act,
                          .dropout = c->dropout,
                          .eps = c->ln_eps};
    return s;
}

/* Floats a stack needs at (B, T); with base != NULL, also binds st's views into base. */
static size_t stack_layout(attn_model *m, attn_stack *st, int B, int T, int Tk, float *base) {
    if (!st->n_layers) return 0;
    attn_layer_shape s = attn_stack_shape(m, st, B, T, Tk);
    size_t BT = (size_t)B * T, BTC = BT * m->cfg.d_model, used = 0;
#define TAKE(type, field, count)                                                                   \
    do {                                                                                           \
        if (base) st->field = (type)(base + used);                                                 \
        used += (count);                                                                           \
    } while (0)
    TAKE(float *, emb, BTC);
    TAKE(uint8_t *, emb_mask, (BTC + 3) / 4);
    TAKE(float *, lnf_out, BTC);
    TAKE(float *, lnf_mean, BT);
    TAKE(float *, lnf_rstd, BT);
    TAKE(int *, tokens, BT);
    TAKE(int *, lengths, (size_t)B);
    if (st == &m->enc && m->cfg.n_features) TAKE(float *, features, BT * m->in_features);
#undef TAKE
    size_t per_layer = attn_layer_acts_floats(&s, 1);
    if (base) {
        st->shape = s;
        for (int l = 0; l < st->n_layers; l++)
            attn_layer_acts_bind(&st->acts[l], &s, 1, base + used + l * per_layer);
    }
    return used + per_layer * st->n_layers;
}

/* Lays out (base == NULL: measures) the whole activation arena for (B, T, Tt): T input
 * positions (frames for a subsampling encoder), Tt target positions (seq2seq, ctc). */
static size_t model_layout(attn_model *m, int B, int T, int Tt, float *base) {
    const attn_config *c = &m->cfg;
    int is_s2s = c->arch == ATTN_ARCH_SEQ2SEQ, is_ctc = c->arch == ATTN_ARCH_CTC;
    int Tenc = attn_model_encoder_length(m, T);
    int Tdec = is_s2s ? Tt : is_ctc ? 0 : Tenc, Tmax = Tenc > Tdec ? Tenc : Tdec;
    size_t C = c->d_model, used = 0;
    used += stack_layout(m, &m->enc, B, Tenc, 0, base ? base + used : NULL);
    used += stack_layout(m, &m->dec, B, Tdec, Tenc, base ? base + used : NULL);
    size_t rows = c->arch == ATTN_ARCH_CLASSIFIER ? (size_t)B
                  : is_ctc                        ? (size_t)B * Tenc
                                                  : (size_t)B * Tdec;
    size_t cols = c->arch == ATTN_ARCH_CLASSIFIER ? (size_t)c->n_classes : (size_t)c->vocab_size;
    int has_ctc = is_ctc || (is_s2s && c->ctc_weight > 0);
    size_t ctc_rows = (size_t)B * Tenc;
#define TAKE(type, field, count)                                                                   \
    do {                                                                                           \
        if (base) m->field = (type)(base + used);                                                  \
        used += (count);                                                                           \
    } while (0)
    TAKE(float *, pooled, (size_t)B *C);
    TAKE(float *, dpooled, (size_t)B *C);
    TAKE(float *, logits, rows *cols);
    TAKE(float *, lse, rows);
    TAKE(int *, targets, rows);
    for (int i = 0; i < 3; i++)
        TAKE(float *, dbuf[i], (size_t)B *Tmax *C);
    TAKE(float *, dmem, (size_t)B *Tenc *C);
    TAKE(int *, sub_len, (size_t)B);
    if (c->subsample) {
        size_t F = c->n_features, y1 = (size_t)B * ((T - 1) / 2) * ((F - 1) / 2) * c->conv_channels;
        TAKE(float *, conv_x, (size_t)B *T *F);
        TAKE(float *, conv_y1, y1);
        TAKE(float *, conv_dy1, y1);
        TAKE(float *, conv_dy2, (size_t)B *Tenc *m->in_features);
    }
    if (has_ctc) {
        if (is_s2s) TAKE(float *, ctc_lp, ctc_rows *c->vocab_size);
        TAKE(float *, dlogits, ctc_rows *c->vocab_size);
        TAKE(int *, ctc_tgt, (size_t)B *Tt);
        TAKE(int *, tgt_len, (size_t)B);
    }
    if (base && is_ctc) m->ctc_lp = m->logits;
    size_t scratch = 0;
    if (m->enc.n_layers) {
        attn_layer_shape s = attn_stack_shape(m, &m->enc, B, Tenc, 0);
        scratch = attn_layer_scratch_floats(&s);
    }
    if (m->dec.n_layers) {
        attn_layer_shape s = attn_stack_shape(m, &m->dec, B, Tdec, Tenc);
        size_t d = attn_layer_scratch_floats(&s);
        if (d > scratch) scratch = d;
    }
    TAKE(float *, scratch, scratch);
#undef TAKE
    return used;
}

attn_status attn_model_reserve(attn_model *m, int B, int T, int Tt) {
    const attn_config *c = &m->cfg;
    int Tenc = attn_model_encoder_length(m, T);
    if (B <= 0 || T <= 0 || Tenc < 1 || Tenc > c->max_len ||
        (c->arch == ATTN_ARCH_SEQ2SEQ && (Tt <= 0 || Tt > c->max_len)) ||
        (c->arch == ATTN_ARCH_CTC && Tt < 0))
        return attn_error(ATTN_ERR_INVALID,
                          "batch shape B=%d T=%d Tt=%d is invalid (max_len %d%s)", B, T, Tt,
                          c->max_len, c->subsample ? " after subsampling by 4" : "");
    if (c->arch != ATTN_ARCH_SEQ2SEQ && c->arch != ATTN_ARCH_CTC) Tt = 0;
    if (m->acts && B <= m->cap_B && T <= m->cap_T && Tt <= m->cap_Tt) return ATTN_OK;
    if (m->acts) { /* grow to cover both the old and the new shape */
        if (m->cap_B > B) B = m->cap_B;
        if (m->cap_T > T) T = m->cap_T;
        if (m->cap_Tt > Tt) Tt = m->cap_Tt;
    }
    free(m->acts);
    m->acts = NULL;
    if (!m->enc.acts && m->enc.n_layers)
        m->enc.acts = calloc((size_t)m->enc.n_layers, sizeof(attn_layer_acts));
    if (!m->dec.acts && m->dec.n_layers)
        m->dec.acts = calloc((size_t)m->dec.n_layers, sizeof(attn_layer_acts));
    size_t n = model_layout(m, B, T, Tt, NULL);
    m->acts = malloc(n * sizeof(float));
    if (!m->acts || (m->enc.n_layers && !m->enc.acts) || (m->dec.n_layers && !m->dec.acts))
        return attn_error(ATTN_ERR_NOMEM, "model: cannot allocate %zu MB of activations",
                          n * sizeof(float) >> 20);
    m->acts_floats = n;
    m->cap_B = B, m->cap_T = T, m->cap_Tt = Tt;
    return ATTN_OK;
}

/* ---- forward ------------------------------------------------------------------------------ */

/* Training (and evaluation) forward of stack `which` over ids (B, T): keeps the ids and lengths
 * and every layer's activations for backward; st->out is the result. */
static attn_status stack_forward(attn_model *m, attn_stack_kind which, const int *ids,
                                 const float *features, const int *lengths, int B, int T,
                                 const attn_stack *mem, int training) {
    attn_stack *st = which == ATTN_STACK_ENCODER ? &m->enc : &m->dec;
    if (features) {
        if (features != st->features) /* the convolutions write there themselves */
            memcpy(st->features, features, (size_t)B * T * m->in_features * sizeof(float));
    } else
        memcpy(st->tokens, ids, (size_t)B * T * sizeof(int));
    st->has_lengths = lengths != NULL;
    if (lengths) memcpy(st->lengths, lengths, (size_t)B * sizeof(int));
    attn_stack_run r = {.B = B,
                        .T = T,
                        .ids = features ? NULL : st->tokens,
                        .features = features ? st->features : NULL,
                        .x_len = lengths ? st->lengths : NULL,
                        .mem = mem ? mem->out : NULL,
                        .Tk = st->shape.Tk,
                        .mem_len = mem && mem->has_lengths ? mem->lengths : NULL,
                        .emb = st->emb,
                        .emb_mask = st->emb_mask,
                        .acts = st->acts,
                        .n_acts = st->n_layers,
                        .out = st->lnf_out,
                        .out_mean = st->lnf_mean,
                        .out_rstd = st->lnf_rstd,
                        .training = training,
                        .rng = &m->rng};
    st->out = (float *)attn_stack_forward(m, which, &r);
    return st->out ? ATTN_OK : ATTN_ERR_NOMEM; /* the message is the kernel's */
}

/* The encoder over the batch's source: ids, features, or features through the two convolutions
 * (subsample 4: conv, ReLU, conv, ReLU, then the stack reads their output at a quarter of the
 * positions, with lengths ((n - 1) / 2 - 1) / 2). */
static attn_status encoder_forward(attn_model *m, const attn_batch *b, int training) {
    const attn_config *c = &m->cfg;
    if (!c->subsample)
        return stack_forward(m, ATTN_STACK_ENCODER, b->tokens, c->n_features ? b->features : NULL,
                             b->lengths, b->B, b->T, NULL, training);
    int B = b->B, T = b->T, T2 = attn_subsampled_length(T);
    memcpy(m->conv_x, b->features, (size_t)B * T * c->n_features * sizeof(float));
    ATTN_TRY(attn_subsample_forward(m, m->conv_x, B, T, m->conv_y1, m->enc.features, NULL, NULL));
    for (int i = 0; i < B; i++)
        m->sub_len[i] = attn_subsampled_length(b->lengths ? b->lengths[i] : T);
    return stack_forward(m, ATTN_STACK_ENCODER, NULL, m->enc.features, b->lengths ? m->sub_len : NULL,
                         B, T2, NULL, training);
}

/* The CTC head over the encoder's output: m->ctc_lp (B, T', V) log-probabilities. */
static void ctc_head(attn_model *m) {
    int rows = m->enc.shape.B * m->enc.shape.T, C = m->cfg.d_model, V = m->cfg.vocab_size;
    attn_linear_forward(m->ctc_lp, m->enc.out, m->head_w, m->head_b, rows, C, V);
    attn_log_softmax_forward(m->ctc_lp, m->ctc_lp, rows, V);
}

/* CTC of m->ctc_lp against targets (B, Tt): the loss of each sequence, summed, with the number of
 * labels as the count (so the mean is per label). */
static attn_status ctc_loss(attn_model *m, const int *targets, int Tt, double *sum, long *count) {
    int B = m->enc.shape.B, T2 = m->enc.shape.T, V = m->cfg.vocab_size;
    memcpy(m->ctc_tgt, targets, (size_t)B * Tt * sizeof(int));
    m->ctc_Tt = Tt;
    *sum = 0, *count = 0;
    for (int i = 0; i < B; i++) {
        int n = 0;
        while (n < Tt && m->ctc_tgt[(size_t)i * Tt + n] != ATTN_IGNORE_INDEX)
            n++;
        m->tgt_len[i] = n;
        int in_len = m->enc.has_lengths ? m->enc.lengths[i] : T2;
        float l;
        ATTN_TRY(attn_ctc_forward(&l, m->ctc_lp + (size_t)i * T2 * V, m->ctc_tgt + (size_t)i * Tt,
                                  &in_len, &n, T2, 1, V, Tt, 0));
        if (!isfinite(l))
            return attn_error(ATTN_ERR_NUMERIC,
                              "ctc: sequence %d has %d encoder positions, too few for its %d "
                              "labels (and the blanks between repeats)",
                              i, in_len, n);
        *sum += l;
        *count += n;
    }
    return ATTN_OK;
}

/* dmem (B, T', C) += the gradient of scale * the CTC loss sum through the head. */
static attn_status ctc_backward(attn_model *m, float scale, float *dmem) {
    int B = m->enc.shape.B, T2 = m->enc.shape.T, V = m->cfg.vocab_size, Tt = m->ctc_Tt;
    size_t rows = (size_t)B * T2;
    memset(m->dlogits, 0, rows * V * sizeof(float));
    for (int i = 0; i < B; i++) {
        int in_len = m->enc.has_lengths ? m->enc.lengths[i] : T2;
        size_t at = (size_t)i * T2 * V;
        ATTN_TRY(attn_ctc_backward(m->dlogits + at, &scale, m->ctc_lp + at,
                                   m->ctc_tgt + (size_t)i * Tt, &in_len, &m->tgt_len[i], T2, 1, V,
                                   Tt, 0));
    }
    attn_linear_backward(dmem, m->ghead_w, m->ghead_b, m->dlogits, m->enc.out, m->head_w,
                         (int)rows, m->cfg.d_model, V);
    return ATTN_OK;
}

attn_status attn_model_forward(attn_model *m, const attn_batch *b, int training, float *loss) {
    const attn_config *c = &m->cfg;
    m->can_backward = 0;
    ATTN_TRY(attn_batch_check(m, b));
    int is_s2s = c->arch == ATTN_ARCH_SEQ2SEQ, is_ctc = c->arch == ATTN_ARCH_CTC;
    int Tt = is_s2s || (is_ctc && b->targets) ? b->Tt : 0;
    m->ctc_active = 0;
    ATTN_TRY(attn_model_reserve(m, b->B, b->T, Tt));
    /* bind the arena to this batch's exact shape, so every array is contiguous */
    model_layout(m, b->B, b->T, Tt, m->acts);
    m->B = b->B, m->T = b->T, m->Tt = Tt;
    int B = b->B, C = c->d_model;
    const int *tgt = NULL;
    attn_stack *top;

    if (is_ctc) { /* log-probabilities (B, T', V) and the CTC loss */
        ATTN_TRY(encoder_forward(m, b, training));
        ctc_head(m);
        m->logit_rows = B * m->enc.shape.T, m->logit_cols = c->vocab_size;
        m->loss_sum = 0, m->loss_count = 0;
        if (loss) *loss = 0;
        if (!b->targets) return ATTN_OK;
        double sum;
        long count;
        ATTN_TRY(ctc_loss(m, b->targets, b->Tt, &sum, &count));
        m->ctc_active = 1;
        if (loss) *loss = count ? (float)(sum / (double)count) : 0.0f;
        m->loss_sum = sum, m->loss_count = count;
        m->can_backward = training;
        return ATTN_OK;
    }
    if (c->arch == ATTN_ARCH_CLASSIFIER) {
        ATTN_TRY(encoder_forward(m, b, training));
        attn_pool_forward(c->pool, m->pooled, m->enc.out, b->lengths, B, b->T, C);
        attn_linear_forward(m->logits, m->pooled, m->head_w, m->head_b, B, C, c->n_classes);
        m->logit_rows = B, m->logit_cols = c->n_classes;
        tgt = b->labels;
    } else {
        if (is_s2s) {
            ATTN_TRY(encoder_forward(m, b, training));
            ATTN_TRY(stack_forward(m, ATTN_STACK_DECODER, b->tgt_in, NULL, NULL, B, b->Tt, &m->enc,
                                   training));
        } else {
            ATTN_TRY(stack_forward(m, ATTN_STACK_DECODER, b->tokens, NULL, b->lengths, B, b->T,
                                   NULL, training));
        }
        top = &m->dec;
        int rows = B * top->shape.T;
        attn_linear_forward(m->logits, top->out, m->tok_emb, NULL, rows, C, c->vocab_size);
        m->logit_rows = rows, m->logit_cols = c->vocab_size;
        tgt = b->targets;
    }
    if (is_s2s && c->ctc_weight > 0) ctc_head(m); /* for joint decoding, too */
    if (!tgt) {
        if (loss) *loss = 0;
        return ATTN_OK;
    }
    memcpy(m->targets, tgt, (size_t)m->logit_rows * sizeof(int));
    long count = 0;
    /* label smoothing is part of the training objective; evaluation reports the plain
     * cross-entropy (the one perplexity is made of) */
    float smoothing = training ? c->label_smoothing : 0.0f;
    double sum = attn_crossentropy_forward(m->lse, m->logits, m->targets, m->logit_rows,
                                           m->logit_cols, ATTN_IGNORE_INDEX, smoothing, &count);
    if (is_s2s && c->ctc_weight > 0 && b->ctc_targets) { /* the joint objective */
        double ctc_sum;
        long ctc_count;
        ATTN_TRY(ctc_loss(m, b->ctc_targets, b->Tc, &ctc_sum, &ctc_count));
        sum = (1.0 - c->ctc_weight) * sum + c->ctc_weight * ctc_sum;
        m->ctc_active = 1;
    }
    double mean = count ? sum / (double)count : 0.0;
    if (!isfinite(mean))
        return attn_error(ATTN_ERR_NUMERIC, "loss is not finite (%g): training diverged", mean);
    if (loss) *loss = (float)mean;
    m->loss_sum = sum;
    m->loss_count = count;
    m->can_backward = training;
    return ATTN_OK;
}

/* ---- backward ----------------------------------------------------------------------------- */

/* From the gradient of the second convolution's output (m->conv_dy2, clobbered) down to the
 * first convolution's weights: ReLU, conv2, ReLU, conv1 (whose input needs no gradient). */
static attn_status subsample_backward(attn_model *m) {
    const attn_config *c = &m->cfg;
    int B = m->B, T = m->T, F = c->n_features, K = c->conv_channels;
    int T1 = (T - 1) / 2, F1 = (F - 1) / 2;
    long n1 = (long)B * T1 * F1 * K, n2 = (long)B * m->enc.shape.T * m->in_features;
    attn_activation_backward_set(ATTN_ACT_RELU, m->conv_dy2, m->enc.features, m->conv_dy2, n2);
    memset(m->conv_dy1, 0, (size_t)n1 * sizeof(float));
    ATTN_TRY(attn_conv2d_backward(m->conv_dy1, m->gconv2_w, m->gconv2_b, m->conv_dy2, m->conv_y1,
                                  m->conv2_w, B, T1, F1, K, K, 3, 2));
    attn_activation_backward_set(ATTN_ACT_RELU, m->conv_dy1, m->conv_y1, m->conv_dy1, n1);
    return attn_conv2d_backward(NULL, m->gconv1_w, m->gconv1_b, m->conv_dy1, m->conv_x, m->conv1_w,
                                B, T, F, 1, K, 3, 2);
}

/* dout: (B, T, C) gradient of st->out, clobbered. Runs the stack backward down to the embedding;
 * dmem receives the gradient of the memory (cross-attention) when st->cross. */
static attn_status stack_backward(attn_model *m, attn_stack *st, float *dout, const attn_stack *mem,
                                  float *dmem) {
    const attn_config *c = &m->cfg;
    int B = st->shape.B, T = st->shape.T, C = c->d_model;
    long BTC = (long)B * T * C;
    float *bufs[2] = {m->dbuf[1], m->dbuf[2]};
    float *d = dout;
#define NEXT_BUF() (d == bufs[0] ? bufs[1] : bufs[0])
    if (c->norm == ATTN_NORM_PRE) {
        const float *x = st->n_layers ? st->acts[st->n_layers - 1].out : st->emb;
        float *dx = NEXT_BUF();
        memset(dx, 0, BTC * sizeof(float));
        attn_layernorm_backward(dx, st->glnf.w, st->glnf.b, d, x, st->lnf.w, st->lnf_mean,
                                st->lnf_rstd, B * T, C);
        d = dx;
    }
    const int *x_len = st->has_lengths ? st->lengths : NULL;
    const float *memx = mem ? mem->out : NULL;
    const int *mem_len = mem && mem->has_lengths ? mem->lengths : NULL;
    for (int l = st->n_layers - 1; l >= 0; l--) {
        const float *x = l ? st->acts[l - 1].out : st->emb;
        float *dx = NEXT_BUF();
        memset(dx, 0, BTC * sizeof(float));
        if (st == &m->enc)
            ATTN_TRY(attn_encoder_layer_backward(&st->shape, &st->p[l], &st->g[l], &st->acts[l], x,
                                                 x_len, d, dx, m->scratch));
        else
            ATTN_TRY(attn_decoder_layer_backward(&st->shape, &st->p[l], &st->g[l], &st->acts[l], x,
                                                 x_len, memx, mem_len, d, dx, dmem, m->scratch));
        d = dx;
    }
    if (c->dropout > 0) {
        float *dx = NEXT_BUF();
        memset(dx, 0, BTC * sizeof(float));
        attn_dropout_backward(dx, d, st->emb_mask, BTC, c->dropout);
        d = dx;
    }
#undef NEXT_BUF
    if (st == &m->enc && c->n_features) { /* emb = features input_proj^T + b + pos */
        float *dfeat = c->subsample ? m->conv_dy2 : NULL;
        if (dfeat) memset(dfeat, 0, (size_t)B * T * m->in_features * sizeof(float));
        attn_linear_backward(dfeat, m->gin_w, m->gin_b, d, st->features, m->in_w, B * T,
                             m->in_features, C);
        if (m->gpos_emb) attn_positions_backward(m->gpos_emb, d, B, T, C, 0);
        return c->subsample ? subsample_backward(m) : ATTN_OK;
    }
    attn_embedding_backward(m->gtok_emb, m->gpos_emb, d, st->tokens, B, T, C, 0,
                            attn_model_embed_scale(m));
    return ATTN_OK;
}

attn_status attn_model_loss(const attn_model *m, double *sum, long *count) {
    if (!m) return attn_error(ATTN_ERR_INVALID, "attn_model_loss: NULL model");
    if (sum) *sum = m->loss_sum;
    if (count) *count = m->loss_count;
    return ATTN_OK;
}

attn_status attn_model_backward(attn_model *m, float loss_scale) {
    if (!m) return attn_error(ATTN_ERR_INVALID, "attn_model_backward: NULL model");
    return attn_model_backward_sum(m, m->loss_count ? loss_scale / (float)m->loss_count : 0.0f);
}

attn_status attn_model_backward_sum(attn_model *m, float scale) {
    if (!m) return attn_error(ATTN_ERR_INVALID, "attn_model_backward_sum: NULL model");
    const attn_config *c = &m->cfg;
    if (!m->can_backward)
        return attn_error(ATTN_ERR_INVALID,
                          "backward needs a preceding training forward with targets");
    m->can_backward = 0;
    int C = c->d_model, rows = m->logit_rows;
    float *dtop = m->dbuf[0];
    if (c->arch == ATTN_ARCH_CTC) { /* the logits are log-probabilities, kept for the CTC pass */
        memset(dtop, 0, (size_t)rows * C * sizeof(float));
        ATTN_TRY(ctc_backward(m, scale, dtop));
        return stack_backward(m, &m->enc, dtop, NULL, NULL);
    }
    float ce_scale = m->ctc_active ? scale * (1.0f - c->ctc_weight) : scale;
    /* dlogits overwrite the logits */
    attn_crossentropy_backward(m->logits, m->logits, m->lse, m->targets, rows, m->logit_cols,
                               ATTN_IGNORE_INDEX, c->label_smoothing, ce_scale);
    if (c->arch == ATTN_ARCH_CLASSIFIER) {
        attn_stack *st = &m->enc;
        int B = m->B, T = st->shape.T;
        memset(m->dpooled, 0, (size_t)B * C * sizeof(float));
        attn_linear_backward(m->dpooled, m->ghead_w, m->ghead_b, m->logits, m->pooled, m->head_w, B,
                             C, c->n_classes);
        memset(dtop, 0, (size_t)B * T * C * sizeof(float));
        attn_pool_backward(c->pool, dtop, m->dpooled, st->has_lengths ? st->lengths : NULL, B, T,
                           C);
        return stack_backward(m, st, dtop, NULL, NULL);
    }
    attn_stack *dec = &m->dec;
    memset(dtop, 0, (size_t)rows * C * sizeof(float));
    attn_linear_backward(dtop, m->gtok_emb, NULL, m->logits, dec->out, m->tok_emb, rows, C,
                         c->vocab_size);
    if (c->arch == ATTN_ARCH_DECODER_LM) return stack_backward(m, dec, dtop, NULL, NULL);
    memset(m->dmem, 0, (size_t)m->B * m->enc.shape.T * C * sizeof(float));
    ATTN_TRY(stack_backward(m, dec, dtop, &m->enc, m->dmem));
    if (m->ctc_active) ATTN_TRY(ctc_backward(m, scale * c->ctc_weight, m->dmem));
    return stack_backward(m, &m->enc, m->dmem, NULL, NULL);
}
