/* audio/filters.c: the fixed parts of a feature extractor: windows, mel filterbanks, the DCT.
 * Computed in double once per configuration, stored as float. */
#include <math.h>

#include "audio/audio_internal.h"
#include "core/error.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

attn_status attn_window_fill(attn_window window, int L, float *w) {
    /* The symmetric windows divide by L - 1 (Kaldi, torch's periodic=False); the periodic Hann
     * window by L (torch.hann_window's default), the first L points of a window of L + 1. */
    for (int i = 0; i < L; i++) {
        double sym = 2 * M_PI * i / (L - 1);
        double v;
        switch (window) {
        case ATTN_WINDOW_POVEY:
            v = pow(0.5 - 0.5 * cos(sym), 0.85);
            break;
        case ATTN_WINDOW_HANN:
            v = 0.5 - 0.5 * cos(sym);
            break;
        case ATTN_WINDOW_HANN_PERIODIC:
            v = 0.5 - 0.5 * cos(2 * M_PI * i / L);
            break;
        case ATTN_WINDOW_HAMMING:
            v = 0.54 - 0.46 * cos(sym);
            break;
        case ATTN_WINDOW_RECTANGULAR:
            v = 1;
            break;
        default:
            return attn_error(ATTN_ERR_INVALID, "fbank: unknown window %d", (int)window);
        }
        w[i] = (float)v;
    }
    return ATTN_OK;
}

static double mel_of(double hz) {
    return 1127.0 * log(1.0 + hz / 700.0);
}
static double hz_of(double mel) {
    return 700.0 * (exp(mel / 1127.0) - 1.0);
}

/* Band m's weight at FFT bin b (the Hz edges of band m are f_left < f_center < f_right). */
static double mel_weight(const attn_fbank_params *p, int n_fft, int b, double bin_hz, double left,
                         double center, double right) {
    double f = b * bin_hz;
    if (p->mel == ATTN_MEL_KALDI) {
        /* Kaldi: triangles on the mel axis; the Nyquist bin is left out. */
        if (b == n_fft / 2 && n_fft % 2 == 0) return 0;
        double mel = mel_of(f);
        return fmax(0, fmin((mel - left) / (center - left), (right - mel) / (right - center)));
    }
    /* HTK / torchaudio: triangles linear in Hz between the same mel-spaced points. */
    double fl = hz_of(left), fc = hz_of(center), fr = hz_of(right);
    return fmax(0, fmin((f - fl) / (fc - fl), (fr - f) / (fr - fc)));
}

long attn_mel_filters_size(int n_fft, int n_mels) {
    return 2L * (n_fft / 2 + 1) + 6L * n_mels;
}

attn_status attn_mel_filters_fill(const attn_fbank_params *p, int n_fft, float *w, long *offset,
                                  int *first, int *last) {
    int n_bins = n_fft / 2 + 1, M = p->n_mels;
    double nyquist = 0.5 * p->sample_rate;
    double lo = p->low_freq, hi = p->high_freq <= 0 ? nyquist + p->high_freq : p->high_freq;
    double mel_lo = mel_of(lo), delta = (mel_of(hi) - mel_lo) / (M + 1);
    double bin_hz = (double)p->sample_rate / n_fft;
    long used = 0, cap = attn_mel_filters_size(n_fft, M);
    for (int m = 0; m < M; m++) {
        double left = mel_lo + m * delta, center = left + delta, right = center + delta;
        double f_left = hz_of(left), f_right = hz_of(right);
        /* Only the bins between the band's edges (one more each side) can have weight. */
        int b_lo = (int)fmax(0, floor(f_left / bin_hz) - 1);
        int b_hi = (int)fmin(n_bins - 1, ceil(f_right / bin_hz) + 1);
        first[m] = n_bins;
        last[m] = 0;
        for (int b = b_lo; b <= b_hi; b++)
            if (mel_weight(p, n_fft, b, bin_hz, left, center, right) > 0) {
                if (b < first[m]) first[m] = b;
                last[m] = b + 1;
            }
        if (last[m] == 0)
            return attn_error(ATTN_ERR_INVALID,
                              "fbank: mel band %d (%.1f..%.1f Hz) holds no FFT bin of %.2f Hz: "
                              "fewer bands (n_mels = %d) or a larger n_fft (%d)",
                              m, f_left, f_right, bin_hz, M, n_fft);
        if (used + (last[m] - first[m]) > cap) /* each bin is in at most two bands */
            return attn_error(ATTN_ERR_INVALID, "fbank: mel filters overlap more than expected");
        offset[m] = used;
        for (int b = first[m]; b < last[m]; b++)
            w[used++] = (float)mel_weight(p, n_fft, b, bin_hz, left, center, right);
    }
    return ATTN_OK;
}

void attn_dct_fill(int n_ceps, int n_mels, float lifter, float *d) {
    for (int k = 0; k < n_ceps; k++) {
        double scale = sqrt((k ? 2.0 : 1.0) / n_mels);
        double lift = lifter != 0 ? 1.0 + 0.5 * lifter * sin(M_PI * k / lifter) : 1.0;
        for (int m = 0; m < n_mels; m++)
            d[(long)k * n_mels + m] = (float)(lift * scale * cos(M_PI * k * (m + 0.5) / n_mels));
    }
}
