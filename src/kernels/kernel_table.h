/* kernels/kernel_table.h: the kernels that have one variant per ISA, as a table of functions.
 * Each is documented where its public entry point is declared (kernels/attention.h, ...); the
 * tables are made by kernels/table_simd.c, one per ISA, and chosen by kernels/isa.c. */
#ifndef ATTN_KERNELS_KERNEL_TABLE_H
#define ATTN_KERNELS_KERNEL_TABLE_H

#include "attn/config.h"
#include "kernels/attention.h"

/* out[i] = f(x[i]) for n floats: the vector math of kernels/vmath.h, for tests and benchmarks */
typedef void (*attn_vmath_fn)(float *out, const float *x, long n);

typedef struct {
    const char *name;
    /* kernels/attention.h */
    attn_status (*sdpa_forward)(const attn_sdpa_args *a, float *o, long o_bs, long o_rs,
                                float *lse);
    attn_status (*sdpa_backward)(const attn_sdpa_args *a, const float *o, long o_bs, long o_rs,
                                 const float *lse, const float *dout, float *dq, float *dk,
                                 float *dv, float *delta);
    /* kernels/activation.h */
    void (*act_forward)(attn_act act, float *out, const float *inp, long n);
    void (*act_backward)(attn_act act, float *dinp, const float *inp, const float *dout, long n,
                         int accumulate);
    void (*bias_act_forward)(attn_act act, float *h, float *a, const float *bias, int N, int F);
    /* kernels/softmax.h */
    void (*softmax_forward)(float *y, const float *x, int rows, int cols);
    void (*softmax_backward)(float *dx, const float *y, const float *dy, int rows, int cols);
    /* kernels/crossentropy.h */
    double (*ce_forward)(float *lse, const float *logits, const int *targets, int N, int V,
                         int ignore_index, float smoothing, long *count);
    void (*ce_backward)(float *dlogits, const float *logits, const float *lse, const int *targets,
                        int N, int V, int ignore_index, float smoothing, float scale);
    /* kernels/layernorm.h */
    void (*layernorm_forward)(float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, int N, int C, float eps);
    void (*layernorm_backward)(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean,
                               const float *rstd, int N, int C);
    /* kernels/gemv.h: the few-row product, and the rows up to which it beats the GEMM */
    void (*gemv)(float *out, const float *x, const float *w, const float *bias, int M, int N,
                 int K);
    int gemv_max_m;
    /* kernels/vmath.h over arrays */
    attn_vmath_fn vexp, vexp2, vtanh, verf, vlog;
} attn_kernel_table;

extern const attn_kernel_table attn_kernels_generic;
#if defined(__x86_64__) || defined(__i386__)
extern const attn_kernel_table attn_kernels_avx2;
extern const attn_kernel_table attn_kernels_avx512;
#endif

#endif
