/* kernels/activation_simd.c: GELU (tanh and erf forms) and ReLU, forward and backward, VW lanes at
 * a time with the vector math of kernels/vmath.h; the formulas and the reference are in
 * kernels/activation.c. A ragged tail is one partial vector, so no element goes through libm. */
#include "kernels/simd_decls.h"
#include "kernels/vmath.h"

/* Below this many elements, a call stays on one thread. */
#define ACT_PAR_MIN (1L << 14)
/* Elements per parallel chunk: a multiple of every VW. */
#define ACT_CHUNK 4096L

#define GELU_S 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_A 0.044715f
#define INV_SQRT2 0.7071067811865476f
#define INV_SQRT_2PI 0.3989422804014327f

/* 0.5 x (1 + tanh(u)), u = s (x + a x^3); grad (if not NULL) the derivative
 * 0.5 (1 + t) + 0.5 x (1 - t^2) s (1 + 3 a x^2) */
SIMD_INLINE vf gelu_tanh_v(vf x, vf *grad) {
    vf x2 = vmul(x, x);
    vf t = v_tanh(vmul(vset1(GELU_S), vmul(x, vfmadd(vset1(GELU_A), x2, vset1(1.0f)))));
    vf half_x = vmul(vset1(0.5f), x), one_plus_t = vadd(vset1(1.0f), t);
    if (grad) {
        vf dinner = vfmadd(vset1(3.0f * GELU_A), x2, vset1(1.0f));
        vf sech2 = vfnmadd(t, t, vset1(1.0f));
        vf rest = vmul(vmul(half_x, sech2), vmul(vset1(GELU_S), dinner));
        *grad = vfmadd(vset1(0.5f), one_plus_t, rest);
    }
    return vmul(half_x, one_plus_t);
}

/* 0.5 x (1 + erf(x / sqrt 2)); grad: Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi) */
SIMD_INLINE vf gelu_erf_v(vf x, vf *grad) {
    vf phi_cdf = vmul(vset1(0.5f), vadd(vset1(1.0f), v_erf(vmul(x, vset1(INV_SQRT2)))));
    if (grad) {
        vf pdf = vmul(vset1(INV_SQRT_2PI), v_exp(vmul(vset1(-0.5f), vmul(x, x))));
        *grad = vfmadd(x, pdf, phi_cdf);
    }
    return vmul(x, phi_cdf);
}

SIMD_INLINE vf act_v(attn_act act, vf x, vf *grad) {
    switch (act) {
    case ATTN_ACT_GELU_TANH:
        return gelu_tanh_v(x, grad);
    case ATTN_ACT_GELU_ERF:
        return gelu_erf_v(x, grad);
    default: { /* ReLU; d/dx = [x > 0] */
        vm pos = vlt(vzero(), x);
        if (grad) *grad = vsel(pos, vset1(1.0f), vzero());
        return vsel(pos, x, vzero());
    }
    }
}

/* Modes of one pass over a chunk [i0, i1) of elements. */
enum { ACT_FORWARD, ACT_BACKWARD_ADD, ACT_BACKWARD_SET };

/* ACT_FORWARD: out = act(inp); ACT_BACKWARD_ADD: out += act'(inp) dout; ACT_BACKWARD_SET:
 * out = act'(inp) dout. */
SIMD_INLINE void act_chunk(attn_act act, int mode, float *out, const float *inp, const float *dout,
                           long i0, long i1) {
    for (long i = i0; i < i1; i += VW) {
        int r = i1 - i < VW ? (int)(i1 - i) : VW;
        vf x = r == VW ? vload(inp + i) : vload_n(inp + i, r), y, g;
        if (mode == ACT_FORWARD) {
            y = act_v(act, x, NULL);
        } else {
            act_v(act, x, &g);
            vf d = r == VW ? vload(dout + i) : vload_n(dout + i, r);
            if (mode == ACT_BACKWARD_SET) {
                y = vmul(g, d);
            } else {
                vf o = r == VW ? vload(out + i) : vload_n(out + i, r);
                y = vfmadd(g, d, o);
            }
        }
        if (r == VW)
            vstore(out + i, y);
        else
            vstore_n(out + i, y, r);
    }
}

