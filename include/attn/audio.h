/* attn/audio.h: the audio front end of speech recognition: reading audio files, mono mixdown,
 * resampling, log-mel filterbank and MFCC features (streaming), mean/variance normalisation and
 * the training-time augmentations (SpecAugment masks, speed perturbation).
 *
 * Audio is float samples in [-1, 1] (integer PCM is divided by 2^(bits-1), as libsndfile and
 * torchaudio.load do). Files are read through libsndfile (WAV, FLAC, OGG/Vorbis, AIFF, ... any
 * format the installed libsndfile knows) and resampled with libsamplerate's best sinc converter
 * (SRC_SINC_BEST_QUALITY: a worst-case signal-to-noise ratio of 97 dB over 97% of the band, in
 * libsamplerate's words). A file is never trusted: the frame count of its header is only a hint,
 * samples are counted as they are decoded.
 *
 * Features are computed frame by frame as Kaldi (compute-fbank-feats) and torchaudio do:
 *   frame k = samples [k * shift, k * shift + L) (snip_edges: only whole frames, so a stream of
 *   n >= L samples has 1 + (n - L) / shift frames and a shorter one none), then per frame:
 *   dither (optional) -> remove the DC offset -> pre-emphasis x[i] -= a x[i-1] (x[-1] = x[0]) ->
 *   window -> zero padding to n_fft -> |rfft|^2 (or |rfft|) -> mel filterbank -> log(max(e, floor))
 *   -> optionally DCT-II (orthonormal) and liftering = MFCC.
 * attn_fbank_default_params() gives torchaudio.compliance.kaldi.fbank(num_mel_bins=80,
 * dither=0) exactly, attn_mfcc_default_params() kaldi.mfcc(dither=0), and the defaults changed
 * to window ATTN_WINDOW_HANN_PERIODIC, n_fft 400, no DC removal or pre-emphasis, low_freq 0 and
 * ATTN_MEL_HTK filters give torchaudio.transforms.MelSpectrogram(n_fft=400, hop_length=160,
 * n_mels=80, center=False) (Whisper's front end without its centring pad); tests/audio checks
 * all three against torchaudio, with either edge handling (attn_frame_edges). Not there (yet):
 * Kaldi's htk_compat and VTLN warping. */
#ifndef ATTN_AUDIO_H
#define ATTN_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "attn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- reading ------------------------------------------------------------------------------- */

/* Whole-file reads (attn_audio_read*, attn_audio_load) refuse audio longer than this many seconds
 * (at the file's own rate) with ATTN_ERR_INVALID naming the limit; longer audio goes through an
 * attn_audio_stream, in bounded memory. */
#define ATTN_AUDIO_MAX_SECONDS 3600

/* Decoded audio: n_frames frames of `channels` interleaved float samples at sample_rate Hz. */
typedef struct {
    float *samples; /* (n_frames, channels), malloc'd; released by attn_audio_free */
    long n_frames;
    int channels;
    int sample_rate;
} attn_audio;

/* Reads a whole audio file into *out (all channels, the file's rate). Errors (*out zeroed):
 * ATTN_ERR_INVALID for NULL arguments or audio longer than ATTN_AUDIO_MAX_SECONDS; ATTN_ERR_IO if
 * the file cannot be opened; ATTN_ERR_FORMAT for anything libsndfile cannot decode (empty, not
 * audio, truncated headers, an unsupported format: the message gives libsndfile's reason), an
 * absurd rate or channel count, a sample that is not finite or beyond +-1e6 (float files), or a
 * file with no samples; ATTN_ERR_NOMEM. A file whose data is cut short is read up to where it
 * stops (as every decoder does). */
ATTN_API attn_status attn_audio_read(const char *path, attn_audio *out);

/* As attn_audio_read, from size bytes in memory (not copied, only read during the call). */
ATTN_API attn_status attn_audio_read_memory(const void *data, size_t size, attn_audio *out);

/* Releases out->samples and zeroes *a. Safe on a zeroed struct and on NULL. */
ATTN_API void attn_audio_free(attn_audio *a);

/* Mixes n_frames frames of `channels` interleaved samples down to mono: out[t] = the mean of the
 * channels of frame t (torchaudio's waveform.mean(0)). out may be in; it holds n_frames floats.
 * ATTN_ERR_INVALID for NULL pointers, n_frames < 0 or channels < 1. */
