/* bench/bench_gemv.c: attn_gemv_small against attn_gemm (OpenBLAS) on the products of decoding a
 * d_model 384, d_ff 1536, vocab 256 model: out (M, N) = x (M, K) W^T + b for M = 1..32 rows.
 * Usage: bench_gemv [--reps 200]
 * Each product cycles through 24 copies of W (more than the caches of two cores hold), so W comes
 * from memory as in decoding. Prints one JSON line per (N, K, M): microseconds per call of each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attn/attn.h"
#include "bench_util.h"
#include "kernels/gemm.h"
#include "kernels/gemv.h"

#define COPIES 24

// out: (M, N) = x (M, K) @ w^T + b the way attn_linear_forward does it through a GEMM
static void gemm_linear(float *out, const float *x, const float *w, const float *b, int M, int N,
                        int K) {
    for (int m = 0; m < M; m++)
        memcpy(out + (long)m * N, b, (size_t)N * sizeof *out);
    attn_gemm(false, true, M, N, K, 1.0f, x, K, w, K, 1.0f, out, N);
}

typedef void (*product_fn)(float *, const float *, const float *, const float *, int, int, int);

/* Microseconds per call, after one pass over the copies to warm up. */
static double time_us(product_fn fn, float *out, const float *x, const float *w, const float *b,
                      int M, int N, int K, int reps) {
    for (int r = 0; r < COPIES; r++)
        fn(out, x, w + (long)r * N * K, b, M, N, K);
    double t0 = bench_now();
    for (int r = 0; r < reps; r++)
        fn(out, x, w + (long)(r % COPIES) * N * K, b, M, N, K);
    return (bench_now() - t0) / reps * 1e6;
}

int main(int argc, char **argv) {
    int reps = argc > 2 && !strcmp(argv[1], "--reps") ? atoi(argv[2]) : 200;
    attn_set_num_threads(0);
    static const int shapes[][2] = {{1152, 384}, {384, 384}, {1536, 384}, {384, 1536}, {256, 384}};
    static const int Ms[] = {1, 2, 4, 8, 16, 32};
    for (int s = 0; s < 5; s++) {
        int N = shapes[s][0], K = shapes[s][1];
        float *w = malloc(sizeof(float) * N * K * COPIES), *x = malloc(sizeof(float) * 32 * K);
        float *b = malloc(sizeof(float) * N), *out = malloc(sizeof(float) * 32 * N);
        if (!w || !x || !b || !out) return 1;
        srand(1);
        for (long i = 0; i < (long)N * K * COPIES; i++)
            w[i] = rand() / (float)RAND_MAX - 0.5f;
        for (int i = 0; i < 32 * K; i++)
            x[i] = rand() / (float)RAND_MAX - 0.5f;
        for (int i = 0; i < N; i++)
            b[i] = 0.1f;
        for (int i = 0; i < 6; i++) {
            int M = Ms[i];
            double g = time_us(attn_gemv_small, out, x, w, b, M, N, K, reps);
            double s_us = time_us(gemm_linear, out, x, w, b, M, N, K, reps);
            printf("{\"N\": %d, \"K\": %d, \"M\": %d, \"threads\": %d, \"gemv_us\": %.1f, "
                   "\"gemm_us\": %.1f, \"gemv_GBps\": %.1f}\n",
                   N, K, M, attn_get_num_threads(), g, s_us, 4e-3 * N * K / g);
        }
        free(w), free(x), free(b), free(out);
    }
    return 0;
}
