/* kernels/softmax_simd.c: row-wise softmax y = exp(x - max) / sum and its backward
 * dx += y (dy - sum(dy y)), VW lanes at a time (contract in kernels/softmax.h). Rows are
 * independent, so threads split rows. A row whose entries are all -inf yields zeros. */
#include "kernels/simd_decls.h"
#include "kernels/vmath.h"

/* Below this many elements, a call stays on one thread. */
#define SOFTMAX_PAR_MIN (1L << 14)

// y, x: (cols); y may alias x
static void softmax_row(float *y, const float *x, int cols) {
    float max = vm_array_max(x, cols);
    if (max == -INFINITY) {
        memset(y, 0, (size_t)cols * sizeof *y);
        return;
    }
    vf sum = vzero(), sh = vset1(max);
    int j = 0;
    for (; j + VW <= cols; j += VW) {
        vf e = v_exp(vsub(vload(x + j), sh));
        vstore(y + j, e);
        sum = vadd(sum, e);
    }
    if (j < cols) {
        vf e = vsel(vprefix(cols - j), v_exp(vsub(vload_n(x + j, cols - j), sh)), vzero());
        vstore_n(y + j, e, cols - j);
        sum = vadd(sum, e);
    }
    vf inv = vset1(1.0f / vsum(sum));
    for (j = 0; j + VW <= cols; j += VW)
        vstore(y + j, vmul(vload(y + j), inv));
    if (j < cols) vstore_n(y + j, vmul(vload_n(y + j, cols - j), inv), cols - j);
}

void SIMD_FN(attn_softmax_forward)(float *y, const float *x, int rows, int cols) {
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

void SIMD_FN(attn_softmax_backward)(float *dx, const float *y, const float *dy, int rows,
                                    int cols) {
#pragma omp parallel for schedule(static) if ((long)rows * cols > SOFTMAX_PAR_MIN)
    for (int r = 0; r < rows; r++) {
        long off = (long)r * cols;
        softmax_backward_row(dx + off, y + off, dy + off, cols);
    }
}
