/* kernels/linear.h: fully connected layer, PyTorch layout.
 *
 * out (N, OC) = inp (N, IC) @ weight^T + bias, weight: (OC, IC), bias: (OC) or NULL.
 * Backward ACCUMULATES (+=) into dinp, dweight, dbias (any of them may be NULL to skip it); the
 * caller zeroes gradients. This += convention holds for every *_backward in kernels/ unless its
 * comment says otherwise. */
#ifndef ATTN_KERNELS_LINEAR_H
#define ATTN_KERNELS_LINEAR_H

void attn_linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                         int N, int IC, int OC);
void attn_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int N, int IC, int OC);
/* The same, except that dinp is WRITTEN (= dout @ weight), so a scratch gradient needs no zeroing
 * first; dweight and dbias still accumulate. */
void attn_linear_backward_set(float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, int N, int IC, int OC);

#endif
