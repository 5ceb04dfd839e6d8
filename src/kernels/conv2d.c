/* kernels/conv2d.c: 2-D convolution, channels last (kernels/conv2d.h), and its plain reference.
 *
 * Fast path: blocks of output rows (r = b * Ho + i, so a block may span images and its output is
 * contiguous) are unfolded into columns, cols (M, Cin*K*K) with M = rows * Wo, and
 *   forward:  out_blk = cols @ weight^T + bias                 (attn_linear_forward)
 *   backward: dweight += dout_blk^T @ cols, dcols = dout_blk @ weight  (attn_linear_backward_set)
 *             then dcols is scattered back onto dinp (col2im); dbias += column sums of dout.
 * Threads: the GEMMs thread themselves (OpenBLAS); our own OpenMP loops (im2col, col2im) hold no
 * GEMM, so nothing is oversubscribed or serialised.
 * Few columns (the first layer: Cin = 1, 9 columns) go through the GEMM too: a direct loop over
 * the output channels from a transposed weight, vectorised by the compiler, took 7.4 ms for
 * (16, 400, 80, 1) -> 96 channels against the GEMM's 5.5 ms (2 threads; our plain C gets SSE2
 * only, OpenBLAS picks AVX-512 at run time; both are bound by writing the 48 MB output). */
#include "kernels/conv2d.h"
#include "core/error.h"
#include "kernels/linear.h"

#include <limits.h>
#include <stdlib.h>

/* Floats of one block's columns (2 MiB; the backward holds cols and dcols). */
#define CONV_BLOCK_FLOATS (1L << 19)
/* Below this many floats touched, our loops stay on one thread. */
#define CONV_PAR_MIN (1L << 15)

typedef struct {
    int B, H, W, Cin, Cout, K, S, Ho, Wo, ncols; /* ncols = Cin * K * K */
} conv_shape;

static attn_status conv_shape_make(conv_shape *s, int B, int H, int W, int Cin, int Cout, int K,
                                   int S) {
    if (B < 1 || H < 1 || W < 1 || Cin < 1 || Cout < 1 || K < 1 || S < 1)
        return attn_error(ATTN_ERR_INVALID,
                          "conv2d: sizes must be >= 1 (B %d, H %d, W %d, Cin %d, Cout %d, K %d, "
                          "S %d)",
                          B, H, W, Cin, Cout, K, S);
    if (H < K || W < K)
        return attn_error(ATTN_ERR_INVALID,
                          "conv2d: the %dx%d kernel is larger than the %dx%d input", K, K, H, W);
    *s = (conv_shape){B, H, W, Cin, Cout, K, S, (H - K) / S + 1, (W - K) / S + 1, 0};
    long ncols = (long)Cin * K * K, pixels = (long)B * s->Ho * s->Wo;
    if (ncols > INT_MAX || pixels > INT_MAX)
        return attn_error(ATTN_ERR_INVALID, "conv2d: too large (%ld output pixels, %ld columns)",
                          pixels, ncols);
    s->ncols = (int)ncols;
    return ATTN_OK;
}

/* Output rows per block: as many as CONV_BLOCK_FLOATS of columns hold, at least one. */
static long block_rows(const conv_shape *s) {
    long rows = CONV_BLOCK_FLOATS / ((long)s->Wo * s->ncols), total = (long)s->B * s->Ho;
    return rows < 1 ? 1 : rows > total ? total : rows;
}

// cols: ((r1 - r0) * Wo, Cin*K*K), inp: (B, H, W, Cin), rows r = b * Ho + i in [r0, r1):
// cols[(r - r0) * Wo + j, (c*K + p)*K + q] = inp[b, S*i + p, S*j + q, c]
static void im2col(float *cols, const float *inp, const conv_shape *s, long r0, long r1) {
    const int K = s->K, Cin = s->Cin, Wo = s->Wo;
#pragma omp parallel for schedule(static) if ((r1 - r0) * Wo * s->ncols > CONV_PAR_MIN)
    for (long r = r0; r < r1; r++) {
        long b = r / s->Ho, i = r % s->Ho;
        for (int j = 0; j < Wo; j++) {
            float *col = cols + ((r - r0) * Wo + j) * s->ncols;
            for (int p = 0; p < K; p++) {
                const float *row = inp + ((b * s->H + s->S * i + p) * s->W + (long)s->S * j) * Cin;
                for (int q = 0; q < K; q++)
                    for (int c = 0; c < Cin; c++)
                        col[(c * K + p) * K + q] = row[q * Cin + c];
            }
        }
    }
}

