/* kernels/softmax.c: row-wise softmax and its backward (kernels/softmax.h). The entry points run
 * this ISA's vector kernels (kernels/softmax_simd.c); the reference computes in double. */
#include "kernels/softmax.h"

#include <math.h>
#include <stddef.h>

#include "kernels/isa.h"

// y, x: (rows, cols)
void attn_softmax_forward(float *y, const float *x, int rows, int cols) {
    attn_kernels()->softmax_forward(y, x, rows, cols);
}

// dx, y, dy: (rows, cols)
void attn_softmax_backward(float *dx, const float *y, const float *dy, int rows, int cols) {
    attn_kernels()->softmax_backward(dx, y, dy, rows, cols);
}

// y, x: (rows, cols)
void attn_softmax_forward_ref(float *y, const float *x, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * cols;
        float *yr = y + (long)r * cols;
        double max = -INFINITY, sum = 0.0;
        for (int j = 0; j < cols; j++)
            max = xr[j] > max ? xr[j] : max;
        for (int j = 0; j < cols; j++)
            sum += max == -INFINITY ? 0.0 : exp(xr[j] - max);
        for (int j = 0; j < cols; j++)
            yr[j] = max == -INFINITY ? 0.0f : (float)(exp(xr[j] - max) / sum);
    }
}

void attn_log_softmax_forward(float *y, const float *x, int rows, int cols) {
#pragma omp parallel for schedule(static) if ((long)rows * cols > 65536)
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * cols;
        float *yr = y + (size_t)r * cols;
        float mx = xr[0];
        for (int j = 1; j < cols; j++)
            if (xr[j] > mx) mx = xr[j];
        double sum = 0;
        for (int j = 0; j < cols; j++)
            sum += exp((double)xr[j] - mx);
        float lse = mx + (float)log(sum);
        for (int j = 0; j < cols; j++)
            yr[j] = xr[j] - lse;
    }
}