ATTN_API attn_status attn_audio_mix_mono(const float *in, long n_frames, int channels, float *out);

/* Resamples n mono samples x from rate_in to rate_out Hz (SRC_SINC_BEST_QUALITY) into a malloc'd
 * *out of *n_out samples (the caller frees; about n * rate_out / rate_in, the filter's delay
 * removed, so out[i] is the signal at time i / rate_out). rate_in == rate_out copies. Errors:
 * ATTN_ERR_INVALID for NULL pointers, n < 0, rates outside [1000, 384000] or a ratio beyond
 * libsamplerate's 1/256..256; ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_audio_resample(const float *x, long n, int rate_in, int rate_out,
                                         float **out, long *n_out);

/* Speed perturbation (Ko et al. 2015, Kaldi's and sox's `speed`): the signal played `factor`
 * times faster, pitch included, by resampling n samples by 1 / factor; *n_out is about n / factor.
 * factor in [0.5, 2] (ATTN_ERR_INVALID otherwise); memory and other errors as attn_audio_resample.
 */
ATTN_API attn_status attn_audio_speed_perturb(const float *x, long n, double factor, float **out,
                                              long *n_out);

/* The factor of Ko et al.'s recipe for one utterance: 0.9, 1.0 or 1.1, uniformly, a function of
 * (seed, stream) alone (the library's xoshiro256** generator), so an epoch's perturbation is
 * reproducible: attn_audio_speed_perturb(x, n, attn_audio_speed_draw(seed, utterance), ...). */
ATTN_API double attn_audio_speed_draw(uint64_t seed, uint64_t stream);

/* Reads a file, mixes it to mono and resamples it to `rate` Hz (0: keep the file's rate; its rate
 * goes to *file_rate if that is not NULL): *samples (malloc'd, the caller frees) holds *n samples.
 * The limit and errors of attn_audio_read; rates as attn_audio_resample. */
ATTN_API attn_status attn_audio_load(const char *path, int rate, float **samples, long *n,
                                     int *file_rate);

/* A file read in chunks, mixed to mono and resampled on the fly: memory stays bounded (a few
 * hundred KiB) whatever the file's length, so a long recording's features can be computed by
 * feeding these chunks to attn_fbank_accept. */
typedef struct attn_audio_stream attn_audio_stream;

/* Opens a file (or size bytes at data, which must stay valid until the stream is closed) for
 * reading mono at `rate` Hz (0: the file's rate). Errors as attn_audio_read, but no length limit
 * (the file's length is not known in advance), and a file of no samples reads as empty (its first
 * read gives 0). *out is NULL on error; close with attn_audio_stream_close. */
ATTN_API attn_status attn_audio_stream_open(const char *path, int rate, attn_audio_stream **out);
ATTN_API attn_status attn_audio_stream_open_memory(const void *data, size_t size, int rate,
                                                   attn_audio_stream **out);

/* The file's own rate and channel count, and the output rate. Any pointer may be NULL. */
ATTN_API void attn_audio_stream_info(const attn_audio_stream *s, int *file_rate, int *channels,
                                     int *rate);

/* Reads up to cap mono samples into out; *n = how many (0 only at the end of the audio).
 * ATTN_ERR_INVALID for NULL pointers or cap < 1; ATTN_ERR_FORMAT for a decoding error or a bad
 * sample (as attn_audio_read) in the middle of the file (the message says after how many frames);
 * ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_audio_stream_read(attn_audio_stream *s, float *out, long cap, long *n);

/* Closes the stream and frees it. Safe on NULL. */
ATTN_API void attn_audio_stream_close(attn_audio_stream *s);

/* ---- features ------------------------------------------------------------------------------ */

typedef enum {
    ATTN_WINDOW_POVEY = 0,     /* Kaldi's default: the symmetric Hann window to the power 0.85 */
    ATTN_WINDOW_HANN,          /* symmetric: 0.5 - 0.5 cos(2 pi i / (L - 1)) (Kaldi "hanning") */
    ATTN_WINDOW_HANN_PERIODIC, /* 0.5 - 0.5 cos(2 pi i / L): torch.hann_window, Whisper, librosa */
    ATTN_WINDOW_HAMMING,       /* symmetric: 0.54 - 0.46 cos(2 pi i / (L - 1)) (Kaldi "hamming") */
    ATTN_WINDOW_RECTANGULAR,
} attn_window;