/* The transpose of im2col, rows r in [r0, r1):
 *   dinp[b, S*i + p, S*j + q, c] += dcols[(r - r0) * Wo + j, (c*K + p)*K + q].
 * For one p, distinct output rows write distinct input rows, so the rows run in parallel
 * without races; the windows that overlap (S < K) do so along p, which is the serial loop. */
static void col2im(float *dinp, const float *dcols, const conv_shape *s, long r0, long r1) {
    const int K = s->K, Cin = s->Cin, Wo = s->Wo;
    for (int p = 0; p < K; p++) {
#pragma omp parallel for schedule(static) if ((r1 - r0) * Wo * Cin * K > CONV_PAR_MIN)
        for (long r = r0; r < r1; r++) {
            long b = r / s->Ho, i = r % s->Ho;
            float *row = dinp + ((b * s->H + s->S * i + p) * s->W) * Cin;
            for (int j = 0; j < Wo; j++) {
                const float *col = dcols + ((r - r0) * Wo + j) * s->ncols;
                for (int q = 0; q < K; q++) {
                    float *x = row + ((long)s->S * j + q) * Cin;
                    for (int c = 0; c < Cin; c++)
                        x[c] += col[(c * K + p) * K + q];
                }
            }
        }
    }
}

// out: (B, Ho, Wo, Cout), inp: (B, H, W, Cin), weight: (Cout, Cin, K, K), bias: (Cout) or NULL
attn_status attn_conv2d_forward(float *out, const float *inp, const float *weight,
                                const float *bias, int B, int H, int W, int Cin, int Cout, int K,
                                int S) {
    conv_shape s;
    ATTN_TRY(conv_shape_make(&s, B, H, W, Cin, Cout, K, S));
    long rows = block_rows(&s), total = (long)B * s.Ho;
    float *cols = malloc((size_t)rows * s.Wo * s.ncols * sizeof *cols);
    if (!cols) return attn_error(ATTN_ERR_NOMEM, "conv2d: no memory for %ld columns", rows * s.Wo);
    for (long r0 = 0; r0 < total; r0 += rows) {
        long r1 = r0 + rows < total ? r0 + rows : total;
        im2col(cols, inp, &s, r0, r1);
        attn_linear_forward(out + r0 * s.Wo * Cout, cols, weight, bias, (int)((r1 - r0) * s.Wo),
                            s.ncols, Cout); // (M, Cout)
    }
    free(cols);
    return ATTN_OK;
}

// dinp: (B, H, W, Cin) or NULL, dweight: (Cout, Cin, K, K), dbias: (Cout) or NULL,
// dout: (B, Ho, Wo, Cout)
attn_status attn_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                 const float *inp, const float *weight, int B, int H, int W,
                                 int Cin, int Cout, int K, int S) {
    conv_shape s;
    ATTN_TRY(conv_shape_make(&s, B, H, W, Cin, Cout, K, S));
    long rows = block_rows(&s), total = (long)B * s.Ho;
    size_t n = (size_t)rows * s.Wo * s.ncols;
    float *cols = dweight ? malloc(n * sizeof *cols) : NULL;
    float *dcols = dinp ? malloc(n * sizeof *dcols) : NULL;
    if ((dweight && !cols) || (dinp && !dcols)) {
        free(cols), free(dcols);
        return attn_error(ATTN_ERR_NOMEM, "conv2d: no memory for %ld columns", rows * s.Wo);
    }
    /* dbias (Cout) += sum over every output pixel of dout[pixel, :] (the bias half of a Linear) */
    if (dbias)
        attn_linear_backward(NULL, NULL, dbias, dout, NULL, NULL, B * s.Ho * s.Wo, s.ncols, Cout);
    for (long r0 = 0; r0 < total && (dinp || dweight); r0 += rows) {
        long r1 = r0 + rows < total ? r0 + rows : total;
        int M = (int)((r1 - r0) * s.Wo);
        if (dweight) im2col(cols, inp, &s, r0, r1);
        /* dcols (M, ncols) = dout_blk @ weight, dweight (Cout, ncols) += dout_blk^T @ cols */
        attn_linear_backward_set(dcols, dweight, NULL, dout + r0 * s.Wo * Cout, cols, weight, M,
                                 s.ncols, Cout);
        if (dinp) col2im(dinp, dcols, &s, r0, r1);
    }
    free(cols), free(dcols);
    return ATTN_OK;
}

