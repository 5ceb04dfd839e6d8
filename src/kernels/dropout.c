/* kernels/dropout.c: inverted dropout, out = inp * mask / (1 - p), mask[i] = [u_i >= p].
 *
 * Determinism whatever the thread count: the array is cut into fixed chunks of DROPOUT_CHUNK
 * elements, and chunk k draws its uniforms u_i from its own generator seeded by
 * (one draw of the caller's rng, k). The caller's rng advances by exactly one draw per call with
 * p > 0, so the next call gets a fresh mask. p == 0 copies without drawing.
 * p >= 1 (outside the contract) drops everything rather than dividing by zero. */
#include "kernels/dropout.h"

#include <string.h>

#define DROPOUT_CHUNK 4096L
/* Below this many elements, a call stays on one thread. */
#define DROPOUT_PAR_MIN (1L << 15)

/* The factor kept elements are scaled by: 1 / (1 - p); 1 when p <= 0 (copy); 0 when p >= 1. */
static float keep_scale(float p) {
    if (!(p > 0.0f)) return 1.0f;
    return p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
}

// out, mask, inp: (n) elements [start, end) of one chunk
static void dropout_chunk(float *out, uint8_t *mask, const float *inp, long start, long end,
                          float p, float scale, attn_rng *rng) {
    for (long i = start; i < end; i++)
        mask[i] = attn_rng_uniform(rng) >= p;
#pragma omp simd
    for (long i = start; i < end; i++)
        out[i] = mask[i] ? inp[i] * scale : 0.0f;
}

// out, mask, inp: (n); out may alias inp
void attn_dropout_forward(float *out, uint8_t *mask, const float *inp, long n, float p,
                          attn_rng *rng) {
    if (!(p > 0.0f)) {
        if (out != inp) memmove(out, inp, (size_t)n * sizeof *out);
        memset(mask, 1, (size_t)n);
        return;
    }
    uint64_t seed = attn_rng_u64(rng);
    float scale = keep_scale(p);
    long chunks = (n + DROPOUT_CHUNK - 1) / DROPOUT_CHUNK;
#pragma omp parallel for schedule(static) if (n > DROPOUT_PAR_MIN)
    for (long k = 0; k < chunks; k++) {
        attn_rng local;
        attn_rng_init(&local, seed, (uint64_t)k);
        long start = k * DROPOUT_CHUNK, end = start + DROPOUT_CHUNK < n ? start + DROPOUT_CHUNK : n;
        dropout_chunk(out, mask, inp, start, end, p, scale, &local);
    }
}

// dinp, dout, mask: (n); dinp += dout * mask / (1 - p)
void attn_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, long n, float p) {
    float scale = keep_scale(p);
#pragma omp parallel for simd schedule(static) if (n > DROPOUT_PAR_MIN)
    for (long i = 0; i < n; i++)
        dinp[i] += mask[i] ? dout[i] * scale : 0.0f;
}
