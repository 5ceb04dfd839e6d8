/* core/rng.c: xoshiro256** (Blackman & Vigna), seeded through splitmix64. */
#include "core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void attn_rng_init(attn_rng *rng, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t attn_rng_u64(attn_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float attn_rng_uniform(attn_rng *rng) { return (float)(attn_rng_u64(rng) >> 40) * 0x1.0p-24f; }

uint32_t attn_rng_below(attn_rng *rng, uint32_t n) {
    /* Lemire's multiply-shift; the bias (< n / 2^32) is irrelevant at our sizes. */
    return (uint32_t)(((attn_rng_u64(rng) >> 32) * (uint64_t)n) >> 32);
}

long attn_rng_below_long(attn_rng *rng, long n) {
    if (n <= (long)UINT32_MAX) return (long)attn_rng_below(rng, (uint32_t)n);
    uint64_t u = (uint64_t)n, limit = UINT64_MAX - UINT64_MAX % u, v;
    do
        v = attn_rng_u64(rng);
    while (v >= limit);
    return (long)(v % u);
}

float attn_rng_normal(attn_rng *rng) {
    double u1 = ((double)(attn_rng_u64(rng) >> 11) + 0.5) * 0x1.0p-53;
    double u2 = (double)(attn_rng_u64(rng) >> 11) * 0x1.0p-53;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void attn_rng_fill_normal(attn_rng *rng, float *x, long n, float std) {
    for (long i = 0; i < n; i++) x[i] = std * attn_rng_normal(rng);
}
