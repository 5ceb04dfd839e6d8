/* kernels/gemv.h: products with few rows, as in decoding (one new position per stream):
 *     out (M, N) = x (M, K) @ W^T + bias,   W: (N, K) (nn.Linear layout), bias: (N) or NULL.
 *
 * A GEMM library copies W into its own panel layout on every call (OpenBLAS does from M = 2 on);
 * with a few rows that copy of the whole matrix costs more than the product. attn_gemv_small
 * reads W where it lies, each row once for all M inputs (a tile of weight rows against a tile of
 * input rows, vector accumulators over K), and splits the output columns N over threads when the
 * call is big enough to pay for waking them.
 *
 * Each out[m, n] is summed in one fixed order (8 lane sums over K, then the lanes pairwise, then
 * the bias), so a row's result depends neither on M nor on the thread count: a stream decoded in
 * a batch gets the bits it gets alone. Correct for any M >= 0, meant for M <= ATTN_GEMV_MAX_M.
 * attn_gemm_ref (kernels/gemm.h) is the reference it is tested against (tests/kernels/
 * test_gemv.c); bench/bench_gemv.c times it against attn_gemm. One variant per ISA
 * (kernels/gemv_simd.c). Pure: no allocation, no errors;
 * out must not alias x or w. */
#ifndef ATTN_KERNELS_GEMV_H
#define ATTN_KERNELS_GEMV_H

/* Rows up to which attn_gemv_small beats OpenBLAS for the ISA in use (bench/bench_gemv.c,
 * bench/README.md): 16 with AVX2 + FMA or AVX-512, 4 in the generic (SSE2) build, whose 4-float
 * multiplies and adds lose to OpenBLAS's own kernels from M = 8 on. attn_linear_forward sends
 * products of at most this many rows here. */
int attn_gemv_max_m(void);

// out: (M, N), x: (M, K), w: (N, K), bias: (N) or NULL
void attn_gemv_small(float *out, const float *x, const float *w, const float *bias, int M, int N,
                     int K);

#endif
