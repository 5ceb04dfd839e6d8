/* eval/kfold.c: k-fold assignment and the mean/std summary of per-fold scores. */
#include "attn/metrics.h"

#include <math.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"

/* Stream of attn_rng reserved for fold assignment, so that the same seed used elsewhere (weights,
 * dropout) does not give correlated draws. */
#define KFOLD_STREAM 0x6b666f6c64ULL /* "kfold" */

/* Uniform integer in [0, n) for n up to 2^64 - 1 (rejection sampling, no modulo bias). */
static uint64_t below_u64(attn_rng *rng, uint64_t n) {
    if (n <= UINT32_MAX) return attn_rng_below(rng, (uint32_t)n);
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = attn_rng_u64(rng);
    while (v >= limit);
    return v % n;
}

attn_status attn_kfold_assign(long n, int k, uint64_t seed, int *fold) {
    if (!fold) return attn_error(ATTN_ERR_INVALID, "kfold: fold is NULL");
    if (k < 2 || (long)k > n)
        return attn_error(ATTN_ERR_INVALID, "kfold: need 2 <= k <= n, got k = %d, n = %ld", k, n);
    /* Balanced by construction (i mod k), then a Fisher-Yates shuffle of the labels. */
    for (long i = 0; i < n; i++)
        fold[i] = (int)(i % k);
    attn_rng rng;
    attn_rng_init(&rng, seed, KFOLD_STREAM);
    for (long i = n - 1; i > 0; i--) {
        long j = (long)below_u64(&rng, (uint64_t)i + 1);
        int t = fold[i];
        fold[i] = fold[j];
        fold[j] = t;
    }
    return ATTN_OK;
}

attn_status attn_mean_std(const double *x, long n, int ddof, double *mean, double *std) {
    if (!x) return attn_error(ATTN_ERR_INVALID, "mean_std: x is NULL");
    if (ddof < 0 || n <= ddof)
        return attn_error(ATTN_ERR_INVALID, "mean_std: need n > ddof >= 0, got n = %ld, ddof = %d",
                          n, ddof);
    /* Two passes: the mean, then squared deviations from it (no cancellation). */
    double sum = 0.0;
    for (long i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return attn_error(ATTN_ERR_NUMERIC, "mean_std: x[%ld] is not finite", i);
        sum += x[i];
    }
    double m = sum / (double)n, ss = 0.0;
    for (long i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    if (mean) *mean = m;
    if (std) *std = sqrt(ss / (double)(n - ddof));
    return ATTN_OK;
}