typedef enum {
    /* Kaldi's filters: triangles on the mel axis (mel = 1127 ln(1 + f / 700)) between n_mels + 2
     * equally spaced mel points from low_freq to high_freq, evaluated at the mel of each FFT
     * bin's frequency; the Nyquist bin gets no weight. */
    ATTN_MEL_KALDI = 0,
    /* HTK-style triangles linear in Hz between the same mel-spaced points, over all n_fft / 2 + 1
     * bins: torchaudio.functional.melscale_fbanks(mel_scale="htk", norm=None), librosa's htk=True
     * without Slaney normalisation. */
    ATTN_MEL_HTK,
} attn_mel_filters;

/* What happens at the ends of a whole utterance (attn_fbank_compute; streaming takes
 * ATTN_EDGES_SNIP only). */
typedef enum {
    ATTN_EDGES_SNIP = 0, /* whole frames only: 1 + (n - L) / shift (Kaldi's snip_edges=true) */
    /* Kaldi's snip_edges=false: (n + shift / 2) / shift frames centred on k * shift + shift / 2,
     * the signal mirrored at both ends (x[pad-1] .. x[0] before, x[n-1] x[n-2] .. after, with
     * pad = L / 2 - shift / 2). */
    ATTN_EDGES_KALDI,
    /* torch.stft's center=True, pad_mode="reflect" (MelSpectrogram's default, Whisper's): L / 2
     * samples reflected without the edge (x[L/2] .. x[1] before, x[n-2] .. after), then
     * 1 + (n + 2 (L / 2) - L) / shift frames. Needs n_fft == L (torch centres a shorter window in
     * its n_fft frame). */
    ATTN_EDGES_CENTER,
} attn_frame_edges;

typedef struct {
    int sample_rate;       /* Hz of the samples fed in (16000) */
    float frame_length_ms; /* 25: L = (int)(rate * ms / 1000) samples per frame */
    float frame_shift_ms;  /* 10: shift = (int)(rate * ms / 1000) samples between frame starts */
    int n_fft;             /* FFT size >= L, zero padding; 0: the next power of two (Kaldi) */
    attn_window window;
    int remove_dc_offset; /* subtract each frame's mean first (Kaldi: 1) */
    float preemphasis;    /* a of x[i] - a x[i-1], 0 for none (Kaldi: 0.97) */
    float dither;         /* Gaussian noise of this std added to each sample first (0: none);
                             drawn from attn's RNG seeded by dither_seed, per stream */
    uint64_t dither_seed;
    int n_mels;      /* mel bands (>= 2) */
    float low_freq;  /* Hz, lower edge of the first band (Kaldi: 20) */
    float high_freq; /* Hz, upper edge of the last band; <= 0: Nyquist + high_freq */
    attn_mel_filters mel;
    int use_power;          /* 1: |X|^2, 0: |X| */
    int use_log;            /* 1: log(max(e, log_floor)); 0: the energies themselves */
    float log_floor;        /* FLT_EPSILON in Kaldi and torchaudio */
    int n_mfcc;             /* 0: log-mel output; > 0: that many cepstra (needs use_log) */
    float cepstral_lifter;  /* MFCC c_i *= 1 + Q/2 sin(pi i / Q); 0: none (Kaldi: 22) */
    int use_energy;         /* 1: the frame's log energy as column 0 of fbank (n_mels + 1 values)
                               or in place of c0 of MFCC (Kaldi: 0 for fbank, 1 for compute-mfcc-feats,
                               torchaudio's mfcc: 0) */
    int raw_energy;         /* 1: the energy before pre-emphasis and window, 0: after (Kaldi: 1) */
    float energy_floor;     /* log energy >= log(energy_floor) when > 0 (torchaudio: 1, Kaldi: 0) */
    attn_frame_edges edges; /* ATTN_EDGES_SNIP */
} attn_fbank_params;

/* torchaudio.compliance.kaldi.fbank(num_mel_bins=80, dither=0.0) defaults: 16 kHz, 25 / 10 ms,
 * n_fft 512, povey window, DC removal, pre-emphasis 0.97, Kaldi mel filters 20 Hz..Nyquist, log
 * power with floor FLT_EPSILON, no energy column (raw_energy 1 and energy_floor 1 for when it is
 * asked for). */
