/* audio/resample.c: mono mixdown, resampling through libsamplerate (streaming and whole signals),
 * speed perturbation. */
#include <stdlib.h>
#include <string.h>

#include "audio/audio_internal.h"
#include "core/error.h"
#include "core/rng.h"

attn_status attn_audio_mix_mono(const float *in, long n_frames, int channels, float *out) {
    if (!in || !out || n_frames < 0 || channels < 1)
        return attn_error(ATTN_ERR_INVALID, "audio_mix_mono: bad arguments");
    if (channels == 1) {
        if (out != in) memmove(out, in, (size_t)n_frames * sizeof *out);
        return ATTN_OK;
    }
    /* In place works: out[t] is written after in[t * C ..] is read, and t <= t * C. */
    for (long t = 0; t < n_frames; t++) {
        const float *frame = in + t * channels;
        double s = 0;
        for (int c = 0; c < channels; c++)
            s += frame[c];
        out[t] = (float)(s / channels);
    }
    return ATTN_OK;
}

attn_status attn_resampler_init_ratio(attn_resampler *r, double ratio, int converter) {
    memset(r, 0, sizeof *r);
    r->ratio = ratio;
    if (!(ratio >= 1.0 / 256 && ratio <= 256) || !src_is_valid_ratio(ratio))
        return attn_error(ATTN_ERR_INVALID,
                          "resampling ratio %g is outside libsamplerate's 1/256..256", ratio);
    if (ratio == 1.0) return ATTN_OK;
    int err = 0;
    r->state = src_new(converter, 1, &err);
    if (!r->state) /* the converter type is ours and valid: an allocation failed */
        return attn_error(ATTN_ERR_NOMEM, "libsamplerate: %s", src_strerror(err));
    return ATTN_OK;
}

attn_status attn_resampler_init(attn_resampler *r, int rate_in, int rate_out, int converter) {
    memset(r, 0, sizeof *r);
    if (rate_in < ATTN_AUDIO_MIN_RATE || rate_in > ATTN_AUDIO_MAX_RATE ||
        rate_out < ATTN_AUDIO_MIN_RATE || rate_out > ATTN_AUDIO_MAX_RATE)
        return attn_error(ATTN_ERR_INVALID, "resampling %d Hz to %d Hz: rates must be in [%d, %d]",
                          rate_in, rate_out, ATTN_AUDIO_MIN_RATE, ATTN_AUDIO_MAX_RATE);
    return attn_resampler_init_ratio(r, (double)rate_out / rate_in, converter);
}

void attn_resampler_free(attn_resampler *r) {
    if (r && r->state) src_delete(r->state);
    if (r) r->state = NULL;
}

attn_status attn_resampler_run(attn_resampler *r, const float *in, long n_in, int end, float *out,
                               long cap, long *used, long *made) {
    *used = *made = 0;
    if (r->done) return ATTN_OK;
    if (!r->state) { /* ratio 1 */
        long n = n_in < cap ? n_in : cap;
        if (n > 0) memcpy(out, in, (size_t)n * sizeof *out);
        *used = *made = n;
        if (end && n == n_in) r->done = 1;
        return ATTN_OK;
    }
    SRC_DATA d = {.data_in = in,
                  .data_out = out,
                  .input_frames = n_in,
                  .output_frames = cap,
                  .end_of_input = end,
                  .src_ratio = r->ratio};
    int err = src_process(r->state, &d);
    if (err) return attn_error(ATTN_ERR_INVALID, "libsamplerate: %s", src_strerror(err));
    *used = d.input_frames_used;
    *made = d.output_frames_gen;
    /* At the end of input libsamplerate flushes its filter; once all input is used and nothing
     * more comes out, the signal is complete. */
    if (end && d.input_frames_used == n_in && d.output_frames_gen == 0) r->done = 1;
    return ATTN_OK;
}

attn_status attn_resample_ratio(const float *x, long n, double ratio, int converter, float **out,
                                long *n_out) {
    *out = NULL;
    *n_out = 0;
    attn_resampler r;
    ATTN_TRY(attn_resampler_init_ratio(&r, ratio, converter));
    long cap = (long)((double)n * ratio) + 256;
    float *y = malloc((size_t)cap * sizeof *y);
    if (!y) {
        attn_resampler_free(&r);
        return attn_error(ATTN_ERR_NOMEM, "resample: %ld samples", cap);
    }
    long pos = 0, len = 0;
    while (!r.done) {
        if (cap - len < 256) {
            float *bigger = realloc(y, (size_t)(cap * 2) * sizeof *y);
            if (!bigger) {
                free(y);
                attn_resampler_free(&r);
                return attn_error(ATTN_ERR_NOMEM, "resample: %ld samples", cap * 2);
            }
            y = bigger;
            cap *= 2;
        }
        long used, made;
        attn_status st =
            attn_resampler_run(&r, x + pos, n - pos, 1, y + len, cap - len, &used, &made);
        if (st != ATTN_OK) {
            free(y);
            attn_resampler_free(&r);
            return st;
        }
        if (used == 0 && made == 0 && !r.done) { /* never seen: a converter that stalls */
            free(y);
            attn_resampler_free(&r);
            return attn_error(ATTN_ERR_INVALID, "resample: no progress after %ld samples", pos);
        }
        pos += used;
        len += made;
    }
    attn_resampler_free(&r);
    *out = y;
    *n_out = len;
    return ATTN_OK;
}

attn_status attn_audio_resample(const float *x, long n, int rate_in, int rate_out, float **out,
                                long *n_out) {
    if (!out || !n_out || (!x && n > 0) || n < 0)
        return attn_error(ATTN_ERR_INVALID, "audio_resample: bad arguments");
    *out = NULL;
    *n_out = 0;
    if (rate_in < ATTN_AUDIO_MIN_RATE || rate_in > ATTN_AUDIO_MAX_RATE ||
        rate_out < ATTN_AUDIO_MIN_RATE || rate_out > ATTN_AUDIO_MAX_RATE)
        return attn_error(ATTN_ERR_INVALID, "resampling %d Hz to %d Hz: rates must be in [%d, %d]",
                          rate_in, rate_out, ATTN_AUDIO_MIN_RATE, ATTN_AUDIO_MAX_RATE);
    return attn_resample_ratio(x, n, (double)rate_out / rate_in, SRC_SINC_BEST_QUALITY, out, n_out);
}

attn_status attn_audio_speed_perturb(const float *x, long n, double factor, float **out,
                                     long *n_out) {
    if (!out || !n_out || (!x && n > 0) || n < 0)
        return attn_error(ATTN_ERR_INVALID, "audio_speed_perturb: bad arguments");
    *out = NULL;
    *n_out = 0;
    if (!(factor >= 0.5 && factor <= 2.0))
        return attn_error(ATTN_ERR_INVALID, "audio_speed_perturb: factor %g is outside [0.5, 2]",
                          factor);
    return attn_resample_ratio(x, n, 1.0 / factor, SRC_SINC_BEST_QUALITY, out, n_out);
}

double attn_audio_speed_draw(uint64_t seed, uint64_t stream) {
    static const double factors[3] = {0.9, 1.0, 1.1};
    attn_rng rng;
    attn_rng_init(&rng, seed, stream);
    return factors[attn_rng_below(&rng, 3)];
}
