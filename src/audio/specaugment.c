/* audio/specaugment.c: SpecAugment's frequency and time masks (Park et al. 2019), no time warp. */
#include <math.h>
#include <string.h>

#include "attn/audio.h"
#include "core/error.h"
#include "core/rng.h"

attn_specaugment_params attn_specaugment_default_params(void) {
    return (attn_specaugment_params){.n_freq_masks = 2,
                                     .max_freq_width = 27,
                                     .n_time_masks = 2,
                                     .max_time_width = 100,
                                     .max_time_ratio = 1.0f,
                                     .fill = 0};
}

attn_status attn_specaugment(float *feats, long n_frames, int dim, const attn_specaugment_params *p,
                             uint64_t seed, uint64_t stream) {
    if (!p || n_frames < 0 || dim < 1 || (n_frames > 0 && !feats))
        return attn_error(ATTN_ERR_INVALID, "specaugment: bad arguments");
    if (p->n_freq_masks < 0 || p->max_freq_width < 0 || p->n_time_masks < 0 ||
        p->max_time_width < 0 || !(p->max_time_ratio >= 0 && p->max_time_ratio <= 1))
        return attn_error(ATTN_ERR_INVALID,
                          "specaugment: negative counts or widths, or max_time_ratio %g "
                          "outside [0, 1]",
                          p->max_time_ratio);
    if (n_frames == 0) return ATTN_OK;
    attn_rng rng;
    attn_rng_init(&rng, seed, stream);
    for (int i = 0; i < p->n_freq_masks; i++) { /* f ~ U{0..F}, f0 ~ U{0..dim - f} */
        int F = p->max_freq_width < dim ? p->max_freq_width : dim;
        int f = (int)attn_rng_below(&rng, (uint32_t)F + 1);
        int f0 = (int)attn_rng_below(&rng, (uint32_t)(dim - f) + 1);
        for (long t = 0; t < n_frames; t++)
            for (int d = f0; d < f0 + f; d++)
                feats[t * dim + d] = p->fill;
    }
    long T = (long)floor((double)p->max_time_ratio * n_frames);
    if (p->max_time_width < T) T = p->max_time_width;
    for (int i = 0; i < p->n_time_masks; i++) { /* t ~ U{0..T}, t0 ~ U{0..n_frames - t} */
        long t = attn_rng_below_long(&rng, T + 1);
        long t0 = attn_rng_below_long(&rng, n_frames - t + 1);
        for (long u = t0; u < t0 + t; u++)
            for (int d = 0; d < dim; d++)
                feats[u * dim + d] = p->fill;
    }
    return ATTN_OK;
}

attn_status attn_feature_warp(float *feats, long n_frames, int dim, double max_warp,
                              double max_tilt, uint64_t seed, uint64_t stream) {
    if (n_frames < 0 || dim < 2 || (n_frames > 0 && !feats) || !(max_warp >= 0 && max_warp < 0.5) ||
        !(max_tilt >= 0 && max_tilt < 1e3))
        return attn_error(ATTN_ERR_INVALID, "feature warp: bad arguments");
    if (n_frames == 0 || (max_warp == 0 && max_tilt == 0)) return ATTN_OK;
    attn_rng rng;
    attn_rng_init(&rng, seed, stream);
    double a = 1 + max_warp * (2.0 * attn_rng_uniform(&rng) - 1); /* warp factor */
    double g = max_tilt * (2.0 * attn_rng_uniform(&rng) - 1);     /* tilt, low to high */
    double c = max_tilt * (2.0 * attn_rng_uniform(&rng) - 1);     /* a bump in the middle */
    float row[4096];
    if (dim > 4096) return attn_error(ATTN_ERR_INVALID, "feature warp: dim %d > 4096", dim);
    for (long t = 0; t < n_frames; t++) {
        float *x = feats + (size_t)t * dim;
        memcpy(row, x, (size_t)dim * sizeof *row);
        for (int k = 0; k < dim; k++) {
            double u = k / a; /* the value of bin k comes from bin k / a of the original */
            if (u > dim - 1) u = dim - 1;
            int i = (int)u;
            double f = u - i;
            double v = i + 1 < dim ? (1 - f) * row[i] + f * row[i + 1] : row[i];
            double z = (double)k / (dim - 1) - 0.5; /* -0.5 .. 0.5 across the bins */
            x[k] = (float)(v + g * z + c * (0.25 - z * z) * 4 / 2);
        }
    }
    return ATTN_OK;
}
