/* kernels/simd_decls.h: the per-ISA kernels of the including *_simd.c compilation, under their
 * SIMD_FN names (attn_sdpa_forward_avx2, ...). Their contracts are those of the public entry
 * points in kernels/attention.h, activation.h, softmax.h, crossentropy.h and layernorm.h. */
#ifndef ATTN_KERNELS_SIMD_DECLS_H
#define ATTN_KERNELS_SIMD_DECLS_H

#include "kernels/kernel_table.h"
#include "kernels/simd.h"

attn_status SIMD_FN(attn_sdpa_forward)(const attn_sdpa_args *a, float *o, long o_bs, long o_rs,
                                       float *lse);
attn_status SIMD_FN(attn_sdpa_backward)(const attn_sdpa_args *a, const float *o, long o_bs,
                                        long o_rs, const float *lse, const float *dout, float *dq,
                                        float *dk, float *dv, float *delta);
void SIMD_FN(attn_activation_forward)(attn_act act, float *out, const float *inp, long n);
void SIMD_FN(attn_activation_backward)(attn_act act, float *dinp, const float *inp,
                                       const float *dout, long n, int accumulate);
void SIMD_FN(attn_bias_act_forward)(attn_act act, float *h, float *a, const float *bias, int N,
                                    int F);
void SIMD_FN(attn_softmax_forward)(float *y, const float *x, int rows, int cols);
void SIMD_FN(attn_softmax_backward)(float *dx, const float *y, const float *dy, int rows, int cols);
double SIMD_FN(attn_crossentropy_forward)(float *lse, const float *logits, const int *targets,
                                          int N, int V, int ignore_index, float smoothing,
                                          long *count);
void SIMD_FN(attn_crossentropy_backward)(float *dlogits, const float *logits, const float *lse,
                                         const int *targets, int N, int V, int ignore_index,
                                         float smoothing, float scale);
void SIMD_FN(attn_layernorm_forward)(float *out, float *mean, float *rstd, const float *inp,
                                     const float *weight, const float *bias, int N, int C,
                                     float eps);
void SIMD_FN(attn_layernorm_backward)(float *dinp, float *dweight, float *dbias, const float *dout,
                                      const float *inp, const float *weight, const float *mean,
                                      const float *rstd, int N, int C);
void SIMD_FN(attn_gemv_small)(float *out, const float *x, const float *w, const float *bias, int M,
                              int N, int K);
void SIMD_FN(attn_vexp)(float *out, const float *x, long n);
void SIMD_FN(attn_vexp2)(float *out, const float *x, long n);
void SIMD_FN(attn_vtanh)(float *out, const float *x, long n);
void SIMD_FN(attn_verf)(float *out, const float *x, long n);
void SIMD_FN(attn_vlog)(float *out, const float *x, long n);

#endif
