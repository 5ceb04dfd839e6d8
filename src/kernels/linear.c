/* kernels/linear.c: y = x W^T + b through attn_gemm, or attn_gemv_small for a few rows (decoding);
 * the bias and its gradient are the only loops here, both over contiguous rows so they vectorise.
 */
#include "kernels/linear.h"
#include "kernels/gemm.h"
#include "kernels/gemv.h"

#include <string.h>

/* Below this many elements of out / dout, the bias loops stay on one thread. */
#define LINEAR_PAR_MIN (1L << 16)
/* Columns of dbias one thread owns: race-free and a whole number of cache lines. */
#define DBIAS_BLOCK 256

// out: (N, OC), bias: (OC); out[n, :] = bias
static void broadcast_bias(float *out, const float *bias, int N, int OC) {
#pragma omp parallel for schedule(static) if ((long)N * OC > LINEAR_PAR_MIN)
    for (int n = 0; n < N; n++)
        memcpy(out + (long)n * OC, bias, (size_t)OC * sizeof *out);
}

// dbias: (OC), dout: (N, OC); dbias += sum over n of dout[n, :]
static void reduce_dbias(float *dbias, const float *dout, int N, int OC) {
    int blocks = (OC + DBIAS_BLOCK - 1) / DBIAS_BLOCK;
#pragma omp parallel for schedule(static) if ((long)N * OC > LINEAR_PAR_MIN && blocks > 1)
    for (int blk = 0; blk < blocks; blk++) {
        int o0 = blk * DBIAS_BLOCK, o1 = o0 + DBIAS_BLOCK < OC ? o0 + DBIAS_BLOCK : OC;
        for (int n = 0; n < N; n++) {
            const float *row = dout + (long)n * OC;
#pragma omp simd
            for (int o = o0; o < o1; o++)
                dbias[o] += row[o];
        }
    }
}

// out: (N, OC), inp: (N, IC), weight: (OC, IC), bias: (OC) or NULL
void attn_linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                         int N, int IC, int OC) {
    if (N <= attn_gemv_max_m()) { /* decoding: W read in place, not packed by the GEMM */
        attn_gemv_small(out, inp, weight, bias, N, OC, IC);
        return;
    }
    if (bias) broadcast_bias(out, bias, N, OC);
    attn_gemm(false, true, N, OC, IC, 1.0f, inp, IC, weight, IC, bias ? 1.0f : 0.0f, out, OC);
}

/* dinp (N, IC) = dout @ weight + beta dinp; dweight, dbias accumulate. */
static void linear_backward(float beta, float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight, int N, int IC,
                            int OC) {
    /* dinp (N, IC) (+)= dout (N, OC) @ weight (OC, IC) */
    if (dinp) attn_gemm(false, false, N, IC, OC, 1.0f, dout, OC, weight, IC, beta, dinp, IC);
    /* dweight (OC, IC) += dout^T (OC, N) @ inp (N, IC) */
    if (dweight) attn_gemm(true, false, OC, IC, N, 1.0f, dout, OC, inp, IC, 1.0f, dweight, IC);
    if (dbias) reduce_dbias(dbias, dout, N, OC);
}

// dinp: (N, IC), dweight: (OC, IC), dbias: (OC), dout: (N, OC), inp: (N, IC), weight: (OC, IC)
void attn_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int N, int IC, int OC) {
    linear_backward(1.0f, dinp, dweight, dbias, dout, inp, weight, N, IC, OC);
}

// as attn_linear_backward, dinp written
void attn_linear_backward_set(float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, int N, int IC, int OC) {
    linear_backward(0.0f, dinp, dweight, dbias, dout, inp, weight, N, IC, OC);
}
