/* kernels/gemv.c: the few-row product's entry point (kernels/gemv.h), which runs this ISA's
 * variant of kernels/gemv_simd.c; the reference is attn_gemm_ref (kernels/gemm.h). */
#include "kernels/gemv.h"

#include "kernels/isa.h"

// out: (M, N), x: (M, K), w: (N, K), bias: (N) or NULL
void attn_gemv_small(float *out, const float *x, const float *w, const float *bias, int M, int N,
                     int K) {
    attn_kernels()->gemv(out, x, w, bias, M, N, K);
}

int attn_gemv_max_m(void) {
    return attn_kernels()->gemv_max_m;
}
