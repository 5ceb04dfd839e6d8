/* kernels/residual.c: element-wise sums for residual connections: out = a + b, dst += src.
 * Memory-bound, so threads only pay on large arrays. */
#include "kernels/residual.h"

/* Below this many elements, a call stays on one thread (a fork costs more than the adds). */
#define RESIDUAL_PAR_MIN (1L << 16)

// out, a, b: (n); out may alias a or b
void attn_residual_forward(float *out, const float *a, const float *b, long n) {
#pragma omp parallel for simd schedule(static) if (n > RESIDUAL_PAR_MIN)
    for (long i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

// dst, src: (n)
void attn_accumulate(float *dst, const float *src, long n) {
#pragma omp parallel for simd schedule(static) if (n > RESIDUAL_PAR_MIN)
    for (long i = 0; i < n; i++)
        dst[i] += src[i];
}
