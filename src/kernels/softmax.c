/* kernels/softmax.c: row-wise softmax y = exp(x - max) / sum, and its backward
 * dx += y * (dy - sum(dy * y)). Rows are independent, so threads split rows.
 * A row whose entries are all -INFINITY (nothing visible) yields zeros rather than 0/0 = NaN. */
#include "kernels/softmax.h"

#include <math.h>

/* Below this many elements, a call stays on one thread. */
#define SOFTMAX_PAR_MIN (1L << 14)

// y, x: (cols); y may alias x
static void softmax_row(float *y, const float *x, int cols) {
    float max = -INFINITY;
#pragma omp simd reduction(max : max)
    for (int j = 0; j < cols; j++)
        max = fmaxf(max, x[j]);
    if (max == -INFINITY) {
        for (int j = 0; j < cols; j++)
            y[j] = 0.0f;
        return;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < cols; j++) {
        y[j] = expf(x[j] - max);
        sum += y[j];
    }
    float inv = 1.0f / sum;
#pragma omp simd
    for (int j = 0; j < cols; j++)
        y[j] *= inv;
}

// y, x: (rows, cols)
void attn_softmax_forward(float *y, const float *x, int rows, int cols) {
#pragma omp parallel for schedule(static) if ((long)rows * cols > SOFTMAX_PAR_MIN)
    for (int r = 0; r < rows; r++)
        softmax_row(y + (long)r * cols, x + (long)r * cols, cols);
}

// dx, y, dy: (cols)
static void softmax_backward_row(float *dx, const float *y, const float *dy, int cols) {
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int j = 0; j < cols; j++)
        dot += dy[j] * y[j];
#pragma omp simd
    for (int j = 0; j < cols; j++)
        dx[j] += y[j] * (dy[j] - dot);
}

// dx, y, dy: (rows, cols)
void attn_softmax_backward(float *dx, const float *y, const float *dy, int rows, int cols) {
#pragma omp parallel for schedule(static) if ((long)rows * cols > SOFTMAX_PAR_MIN)
    for (int r = 0; r < rows; r++) {
        long off = (long)r * cols;
        softmax_backward_row(dx + off, y + off, dy + off, cols);
    }
}
