/* kernels/residual.h: element-wise sums for residual connections.
 * residual_forward: out = a + b (out may alias a or b); accumulate: dst += src. The backward of
 * out = a + b is accumulate(da, dout) and accumulate(db, dout). */
#ifndef ATTN_KERNELS_RESIDUAL_H
#define ATTN_KERNELS_RESIDUAL_H

void attn_residual_forward(float *out, const float *a, const float *b, long n);
void attn_accumulate(float *dst, const float *src, long n);

#endif
