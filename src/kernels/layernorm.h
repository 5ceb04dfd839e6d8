/* kernels/layernorm.h: LayerNorm over the last axis (biased variance, as PyTorch).
 * inp, out: (N, C); weight, bias: (C); mean, rstd: (N), saved for backward (may be NULL in
 * inference). out = (inp - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps).
 * Backward accumulates into dinp, dweight, dbias. out may not alias inp. */
#ifndef ATTN_KERNELS_LAYERNORM_H
#define ATTN_KERNELS_LAYERNORM_H

void attn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                            const float *weight, const float *bias, int N, int C, float eps);
void attn_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C);

#endif
