/* kernels/vmath.h: private vector math for element-wise kernels. libm's tanhf/expf are scalar
 * calls that GCC cannot vectorise, and made GELU a quarter of a training step; with AVX-512 these
 * replace them 16 lanes at a time. Without AVX-512 callers use libm (ATTN_VMATH_WIDTH is 0).
 *
 * attn_vexp_ps(x): 2^(x log2 e) with n = round(y), f = y - n in [-1/2, 1/2], 2^f by a degree-6
 * minimax polynomial (relative error 2e-9), scaled by 2^n with vscalefps (clean underflow to 0,
 * overflow to inf). A few ulp over the float range; tests/kernels/test_activation.c holds GELU to
 * a double reference.
 * attn_vtanh_ps(u) = sign(u) (1 - 2 / (exp(2|u|) + 1)), |u| clamped to 9 (tanh(9) = 1 in float). */
#ifndef ATTN_KERNELS_VMATH_H
#define ATTN_KERNELS_VMATH_H

#if defined(__AVX512F__)
#include <immintrin.h>

#define ATTN_VMATH_WIDTH 16

static inline __m512 attn_vexp_ps(__m512 x) {
    __m512 y = _mm512_mul_ps(x, _mm512_set1_ps(1.4426950408889634f));
    y = _mm512_max_ps(y, _mm512_set1_ps(-200.0f));
    __m512 n = _mm512_roundscale_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(y, n);
    __m512 p = _mm512_set1_ps(1.5345811e-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.3399931e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.6184891e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5503286e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022646e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314718e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

static inline __m512 attn_vtanh_ps(__m512 u) {
    __m512 sign = _mm512_and_ps(u, _mm512_set1_ps(-0.0f));
    __m512 a = _mm512_min_ps(_mm512_abs_ps(u), _mm512_set1_ps(9.0f));
    __m512 e = attn_vexp_ps(_mm512_add_ps(a, a));
    __m512 t =
        _mm512_sub_ps(_mm512_set1_ps(1.0f),
                      _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
    return _mm512_or_ps(t, sign);
}

#else
#define ATTN_VMATH_WIDTH 0
#endif

#include <math.h>

/* max_k x[k] over n floats (-inf for n == 0). */
static inline float attn_vmax(const float *x, int n) {
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int k = 0; k < n; k++)
        m = x[k] > m ? x[k] : m;
    return m;
}

/* sum_k exp(x[k] - shift), accumulated in float lanes. */
static inline float attn_vexp_sum(const float *x, int n, float shift) {
    float sum = 0.0f;
    int k = 0;
#if ATTN_VMATH_WIDTH
    __m512 acc = _mm512_setzero_ps(), sh = _mm512_set1_ps(shift);
    for (; k + 16 <= n; k += 16)
        acc = _mm512_add_ps(acc, attn_vexp_ps(_mm512_sub_ps(_mm512_loadu_ps(x + k), sh)));
    sum = _mm512_reduce_add_ps(acc);
#endif
    for (; k < n; k++)
        sum += expf(x[k] - shift);
    return sum;
}

/* out[k] = scale * (exp(x[k] - shift) - sub); out may alias x. */
static inline void attn_vexp_affine(float *out, const float *x, int n, float shift, float scale,
                                    float sub) {
    int k = 0;
#if ATTN_VMATH_WIDTH
    __m512 sh = _mm512_set1_ps(shift), sc = _mm512_set1_ps(scale), sb = _mm512_set1_ps(sub);
    for (; k + 16 <= n; k += 16) {
        __m512 e = attn_vexp_ps(_mm512_sub_ps(_mm512_loadu_ps(x + k), sh));
        _mm512_storeu_ps(out + k, _mm512_mul_ps(sc, _mm512_sub_ps(e, sb)));
    }
#endif
    for (; k < n; k++)
        out[k] = scale * (expf(x[k] - shift) - sub);
}

#endif
