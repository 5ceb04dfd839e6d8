/* kernels/attention_tile.h: private to attention_simd.c. The vector type, a fast exp2, and the two
 * register-blocked microkernels the fused attention is made of, on AT_T x AT_T score tiles:
 *
 *   at_scores: C (M, AT_T) = A (M, K) Bt (K, AT_T)      S^T = K (Q^T) in forward, S = Q (K^T) and
 *                                                       dP = dO (V^T) in backward
 *   at_accum:  C (M, N)   += A (M, K) B (K, N)          O += P V, dV += P^T dO, dK += dS^T Q,
 *                                                       dQ += dS K;  A a score tile or its
 * transpose
 *
 * Both broadcast one element of A at a time against whole vectors of the right operand (a packed,
 * transposed tile for at_scores; rows of q, k, v, dO read in place for at_accum), holding an
 * (AT_KR rows x up to AT_NVMAX vectors) block of C in registers. Each (rows, width, layout) is
 * its own out-of-line function so that every kernel has the whole register file to itself.
 *
 * The vectors are kernels/simd.h's vf for the ISA being compiled (16 floats for AVX-512, 8 for
 * AVX2, 4 generic), and exp2 is kernels/vmath.h's; the register blocking below is per ISA.
 *
 * Tile size, measured with `bench_attention --kernel 1 --T 2048` (B 4, H 8, D 64, one thread) on
 * the shared 2-core AMD EPYC (AVX-512, FMA peak ~258 GFLOP/s a core), the library built with
 * -DCMAKE_C_FLAGS=-DAT_T=N; forward / backward GFLOP/s, best of a few runs (noise ~10%):
 *   AT_T 32: 139 / 155,   AT_T 64: 161 / 169,   AT_T 128: 155 / 160
 * 32 pays more per-tile bookkeeping; 128 gains nothing and needs 4x the per-thread memory (the
 * backward's tiles for D = 64 are 96 KiB at 64, on the stack). AT_KR = 6 rows (24 accumulators
 * instead of 16) was no faster than 4. */
#ifndef ATTN_KERNELS_ATTENTION_TILE_H
#define ATTN_KERNELS_ATTENTION_TILE_H

#include <math.h>

/* Queries and keys per tile: a score tile is AT_T x AT_T. */
#ifndef AT_T
#define AT_T 64
#endif

#include "kernels/vmath.h"

/* Register blocking per ISA: AT_KR rows of C by AT_SW vectors (scores) or up to AT_NVMAX vectors
 * (accumulation) live in registers, plus one vector per column and a broadcast. AVX-512 has 32
 * zmm: 4 x 6 + 6 + 1 = 31. AVX2 and SSE have 16: 4 x 3 + 3 + 1 = 16 for accumulation (a row of
 * D = 64 floats is 8 ymm, done as strips of 3, 3 and 2) and 4 x 2 + 2 + 1 for scores (the tile
 * row of 8 ymm in strips of 2). AT_NVSTEP is the strip width when a row of C is wider than
 * AT_NVMAX vectors. Measured on AVX2 (`ATTN_ISA=avx2 ATTN_NUM_THREADS=1 bench_attention --kernel 1
 * --T 1024`, Xeon Sapphire Rapids, two runs): AT_NVMAX 2: 51 / 49 GFLOP/s forward, 54 / 55
 * backward; AT_NVMAX 3: 53 / 57 forward, 58 / 63 backward; and score blocks of AT_SKR = 6 rows
 * (12 accumulators, a 4-row block for the rest of a 64-row tile) instead of 4: 61 / 64 forward,
 * 67 / 70 backward against 61 / 59 and 66 / 65. */
#if VW == 16
#define AT_KR_ 4
#define AT_SKR_ 4
#define AT_SW_ 4
#define AT_NVMAX_ 6
#define AT_NVSTEP_ 4
#else
#define AT_KR_ 4
#define AT_SKR_ 6
#define AT_SW_ 2
#define AT_NVMAX_ 3
#define AT_NVSTEP_ 3
#endif
#ifndef AT_KR /* each may be set with -D to measure another blocking */
#define AT_KR AT_KR_
#endif
#ifndef AT_SW
#define AT_SW AT_SW_
#endif
#ifndef AT_SKR /* rows of a score block: may differ from AT_KR, which must divide AT_T */
#define AT_SKR AT_SKR_
#endif
#ifndef AT_NVMAX
#define AT_NVMAX AT_NVMAX_
#endif
#ifndef AT_NVSTEP
#define AT_NVSTEP AT_NVSTEP_
#endif
#define AT_NVFNS 6 /* widths with a kernel: 1..6 */

