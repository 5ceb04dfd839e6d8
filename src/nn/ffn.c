/* nn/ffn.c: position-wise feed-forward network. */
#include "nn/ffn.h"

#include <string.h>

#include "kernels/activation.h"
#include "kernels/linear.h"

void attn_ffn_forward(const attn_ffn_params *p, attn_act act, float *out, float *h, float *a,
                      const float *x, int N, int C, int F) {
    attn_linear_forward(h, x, p->fc1_w, p->fc1_b, N, C, F);
    attn_activation_forward(act, a, h, (long)N * F);
    attn_linear_forward(out, a, p->fc2_w, p->fc2_b, N, F, C);
}

void attn_ffn_backward(const attn_ffn_params *p, const attn_ffn_params *g, attn_act act,
                       const float *dout, const float *h, const float *a, const float *x, float *dx,
                       float *scratch, int N, int C, int F) {
    size_t n = (size_t)N * F;
    float *da = scratch, *dh = scratch + n;
    memset(scratch, 0, 2 * n * sizeof(float));
    attn_linear_backward(da, g->fc2_w, g->fc2_b, dout, a, p->fc2_w, N, F, C);
    attn_activation_backward(act, dh, h, da, (long)n);
    attn_linear_backward(dx, g->fc1_w, g->fc1_b, dh, x, p->fc1_w, N, C, F);
}