// as attn_conv2d_forward, direct loops, double accumulators
void attn_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                             int B, int H, int W, int Cin, int Cout, int K, int S) {
    int Ho = (H - K) / S + 1, Wo = (W - K) / S + 1;
    for (long b = 0; b < B; b++)
        for (int i = 0; i < Ho; i++)
            for (int j = 0; j < Wo; j++)
                for (int o = 0; o < Cout; o++) {
                    double acc = bias ? bias[o] : 0.0;
                    for (int c = 0; c < Cin; c++)
                        for (int p = 0; p < K; p++)
                            for (int q = 0; q < K; q++)
                                acc += (double)weight[((long)(o * Cin + c) * K + p) * K + q] *
                                       inp[((b * H + S * i + p) * W + S * j + q) * Cin + c];
                    out[((b * Ho + i) * Wo + j) * Cout + o] = (float)acc;
                }
}

// as attn_conv2d_backward; each gradient element is one double sum, added once
void attn_conv2d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, int B, int H, int W, int Cin,
                              int Cout, int K, int S) {
    int Ho = (H - K) / S + 1, Wo = (W - K) / S + 1;
    long pixels = (long)B * Ho * Wo;
    for (int o = 0; dbias && o < Cout; o++) {
        double acc = 0;
        for (long n = 0; n < pixels; n++)
            acc += dout[n * Cout + o];
        dbias[o] += (float)acc;
    }
    /* dweight[o, c, p, q] += sum_{b, i, j} dout[b, i, j, o] * inp[b, S*i + p, S*j + q, c] */
    for (int o = 0; dweight && o < Cout; o++)
        for (int c = 0; c < Cin; c++)
            for (int p = 0; p < K; p++)
                for (int q = 0; q < K; q++) {
                    double acc = 0;
                    for (long b = 0; b < B; b++)
                        for (int i = 0; i < Ho; i++)
                            for (int j = 0; j < Wo; j++)
                                acc += (double)dout[((b * Ho + i) * Wo + j) * Cout + o] *
                                       inp[((b * H + S * i + p) * W + S * j + q) * Cin + c];
                    dweight[((long)(o * Cin + c) * K + p) * K + q] += (float)acc;
                }
    /* dinp[b, h, w, c] += sum over the windows (i, j, p, q) with S*i + p = h, S*j + q = w of
     * sum_o dout[b, i, j, o] * weight[o, c, p, q] */
    for (long b = 0; dinp && b < B; b++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++)
                for (int c = 0; c < Cin; c++) {
                    double acc = 0;
                    for (int p = 0; p < K; p++) {
                        int i = (h - p) / S;
                        if (h - p < 0 || (h - p) % S || i >= Ho) continue;
                        for (int q = 0; q < K; q++) {
                            int j = (w - q) / S;
                            if (w - q < 0 || (w - q) % S || j >= Wo) continue;
                            for (int o = 0; o < Cout; o++)
                                acc += (double)dout[((b * Ho + i) * Wo + j) * Cout + o] *
                                       weight[((long)(o * Cin + c) * K + p) * K + q];
                        }
                    }
                    dinp[((b * H + h) * W + w) * Cin + c] += (float)acc;
                }
}
