/* bench/bench_attention.c: one multi-head self-attention block, forward and backward, built from
 * kernels; the C side of bench/bench_attention.py (torch.nn.MultiheadAttention).
 *
 *   qkv = x Wqkv^T + bqkv                  x: (B, T, C), Wqkv: (3C, C), qkv: (B, T, 3C)
 *   o   = softmax(q k^T / sqrt(D)) v        fused, per head, q k v read in place from qkv
 *   y   = o Wo^T + bo                      Wo: (C, C)
 * then, for a given dy, the whole backward: dWo, dbo, do, dq dk dv (packed in dqkv), dWqkv, dbqkv
 * and dx. Gradients are zeroed inside the timed region (the kernels accumulate).
 *
 * Usage: bench_attention [--T 1024] [--batch 4] [--d-model 512] [--heads 8] [--causal 0]
 *                        [--iters 7] [--warmup 1] [--kernel 0]
 * Prints one JSON line: median wall-clock ms per forward+backward, median CPU ms (all threads;
 * steadier than wall time on a shared machine), each iteration's ms, peak RSS in MB (getrusage;
 * run one process per configuration). With --kernel 1, only the fused attention is timed instead
 * (attn_sdpa_forward and attn_sdpa_backward apart, median ms and GFLOP/s). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "attn/runtime.h"
#include "bench_util.h"
#include "core/rng.h"
#include "kernels/attention.h"
#include "kernels/linear.h"

static float *alloc_floats(long n) {
    float *p = calloc((size_t)n, sizeof *p);
    if (!p) {
        fprintf(stderr, "bench_attention: out of memory (%ld floats)\n", n);
        exit(1);
    }
    return p;
}

typedef struct {
    int B, T, C, H, causal;
    float *x, *w_qkv, *b_qkv, *w_o, *b_o; /* inputs and parameters */
    float *qkv, *o, *lse, *y;             /* activations */
    float *dy, *d_o, *dqkv, *delta, *dx;  /* gradients of activations, scratch */
    float *dw_qkv, *db_qkv, *dw_o, *db_o; /* parameter gradients */
} block;

static attn_sdpa_args sdpa_args(const block *m) {
    const int C = m->C, D = C / m->H;
    const long rs = 3L * C, bs = (long)m->T * rs;
    return (attn_sdpa_args){
        .B = m->B,
        .H = m->H,
        .Tq = m->T,
        .Tk = m->T,
        .D = D,
        .scale = 1.0f / sqrtf((float)D),
        .causal = m->causal,
        .kv_len = NULL,
        .q = m->qkv,
        .q_bs = bs,
        .q_rs = rs,
        .k = m->qkv + C,
        .k_bs = bs,
        .k_rs = rs,
        .v = m->qkv + 2 * C,
        .v_bs = bs,
        .v_rs = rs,
    };
}

static void forward(block *m) {
    const int N = m->B * m->T, C = m->C;
    attn_sdpa_args a = sdpa_args(m);
    attn_linear_forward(m->qkv, m->x, m->w_qkv, m->b_qkv, N, C, 3 * C);
    attn_sdpa_forward(&a, m->o, (long)m->T * C, C, m->lse);
    attn_linear_forward(m->y, m->o, m->w_o, m->b_o, N, C, C);
}

static void backward(block *m) {
    const int N = m->B * m->T, C = m->C;
    attn_sdpa_args a = sdpa_args(m);
    memset(m->d_o, 0, (size_t)N * C * sizeof(float));
    memset(m->dqkv, 0, (size_t)N * 3 * C * sizeof(float));
    memset(m->dx, 0, (size_t)N * C * sizeof(float));
    memset(m->dw_qkv, 0, (size_t)3 * C * C * sizeof(float));
    memset(m->db_qkv, 0, (size_t)3 * C * sizeof(float));
    memset(m->dw_o, 0, (size_t)C * C * sizeof(float));
    memset(m->db_o, 0, (size_t)C * sizeof(float));
    attn_linear_backward(m->d_o, m->dw_o, m->db_o, m->dy, m->o, m->w_o, N, C, C);
    attn_sdpa_backward(&a, m->o, (long)m->T * C, C, m->lse, m->d_o, m->dqkv, m->dqkv + C,
                       m->dqkv + 2 * C, m->delta);
    attn_linear_backward(m->dx, m->dw_qkv, m->db_qkv, m->dqkv, m->x, m->w_qkv, N, C, 3 * C);
}

/* Times the fused kernels alone on the block's qkv. FLOPs: 4 B H T^2 D forward (Q K^T, P V),
 * 10 B H T^2 D backward (S, dP, dV, dK, dQ), halved (roughly) with a causal mask. */
