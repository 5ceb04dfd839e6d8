/* kernels/activation.c: element-wise GELU (tanh and erf forms) and ReLU, forward and backward.
 *   gelu_tanh(x) = 0.5 x (1 + tanh(u)), u = s (x + a x^3), s = sqrt(2/pi), a = 0.044715
 *     d/dx = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) s (1 + 3 a x^2)
 *   gelu_erf(x) = x Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))
 *     d/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
 *   relu(x) = max(x, 0), d/dx = [x > 0] (0 at x == 0, as PyTorch)
 * The entry points run this ISA's vector kernels (kernels/activation_simd.c); the reference below
 * evaluates the same formulas in double with libm, for the tests. */
#include "kernels/activation.h"

#include <math.h>
#include <stddef.h>

#include "kernels/isa.h"

#define GELU_S 0.79788456080286536 /* sqrt(2 / pi) */
#define GELU_A 0.044715
#define INV_SQRT2 0.70710678118654752
#define INV_SQRT_2PI 0.39894228040143268

// out, inp: (n); out may alias inp
void attn_activation_forward(attn_act act, float *out, const float *inp, long n) {
    attn_kernels()->act_forward(act, out, inp, n);
}

// dinp, inp, dout: (n); dinp += act'(inp) * dout
void attn_activation_backward(attn_act act, float *dinp, const float *inp, const float *dout,
                              long n) {
    attn_kernels()->act_backward(act, dinp, inp, dout, n, 1);
}

// dinp, inp, dout: (n); dinp = act'(inp) * dout
void attn_activation_backward_set(attn_act act, float *dinp, const float *inp, const float *dout,
                                  long n) {
    attn_kernels()->act_backward(act, dinp, inp, dout, n, 0);
}

// h, a: (N, F), bias: (F) or NULL; h += bias, a = act(h)
void attn_bias_act_forward(attn_act act, float *h, float *a, const float *bias, int N, int F) {
    attn_kernels()->bias_act_forward(act, h, a, bias, N, F);
}

/* act(x) and, if grad is not NULL, act'(x), in double. */
static double act_ref(attn_act act, double x, double *grad) {
    switch (act) {
    case ATTN_ACT_GELU_TANH: {
        double t = tanh(GELU_S * (x + GELU_A * x * x * x));
        if (grad) *grad = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_S * (1 + 3 * GELU_A * x * x);
        return 0.5 * x * (1 + t);
    }
    case ATTN_ACT_GELU_ERF: {
        double cdf = 0.5 * (1 + erf(x * INV_SQRT2));
        if (grad) *grad = cdf + x * INV_SQRT_2PI * exp(-0.5 * x * x);
        return x * cdf;
    }
    default:
        if (grad) *grad = x > 0 ? 1 : 0;
        return x > 0 ? x : 0;
    }
}

void attn_activation_forward_ref(attn_act act, float *out, const float *inp, long n) {
    for (long i = 0; i < n; i++)
        out[i] = (float)act_ref(act, inp[i], NULL);
}

void attn_activation_backward_ref(attn_act act, float *dinp, const float *inp, const float *dout,
                                  long n) {
    for (long i = 0; i < n; i++) {
        double g;
        act_ref(act, inp[i], &g);
        dinp[i] = (float)(dinp[i] + g * dout[i]);
    }
}
