/* core/rng.h: a small, fast, seedable random number generator (xoshiro256**, seeded by splitmix64).
 *
 * Every random choice in attn (initialisation, dropout, batch sampling, token sampling) draws from an
 * attn_rng seeded from (seed, stream), so a run is reproducible and a resumed run can recreate the
 * exact generator of step s by seeding with stream = s. */
#ifndef ATTN_CORE_RNG_H
#define ATTN_CORE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} attn_rng;

/* Seeds a generator; different (seed, stream) pairs give independent-looking sequences. */
void attn_rng_init(attn_rng *rng, uint64_t seed, uint64_t stream);
uint64_t attn_rng_u64(attn_rng *rng);
/* Uniform in [0, 1) with 24 random bits. */
float attn_rng_uniform(attn_rng *rng);
/* Uniform integer in [0, n), n > 0. */
uint32_t attn_rng_below(attn_rng *rng, uint32_t n);
/* Uniform integer in [0, n), 0 < n <= 2^63 - 1, without bias (rejection sampling). */
long attn_rng_below_long(attn_rng *rng, long n);
/* Standard normal (Box-Muller). */
float attn_rng_normal(attn_rng *rng);
/* Fills x[n] with N(0, std^2). */
void attn_rng_fill_normal(attn_rng *rng, float *x, long n, float std);

#endif
