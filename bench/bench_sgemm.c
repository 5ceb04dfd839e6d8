/* bench/bench_sgemm.c: the machine's SGEMM ceiling through attn_gemm (OpenBLAS), and the time of
 * the GEMMs of one training step of bench_train's model alone, i.e. the floor under a step that
 * does its matrix products with this library. Usage:
 *   bench_sgemm [--layers 6] [--d-model 384] [--context 256] [--vocab 8192] [--batch 8] [--reps 5]
 * Prints one JSON line: GFLOP/s for square n = 1024, 2048, 4096 (median of reps), and for the
 * step's GEMMs (forward, dinp, dweight of every linear layer and the tied vocabulary projection;
 * not the attention's own products, which the fused kernel does). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "attn/attn.h"
#include "bench_util.h"
#include "kernels/gemm.h"

static float *filled(long n) {
    float *p = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++)
        p[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    return p;
}

typedef struct {
    int ta, tb, M, N, K;
} shape;

/* One linear layer y (N, out) = x (N, in) W^T: forward, dx = dy W, dW = dy^T x. */
static int add_linear(shape *s, int n, int rows, int in, int out) {
    s[n++] = (shape){0, 1, rows, out, in};
    s[n++] = (shape){0, 0, rows, in, out};
    s[n++] = (shape){1, 0, out, in, rows};
    return n;
}

/* Median seconds of running all shapes once. */
static double time_shapes(const shape *s, int n, int reps, float *A, float *B, float *C) {
    double *t = malloc(sizeof(double) * reps);
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        for (int i = 0; i < n; i++) {
            int lda = s[i].ta ? s[i].M : s[i].K, ldb = s[i].tb ? s[i].K : s[i].N;
            attn_gemm(s[i].ta, s[i].tb, s[i].M, s[i].N, s[i].K, 1.0f, A, lda, B, ldb, 0.0f, C,
                      s[i].N);
        }
        if (r >= 0) t[r] = bench_now() - t0;
    }
    double med = bench_median(t, reps);
    free(t);
    return med;
}

static double flops_of(const shape *s, int n) {
    double f = 0;
    for (int i = 0; i < n; i++)
        f += 2.0 * s[i].M * s[i].N * s[i].K;
    return f;
}

int main(int argc, char **argv) {
    int layers = 6, d = 384, T = 256, V = 8192, B = 8, reps = 5;
    const bench_opt opts[] = {{"layers", &layers}, {"d-model", &d}, {"context", &T},
                              {"vocab", &V},       {"batch", &B},   {"reps", &reps}};
    if (bench_parse(argc, argv, "bench_sgemm", opts, sizeof opts / sizeof opts[0])) return 2;
    if (reps < 1) reps = 1;
    attn_set_num_threads(0);
    long big = 4096L * 4096, rows = (long)B * T;
    long need = rows * (V > 4 * d ? V : 4 * d);
    if (need < big) need = big;
    float *A = filled(need), *Bm = filled(need), *C = filled(need);

    printf("{\"impl\": \"sgemm\", \"threads\": %d", attn_get_num_threads());
    for (int n = 1024; n <= 4096; n *= 2) {
        shape s = {0, 0, n, n, n};
        double t = time_shapes(&s, 1, reps, A, Bm, C);
        printf(", \"square_%d_gflops\": %.1f", n, flops_of(&s, 1) / t * 1e-9);
    }
    enum { MAX_SHAPES = 3 * (4 * 64 + 1) };
    shape step[MAX_SHAPES];
    int n = 0;
    if (layers > 64) layers = 64;
    for (int l = 0; l < layers; l++) {
        n = add_linear(step, n, (int)rows, d, 3 * d); /* QKV */
        n = add_linear(step, n, (int)rows, d, d);     /* attention output */
        n = add_linear(step, n, (int)rows, d, 4 * d); /* FFN up */
        n = add_linear(step, n, (int)rows, 4 * d, d); /* FFN down */
    }
    n = add_linear(step, n, (int)rows, d, V); /* tied vocabulary projection */
    double t = time_shapes(step, n, reps, A, Bm, C), f = flops_of(step, n);
    printf(", \"step_gemm_gflop\": %.1f, \"step_gemm_s\": %.4f, \"step_gemm_gflops\": %.1f}\n",
           f * 1e-9, t, f / t * 1e-9);
    free(A), free(Bm), free(C);
    return 0;
}
