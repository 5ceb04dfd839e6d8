/* nn/ffn.h: position-wise feed-forward network, out = fc2(act(fc1(x))).
 * x, out: (N, C); h, a: (N, F) the hidden state before and after the activation (h may equal a in
 * inference: the activation then runs in place). Backward accumulates into dx and g; scratch:
 * 2 * N * F floats. */
#ifndef ATTN_NN_FFN_H
#define ATTN_NN_FFN_H

#include "nn/layer.h"

void attn_ffn_forward(const attn_ffn_params *p, attn_act act, float *out, float *h, float *a,
                      const float *x, int N, int C, int F);
void attn_ffn_backward(const attn_ffn_params *p, const attn_ffn_params *g, attn_act act,
                       const float *dout, const float *h, const float *a, const float *x, float *dx,
                       float *scratch, int N, int C, int F);

#endif
