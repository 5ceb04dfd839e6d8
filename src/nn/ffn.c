/* nn/ffn.c: position-wise feed-forward network. */
#include "nn/ffn.h"

#include <string.h>

#include "kernels/activation.h"
#include "kernels/linear.h"

void attn_ffn_forward(const attn_ffn_params *p, attn_act act, float *out, float *h, float *a,
                      const float *x, int N, int C, int F) {
    attn_linear_forward(h, x, p->fc1_w, NULL, N, C, F); // h (N, F) = x W1^T
    attn_bias_act_forward(act, h, a, p->fc1_b, N, F);   // h += b1, a = act(h), one pass
    attn_linear_forward(out, a, p->fc2_w, p->fc2_b, N, F, C);
}

void attn_ffn_backward(const attn_ffn_params *p, const attn_ffn_params *g, attn_act act,
                       const float *dout, const float *h, const float *a, const float *x, float *dx,
                       float *scratch, int N, int C, int F) {
    size_t n = (size_t)N * F;
    float *da = scratch, *dh = scratch + n;
    attn_linear_backward_set(da, g->fc2_w, g->fc2_b, dout, a, p->fc2_w, N, F, C); // da = dout W2
    attn_activation_backward_set(act, dh, h, da, (long)n);                        // dh = act'(h) da
    attn_linear_backward(dx, g->fc1_w, g->fc1_b, dh, x, p->fc1_w, N, C, F);
}
