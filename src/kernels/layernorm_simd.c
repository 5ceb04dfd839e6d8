/* kernels/layernorm_simd.c: LayerNorm over the last axis, biased variance (as PyTorch).
 *   forward:  xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps), out = xhat * w + b
 *   backward: g = w * dout,
 *             dx += rstd * (g - mean(g) - xhat * mean(g * xhat)),
 *             dw += sum_rows dout * xhat, db += sum_rows dout.
 * Threads split rows for out and dx; dw and db are reduced by column blocks (race-free, and the
 * same sums whatever the thread count). The two-pass variance avoids E[x^2] - E[x]^2 cancellation.
 * Compiled once per ISA (kernels/simd.h): the simd loops vectorise to that ISA's width. */
#include "kernels/simd_decls.h"

/* Below this many elements, a call stays on one thread. */
#define LN_PAR_MIN (1L << 15)
/* Columns of dweight / dbias one thread owns. */
#define LN_COL_BLOCK 128

// out, inp: (C); stores the row's mean and rstd
static void layernorm_row(float *out, float *mean_out, float *rstd_out, const float *x,
                          const float *weight, const float *bias, int C, float eps) {
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int c = 0; c < C; c++)
        sum += x[c];
    float mean = sum / C, var = 0.0f;
#pragma omp simd reduction(+ : var)
    for (int c = 0; c < C; c++)
        var += (x[c] - mean) * (x[c] - mean);
    float rstd = 1.0f / sqrtf(var / C + eps);
#pragma omp simd
    for (int c = 0; c < C; c++)
        out[c] = (x[c] - mean) * rstd * weight[c] + bias[c];
    *mean_out = mean;
    *rstd_out = rstd;
}

// out, inp: (N, C), weight, bias: (C), mean, rstd: (N) or NULL
void SIMD_FN(attn_layernorm_forward)(float *out, float *mean, float *rstd, const float *inp,
                                     const float *weight, const float *bias, int N, int C,
                                     float eps) {
#pragma omp parallel for schedule(static) if ((long)N * C > LN_PAR_MIN)
    for (int n = 0; n < N; n++) {
        float m, r;
        layernorm_row(out + (long)n * C, &m, &r, inp + (long)n * C, weight, bias, C, eps);
        if (mean) mean[n] = m;
        if (rstd) rstd[n] = r;
    }
}

// dinp, dout, inp: (C), weight: (C)
static void layernorm_dinp_row(float *dinp, const float *dout, const float *x, const float *weight,
                               float mean, float rstd, int C) {
    float g_mean = 0.0f, gx_mean = 0.0f;
#pragma omp simd reduction(+ : g_mean, gx_mean)
    for (int c = 0; c < C; c++) {
        float g = weight[c] * dout[c];
        g_mean += g;
        gx_mean += g * (x[c] - mean) * rstd;
    }
    g_mean /= C;
    gx_mean /= C;
#pragma omp simd
    for (int c = 0; c < C; c++) {
        float xhat = (x[c] - mean) * rstd;
        dinp[c] += rstd * (weight[c] * dout[c] - g_mean - xhat * gx_mean);
    }
}

// dweight, dbias: (C) or NULL; dout, inp: (N, C); mean, rstd: (N)
static void layernorm_dparams(float *dweight, float *dbias, const float *dout, const float *inp,
                              const float *mean, const float *rstd, int N, int C) {
    int blocks = (C + LN_COL_BLOCK - 1) / LN_COL_BLOCK;
#pragma omp parallel for schedule(static) if ((long)N * C > LN_PAR_MIN && blocks > 1)
    for (int blk = 0; blk < blocks; blk++) {
        int c0 = blk * LN_COL_BLOCK, c1 = c0 + LN_COL_BLOCK < C ? c0 + LN_COL_BLOCK : C;
        for (int n = 0; n < N; n++) {
            const float *dy = dout + (long)n * C, *x = inp + (long)n * C;
            float m = mean[n], r = rstd[n];
            if (dbias) {
#pragma omp simd
                for (int c = c0; c < c1; c++)
                    dbias[c] += dy[c];
            }
            if (dweight) {
#pragma omp simd
                for (int c = c0; c < c1; c++)
                    dweight[c] += dy[c] * (x[c] - m) * r;
            }
        }
    }
}

// dinp, dout, inp: (N, C), dweight, dbias, weight: (C), mean, rstd: (N); dinp/dweight/dbias may be
// NULL
void SIMD_FN(attn_layernorm_backward)(float *dinp, float *dweight, float *dbias, const float *dout,
                                      const float *inp, const float *weight, const float *mean,
                                      const float *rstd, int N, int C) {
    if (dinp) {
#pragma omp parallel for schedule(static) if ((long)N * C > LN_PAR_MIN)
        for (int n = 0; n < N; n++) {
            long off = (long)n * C;
            layernorm_dinp_row(dinp + off, dout + off, inp + off, weight, mean[n], rstd[n], C);
        }
    }
    if (dweight || dbias) layernorm_dparams(dweight, dbias, dout, inp, mean, rstd, N, C);
}