static void kernel_only(block *m, int iters, int warmup) {
    attn_sdpa_args a = sdpa_args(m);
    double flop = 4.0 * m->B * m->H * (double)m->T * m->T * a.D * (m->causal ? 0.5 : 1.0);
    double *fwd = malloc((size_t)iters * sizeof *fwd), *bwd = malloc((size_t)iters * sizeof *bwd);
    forward(m);
    for (int it = -warmup; it < iters; it++) {
        double t0 = bench_clock(CLOCK_MONOTONIC);
        attn_sdpa_forward(&a, m->o, (long)m->T * m->C, m->C, m->lse);
        double t1 = bench_clock(CLOCK_MONOTONIC);
        attn_sdpa_backward(&a, m->o, (long)m->T * m->C, m->C, m->lse, m->dy, m->dqkv,
                           m->dqkv + m->C, m->dqkv + 2 * m->C, m->delta);
        double t2 = bench_clock(CLOCK_MONOTONIC);
        if (it >= 0) fwd[it] = (t1 - t0) * 1e3, bwd[it] = (t2 - t1) * 1e3;
    }
    double f = bench_median(fwd, iters), b = bench_median(bwd, iters);
    printf("{\"impl\": \"attn sdpa\", \"T\": %d, \"batch\": %d, \"heads\": %d, \"D\": %d, "
           "\"causal\": %d, \"threads\": %d, \"forward_ms\": %.2f, \"forward_gflops\": %.1f, "
           "\"backward_ms\": %.2f, \"backward_gflops\": %.1f}\n",
           m->T, m->B, m->H, a.D, m->causal, attn_get_num_threads(), f, flop / f / 1e6, b,
           2.5 * flop / b / 1e6);
    free(fwd), free(bwd);
}

int main(int argc, char **argv) {
    int T = 1024, B = 4, C = 512, H = 8, causal = 0, iters = 7, warmup = 1, kernel = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--T"))
            T = v;
        else if (!strcmp(argv[i], "--batch"))
            B = v;
        else if (!strcmp(argv[i], "--d-model"))
            C = v;
        else if (!strcmp(argv[i], "--heads"))
            H = v;
        else if (!strcmp(argv[i], "--causal"))
            causal = v;
        else if (!strcmp(argv[i], "--iters"))
            iters = v;
        else if (!strcmp(argv[i], "--warmup"))
            warmup = v;
        else if (!strcmp(argv[i], "--kernel"))
            kernel = v;
        else {
            fprintf(stderr, "bench_attention: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (T <= 0 || B <= 0 || H <= 0 || C % H || iters <= 0 || iters > 1000) {
        fprintf(stderr, "bench_attention: bad sizes\n");
        return 2;
    }
    attn_set_num_threads(0);
    const long N = (long)B * T;
    block m = {.B = B, .T = T, .C = C, .H = H, .causal = causal};
    m.x = alloc_floats(N * C), m.w_qkv = alloc_floats(3L * C * C), m.b_qkv = alloc_floats(3L * C);
    m.w_o = alloc_floats((long)C * C), m.b_o = alloc_floats(C);
    m.qkv = alloc_floats(N * 3 * C), m.o = alloc_floats(N * C), m.y = alloc_floats(N * C);
    m.lse = alloc_floats((long)B * H * T), m.delta = alloc_floats((long)B * H * T);
    m.dy = alloc_floats(N * C), m.d_o = alloc_floats(N * C), m.dqkv = alloc_floats(N * 3 * C);
    m.dx = alloc_floats(N * C), m.dw_qkv = alloc_floats(3L * C * C);
    m.db_qkv = alloc_floats(3L * C), m.dw_o = alloc_floats((long)C * C), m.db_o = alloc_floats(C);

    attn_rng rng;
    attn_rng_init(&rng, 1234, 0);
    attn_rng_fill_normal(&rng, m.x, N * C, 1.0f);
    attn_rng_fill_normal(&rng, m.dy, N * C, 1.0f);
    attn_rng_fill_normal(&rng, m.w_qkv, 3L * C * C, 1.0f / sqrtf((float)C));
    attn_rng_fill_normal(&rng, m.w_o, (long)C * C, 1.0f / sqrtf((float)C));

    if (kernel) {
        kernel_only(&m, iters, warmup);
        return 0;
    }
    double *ms = malloc((size_t)iters * sizeof *ms), *cpu_ms = malloc((size_t)iters * sizeof *ms);
    for (int it = -warmup; it < iters; it++) {
        double t0 = bench_clock(CLOCK_MONOTONIC), c0 = bench_clock(CLOCK_PROCESS_CPUTIME_ID);
        forward(&m);
        backward(&m);
        if (it >= 0) {
            ms[it] = (bench_clock(CLOCK_MONOTONIC) - t0) * 1e3;
            cpu_ms[it] = (bench_clock(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e3;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    double check = 0; /* keeps the work observable, and catches NaN */
    for (long i = 0; i < N * C; i += 97)
        check += m.dx[i] + m.y[i];
    printf("{\"impl\": \"attn\", \"T\": %d, \"batch\": %d, \"d_model\": %d, \"heads\": %d, "
           "\"causal\": %d, \"threads\": %d, \"median_ms\": %.2f, \"median_cpu_ms\": %.2f, "
           "\"ms\": [",
           T, B, C, H, causal, attn_get_num_threads(), bench_median(ms, iters),
           bench_median(cpu_ms, iters));
    for (int i = 0; i < iters; i++)
        printf("%s%.2f", i ? ", " : "", ms[i]);
    printf("], \"peak_mb\": %.1f, \"check\": %.6g}\n", ru.ru_maxrss / 1024.0, check);
    return check == check ? 0 : 1;
}
