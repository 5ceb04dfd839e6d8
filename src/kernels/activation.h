/* kernels/activation.h: element-wise activations over n floats.
 * gelu_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (GPT-2)
 * gelu_erf:  0.5 x (1 + erf(x / sqrt(2)))                       (BERT, PyTorch default)
 * relu:      max(x, 0)                                          (the original Transformer)
 * out may alias inp in forward. Backward accumulates: dinp += act'(inp) * dout.
 * Each call runs the vector kernels of the ISA in use (kernels/isa.h). */
#ifndef ATTN_KERNELS_ACTIVATION_H
#define ATTN_KERNELS_ACTIVATION_H

#include "attn/config.h"

void attn_activation_forward(attn_act act, float *out, const float *inp, long n);
void attn_activation_backward(attn_act act, float *dinp, const float *inp, const float *dout,
                              long n);

/* dinp = act'(inp) * dout, written (not accumulated): saves zeroing dinp first. */
void attn_activation_backward_set(attn_act act, float *dinp, const float *inp, const float *dout,
                                  long n);
/* The FFN's bias and activation in one pass: h (N, F) += bias (F) (NULL: none), then
 * a = act(h). a may be h (inference: the pre-activation is not kept). */
void attn_bias_act_forward(attn_act act, float *h, float *a, const float *bias, int N, int F);

/* Reference: the same formulas evaluated in double with libm, one element at a time. */
void attn_activation_forward_ref(attn_act act, float *out, const float *inp, long n);
void attn_activation_backward_ref(attn_act act, float *dinp, const float *inp, const float *dout,
                                  long n);

#endif