/* One loop body per (activation, mode), so that each is a straight vector loop. */
SIMD_INLINE void act_dispatch(attn_act act, int mode, float *out, const float *inp,
                              const float *dout, long i0, long i1) {
#define ACT_MODES(A)                                                                               \
    if (mode == ACT_FORWARD)                                                                       \
        act_chunk(A, ACT_FORWARD, out, inp, dout, i0, i1);                                         \
    else if (mode == ACT_BACKWARD_ADD)                                                             \
        act_chunk(A, ACT_BACKWARD_ADD, out, inp, dout, i0, i1);                                    \
    else                                                                                           \
        act_chunk(A, ACT_BACKWARD_SET, out, inp, dout, i0, i1);
    switch (act) {
    case ATTN_ACT_GELU_TANH:
        ACT_MODES(ATTN_ACT_GELU_TANH)
        break;
    case ATTN_ACT_GELU_ERF:
        ACT_MODES(ATTN_ACT_GELU_ERF)
        break;
    default:
        ACT_MODES(ATTN_ACT_RELU)
        break;
    }
#undef ACT_MODES
}

static void act_run(attn_act act, int mode, float *out, const float *inp, const float *dout,
                    long n) {
    long chunks = (n + ACT_CHUNK - 1) / ACT_CHUNK;
#pragma omp parallel for schedule(static) if (n > ACT_PAR_MIN)
    for (long c = 0; c < chunks; c++)
        act_dispatch(act, mode, out, inp, dout, c * ACT_CHUNK,
                     c + 1 < chunks ? (c + 1) * ACT_CHUNK : n);
}

void SIMD_FN(attn_activation_forward)(attn_act act, float *out, const float *inp, long n) {
    act_run(act, ACT_FORWARD, out, inp, NULL, n);
}

void SIMD_FN(attn_activation_backward)(attn_act act, float *dinp, const float *inp,
                                       const float *dout, long n, int accumulate) {
    act_run(act, accumulate ? ACT_BACKWARD_ADD : ACT_BACKWARD_SET, dinp, inp, dout, n);
}

/* h (N, F) += bias (F) row by row, then a = act(h); a may be h. */
SIMD_INLINE void bias_act_row(attn_act act, float *h, float *a, const float *bias, int F) {
    for (int f = 0; f < F; f += VW) {
        int r = F - f < VW ? F - f : VW;
        vf x = r == VW ? vload(h + f) : vload_n(h + f, r);
        if (bias) x = vadd(x, r == VW ? vload(bias + f) : vload_n(bias + f, r));
        vf y = act_v(act, x, NULL);
        if (r == VW) {
            if (a != h) vstore(h + f, x);
            vstore(a + f, y);
        } else {
            if (a != h) vstore_n(h + f, x, r);
            vstore_n(a + f, y, r);
        }
    }
}

void SIMD_FN(attn_bias_act_forward)(attn_act act, float *h, float *a, const float *bias, int N,
                                    int F) {
#pragma omp parallel for schedule(static) if ((long)N * F > ACT_PAR_MIN)
    for (int n = 0; n < N; n++) {
        float *hr = h + (long)n * F, *ar = a + (long)n * F;
        switch (act) {
        case ATTN_ACT_GELU_TANH:
            bias_act_row(ATTN_ACT_GELU_TANH, hr, ar, bias, F);
            break;
        case ATTN_ACT_GELU_ERF:
            bias_act_row(ATTN_ACT_GELU_ERF, hr, ar, bias, F);
            break;
        default:
            bias_act_row(ATTN_ACT_RELU, hr, ar, bias, F);
            break;
        }
    }
}
