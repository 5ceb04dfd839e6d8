/* audio/fbank.c: log-mel filterbank and MFCC features, frame by frame over a stream of samples
 * (Kaldi's compute-fbank-feats / compute-mfcc-feats pipeline, attn/audio.h). */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "audio/audio_internal.h"
#include "core/error.h"
#include "core/rng.h"

struct attn_fbank {
    attn_fbank_params p;
    int L, shift, n_fft, n_bins, dim;
    float *window; /* (L) */
    float *mel;    /* band m's weights of bins [mel_first[m], mel_last[m]) at mel + mel_offset[m] */
    long *mel_offset;
    int *mel_first, *mel_last;
    float *dct;             /* (n_mfcc, n_mels) or NULL */
    float *fft_in;          /* (n_fft), fftwf_malloc'd */
    fftwf_complex *fft_out; /* (n_bins) */
    fftwf_plan plan;
    float *power;  /* (n_bins) */
    float *logmel; /* (n_mels) */
    float *frame;  /* (L) a frame assembled from the kept tail and new samples */
    float *tail;   /* (L) samples of the next, incomplete frame */
    long n_tail;   /* samples in tail (< L) */
    long skip;     /* samples to drop before the next frame starts (shift > L) */
    attn_rng rng;  /* dither */
};

/* FFTW's planner and plan destruction share global state and are not thread-safe; execution of a
 * plan on the plan's own arrays is. */
static pthread_mutex_t fftw_lock = PTHREAD_MUTEX_INITIALIZER;

attn_fbank_params attn_fbank_default_params(void) {
    return (attn_fbank_params){.sample_rate = 16000,
                               .frame_length_ms = 25,
                               .frame_shift_ms = 10,
                               .n_fft = 0,
                               .window = ATTN_WINDOW_POVEY,
                               .remove_dc_offset = 1,
                               .preemphasis = 0.97f,
                               .dither = 0,
                               .dither_seed = 0,
                               .n_mels = 80,
                               .low_freq = 20,
                               .high_freq = 0,
                               .mel = ATTN_MEL_KALDI,
                               .use_power = 1,
                               .use_log = 1,
                               .log_floor = FLT_EPSILON,
                               .n_mfcc = 0,
                               .cepstral_lifter = 0,
                               .use_energy = 0,
                               .raw_energy = 1,
                               .energy_floor = 1.0f};
}

attn_fbank_params attn_mfcc_default_params(void) {
    attn_fbank_params p = attn_fbank_default_params();
    p.n_mels = 23;
    p.n_mfcc = 13;
    p.cepstral_lifter = 22;
    return p;
}

