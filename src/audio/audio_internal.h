/* audio/audio_internal.h: what the files of src/audio share: a streaming resampler over
 * libsamplerate. */
#ifndef ATTN_AUDIO_INTERNAL_H
#define ATTN_AUDIO_INTERNAL_H

#include <samplerate.h>

#include "attn/audio.h"

#define ATTN_AUDIO_MIN_RATE 1000
#define ATTN_AUDIO_MAX_RATE 384000

/* A mono sample-rate converter; a ratio of 1 copies (no filter). */
typedef struct {
    SRC_STATE *state; /* NULL when passthrough */
    double ratio;     /* rate_out / rate_in */
    int done;         /* the end of input was given and everything has come out */
} attn_resampler;

/* Errors: ATTN_ERR_INVALID for rates outside [ATTN_AUDIO_MIN_RATE, ATTN_AUDIO_MAX_RATE] or a ratio
 * libsamplerate refuses; ATTN_ERR_NOMEM. `converter` is one of libsamplerate's SRC_* types. */
attn_status attn_resampler_init(attn_resampler *r, int rate_in, int rate_out, int converter);
/* Same, for a ratio (out / in) in [1/256, 256]. */
attn_status attn_resampler_init_ratio(attn_resampler *r, double ratio, int converter);
void attn_resampler_free(attn_resampler *r);

/* Converts as much of in[n_in] into out[cap] as fits: *used input samples consumed, *made output
 * samples written. end != 0 says in ends the signal; call again with n_in = 0 and end until
 * r->done. ATTN_ERR_INVALID on a libsamplerate error (its message). */
attn_status attn_resampler_run(attn_resampler *r, const float *in, long n_in, int end, float *out,
                               long cap, long *used, long *made);

/* A whole signal through a fresh resampler into a malloc'd *out of *n_out samples. */
attn_status attn_resample_ratio(const float *x, long n, double ratio, int converter, float **out,
                                long *n_out);

/* ---- the fixed parts of a feature extractor (filters.c) ---- */

/* w[0..L) of the given window. ATTN_ERR_INVALID for an unknown window. */
attn_status attn_window_fill(attn_window window, int L, float *w);

/* Mel filterbank over n_bins = n_fft / 2 + 1 bins, stored by band: band m's weights of bins
 * [first[m], last[m]) (its nonzero span) at w[offset[m] ..]; w holds attn_mel_filters_size
 * floats (each bin lies under at most two bands). ATTN_ERR_INVALID when a band has no bin under
 * it (the message names the band). */
long attn_mel_filters_size(int n_fft, int n_mels);
attn_status attn_mel_filters_fill(const attn_fbank_params *p, int n_fft, float *w, long *offset,
                                  int *first, int *last);

/* Orthonormal DCT-II (n_ceps, n_mels): d[k][m] = sqrt((k ? 2 : 1) / M) cos(pi k (m + 1/2) / M),
 * times the lifter 1 + Q/2 sin(pi k / Q) when Q = lifter != 0. */
void attn_dct_fill(int n_ceps, int n_mels, float lifter, float *d);

#endif
