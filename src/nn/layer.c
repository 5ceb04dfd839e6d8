/* nn/layer.c: the encoder and decoder layers (see nn/layer.h), each a straight line of calls. A
 * sublayer is three steps around its f: residual_in (pre-LN: its LayerNorm), f, residual_out
 * (dropout, the residual sum, post-LN: its LayerNorm); backward walks them in reverse. */
#include "nn/layer.h"

#include <string.h>

#include "core/error.h"
#include "kernels/dropout.h"
#include "kernels/layernorm.h"
#include "kernels/residual.h"
#include "nn/ffn.h"
#include "nn/mha.h"

typedef enum { SUB_SELF_ATTN, SUB_CROSS_ATTN, SUB_FFN } sublayer_kind;

static attn_mha_shape mha_shape(const attn_layer_shape *s, sublayer_kind kind, int causal) {
    attn_mha_shape m = {.B = s->B,
                        .Tq = s->T,
                        .Tk = kind == SUB_CROSS_ATTN ? s->Tk : s->T,
                        .C = s->C,
                        .H = s->H,
                        .causal = kind == SUB_SELF_ATTN && causal,
                        .cross = kind == SUB_CROSS_ATTN};
    return m;
}

/* ---- activations -------------------------------------------------------------------------- */

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
        attn_mha_shape m = mha_shape(s, kind, 0);
        TAKE(qkv, attn_mha_qkv_floats(&m, kind == SUB_CROSS_ATTN));
        TAKE(att, NC);
        TAKE(lse, (size_t)s->B * s->H * s->T);
    }
#undef TAKE
    return used;
}

size_t attn_layer_acts_floats(const attn_layer_shape *s, int training) {
    size_t n = sublayer_layout(s, SUB_SELF_ATTN, training, NULL, NULL);
    if (s->cross) n += sublayer_layout(s, SUB_CROSS_ATTN, training, NULL, NULL);
    return n + sublayer_layout(s, SUB_FFN, training, NULL, NULL);
}

void attn_layer_acts_bind(attn_layer_acts *a, const attn_layer_shape *s, int training,
                          float *base) {
    memset(a, 0, sizeof *a);
    base += sublayer_layout(s, SUB_SELF_ATTN, training, &a->self, base);
    if (s->cross) base += sublayer_layout(s, SUB_CROSS_ATTN, training, &a->cross, base);
    sublayer_layout(s, SUB_FFN, training, &a->ffn, base);
    a->out = a->ffn.y;
}

size_t attn_layer_scratch_floats(const attn_layer_shape *s) {
    size_t NC = (size_t)s->B * s->T * s->C;
    size_t f = 2 * (size_t)s->B * s->T * s->F;
    attn_mha_shape self = mha_shape(s, SUB_SELF_ATTN, 0), cross = mha_shape(s, SUB_CROSS_ATTN, 0);
    size_t m = attn_mha_scratch_floats(&self, 0);
    if (s->cross && attn_mha_scratch_floats(&cross, 1) > m) m = attn_mha_scratch_floats(&cross, 1);
    return 4 * NC + (f > m ? f : m);
}

/* ---- forward ------------------------------------------------------------------------------ */

/* The input of f: pre-LN, LN(x) (saved in sa->ln_out); post-LN, x itself. */
static const float *residual_in(const attn_layer_shape *s, const attn_ln_params *ln,
                                attn_sublayer_acts *sa, const float *x) {
    if (s->norm == ATTN_NORM_POST) return x;
    attn_layernorm_forward(sa->ln_out, sa->ln_mean, sa->ln_rstd, x, ln->w, ln->b, s->B * s->T, s->C,
                           s->eps);
    return sa->ln_out;
}

