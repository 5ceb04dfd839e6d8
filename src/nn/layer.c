/* nn/layer.c: a Transformer layer as a chain of residual sublayers (see nn/layer.h). */
#include "nn/layer.h"

#include <string.h>

#include "kernels/dropout.h"
#include "kernels/layernorm.h"
#include "kernels/residual.h"
#include "nn/ffn.h"
#include "nn/mha.h"

typedef enum { SUB_SELF_ATTN, SUB_CROSS_ATTN, SUB_FFN } sublayer_kind;

/* The sublayers of a layer in order; returns their count. */
static int sublayers(const attn_layer_shape *s, sublayer_kind kinds[ATTN_LAYER_MAX_SUBLAYERS]) {
    int n = 0;
    kinds[n++] = SUB_SELF_ATTN;
    if (s->cross) kinds[n++] = SUB_CROSS_ATTN;
    kinds[n++] = SUB_FFN;
    return n;
}

static const attn_ln_params *sub_ln(const attn_layer_params *p, int i) {
    return i == 0 ? &p->ln1 : i == 1 ? &p->ln2 : &p->ln3;
}

static attn_mha_shape mha_shape(const attn_layer_shape *s, sublayer_kind kind) {
    attn_mha_shape m = {.B = s->B,
                        .Tq = s->T,
                        .Tk = kind == SUB_CROSS_ATTN ? s->Tk : s->T,
                        .C = s->C,
                        .H = s->H,
                        .causal = kind == SUB_SELF_ATTN && s->causal};
    return m;
}

/* Floats of one sublayer's activations; with base != NULL also points sa into base. */
static size_t sublayer_layout(const attn_layer_shape *s, sublayer_kind kind, int training,
                              attn_sublayer_acts *sa, float *base) {
    size_t N = (size_t)s->B * s->T, NC = N * s->C, used = 0;
    attn_sublayer_acts tmp;
    if (!sa) sa = &tmp;
    memset(sa, 0, sizeof *sa);
#define TAKE(field, count)                                                                         \
    do {                                                                                           \
        sa->field = base ? base + used : NULL;                                                     \
        used += (count);                                                                           \
    } while (0)
    TAKE(ln_mean, N);
    TAKE(ln_rstd, N);
    if (s->norm == ATTN_NORM_PRE)
        TAKE(ln_out, NC);
    else
        TAKE(sum, NC);
    TAKE(f_out, NC);
    TAKE(y, NC);
    if (training) {
        float *mask_at = base ? base + used : NULL;
        used += (NC + sizeof(float) - 1) / sizeof(float);
        sa->mask = (uint8_t *)mask_at;
    }
    if (kind == SUB_FFN) {
        TAKE(h, N * s->F);
        if (training)
            TAKE(a, N * s->F);
        else
            sa->a = sa->h;
    } else {
        attn_mha_shape m = mha_shape(s, kind);
        TAKE(qkv, attn_mha_qkv_floats(&m, kind == SUB_CROSS_ATTN));
        TAKE(att, NC);
        TAKE(lse, (size_t)s->B * s->H * s->T);
    }
#undef TAKE
    return used;
}

size_t attn_layer_acts_floats(const attn_layer_shape *s, int training) {
    sublayer_kind kinds[ATTN_LAYER_MAX_SUBLAYERS];
    int n = sublayers(s, kinds);
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += sublayer_layout(s, kinds[i], training, NULL, NULL);
    return total;
}

void attn_layer_acts_bind(attn_layer_acts *a, const attn_layer_shape *s, int training,
                          float *base) {
    sublayer_kind kinds[ATTN_LAYER_MAX_SUBLAYERS];
    a->n = sublayers(s, kinds);
    for (int i = 0; i < a->n; i++)
        base += sublayer_layout(s, kinds[i], training, &a->sub[i], base);
    a->out = a->sub[a->n - 1].y;
}

size_t attn_layer_scratch_floats(const attn_layer_shape *s) {
    size_t NC = (size_t)s->B * s->T * s->C;
    size_t f = 2 * (size_t)s->B * s->T * s->F;
    attn_mha_shape self = mha_shape(s, SUB_SELF_ATTN), cross = mha_shape(s, SUB_CROSS_ATTN);
    size_t m = attn_mha_scratch_floats(&self, 0);
    if (s->cross && attn_mha_scratch_floats(&cross, 1) > m) m = attn_mha_scratch_floats(&cross, 1);
    return 4 * NC + (f > m ? f : m);
}

/* f(in) -> out for one sublayer kind. */
static void sublayer_f_forward(const attn_layer_shape *s, const attn_layer_params *p,
                               sublayer_kind kind, attn_sublayer_acts *sa, float *out,
                               const float *in, const float *mem, const int *x_len,
                               const int *mem_len, attn_kv_cache *cache, int training) {
    int N = s->B * s->T;
    if (kind == SUB_FFN) {
        attn_ffn_forward(&p->ffn, s->act, out, sa->h, sa->a, in, N, s->C, s->F);
        return;
    }
    attn_mha_shape m = mha_shape(s, kind);
    int cross = kind == SUB_CROSS_ATTN;
    attn_mha_forward(&m, cross ? &p->cross_attn : &p->self_attn, out, sa->qkv, sa->att,
                     training ? sa->lse : NULL, in, cross ? mem : NULL, cross ? mem_len : x_len,
                     cache);
}

