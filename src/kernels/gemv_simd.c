/* kernels/gemv_simd.c: out (M, N) = x (M, K) @ W^T + bias for few rows M, W read in place
 * (gemv.h); compiled once per ISA (kernels/simd.h), so the lane loops below become AVX2 or
 * AVX-512 FMAs, or 4-float multiply-adds in the generic build.
 *
 * A tile is MR input rows against NR weight rows: MR * NR accumulators of LANES floats each, so
 * every weight row of the tile is loaded once per step of K for all MR inputs, and the NR rows
 * (NR * K floats, 24 KB at K = 1536) stay in L1 while the next MR inputs go past them. The lane
 * loops are plain C that GCC turns into one vfmadd per accumulator (a ymm register with AVX2, and
 * with AVX-512 too, where GCC prefers 256-bit vectors); the tile sizes are constants after
 * inlining, so the 16 accumulators live in registers. Measured on 2 cores of a Xeon (AVX-512),
 * (MR, NR, LANES) = (4, 4, 8) beat (4, 4, 16), (2, 4, 16), (4, 2, 16), (8, 2, 8), (2, 4, 8),
 * (4, 8, 8), (8, 4, 8) at M = 1, 8 and 16; prefetching the next tile's rows gains 7-15% at M = 1,
 * which reads W at 23 GB/s, what one core gets from memory. */
#include "kernels/simd_decls.h"

#include <math.h>
#include <stddef.h>

#include "core/pool.h"

#define LANES 8 /* partial sums per output: one AVX2 vector */
#define MR 4    /* input rows per tile */
#define NR 4    /* weight rows per tile */
/* Work (N * K * (M + 4): reading a weight costs about four multiply-adds) below which a call
 * stays on one thread. The split goes to core/pool.h's spinning workers, which a decoding step
 * finds awake (waking a sleeping OpenMP team under OMP_WAIT_POLICY=PASSIVE costs 60-80 us here,
 * as much as the product): from about 15 us of work it pays. */
#define GEMV_PAR_MIN (1L << 19)

#if defined(__FMA__)
#define MADD(a, b, c) fmaf(a, b, c) /* one vfmadd; without FMA, fmaf would be a libm call */
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif

// out: (mr, ldo) rows of the tile, x: (mr, K), w: (nr, K), bias: (nr) or NULL; mr <= MR, nr <= NR
// next: the next tile's weights (NR * K floats), prefetched while this tile runs, or NULL
static inline __attribute__((always_inline)) void tile(float *out, int ldo, const float *x,
                                                       const float *w, const float *bias,
                                                       const float *next, int K, const int mr,
                                                       const int nr) {
    float acc[MR][NR][LANES];
    for (int i = 0; i < mr; i++) /* only the tile's own accumulators: no memset of the rest */
        for (int j = 0; j < nr; j++)
            for (int l = 0; l < LANES; l++)
                acc[i][j][l] = 0.0f;
    int k_full = K - K % LANES;
    const float *pf = next ? next : w; /* a step of K reads NR * LANES floats = 2 cache lines */
    for (int k = 0; k < k_full; k += LANES) {
        __builtin_prefetch(pf + (long)NR * k);
        __builtin_prefetch(pf + (long)NR * k + 16);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
#pragma omp simd
                for (int l = 0; l < LANES; l++)
                    acc[i][j][l] =
                        MADD(x[(long)i * K + k + l], w[(long)j * K + k + l], acc[i][j][l]);
    }
    for (int i = 0; i < mr; i++) /* the last K % LANES columns go to the first lanes */
        for (int j = 0; j < nr; j++)
            for (int l = 0; l < K - k_full; l++)
                acc[i][j][l] =
                    MADD(x[(long)i * K + k_full + l], w[(long)j * K + k_full + l], acc[i][j][l]);
    for (int i = 0; i < mr; i++) {
        for (int j = 0; j < nr; j++) {
            float *a = acc[i][j];
            for (int half = LANES / 2; half >= 1; half /= 2) /* lanes pairwise: a fixed tree */
                for (int l = 0; l < half; l++)
                    a[l] += a[l + half];
            out[(long)i * ldo + j] = bias ? bias[j] + a[0] : a[0];
        }
    }
}

/* One inlined copy of the tile per shape: the full NR-row tiles, and single rows for N % NR. */
static void tile_any(float *out, int ldo, const float *x, const float *w, const float *bias,
                     const float *next, int K, int mr, int nr) {
    _Static_assert(MR == 4, "one case per input row count below");
    if (nr == NR) {
        switch (mr) {
        case 1:
            tile(out, ldo, x, w, bias, next, K, 1, NR);
            break;
        case 2:
            tile(out, ldo, x, w, bias, next, K, 2, NR);
            break;
        case 3:
            tile(out, ldo, x, w, bias, next, K, 3, NR);
            break;
        default:
            tile(out, ldo, x, w, bias, next, K, 4, NR);
            break;
        }
    } else {
        switch (mr) {
        case 1:
            tile(out, ldo, x, w, bias, next, K, 1, 1);
            break;
        case 2:
            tile(out, ldo, x, w, bias, next, K, 2, 1);
            break;
        case 3:
            tile(out, ldo, x, w, bias, next, K, 3, 1);
            break;
        default:
            tile(out, ldo, x, w, bias, next, K, 4, 1);
            break;
        }
    }
}

// out[:, n0:n1] of out (M, N), from rows [n0, n1) of w (N, K)
static void gemv_columns(float *out, const float *x, const float *w, const float *bias, int M,
                         int N, int K, int n0, int n1) {
    for (int n = n0; n < n1;) {
        int nr = n1 - n >= NR ? NR : 1;
        const float *next = n + nr + NR <= n1 ? w + (long)(n + nr) * K : NULL;
        for (int m = 0; m < M; m += MR) {
            int mr = M - m < MR ? M - m : MR;
            tile_any(out + (long)m * N + n, N, x + (long)m * K, w + (long)n * K,
                     bias ? bias + n : NULL, next, K, mr, nr);
        }
        n += nr;
    }
}

typedef struct {
    float *out;
    const float *x, *w, *bias;
    int M, N, K, blocks;
} gemv_job;

/* Part `part` of `parts`: a contiguous run of NR-row blocks, so only the last part meets the
 * N % NR rows. */
static void gemv_part(void *ctx, int part, int parts) {
    const gemv_job *j = ctx;
    int n0 = (int)((long)j->blocks * part / parts) * NR;
    int n1 = (int)((long)j->blocks * (part + 1) / parts) * NR;
    gemv_columns(j->out, j->x, j->w, j->bias, j->M, j->N, j->K, n0, n1 < j->N ? n1 : j->N);
}

// out: (M, N), x: (M, K), w: (N, K), bias: (N) or NULL
void SIMD_FN(attn_gemv_small)(float *out, const float *x, const float *w, const float *bias, int M,
                              int N, int K) {
    if (M <= 0 || N <= 0) return;
    gemv_job j = {out, x, w, bias, M, N, K, (N + NR - 1) / NR};
    if ((long)N * K * (M + 4) < GEMV_PAR_MIN) {
        gemv_columns(out, x, w, bias, M, N, K, 0, N);
        return;
    }
    attn_pool_run(gemv_part, &j, j.blocks);
}