/* sa->y = x + drop(f) (pre-LN) or LN(x + drop(f)) (post-LN), f in sa->f_out (dropped in place). */
static const float *residual_out(const attn_layer_shape *s, const attn_ln_params *ln,
                                 attn_sublayer_acts *sa, const float *x,
                                 const attn_layer_run *run) {
    int N = s->B * s->T;
    long NC = (long)N * s->C;
    if (run->training && s->dropout > 0)
        attn_dropout_forward(sa->f_out, sa->mask, sa->f_out, NC, s->dropout, run->rng);
    if (s->norm == ATTN_NORM_PRE) {
        attn_residual_forward(sa->y, x, sa->f_out, NC);
    } else {
        attn_residual_forward(sa->sum, x, sa->f_out, NC);
        attn_layernorm_forward(sa->y, sa->ln_mean, sa->ln_rstd, sa->sum, ln->w, ln->b, N, s->C,
                               s->eps);
    }
    return sa->y;
}

static attn_status self_attention(const attn_layer_shape *s, const attn_mha_params *p,
                                  attn_sublayer_acts *sa, const float *in, const int *x_len,
                                  int causal, const attn_layer_run *run) {
    attn_mha_shape m = mha_shape(s, SUB_SELF_ATTN, causal);
    return attn_mha_forward(&m, p, sa->f_out, sa->qkv, sa->att, run->training ? sa->lse : NULL, in,
                            NULL, x_len, run->cache, run->self_probs);
}

static attn_status cross_attention(const attn_layer_shape *s, const attn_mha_params *p,
                                   attn_sublayer_acts *sa, const float *in, const float *mem,
                                   const int *mem_len, const attn_layer_run *run) {
    attn_mha_shape m = mha_shape(s, SUB_CROSS_ATTN, 0);
    return attn_mha_forward(&m, p, sa->f_out, sa->qkv, sa->att, run->training ? sa->lse : NULL, in,
                            mem, mem_len, run->cache, run->cross_probs);
}

static void ffn(const attn_layer_shape *s, const attn_ffn_params *p, attn_sublayer_acts *sa,
                const float *in) {
    attn_ffn_forward(p, s->act, sa->f_out, sa->h, sa->a, in, s->B * s->T, s->C, s->F);
}

// x: (N, C) -> a->out: (N, C), N = B*T
attn_status attn_encoder_layer_forward(const attn_layer_shape *s, const attn_layer_params *p,
                                       attn_layer_acts *a, const float *x, const int *x_len,
                                       const attn_layer_run *run) {
    const float *h, *x1;
    h = residual_in(s, &p->ln_self, &a->self, x); // (N, C) pre: ln_self(x), post: x
    ATTN_TRY(self_attention(s, &p->self_attn, &a->self, h, x_len, 0, run)); // (N, C) attn(h)
    x1 = residual_out(s, &p->ln_self, &a->self, x, run); // (N, C) x + drop(attn) [post: LN]
    h = residual_in(s, &p->ln_ffn, &a->ffn, x1);         // (N, C)
    ffn(s, &p->ffn, &a->ffn, h);                         // (N, C) fc2(act(fc1(h)))
    residual_out(s, &p->ln_ffn, &a->ffn, x1, run);       // (N, C) a->out = x1 + drop(ffn)
    return ATTN_OK;
}

// x: (N, C) -> a->out: (N, C), N = B*T; mem: (B, Tk, C)
attn_status attn_decoder_layer_forward(const attn_layer_shape *s, const attn_layer_params *p,
                                       attn_layer_acts *a, const float *x, const int *x_len,
                                       const float *mem, const int *mem_len,
                                       const attn_layer_run *run) {
    const float *h, *x1, *x2;
    h = residual_in(s, &p->ln_self, &a->self, x); // (N, C) pre: ln_self(x), post: x
    ATTN_TRY(self_attention(s, &p->self_attn, &a->self, h, x_len, 1, run)); // (N, C) causal
    x1 = residual_out(s, &p->ln_self, &a->self, x, run); // (N, C) x + drop(attn) [post: LN]
    x2 = x1;
    if (s->cross) {
        h = residual_in(s, &p->ln_cross, &a->cross, x1);                               // (N, C)
        ATTN_TRY(cross_attention(s, &p->cross_attn, &a->cross, h, mem, mem_len, run)); // (N, C)
        x2 = residual_out(s, &p->ln_cross, &a->cross, x1, run); // (N, C) x1 + drop(.)
    }
    h = residual_in(s, &p->ln_ffn, &a->ffn, x2);   // (N, C)
    ffn(s, &p->ffn, &a->ffn, h);                   // (N, C) fc2(act(fc1(h)))
    residual_out(s, &p->ln_ffn, &a->ffn, x2, run); // (N, C) a->out = x2 + drop(ffn)
    return ATTN_OK;
}