#define AT_VW VW /* floats per vector */
typedef vf at_vf;
#define at_load vload
#define at_store vstore
#define at_set1 vset1
#define at_zero vzero
#define at_add vadd
#define at_sub vsub
#define at_mul vmul
#define at_max vmax
#define at_fmadd vfmadd
#define at_exp2 v_exp2 /* kernels/vmath.h: <= 1 ulp; -inf and x <= -151 give exactly 0 */

/* Keeps a loaded operand in a register: without this GCC re-reads it from memory inside every FMA
 * that uses it (one load per FMA instead of one per k step), and the kernels become load-bound. */
#if VW >= 8
#define AT_PIN(x) __asm__("" : "+v"(x))
#else
#define AT_PIN(x) (void)(x)
#endif

/* m where m != -inf, else 0: the reference point of exp in a row that has seen no key yet. */
SIMD_INLINE at_vf at_finite_or_zero(at_vf m) {
    return vsel(veq(m, vset1(-INFINITY)), vzero(), m);
}

#define AT_INLINE static inline __attribute__((always_inline))

/* C (R, AT_T) = A (R, K) Bt (K, AT_T): A's rows at stride lda, one element broadcast at a time. */
AT_INLINE void at_scores_block(const int R, int K, const float *A, long lda, const float *Bt,
                               float *C) {
    enum { NB = AT_T / AT_VW, SW = NB < AT_SW ? NB : AT_SW }; /* C's row in strips of SW vectors */
    const float *a[AT_SKR > AT_KR ? AT_SKR : AT_KR];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
        a[r] = A + r * lda;
    for (int v0 = 0; v0 < NB; v0 += SW) {
        at_vf acc[AT_SKR > AT_KR ? AT_SKR : AT_KR][SW];
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
#pragma GCC unroll 4
            for (int v = 0; v < SW; v++)
                acc[r][v] = at_zero();
        const float *b = Bt + v0 * AT_VW;
        for (int k = 0; k < K; k++, b += AT_T) {
            at_vf bv[SW];
#pragma GCC unroll 4
            for (int v = 0; v < SW; v++) {
                bv[v] = at_load(b + v * AT_VW);
                AT_PIN(bv[v]);
            }
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
                at_vf x = at_set1(a[r][k]);
#pragma GCC unroll 4
                for (int v = 0; v < SW; v++)
                    acc[r][v] = at_fmadd(x, bv[v], acc[r][v]);
            }
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
#pragma GCC unroll 4
            for (int v = 0; v < SW; v++)
                at_store(C + r * AT_T + (v0 + v) * AT_VW, acc[r][v]);
    }
}

/* Out of line, so that each kernel gets the whole register file to itself. */
static __attribute__((noinline)) void at_scores_rows(int K, const float *A, long lda,
                                                     const float *Bt, float *C) {
    at_scores_block(AT_SKR, K, A, lda, Bt, C);
}
static __attribute__((noinline)) void at_scores_rows4(int K, const float *A, long lda,
                                                      const float *Bt, float *C) {
    at_scores_block(4, K, A, lda, Bt, C);
}
static __attribute__((noinline)) void at_scores_row(int K, const float *A, const float *Bt,
                                                    float *C) {
    at_scores_block(1, K, A, 0, Bt, C);
}

// C: (M, AT_T) row stride AT_T, A: (M, K) row stride lda, Bt: (K, AT_T) row stride AT_T
static inline void at_scores(int M, int K, const float *A, long lda, const float *Bt, float *C) {
    int m = 0;
    for (; m + AT_SKR <= M; m += AT_SKR)
        at_scores_rows(K, A + m * lda, lda, Bt, C + m * AT_T);
    for (; AT_SKR > 4 && m + 4 <= M; m += 4)
        at_scores_rows4(K, A + m * lda, lda, Bt, C + m * AT_T);
    for (; m < M; m++)
        at_scores_row(K, A + m * lda, Bt, C + m * AT_T);
}

/* C (R, NV vectors) += A (R, K) B (K, NV vectors) with A(r, k) = A[r * ARS + k * ACS]. R, NV,
 * ARS and ACS are compile-time constants, so the block of C lives in registers and A is read
 * at constant offsets from one moving pointer. */
