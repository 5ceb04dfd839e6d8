/* kernels/gemm.h: the one GEMM interface every layer goes through.
 *
 * Row-major throughout: C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * C, where op(X) is X
 * or X^T as trans_* says and ld* are row strides. The work is done by the active backend (OpenBLAS
 * cblas by default); a later backend (bf16/AMX, GPU) plugs in by providing the same two entry points,
 * so no layer changes. attn_gemm_ref is the plain triple loop (double accumulation) that tests hold
 * the backends to. */
#ifndef ATTN_KERNELS_GEMM_H
#define ATTN_KERNELS_GEMM_H

#include <stdbool.h>

typedef struct {
    const char *name;
    void (*gemm)(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc);
    /* batch independent GEMMs, matrix i at A + i*stride_a, B + i*stride_b, C + i*stride_c */
    void (*gemm_batched)(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                         const float *A, int lda, long stride_a, const float *B, int ldb,
                         long stride_b, float beta, float *C, int ldc, long stride_c, int batch);
} attn_gemm_backend;

/* A: (M, K) or (K, M) if trans_a; B: (K, N) or (N, K) if trans_b; C: (M, N) */
void attn_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);
void attn_gemm_batched(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                       const float *A, int lda, long stride_a, const float *B, int ldb,
                       long stride_b, float beta, float *C, int ldc, long stride_c, int batch);

/* Reference: same contract, naive loops, double accumulators. */
void attn_gemm_ref(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* Selects the backend used by attn_gemm*; NULL restores the default (cblas). */
void attn_gemm_set_backend(const attn_gemm_backend *backend);
const attn_gemm_backend *attn_gemm_get_backend(void);
extern const attn_gemm_backend attn_gemm_backend_cblas;

#endif