/* ---- backward ----------------------------------------------------------------------------- */

/* Scratch of a layer backward: df (the gradient of f's output), dfin (of f's input, pre-LN), two
 * buffers for the gradients between sublayers, and what f's own backward needs. */
typedef struct {
    float *df, *dfin, *dmid[2], *f;
} layer_scratch;

static layer_scratch split_scratch(const attn_layer_shape *s, float *scratch) {
    size_t NC = (size_t)s->B * s->T * s->C;
    layer_scratch sc = {
        scratch, scratch + NC, {scratch + 2 * NC, scratch + 3 * NC}, scratch + 4 * NC};
    return sc;
}

/* Where f's backward reads and writes: its input `in` and the gradient dfin it accumulates. */
typedef struct {
    const float *in;
    float *dfin;
} f_grad;

/* The gradient g of a residual sum x + drop(f(.)) goes to both branches: din gets g (written when
 * din is a fresh buffer, added when it is the caller's dx), df gets drop'(g). */
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

/* Backward of residual_out: from dy (gradient of sa->y) to din (gradient of x, fresh or
 * accumulated) and sc->df (gradient of f's output). Returns where f's backward goes. */
static f_grad residual_out_backward(const attn_layer_shape *s, const attn_ln_params *ln,
                                    const attn_ln_params *gln, const attn_sublayer_acts *sa,
                                    const float *x, const float *dy, float *din, int din_fresh,
                                    const layer_scratch *sc) {
    int N = s->B * s->T;
    size_t NC = (size_t)N * s->C;
    if (s->norm == ATTN_NORM_PRE) {
        split_residual_grad(s, sa, din, din_fresh, sc->df, dy, NC);
        memset(sc->dfin, 0, NC * sizeof(float)); /* d LN(x) */
        return (f_grad){sa->ln_out, sc->dfin};
    }
    memset(sc->dfin, 0, NC * sizeof(float)); /* d sum */
    attn_layernorm_backward(sc->dfin, gln->w, gln->b, dy, sa->sum, ln->w, sa->ln_mean, sa->ln_rstd,
                            N, s->C);
    split_residual_grad(s, sa, din, din_fresh, sc->df, sc->dfin, NC);
    return (f_grad){x, din};
}

/* Backward of residual_in: pre-LN, the LayerNorm's gradient from sc->dfin into din. */
static void residual_in_backward(const attn_layer_shape *s, const attn_ln_params *ln,
                                 const attn_ln_params *gln, const attn_sublayer_acts *sa,
                                 const float *x, float *din, const layer_scratch *sc) {
    if (s->norm == ATTN_NORM_POST) return;
    attn_layernorm_backward(din, gln->w, gln->b, sc->dfin, x, ln->w, sa->ln_mean, sa->ln_rstd,
                            s->B * s->T, s->C);
}

static void ffn_backward(const attn_layer_shape *s, const attn_layer_params *p,
                         const attn_layer_params *g, const attn_sublayer_acts *sa, f_grad fg,
                         const layer_scratch *sc) {
    attn_ffn_backward(&p->ffn, &g->ffn, s->act, sc->df, sa->h, sa->a, fg.in, fg.dfin, sc->f,
                      s->B * s->T, s->C, s->F);
}

static attn_status self_attention_backward(const attn_layer_shape *s, const attn_layer_params *p,
                                           const attn_layer_params *g, const attn_sublayer_acts *sa,
                                           const int *x_len, int causal, f_grad fg,
                                           const layer_scratch *sc) {
    attn_mha_shape m = mha_shape(s, SUB_SELF_ATTN, causal);
    return attn_mha_backward(&m, &p->self_attn, &g->self_attn, sc->df, sa->qkv, sa->att, sa->lse,
                             fg.in, NULL, x_len, fg.dfin, NULL, sc->f);
}

