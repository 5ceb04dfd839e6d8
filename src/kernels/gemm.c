/* kernels/gemm.c: GEMM dispatch, the OpenBLAS backend and the double-accumulating reference.
 *
 * Row-major C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * C. As in BLAS, beta == 0 means
 * C is written without being read (NaN or garbage in C does not propagate). */
#include "kernels/gemm.h"

#include <cblas.h>
#include <omp.h>

/* Below this many multiply-adds per GEMM (128^3), OpenBLAS gains little from threading one GEMM,
 * so a batch of them is better spread over our threads, one whole GEMM each. */
#define GEMM_SMALL_MACS (1L << 21)

/* C (M, N) *= beta, for the degenerate K == 0 product that BLAS argument checks would reject. */
static void scale_c(int M, int N, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        float *row = C + (long)i * ldc;
        for (int j = 0; j < N; j++)
            row[j] = beta == 0.0f ? 0.0f : beta * row[j];
    }
}

// A: (M, K) or (K, M), B: (K, N) or (N, K), C: (M, N)
static void cblas_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                       int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Small GEMMs: one per thread (OpenBLAS runs single-threaded inside our parallel region, so nothing
 * is oversubscribed). Large GEMMs, unless there are at least as many as threads: one after another,
 * each threaded by OpenBLAS itself, which balances better than few big GEMMs on few threads. */
static void cblas_gemm_batched(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                               const float *A, int lda, long stride_a, const float *B, int ldb,
                               long stride_b, float beta, float *C, int ldc, long stride_c,
                               int batch) {
    long macs = (long)M * N * (K > 0 ? K : 1);
    int by_batch = batch > 1 && (macs <= GEMM_SMALL_MACS || batch >= omp_get_max_threads());
#pragma omp parallel for schedule(static) if (by_batch)
    for (int i = 0; i < batch; i++) {
        cblas_gemm(trans_a, trans_b, M, N, K, alpha, A + i * stride_a, lda, B + i * stride_b, ldb,
                   beta, C + i * stride_c, ldc);
    }
}

const attn_gemm_backend attn_gemm_backend_cblas = {
    .name = "cblas",
    .gemm = cblas_gemm,
    .gemm_batched = cblas_gemm_batched,
};

static const attn_gemm_backend *active_backend = &attn_gemm_backend_cblas;

void attn_gemm_set_backend(const attn_gemm_backend *backend) {
    active_backend = backend ? backend : &attn_gemm_backend_cblas;
}

const attn_gemm_backend *attn_gemm_get_backend(void) {
    return active_backend;
}

void attn_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    active_backend->gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void attn_gemm_batched(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                       int lda, long stride_a, const float *B, int ldb, long stride_b, float beta,
                       float *C, int ldc, long stride_c, int batch) {
    active_backend->gemm_batched(trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb,
                                 stride_b, beta, C, ldc, stride_c, batch);
}

// A: (M, K) or (K, M), B: (K, N) or (N, K), C: (M, N)
void attn_gemm_ref(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                double a = trans_a ? A[(long)k * lda + i] : A[(long)i * lda + k];
                double b = trans_b ? B[(long)j * ldb + k] : B[(long)k * ldb + j];
                acc += a * b;
            }
            float *c = C + (long)i * ldc + j;
            double old = beta == 0.0f ? 0.0 : (double)beta * *c;
            *c = (float)(alpha * acc + old);
        }
    }
}