AT_INLINE void at_accum_block(const int R, const int NV, const int ARS, const int ACS, int K,
                              const float *A, const float *B, long ldb, float *C, long ldc) {
    at_vf acc[AT_KR][AT_NVFNS];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            acc[r][v] = at_load(C + r * ldc + v * AT_VW);
    for (int k = 0; k < K; k++, A += ACS, B += ldb) {
        at_vf b[AT_NVFNS];
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) {
            b[v] = at_load(B + v * AT_VW);
            AT_PIN(b[v]);
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            at_vf x = at_set1(A[r * ARS]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++)
                acc[r][v] = at_fmadd(x, b[v], acc[r][v]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            at_store(C + r * ldc + v * AT_VW, acc[r][v]);
}

typedef void (*at_accum_fn)(int K, const float *A, const float *B, long ldb, float *C, long ldc);

/* One out-of-line kernel per (layout L, rows R, width NV): at_accum_<L>_<r|b><NV>. */
#define AT_ACCUM_FN(L, TAG, R, NV, ARS, ACS)                                                       \
    static __attribute__((noinline)) void at_accum_##L##_##TAG##NV(                                \
        int K, const float *A, const float *B, long ldb, float *C, long ldc) {                     \
        at_accum_block(R, NV, ARS, ACS, K, A, B, ldb, C, ldc);                                     \
    }
/* Widths 1..3 always, 4..6 only where AT_NVMAX reaches them; the table keeps one shape (7 slots,
 * 0 for a width that has no kernel and is never asked for). */
#define AT_ACCUM_NARROW(L, TAG, R, ARS, ACS)                                                       \
    AT_ACCUM_FN(L, TAG, R, 1, ARS, ACS)                                                            \
    AT_ACCUM_FN(L, TAG, R, 2, ARS, ACS)                                                            \
    AT_ACCUM_FN(L, TAG, R, 3, ARS, ACS)
#if AT_NVMAX > 3
#define AT_ACCUM_WIDTHS(L, TAG, R, ARS, ACS)                                                       \
    AT_ACCUM_NARROW(L, TAG, R, ARS, ACS)                                                           \
    AT_ACCUM_FN(L, TAG, R, 4, ARS, ACS)                                                            \
    AT_ACCUM_FN(L, TAG, R, 5, ARS, ACS)                                                            \
    AT_ACCUM_FN(L, TAG, R, 6, ARS, ACS)
#define AT_ACCUM_WIDE(L, TAG)                                                                      \
    at_accum_##L##_##TAG##4, at_accum_##L##_##TAG##5, at_accum_##L##_##TAG##6
#else
#define AT_ACCUM_WIDTHS AT_ACCUM_NARROW
#define AT_ACCUM_WIDE(L, TAG) 0, 0, 0
#endif
#define AT_ACCUM_ROW(L, TAG)                                                                       \
    {                                                                                              \
        0, at_accum_##L##_##TAG##1, at_accum_##L##_##TAG##2, at_accum_##L##_##TAG##3,              \
            AT_ACCUM_WIDE(L, TAG)                                                                  \
    }
#define AT_ACCUM_LAYOUT(L, ARS, ACS)                                                               \
    AT_ACCUM_WIDTHS(L, r, 1, ARS, ACS)                                                             \
    AT_ACCUM_WIDTHS(L, b, AT_KR, ARS, ACS)                                                         \
    static const at_accum_fn at_accum_##L##_fns[2][AT_NVFNS + 1] = {AT_ACCUM_ROW(L, r),            \
                                                                    AT_ACCUM_ROW(L, b)};

/* Two layouts of the left operand, a score-shaped tile X (rows of AT_T floats):
 *   t: A = X^T, A(m, k) = X[k * AT_T + m]        n: A = X, A(m, k) = X[m * AT_T + k] */
AT_ACCUM_LAYOUT(t, 1, AT_T)
AT_ACCUM_LAYOUT(n, AT_T, 1)

/* C (M, N) += A (M, K) B (K, N) for A in layout fns (at_accum_t_fns or at_accum_n_fns), N a
 * multiple of AT_VW; ldb, ldc: row strides of B and C. C is cut into strips of at most AT_NVMAX
 * vectors (so D = 80 is one strip of 5), each into blocks of AT_KR rows and single rows. */
static inline void at_accum(const at_accum_fn fns[2][AT_NVFNS + 1], int M, int N, int K,
                            const float *A, const float *B, long ldb, float *C, long ldc) {
    const int ars = fns == at_accum_t_fns ? 1 : AT_T, nv_all = N / AT_VW;
    for (int v0 = 0; v0 < nv_all;) {
        int nv = nv_all - v0 <= AT_NVMAX ? nv_all - v0 : AT_NVSTEP;
        int m = 0;
        for (; m + AT_KR <= M; m += AT_KR)
            fns[1][nv](K, A + m * ars, B + v0 * AT_VW, ldb, C + m * ldc + v0 * AT_VW, ldc);
        for (; m < M; m++)
            fns[0][nv](K, A + m * ars, B + v0 * AT_VW, ldb, C + m * ldc + v0 * AT_VW, ldc);
        v0 += nv;
    }
}

#endif
