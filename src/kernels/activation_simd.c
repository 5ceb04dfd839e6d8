/* kernels/activation_simd.c: GELU (tanh and erf forms) and ReLU, forward and backward, VW lanes at a
 * time with the vector math of kernels/vmath.h; the formulas and the reference are in
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

/* One chunk [i0, i1): forward (dout NULL) writes out; backward adds act'(inp) dout into out. */
SIMD_INLINE void act_chunk(attn_act act, float *out, const float *inp, const float *dout, long i0,
                           long i1) {
    long i = i0;
    for (; i + VW <= i1; i += VW) {
        vf x = vload(inp + i);
        if (!dout) {
            vstore(out + i, act_v(act, x, NULL));
        } else {
            vf g;
            act_v(act, x, &g);
            vstore(out + i, vfmadd(g, vload(dout + i), vload(out + i)));
        }
    }
    if (i < i1) {
        int r = (int)(i1 - i);
        vf x = vload_n(inp + i, r);
        if (!dout) {
            vstore_n(out + i, act_v(act, x, NULL), r);
        } else {
            vf g;
            act_v(act, x, &g);
            vstore_n(out + i, vfmadd(g, vload_n(dout + i, r), vload_n(out + i, r)), r);
        }
    }
}

static void act_run(attn_act act, float *out, const float *inp, const float *dout, long n) {
    long chunks = (n + ACT_CHUNK - 1) / ACT_CHUNK;
#pragma omp parallel for schedule(static) if (n > ACT_PAR_MIN)
    for (long c = 0; c < chunks; c++) {
        long i0 = c * ACT_CHUNK, i1 = i0 + ACT_CHUNK < n ? i0 + ACT_CHUNK : n;
        switch (act) { /* one loop body per activation */
        case ATTN_ACT_GELU_TANH:
            act_chunk(ATTN_ACT_GELU_TANH, out, inp, dout, i0, i1);
            break;
        case ATTN_ACT_GELU_ERF:
            act_chunk(ATTN_ACT_GELU_ERF, out, inp, dout, i0, i1);
            break;
        default:
            act_chunk(ATTN_ACT_RELU, out, inp, dout, i0, i1);
            break;
        }
    }
}

void SIMD_FN(attn_activation_forward)(attn_act act, float *out, const float *inp, long n) {
    act_run(act, out, inp, NULL, n);
}

void SIMD_FN(attn_activation_backward)(attn_act act, float *dinp, const float *inp,
                                       const float *dout, long n) {
    act_run(act, dinp, inp, dout, n);
}
