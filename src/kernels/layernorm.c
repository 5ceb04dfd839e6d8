/* kernels/layernorm.c: LayerNorm (kernels/layernorm.h). The entry points run this ISA's variant
 * (kernels/layernorm_simd.c); tests hold them to a double-precision reference. */
#include "kernels/layernorm.h"

#include "kernels/isa.h"

// out, inp: (N, C), weight, bias: (C), mean, rstd: (N) or NULL
void attn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                            const float *weight, const float *bias, int N, int C, float eps) {
    attn_kernels()->layernorm_forward(out, mean, rstd, inp, weight, bias, N, C, eps);
}

// dinp, dout, inp: (N, C), dweight, dbias, weight: (C), mean, rstd: (N)
void attn_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C) {
    attn_kernels()->layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
}