void attn_layer_forward(const attn_layer_shape *s, const attn_layer_params *p, attn_layer_acts *a,
                        const float *x, const float *mem, const int *x_len, const int *mem_len,
                        attn_kv_cache *cache, attn_rng *rng, int training) {
    sublayer_kind kinds[ATTN_LAYER_MAX_SUBLAYERS];
    int n = sublayers(s, kinds);
    int N = s->B * s->T, C = s->C;
    long NC = (long)N * C;
    const float *in = x;
    for (int i = 0; i < n; i++) {
        attn_sublayer_acts *sa = &a->sub[i];
        const attn_ln_params *ln = sub_ln(p, i);
        int pre = s->norm == ATTN_NORM_PRE;
        if (pre)
            attn_layernorm_forward(sa->ln_out, sa->ln_mean, sa->ln_rstd, in, ln->w, ln->b, N, C,
                                   s->eps);
        sublayer_f_forward(s, p, kinds[i], sa, sa->f_out, pre ? sa->ln_out : in, mem, x_len,
                           mem_len, cache, training);
        if (training && s->dropout > 0)
            attn_dropout_forward(sa->f_out, sa->mask, sa->f_out, NC, s->dropout, rng);
        if (pre) {
            attn_residual_forward(sa->y, in, sa->f_out, NC);
        } else {
            attn_residual_forward(sa->sum, in, sa->f_out, NC);
            attn_layernorm_forward(sa->y, sa->ln_mean, sa->ln_rstd, sa->sum, ln->w, ln->b, N, C,
                                   s->eps);
        }
        in = sa->y;
    }
}

/* Accumulates the gradient through f into din (and dmem for cross-attention). */
static void sublayer_f_backward(const attn_layer_shape *s, const attn_layer_params *p,
                                const attn_layer_params *g, sublayer_kind kind,
                                const attn_sublayer_acts *sa, const float *df, const float *in,
                                const float *mem, const int *x_len, const int *mem_len, float *din,
                                float *dmem, float *scratch) {
    int N = s->B * s->T;
    if (kind == SUB_FFN) {
        attn_ffn_backward(&p->ffn, &g->ffn, s->act, df, sa->h, sa->a, in, din, scratch, N, s->C,
                          s->F);
        return;
    }
    attn_mha_shape m = mha_shape(s, kind);
    int cross = kind == SUB_CROSS_ATTN;
    attn_mha_backward(&m, cross ? &p->cross_attn : &p->self_attn,
                      cross ? &g->cross_attn : &g->self_attn, df, sa->qkv, sa->att, sa->lse, in,
                      cross ? mem : NULL, cross ? mem_len : x_len, din, dmem, scratch);
}

/* The gradient g of a residual sum x + drop(f(.)) goes to both branches: din gets g (written when
 * din is a fresh scratch buffer, added when it is the caller's dx), df gets drop'(g). */
static void split_residual_grad(const attn_layer_shape *s, const attn_sublayer_acts *sa, float *din,
                                int din_fresh, float *df, const float *g, size_t NC) {
    if (din_fresh)
        memcpy(din, g, NC * sizeof(float));
    else
        attn_accumulate(din, g, NC);
    if (s->dropout > 0) {
        memset(df, 0, NC * sizeof(float));
        attn_dropout_backward(df, g, sa->mask, NC, s->dropout);
    } else {
        memcpy(df, g, NC * sizeof(float));
    }
}

void attn_layer_backward(const attn_layer_shape *s, const attn_layer_params *p,
                         const attn_layer_params *g, const attn_layer_acts *a, const float *x,
                         const float *mem, const int *x_len, const int *mem_len, const float *dout,
                         float *dx, float *dmem, float *scratch) {
    sublayer_kind kinds[ATTN_LAYER_MAX_SUBLAYERS];
    int n = sublayers(s, kinds);
    int N = s->B * s->T, C = s->C;
    long NC = (long)N * C;
    /* Sublayer i reads dy and accumulates its input gradient into din: dx for the first sublayer,
     * otherwise one of two scratch buffers used in turn. */
    float *df = scratch, *dtmp = scratch + NC, *dmid[2] = {scratch + 2 * NC, scratch + 3 * NC};
    float *fscratch = scratch + 4 * NC;
    const float *dy = dout;
    for (int i = n - 1; i >= 0; i--) {
        const attn_sublayer_acts *sa = &a->sub[i];
        const attn_ln_params *ln = sub_ln(p, i);
        const attn_ln_params *gln = sub_ln(g, i);
        const float *in = i == 0 ? x : a->sub[i - 1].y;
        /* din: dx itself (accumulated into) for the first sublayer, else a scratch buffer that
         * the residual's gradient initialises */
        float *din = i > 0 ? dmid[i & 1] : dx;
        if (s->norm == ATTN_NORM_PRE) {
            split_residual_grad(s, sa, din, i > 0, df, dy, NC);
            memset(dtmp, 0, NC * sizeof(float)); /* d LN(x) */
            sublayer_f_backward(s, p, g, kinds[i], sa, df, sa->ln_out, mem, x_len, mem_len, dtmp,
                                dmem, fscratch);
            attn_layernorm_backward(din, gln->w, gln->b, dtmp, in, ln->w, sa->ln_mean, sa->ln_rstd,
                                    N, C);
        } else {
            memset(dtmp, 0, NC * sizeof(float)); /* d sum */
            attn_layernorm_backward(dtmp, gln->w, gln->b, dy, sa->sum, ln->w, sa->ln_mean,
                                    sa->ln_rstd, N, C);
            split_residual_grad(s, sa, din, i > 0, df, dtmp, NC);
            sublayer_f_backward(s, p, g, kinds[i], sa, df, in, mem, x_len, mem_len, din, dmem,
                                fscratch);
        }
        dy = din;
    }
}