static attn_status check_params(const attn_fbank_params *p, int *L, int *shift, int *n_fft) {
    if (p->sample_rate < ATTN_AUDIO_MIN_RATE || p->sample_rate > ATTN_AUDIO_MAX_RATE)
        return attn_error(ATTN_ERR_INVALID, "fbank: sample_rate %d is outside [%d, %d]",
                          p->sample_rate, ATTN_AUDIO_MIN_RATE, ATTN_AUDIO_MAX_RATE);
    if (!(p->frame_length_ms > 0 && p->frame_length_ms <= 1000 && p->frame_shift_ms > 0 &&
          p->frame_shift_ms <= 1000))
        return attn_error(ATTN_ERR_INVALID,
                          "fbank: frame_length_ms %g / frame_shift_ms %g must be in (0, 1000]",
                          p->frame_length_ms, p->frame_shift_ms);
    /* As Kaldi: int(rate * ms / 1000), truncated. */
    *L = (int)(p->sample_rate * (double)p->frame_length_ms / 1000);
    *shift = (int)(p->sample_rate * (double)p->frame_shift_ms / 1000);
    if (*L < 2)
        return attn_error(ATTN_ERR_INVALID, "fbank: a frame of %d samples (at least 2)", *L);
    if (*shift < 1) return attn_error(ATTN_ERR_INVALID, "fbank: a frame shift of 0 samples");
    *n_fft = p->n_fft;
    if (*n_fft == 0)
        for (*n_fft = 1; *n_fft < *L; *n_fft *= 2) {
        }
    if (*n_fft < *L || *n_fft > (1 << 20))
        return attn_error(ATTN_ERR_INVALID, "fbank: n_fft %d must be in [frame length %d, 2^20]",
                          p->n_fft, *L);
    double nyquist = 0.5 * p->sample_rate;
    double hi = p->high_freq <= 0 ? nyquist + p->high_freq : p->high_freq;
    if (!(p->low_freq >= 0 && p->low_freq < nyquist && hi > 0 && hi <= nyquist && p->low_freq < hi))
        return attn_error(
            ATTN_ERR_INVALID,
            "fbank: low_freq %g and high_freq %g (%g) must satisfy 0 <= low < high <= %g",
            p->low_freq, p->high_freq, hi, nyquist);
    if (p->n_mels < 2 || p->n_mels > 4096)
        return attn_error(ATTN_ERR_INVALID, "fbank: n_mels %d must be in [2, 4096]", p->n_mels);
    if (!(p->dither >= 0 && isfinite(p->dither)))
        return attn_error(ATTN_ERR_INVALID, "fbank: dither %g", p->dither);
    if (!(p->preemphasis >= 0 && p->preemphasis <= 1))
        return attn_error(ATTN_ERR_INVALID, "fbank: preemphasis %g must be in [0, 1]",
                          p->preemphasis);
    if (p->use_log && !(p->log_floor > 0 && isfinite(p->log_floor)))
        return attn_error(ATTN_ERR_INVALID, "fbank: log_floor %g must be > 0", p->log_floor);
    if (p->n_mfcc < 0 || p->n_mfcc > p->n_mels || (p->n_mfcc > 0 && !p->use_log))
        return attn_error(ATTN_ERR_INVALID,
                          "fbank: n_mfcc %d must be in [0, n_mels = %d], with use_log", p->n_mfcc,
                          p->n_mels);
    if (p->edges != ATTN_EDGES_SNIP && p->edges != ATTN_EDGES_KALDI &&
        p->edges != ATTN_EDGES_CENTER)
        return attn_error(ATTN_ERR_INVALID, "fbank: unknown edges %d", (int)p->edges);
    if (p->edges == ATTN_EDGES_CENTER && *n_fft != *L)
        return attn_error(ATTN_ERR_INVALID,
                          "fbank: ATTN_EDGES_CENTER needs n_fft == the frame length (%d, not %d)",
                          *L, *n_fft);
    if (!(p->energy_floor >= 0 && isfinite(p->energy_floor)))
        return attn_error(ATTN_ERR_INVALID, "fbank: energy_floor %g", p->energy_floor);
    if (!(p->cepstral_lifter >= 0 && isfinite(p->cepstral_lifter)))
        return attn_error(ATTN_ERR_INVALID, "fbank: cepstral_lifter %g", p->cepstral_lifter);
    return ATTN_OK;
}

attn_status attn_fbank_create(const attn_fbank_params *p, attn_fbank **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "fbank_create: NULL output");
    *out = NULL;
    if (!p) return attn_error(ATTN_ERR_INVALID, "fbank_create: NULL params");
    int L = 0, shift = 0, n_fft = 0;
    ATTN_TRY(check_params(p, &L, &shift, &n_fft));
    attn_fbank *fb = calloc(1, sizeof *fb);
    if (!fb) return attn_error(ATTN_ERR_NOMEM, "fbank");
    fb->p = *p;
    fb->L = L;
    fb->shift = shift;
    fb->n_fft = n_fft;
    fb->n_bins = n_fft / 2 + 1;
    fb->dim = p->n_mfcc > 0 ? p->n_mfcc : p->n_mels + (p->use_energy != 0);
    int M = p->n_mels;
    fb->window = malloc((size_t)L * sizeof(float));
    fb->mel = malloc((size_t)attn_mel_filters_size(n_fft, M) * sizeof(float));
    fb->mel_offset = malloc((size_t)M * sizeof(long));
    fb->mel_first = malloc((size_t)M * sizeof(int));
    fb->mel_last = malloc((size_t)M * sizeof(int));
    fb->dct = p->n_mfcc > 0 ? malloc((size_t)p->n_mfcc * (size_t)M * sizeof(float)) : NULL;
    fb->power = malloc((size_t)fb->n_bins * sizeof(float));
    fb->logmel = malloc((size_t)M * sizeof(float));
    fb->frame = malloc((size_t)L * sizeof(float));
    fb->tail = malloc((size_t)L * sizeof(float));
    fb->fft_in = fftwf_malloc((size_t)n_fft * sizeof(float));
    fb->fft_out = fftwf_malloc((size_t)fb->n_bins * sizeof(fftwf_complex));
    if (!fb->window || !fb->mel || !fb->mel_offset || !fb->mel_first || !fb->mel_last ||
        (p->n_mfcc > 0 && !fb->dct) || !fb->power || !fb->logmel || !fb->frame || !fb->tail ||
        !fb->fft_in || !fb->fft_out) {
        attn_fbank_free(fb);
        return attn_error(ATTN_ERR_NOMEM, "fbank buffers");
    }
    attn_status st = attn_window_fill(p->window, L, fb->window);
    if (st == ATTN_OK)
        st = attn_mel_filters_fill(p, n_fft, fb->mel, fb->mel_offset, fb->mel_first, fb->mel_last);
    if (st != ATTN_OK) {
        attn_fbank_free(fb);
        return st;
    }
    if (fb->dct) attn_dct_fill(p->n_mfcc, M, p->cepstral_lifter, fb->dct);
    /* FFTW_ESTIMATE: a plan at once and the same arithmetic on every machine and run (a measured
     * plan may pick a different algorithm, and so different rounding, from run to run). */
    pthread_mutex_lock(&fftw_lock);
    fb->plan = fftwf_plan_dft_r2c_1d(n_fft, fb->fft_in, fb->fft_out, FFTW_ESTIMATE);
    pthread_mutex_unlock(&fftw_lock);
    if (!fb->plan) {
        attn_fbank_free(fb);
        return attn_error(ATTN_ERR_NOMEM, "fbank: FFTW could not plan a transform of %d", n_fft);
    }
    attn_fbank_reset(fb);
    *out = fb;
    return ATTN_OK;
}

