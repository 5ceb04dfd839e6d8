/* kernels/activation.c: element-wise GELU (tanh and erf forms) and ReLU, forward and backward.
 *   gelu_tanh(x) = 0.5 x (1 + tanh(u)), u = s (x + a x^3), s = sqrt(2/pi), a = 0.044715
 *     d/dx = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) s (1 + 3 a x^2)
 *   gelu_erf(x) = x Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))
 *     d/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
 *   relu(x) = max(x, 0), d/dx = [x > 0] (0 at x == 0, as PyTorch)
 * The switch on the activation sits outside the loops so each loop is one simple vector body. */
#include "kernels/activation.h"

#include <math.h>

#include "kernels/vmath.h"

/* Below this many elements, a call stays on one thread. */
#define ACT_PAR_MIN (1L << 14)

#define GELU_S 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_A 0.044715f
#define INV_SQRT2 0.7071067811865476f
#define INV_SQRT_2PI 0.3989422804014327f

static inline float gelu_tanh(float x) {
    return 0.5f * x * (1.0f + tanhf(GELU_S * (x + GELU_A * x * x * x)));
}

static inline float gelu_tanh_grad(float x) {
    float t = tanhf(GELU_S * (x + GELU_A * x * x * x));
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_S * (1.0f + 3.0f * GELU_A * x * x);
}

static inline float gelu_erf(float x) {
    return 0.5f * x * (1.0f + erff(x * INV_SQRT2));
}

static inline float gelu_erf_grad(float x) {
    return 0.5f * (1.0f + erff(x * INV_SQRT2)) + x * INV_SQRT_2PI * expf(-0.5f * x * x);
}

#if ATTN_VMATH_WIDTH
/* GELU (tanh form) and its derivative over 16 lanes; same formulas as the scalar versions. */
static inline __m512 gelu_tanh_ps(__m512 x, __m512 *grad) {
    __m512 x2 = _mm512_mul_ps(x, x);
    __m512 inner = _mm512_fmadd_ps(_mm512_set1_ps(GELU_A), x2, _mm512_set1_ps(1.0f));
    __m512 t = attn_vtanh_ps(_mm512_mul_ps(_mm512_set1_ps(GELU_S), _mm512_mul_ps(x, inner)));
    __m512 half = _mm512_set1_ps(0.5f);
    __m512 one_plus_t = _mm512_add_ps(_mm512_set1_ps(1.0f), t);
    if (grad) {
        /* 0.5 (1 + t) + 0.5 x (1 - t^2) s (1 + 3 a x^2) */
        __m512 dinner = _mm512_fmadd_ps(_mm512_set1_ps(3.0f * GELU_A), x2, _mm512_set1_ps(1.0f));
        __m512 sech2 = _mm512_fnmadd_ps(t, t, _mm512_set1_ps(1.0f));
        __m512 rest =
            _mm512_mul_ps(_mm512_mul_ps(x, sech2), _mm512_mul_ps(_mm512_set1_ps(GELU_S), dinner));
        *grad = _mm512_mul_ps(half, _mm512_add_ps(one_plus_t, rest));
    }
    return _mm512_mul_ps(_mm512_mul_ps(half, x), one_plus_t);
}
#endif

/* GELU (tanh form) over n elements: 16 lanes at a time where AVX-512 is there. */
static void gelu_tanh_forward(float *out, const float *inp, long n) {
    long vec_end = 0;
#if ATTN_VMATH_WIDTH
    vec_end = n - n % 16;
#pragma omp parallel for schedule(static) if (n > ACT_PAR_MIN)
    for (long i = 0; i < vec_end; i += 16)
        _mm512_storeu_ps(out + i, gelu_tanh_ps(_mm512_loadu_ps(inp + i), NULL));
#endif
    for (long i = vec_end; i < n; i++)
        out[i] = gelu_tanh(inp[i]);
}

static void gelu_tanh_backward(float *dinp, const float *inp, const float *dout, long n) {
    long vec_end = 0;
#if ATTN_VMATH_WIDTH
    vec_end = n - n % 16;
#pragma omp parallel for schedule(static) if (n > ACT_PAR_MIN)
    for (long i = 0; i < vec_end; i += 16) {
        __m512 grad;
        gelu_tanh_ps(_mm512_loadu_ps(inp + i), &grad);
        __m512 d = _mm512_fmadd_ps(grad, _mm512_loadu_ps(dout + i), _mm512_loadu_ps(dinp + i));
        _mm512_storeu_ps(dinp + i, d);
    }
#endif
    for (long i = vec_end; i < n; i++)
        dinp[i] += gelu_tanh_grad(inp[i]) * dout[i];
}

// out, inp: (n); out may alias inp
void attn_activation_forward(attn_act act, float *out, const float *inp, long n) {
    switch (act) {
    case ATTN_ACT_GELU_TANH:
        gelu_tanh_forward(out, inp, n);
        break;
    case ATTN_ACT_GELU_ERF:
#pragma omp parallel for simd schedule(static) if (n > ACT_PAR_MIN)
        for (long i = 0; i < n; i++)
            out[i] = gelu_erf(inp[i]);
        break;
    case ATTN_ACT_RELU:
#pragma omp parallel for simd schedule(static) if (n > ACT_PAR_MIN)
        for (long i = 0; i < n; i++)
            out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
        break;
    }
}

// dinp, inp, dout: (n); dinp += act'(inp) * dout
void attn_activation_backward(attn_act act, float *dinp, const float *inp, const float *dout,
                              long n) {
    switch (act) {
    case ATTN_ACT_GELU_TANH:
        gelu_tanh_backward(dinp, inp, dout, n);
        break;
    case ATTN_ACT_GELU_ERF:
#pragma omp parallel for simd schedule(static) if (n > ACT_PAR_MIN)
        for (long i = 0; i < n; i++)
            dinp[i] += gelu_erf_grad(inp[i]) * dout[i];
        break;
    case ATTN_ACT_RELU:
#pragma omp parallel for simd schedule(static) if (n > ACT_PAR_MIN)
        for (long i = 0; i < n; i++)
            dinp[i] += inp[i] > 0.0f ? dout[i] : 0.0f;
        break;
    }
}
