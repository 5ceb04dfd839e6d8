/* kernels/conv2d.h: 2-D convolution (cross-correlation, as nn.Conv2d), channels last, no padding,
 * a square kernel K and one stride S for both axes: the speech front end's subsampling layers.
 *
 *   inp (B, H, W, Cin), weight (Cout, Cin, K, K) (PyTorch's nn.Conv2d layout), bias (Cout) or NULL
 *   out (B, Ho, Wo, Cout), Ho = (H - K) / S + 1, Wo = (W - K) / S + 1 (H >= K, W >= K)
 *   out[b, i, j, o] = bias[o] + sum_{c, p, q} weight[o, c, p, q] * inp[b, S*i + p, S*j + q, c]
 * Input rows and columns past the last whole window ((H - K) % S of them) are not read.
 *
 * The fast versions unfold blocks of output rows into columns (im2col, column order (c, p, q), so
 * the weight is a (Cout, Cin*K*K) matrix as it lies) and multiply through attn_gemm; scratch is
 * allocated per call and stays under 2 MiB forward, 4 MiB backward (unless one output row's
 * columns alone are more). Errors: ATTN_ERR_INVALID (a size < 1, H < K or W < K, or more than
 * INT_MAX output pixels; the message says which), ATTN_ERR_NOMEM (scratch). Nothing is written
 * on error. */
#ifndef ATTN_KERNELS_CONV2D_H
#define ATTN_KERNELS_CONV2D_H

#include "attn/status.h"

attn_status attn_conv2d_forward(float *out, const float *inp, const float *weight,
                                const float *bias, int B, int H, int W, int Cin, int Cout, int K,
                                int S);
/* Accumulates (+=) into dinp (may be NULL: not needed, e.g. the first layer), dweight, dbias (may
 * be NULL). dout: (B, Ho, Wo, Cout); inp, weight as in the forward. */
attn_status attn_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                 const float *inp, const float *weight, int B, int H, int W,
                                 int Cin, int Cout, int K, int S);
/* Plain references: direct loops with double accumulators, same semantics (void; no allocation;
 * sizes must be valid). */
void attn_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                             int B, int H, int W, int Cin, int Cout, int K, int S);
void attn_conv2d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, int B, int H, int W, int Cin,
                              int Cout, int K, int S);

#endif