void attn_fbank_free(attn_fbank *fb) {
    if (!fb) return;
    if (fb->plan) {
        pthread_mutex_lock(&fftw_lock);
        fftwf_destroy_plan(fb->plan);
        pthread_mutex_unlock(&fftw_lock);
    }
    fftwf_free(fb->fft_in);
    fftwf_free(fb->fft_out);
    free(fb->window);
    free(fb->mel);
    free(fb->mel_offset);
    free(fb->mel_first);
    free(fb->mel_last);
    free(fb->dct);
    free(fb->power);
    free(fb->logmel);
    free(fb->frame);
    free(fb->tail);
    free(fb);
}

int attn_fbank_dim(const attn_fbank *fb) {
    return fb ? fb->dim : 0;
}

long attn_fbank_frame_count(const attn_fbank *fb, long n) {
    if (!fb || n < fb->L) return 0;
    switch (fb->p.edges) {
    case ATTN_EDGES_KALDI:
        return (n + fb->shift / 2) / fb->shift;
    case ATTN_EDGES_CENTER:
        return 1 + (n + 2 * (fb->L / 2) - fb->L) / fb->shift;
    default:
        return 1 + (n - fb->L) / fb->shift;
    }
}

void attn_fbank_reset(attn_fbank *fb) {
    if (!fb) return;
    fb->n_tail = 0;
    fb->skip = 0;
    attn_rng_init(&fb->rng, fb->p.dither_seed, 0);
}