static attn_status cross_attention_backward(const attn_layer_shape *s, const attn_layer_params *p,
                                            const attn_layer_params *g,
                                            const attn_sublayer_acts *sa, const float *mem,
                                            const int *mem_len, float *dmem, f_grad fg,
                                            const layer_scratch *sc) {
    attn_mha_shape m = mha_shape(s, SUB_CROSS_ATTN, 0);
    return attn_mha_backward(&m, &p->cross_attn, &g->cross_attn, sc->df, sa->qkv, sa->att, sa->lse,
                             fg.in, mem, mem_len, fg.dfin, dmem, sc->f);
}

// dout: (N, C) -> dx (N, C) +=, g +=
attn_status attn_encoder_layer_backward(const attn_layer_shape *s, const attn_layer_params *p,
                                        const attn_layer_params *g, const attn_layer_acts *a,
                                        const float *x, const int *x_len, const float *dout,
                                        float *dx, float *scratch) {
    layer_scratch sc = split_scratch(s, scratch);
    const float *x1 = a->self.y;
    float *dx1 = sc.dmid[0];
    f_grad fg;
    fg = residual_out_backward(s, &p->ln_ffn, &g->ln_ffn, &a->ffn, x1, dout, dx1, 1, &sc); // dx1
    ffn_backward(s, p, g, &a->ffn, fg, &sc);                                // d h += ffn'
    residual_in_backward(s, &p->ln_ffn, &g->ln_ffn, &a->ffn, x1, dx1, &sc); // dx1 += ln_ffn'
    fg = residual_out_backward(s, &p->ln_self, &g->ln_self, &a->self, x, dx1, dx, 0, &sc); // dx
    ATTN_TRY(self_attention_backward(s, p, g, &a->self, x_len, 0, fg, &sc)); // d h += attn'
    residual_in_backward(s, &p->ln_self, &g->ln_self, &a->self, x, dx, &sc); // dx += ln_self'
    return ATTN_OK;
}

// dout: (N, C) -> dx (N, C) +=, dmem (B, Tk, C) +=, g +=
attn_status attn_decoder_layer_backward(const attn_layer_shape *s, const attn_layer_params *p,
                                        const attn_layer_params *g, const attn_layer_acts *a,
                                        const float *x, const int *x_len, const float *mem,
                                        const int *mem_len, const float *dout, float *dx,
                                        float *dmem, float *scratch) {
    layer_scratch sc = split_scratch(s, scratch);
    const float *x1 = a->self.y, *x2 = s->cross ? a->cross.y : x1;
    float *dx2 = sc.dmid[0], *dx1 = s->cross ? sc.dmid[1] : dx2;
    f_grad fg;
    fg = residual_out_backward(s, &p->ln_ffn, &g->ln_ffn, &a->ffn, x2, dout, dx2, 1, &sc); // dx2
    ffn_backward(s, p, g, &a->ffn, fg, &sc);                                // d h += ffn'
    residual_in_backward(s, &p->ln_ffn, &g->ln_ffn, &a->ffn, x2, dx2, &sc); // dx2 += ln_ffn'
    if (s->cross) {
        fg = residual_out_backward(s, &p->ln_cross, &g->ln_cross, &a->cross, x1, dx2, dx1, 1, &sc);
        ATTN_TRY(cross_attention_backward(s, p, g, &a->cross, mem, mem_len, dmem, fg, &sc));
        residual_in_backward(s, &p->ln_cross, &g->ln_cross, &a->cross, x1, dx1, &sc);
    }
    fg = residual_out_backward(s, &p->ln_self, &g->ln_self, &a->self, x, dx1, dx, 0, &sc); // dx
    ATTN_TRY(self_attention_backward(s, p, g, &a->self, x_len, 1, fg, &sc)); // d h += attn'
    residual_in_backward(s, &p->ln_self, &g->ln_self, &a->self, x, dx, &sc); // dx += ln_self'
    return ATTN_OK;
}