ATTN_API attn_fbank_params attn_fbank_default_params(void);

/* torchaudio.compliance.kaldi.mfcc(dither=0.0): the above with 23 bands, 13 cepstra (c0 from the
 * DCT, not the frame energy), lifter 22. */
ATTN_API attn_fbank_params attn_mfcc_default_params(void);

/* A feature extractor for one configuration: its window, filters, DCT and FFT plan are made once
 * here (FFTW's planner runs under a lock, since it is not thread-safe), then frames are computed
 * with no allocation. One extractor holds one stream's state; use one per thread. */
typedef struct attn_fbank attn_fbank;

/* Errors: ATTN_ERR_INVALID (the message names the field) for a NULL pointer, a rate outside
 * [1000, 384000], a frame length or shift outside (0, 1000] ms, L < 2, shift < 1, n_fft < L or
 * > 2^20, n_mels outside [2, 4096], bands outside [0, Nyquist] or low >= high, a band with no FFT
 * bin under it (too many bands for n_fft), an unknown window or edge mode, ATTN_EDGES_CENTER with
 * n_fft != L, a negative dither or lifter,
 * preemphasis outside [0, 1], log_floor <= 0, a negative energy_floor, n_mfcc > n_mels or n_mfcc >
 * 0 without use_log; ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_fbank_create(const attn_fbank_params *p, attn_fbank **out);

/* Frees the extractor. Safe on NULL. */
ATTN_API void attn_fbank_free(attn_fbank *fb);

/* Values per frame: n_mfcc if > 0, else n_mels (+ 1 with use_energy). */
ATTN_API int attn_fbank_dim(const attn_fbank *fb);

/* Frames of a whole utterance of n samples: with ATTN_EDGES_SNIP n >= L ? 1 + (n - L) / shift
 * : 0, otherwise as attn_frame_edges says (for n >= L; shorter utterances are not computed). */
ATTN_API long attn_fbank_frame_count(const attn_fbank *fb, long n);

/* The streaming interface. Feeds n more samples of the current stream; every frame they complete
 * is written to out (row after row, attn_fbank_dim values each) and counted in *n_frames.
 * At most attn_fbank_pending(fb, n) frames come out (call it to size out; max_frames is checked).
 * The extractor keeps only the last partial frame's samples, so memory is bounded. Errors:
 * ATTN_ERR_INVALID for NULL pointers, n < 0, max_frames too small (nothing is consumed) or
 * edges other than ATTN_EDGES_SNIP (the padding needs the whole utterance: attn_fbank_compute);
 * ATTN_ERR_NUMERIC for a sample that is not finite or beyond +-1e10, where the energies would
 * overflow (the message gives its index; the stream is reset). Features are always finite. */
ATTN_API attn_status attn_fbank_accept(attn_fbank *fb, const float *x, long n, float *out,
                                       long max_frames, long *n_frames);

/* The number of frames attn_fbank_accept(fb, ., n, ...) would produce now. */
ATTN_API long attn_fbank_pending(const attn_fbank *fb, long n);

/* Starts a new stream (drops the kept samples; the dither generator restarts). */
ATTN_API void attn_fbank_reset(attn_fbank *fb);

/* The features of one whole utterance: reset, accept all n samples, reset. *feats (malloc'd, the
 * caller frees) holds *n_frames rows of attn_fbank_dim values, its ends handled as p.edges says
 * (the padded copy is made here). Errors: those of accept, and ATTN_ERR_INVALID for audio
 * shorter than one frame (the message names both lengths). */
ATTN_API attn_status attn_fbank_compute(attn_fbank *fb, const float *x, long n, float **feats,
                                        long *n_frames);

/* ---- normalisation ------------------------------------------------------------------------- */

/* Cepstral mean and variance normalisation statistics, as Kaldi's compute-cmvn-stats: counts and
 * per-dimension sums, so statistics of many utterances (a global CMVN stored with a model) add up
 * exactly. mean = sum / count, var = sum_sq / count - mean^2 (population variance). */
typedef struct {
    int dim;
    double count;   /* frames accumulated */
    double *sum;    /* (dim) */
    double *sum_sq; /* (dim) */
} attn_cmvn_stats;

/* Allocates zeroed statistics of dim values. ATTN_ERR_INVALID for dim < 1 or NULL; NOMEM. */
ATTN_API attn_status attn_cmvn_stats_init(attn_cmvn_stats *s, int dim);