/* One frame of L samples -> dim features. */
static void frame_features(attn_fbank *fb, const float *x, float *out) {
    const attn_fbank_params *p = &fb->p;
    int L = fb->L, M = p->n_mels;
    float *v = fb->fft_in;
    memcpy(v, x, (size_t)L * sizeof *v);
    if (p->dither > 0)
        for (int i = 0; i < L; i++)
            v[i] += p->dither * attn_rng_normal(&fb->rng);
    if (p->remove_dc_offset) {
        double mean = 0;
        for (int i = 0; i < L; i++)
            mean += v[i];
        mean /= L;
        for (int i = 0; i < L; i++)
            v[i] -= (float)mean;
    }
    double energy = 0; /* sum x^2 of the frame, before pre-emphasis and window or after */
    if (p->use_energy && p->raw_energy)
        for (int i = 0; i < L; i++)
            energy += (double)v[i] * v[i];
    /* x[i] -= a x[i-1] with x[-1] = x[0], walking backwards so that x[i-1] is still the old one */
    if (p->preemphasis != 0) {
        for (int i = L - 1; i > 0; i--)
            v[i] -= p->preemphasis * v[i - 1];
        v[0] -= p->preemphasis * v[0];
    }
    for (int i = 0; i < L; i++)
        v[i] *= fb->window[i];
    if (p->use_energy && !p->raw_energy)
        for (int i = 0; i < L; i++)
            energy += (double)v[i] * v[i];
    memset(v + L, 0, (size_t)(fb->n_fft - L) * sizeof *v);
    fftwf_execute_dft_r2c(fb->plan, fb->fft_in, fb->fft_out);
    for (int b = 0; b < fb->n_bins; b++) {
        float re = fb->fft_out[b][0], im = fb->fft_out[b][1], e = re * re + im * im;
        fb->power[b] = p->use_power ? e : sqrtf(e);
    }
    /* Kaldi: the log energy, floored at FLT_EPSILON and then at log(energy_floor), is column 0
     * of fbank (the bands follow) or replaces c0 of MFCC. */
    float log_energy = logf(fmaxf((float)energy, FLT_EPSILON));
    if (p->energy_floor > 0) log_energy = fmaxf(log_energy, logf(p->energy_floor));
    float *mel_out = p->n_mfcc > 0 ? fb->logmel : p->use_energy ? out + 1 : out;
    if (p->use_energy && p->n_mfcc == 0) out[0] = log_energy;
    for (int m = 0; m < M; m++) { /* e_m = sum_b w[m][b] |X_b|^2 over the band's span */
        const float *w = fb->mel + fb->mel_offset[m]; /* w[i]: bin first + i */
        const float *power = fb->power + fb->mel_first[m];
        double e = 0;
        for (int i = 0; i < fb->mel_last[m] - fb->mel_first[m]; i++)
            e += (double)w[i] * power[i];
        mel_out[m] = p->use_log ? logf(fmaxf((float)e, p->log_floor)) : (float)e;
    }
    for (int k = 0; k < p->n_mfcc; k++) { /* c_k = lifter_k sum_m dct[k][m] log e_m */
        const float *d = fb->dct + (long)k * M;
        double c = 0;
        for (int m = 0; m < M; m++)
            c += (double)d[m] * fb->logmel[m];
        out[k] = (float)c;
    }
    if (p->use_energy && p->n_mfcc > 0) out[0] = log_energy;
}

long attn_fbank_pending(const attn_fbank *fb, long n) {
    if (!fb || n < 0) return 0;
    long len = fb->n_tail + (n > fb->skip ? n - fb->skip : 0);
    return len >= fb->L ? 1 + (len - fb->L) / fb->shift : 0;
}

/* attn_fbank_accept for any edge mode (attn_fbank_compute feeds it padded utterances). */
static attn_status accept(attn_fbank *fb, const float *x, long n, float *out, long max_frames,
                          long *n_frames) {
    long count = attn_fbank_pending(fb, n);
    if (count > 0 && (!out || max_frames < count))
        return attn_error(ATTN_ERR_INVALID,
                          "fbank_accept: %ld samples make %ld frames, room for %ld", n, count,
                          out ? max_frames : 0);
    /* |x| <= 1e10 keeps every power, band sum and log finite for any n_fft up to 2^20:
     * (1e10 * 2^20)^2 * 2^19 < FLT_MAX. */
    for (long i = 0; i < n; i++)
        if (!(fabsf(x[i]) <= 1e10f)) {
            attn_fbank_reset(fb);
            return attn_error(ATTN_ERR_NUMERIC,
                              "fbank_accept: sample %ld (%g) is not finite or beyond 1e10", i,
                              x[i]);
        }
    long d = n < fb->skip ? n : fb->skip;
    x += d;
    n -= d;
    fb->skip -= d;
    /* The stream s = tail ++ x; frame k covers s[k * shift, k * shift + L). */
    long T = fb->n_tail, L = fb->L, len = T + n;
    for (long k = 0; k < count; k++) {
        long start = k * fb->shift;
        const float *frame;
        if (start >= T) {
            frame = x + (start - T);
        } else {
            memcpy(fb->frame, fb->tail + start, (size_t)(T - start) * sizeof(float));
            memcpy(fb->frame + (T - start), x, (size_t)(L - (T - start)) * sizeof(float));
            frame = fb->frame;
        }
        frame_features(fb, frame, out + k * fb->dim);
    }
    long next = count * fb->shift; /* where the next frame starts in s */
    if (next >= len) { /* (+=: a skip longer than this call's samples is still partly ahead) */
        fb->skip += next - len;
        fb->n_tail = 0;
    } else { /* keep s[next, len), fewer than L samples */
        long keep = len - next;
        if (next < T) {
            memmove(fb->tail, fb->tail + next, (size_t)(T - next) * sizeof(float));
            memcpy(fb->tail + (T - next), x, (size_t)n * sizeof(float));
        } else {
            memcpy(fb->tail, x + (next - T), (size_t)keep * sizeof(float));
        }
        fb->n_tail = keep;
    }
    *n_frames = count;
    return ATTN_OK;
}

attn_status attn_fbank_accept(attn_fbank *fb, const float *x, long n, float *out, long max_frames,
                              long *n_frames) {
    if (!n_frames) return attn_error(ATTN_ERR_INVALID, "fbank_accept: NULL frame count");
    *n_frames = 0;
    if (!fb || n < 0 || (n > 0 && !x))
        return attn_error(ATTN_ERR_INVALID, "fbank_accept: bad arguments");
    if (fb->p.edges != ATTN_EDGES_SNIP)
        return attn_error(ATTN_ERR_INVALID, "fbank_accept: streaming takes whole frames only "
                                            "(edges ATTN_EDGES_SNIP); attn_fbank_compute pads "
                                            "whole utterances");
    return accept(fb, x, n, out, max_frames, n_frames);
}

/* The utterance with its ends padded as fb->p.edges says, exactly long enough for `count`
 * frames (malloc'd, *len samples). n >= L. */
static attn_status pad_edges(const attn_fbank *fb, const float *x, long n, long count, float **out,
                             long *len) {
    long L = fb->L, shift = fb->shift, need = (count - 1) * shift + L, pos = 0;
    float *y = malloc((size_t)need * sizeof *y);
    if (!y) return attn_error(ATTN_ERR_NOMEM, "fbank_compute: %ld padded samples", need);
    long start = 0; /* where x starts being copied */
    if (fb->p.edges == ATTN_EDGES_KALDI) {
        long pad =
            L / 2 - shift / 2; /* x[pad-1] .. x[0]; or, when negative, x's first -pad dropped */
        for (long i = pad - 1; i >= 0; i--)
            y[pos++] = x[i];
        if (pad < 0) start = -pad;
    } else { /* center: x[L/2] .. x[1] */
        for (long i = L / 2; i >= 1; i--)
            y[pos++] = x[i];
    }
    for (long i = start; i < n && pos < need; i++)
        y[pos++] = x[i];
    /* The end: Kaldi mirrors with the edge (x[n-1], x[n-2], ...), center without (x[n-2], ...). */
    for (long i = fb->p.edges == ATTN_EDGES_KALDI ? n - 1 : n - 2; pos < need; i--) {
        if (i < 0) { /* never for n >= L: the end pad is at most L / 2 + 1 samples */
            free(y);
            return attn_error(ATTN_ERR_INVALID, "fbank_compute: %ld samples are too few to pad", n);
        }
        y[pos++] = x[i];
    }
    *out = y;
    *len = need;
    return ATTN_OK;
}

attn_status attn_fbank_compute(attn_fbank *fb, const float *x, long n, float **feats,
                               long *n_frames) {
    if (!feats || !n_frames) return attn_error(ATTN_ERR_INVALID, "fbank_compute: NULL output");
    *feats = NULL;
    *n_frames = 0;
    if (!fb || n < 0 || (n > 0 && !x))
        return attn_error(ATTN_ERR_INVALID, "fbank_compute: bad arguments");
    if (n < fb->L)
        return attn_error(ATTN_ERR_INVALID,
                          "fbank_compute: %ld samples are shorter than one frame (%d)", n, fb->L);
    attn_fbank_reset(fb);
    long count = attn_fbank_frame_count(fb, n);
    float *f = malloc((size_t)count * (size_t)fb->dim * sizeof *f);
    if (!f) return attn_error(ATTN_ERR_NOMEM, "fbank_compute: %ld frames", count);
    const float *in = x;
    float *padded = NULL;
    long len = n;
    attn_status st = ATTN_OK;
    for (long i = 0; i < n && st == ATTN_OK; i++) /* before padding, so the index is x's */
        if (!(fabsf(x[i]) <= 1e10f))
            st = attn_error(ATTN_ERR_NUMERIC,
                            "fbank_compute: sample %ld (%g) is not finite or beyond 1e10", i, x[i]);
    if (st == ATTN_OK && fb->p.edges != ATTN_EDGES_SNIP) {
        st = pad_edges(fb, x, n, count, &padded, &len);
        in = padded;
    }
    if (st == ATTN_OK) st = accept(fb, in, len, f, count, n_frames);
    if (st == ATTN_OK && *n_frames != count)
        st = attn_error(ATTN_ERR_INVALID, "fbank_compute: %ld frames, not %ld", *n_frames, count);
    free(padded);
    attn_fbank_reset(fb);
    if (st != ATTN_OK) {
        free(f);
        *n_frames = 0;
        return st;
    }
    *feats = f;
    return ATTN_OK;
}