/* Frees the arrays and zeroes *s. Safe on a zeroed struct and on NULL. */
ATTN_API void attn_cmvn_stats_free(attn_cmvn_stats *s);

/* Adds n_frames rows of s->dim values. ATTN_ERR_INVALID for NULL pointers or n_frames < 0;
 * ATTN_ERR_NUMERIC for a non-finite value (nothing added). */
ATTN_API attn_status attn_cmvn_stats_add(attn_cmvn_stats *s, const float *feats, long n_frames);

/* Normalises n_frames rows in place: x = (x - mean) (norm_vars ? / sqrt(max(var, 1e-20)) : 1).
 * ATTN_ERR_INVALID for NULL pointers or s->count < 1 (no statistics). */
ATTN_API attn_status attn_cmvn_apply(const attn_cmvn_stats *s, float *feats, long n_frames,
                                     int norm_vars);

/* Per-utterance CMVN: the statistics of these n_frames rows applied to them. Errors as above
 * plus ATTN_ERR_NOMEM; n_frames < 1 is ATTN_ERR_INVALID. */
ATTN_API attn_status attn_cmvn_utterance(float *feats, long n_frames, int dim, int norm_vars);

/* Saves statistics as a safetensors file of three float64 tensors, "cmvn.count" (1),
 * "cmvn.sum" (dim), "cmvn.sum_sq" (dim), written atomically. Loading checks the names, dtypes
 * and shapes (ATTN_ERR_FORMAT / ATTN_ERR_MISSING otherwise) and refuses a negative or
 * non-finite count or sum (ATTN_ERR_NUMERIC). Errors also ATTN_ERR_IO, ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_cmvn_stats_save(const attn_cmvn_stats *s, const char *path);
ATTN_API attn_status attn_cmvn_stats_load(const char *path, attn_cmvn_stats *s);

/* ---- augmentation -------------------------------------------------------------------------- */

/* SpecAugment (Park et al. 2019) without time warping: n_freq_masks bands of f ~ U{0..F}
 * consecutive feature dimensions and n_time_masks spans of t ~ U{0..min(T, p * n_frames)}
 * frames, each at a uniform start, set to `fill`. */
typedef struct {
    int n_freq_masks;     /* 2 */
    int max_freq_width;   /* F = 27 */
    int n_time_masks;     /* 2 */
    int max_time_width;   /* T = 100 */
    float max_time_ratio; /* p = 1.0: a time mask covers at most p * n_frames frames */
    float fill;           /* 0: after CMVN, the mean */
} attn_specaugment_params;

/* The LibriSpeech-double (LD) policy of the paper: 2 frequency masks of F = 27, 2 time masks of
 * T = 100, p = 1, fill 0. */
ATTN_API attn_specaugment_params attn_specaugment_default_params(void);

/* Masks feats (n_frames, dim) in place. The masks are a function of (seed, stream) alone (the
 * library's xoshiro256** generator), so an epoch's augmentation is reproducible. Errors:
 * ATTN_ERR_INVALID for NULL pointers, n_frames < 0, dim < 1, negative counts or widths, or
 * max_time_ratio outside [0, 1]. */
ATTN_API attn_status attn_specaugment(float *feats, long n_frames, int dim,
                                      const attn_specaugment_params *p, uint64_t seed,
                                      uint64_t stream);

/* A feature-domain stand-in for vocal tract length perturbation and a different channel, for
 * training: the bins of every frame of feats (n_frames, dim), taken as a frequency axis, are
 * warped by a factor a ~ U[1 - max_warp, 1 + max_warp] (bin k reads bin k / a of the original,
 * linearly interpolated, the last bin past the end), then a tilt g z and a bump 2 c (1/4 - z^2),
 * z = k / (dim - 1) - 1/2, with g, c ~ U[-max_tilt, max_tilt], are added (log-energies: a
 * smooth change of the spectral envelope). One draw per call, from (seed, stream) alone.
 * Errors: ATTN_ERR_INVALID for NULL feats, dim < 2 or > 4096, max_warp outside [0, 0.5). */
ATTN_API attn_status attn_feature_warp(float *feats, long n_frames, int dim, double max_warp,
                                       double max_tilt, uint64_t seed, uint64_t stream);

#ifdef __cplusplus
}
#endif
#endif
