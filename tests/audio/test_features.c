/* tests/audio/test_features.c: reading, mixdown, resampling and features (src/audio) against
 * torchaudio 0.13 on the same audio. tests/audio/audio_reference.py (run here with
 * /usr/bin/python3) writes the WAV files with Python's `wave` module and torchaudio's numbers from
 * the samples it wrote; we read the files with libsndfile and compute ours. Skipped (77) without
 * torchaudio.
 *
 * Tolerances, each with its reason:
 *   log-mel / log-magnitude features: |ours - torchaudio| <= 2e-3 + 1e-4 |ref| (float32 FFTs of
 *     different libraries: the rounding of a band 60 dB under the frame's peak is ~1e-4 of it);
 *   linear magnitudes: relative 1e-3 of the frame's largest band (the same rounding, unlogged);
 *   MFCC: 5e-3 + 1e-4 |ref| (a DCT sums 23 to 40 such log values);
 *   resampling: libsamplerate's best sinc against torchaudio's Kaiser sinc of 128 zero crossings,
 *     both flat in the passband: the error's RMS under 1e-4 of the signal's RMS (-80 dB; we see
 *     1e-6 to 2e-5)
 *     away from the first and last 10 ms, where the two filters' edge handling differs;
 *   features of resampled audio: 2e-3 in log energy, as above, in the bands below 7.6 kHz and
 *     where the reference is above -10 (60 dB under the frames' peak): the floor of
 * log(FLT_EPSILON) and the two resamplers' transition bands near 8 kHz are no comparison. */
#define _POSIX_C_SOURCE 200809L /* popen, mkdtemp */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "attn/audio.h"

static char dir[] = "/tmp/attn_audio_XXXXXX";
static cJSON *shapes; /* {name: [rows, cols]} from the script */

static const char *path_of(const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static int setup(void **state) {
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0) return 77;
    if (!mkdtemp(dir)) return 1;
    const char *src = getenv("ATTN_SOURCE_DIR");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/audio/audio_reference.py' '%s'",
             src ? src : ".", dir);
    FILE *p = popen(cmd, "r");
    if (!p) return 1;
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = '\0';
    int rc = pclose(p);
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) return 77;
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        fprintf(stderr, "audio_reference.py failed (status %d)\n", rc);
        return 1;
    }
    shapes = cJSON_Parse(buf);
    return shapes ? 0 : 1;
}

static int teardown(void **state) {
    (void)state;
    cJSON_Delete(shapes);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

/* The reference array `name` (malloc'd) and its shape. */
static float *reference(const char *name, long *rows, long *cols) {
    const cJSON *s = cJSON_GetObjectItem(shapes, name);
    assert_non_null(s);
    *rows = (long)cJSON_GetArrayItem(s, 0)->valuedouble;
    *cols = (long)cJSON_GetArrayItem(s, 1)->valuedouble;
    char file[256];
    snprintf(file, sizeof file, "%s.f32", name);
    FILE *f = fopen(path_of(file), "rb");
    assert_non_null(f);
    float *x = malloc((size_t)(*rows * *cols) * sizeof *x);
    assert_non_null(x);
    assert_int_equal(fread(x, sizeof *x, (size_t)(*rows * *cols), f), (size_t)(*rows * *cols));
    fclose(f);
    return x;
}

/* The mono 16 kHz samples of a file (read as is, no resampling). */
static float *load(const char *name, int rate, long *n) {
    float *x;
    int file_rate;
    assert_int_equal(attn_audio_load(path_of(name), rate, &x, n, &file_rate), ATTN_OK);
    return x;
}

/* Our features of x[n] under p, checked against the reference `name`. */
static void check_features(const attn_fbank_params *p, const float *x, long n, const char *name,
                           double rtol, double atol) {
    attn_fbank *fb;
    assert_int_equal(attn_fbank_create(p, &fb), ATTN_OK);
    float *ours;
    long T;
    assert_int_equal(attn_fbank_compute(fb, x, n, &ours, &T), ATTN_OK);
    long rows, cols;
    float *want = reference(name, &rows, &cols);
    assert_int_equal(T, rows);
    assert_int_equal(attn_fbank_dim(fb), cols);
    assert_int_equal(attn_fbank_frame_count(fb, n), rows);
    long where;
    double err = tu_max_rel_err(ours, want, T * cols, 1.0, &where);
    fprintf(stderr, "%s: %ld x %ld, max error %.3g (relative above 1) at frame %ld, dim %ld\n",
            name, T, cols, err, where / cols, where % cols);
    tu_assert_close(ours, want, T * cols, rtol, atol, name);
    free(want);
    free(ours);
    attn_fbank_free(fb);
}

static void test_read(void **state) {
    (void)state;
    attn_audio a, b;
    assert_int_equal(attn_audio_read(path_of("speech_16k.wav"), &a), ATTN_OK);
    assert_int_equal(a.channels, 1);
    assert_int_equal(a.sample_rate, 16000);
    assert_int_equal(a.n_frames, 19680);
    /* The 24-bit file holds the same values: libsndfile divides by 2^23 instead of 2^15. */
    assert_int_equal(attn_audio_read(path_of("pcm24_16k.wav"), &b), ATTN_OK);
    assert_int_equal(b.n_frames, a.n_frames);
    assert_memory_equal(a.samples, b.samples, (size_t)a.n_frames * sizeof(float));
    attn_audio_free(&b);
    /* The same bytes from memory. */
    FILE *f = fopen(path_of("speech_16k.wav"), "rb");
    assert_non_null(f);
    static unsigned char bytes[1 << 17];
    size_t size = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    assert_int_equal(attn_audio_read_memory(bytes, size, &b), ATTN_OK);
    assert_int_equal(b.n_frames, a.n_frames);
    assert_memory_equal(a.samples, b.samples, (size_t)a.n_frames * sizeof(float));
    attn_audio_free(&b);
    /* Stereo: mixed to the mean of the channels, which the script computed in float64. */
    assert_int_equal(attn_audio_read(path_of("stereo_48k.wav"), &b), ATTN_OK);
    assert_int_equal(b.channels, 2);
    assert_int_equal(b.sample_rate, 48000);
    long rows, cols;
    float *mono = reference("mono_48k", &rows, &cols);
    assert_int_equal(b.n_frames, rows);
    float *mixed = malloc((size_t)rows * sizeof *mixed);
    assert_int_equal(attn_audio_mix_mono(b.samples, b.n_frames, 2, mixed), ATTN_OK);
    tu_assert_close(mixed, mono, rows, 0, 1e-7, "mono mixdown");
    free(mixed);
    free(mono);
    attn_audio_free(&b);
    attn_audio_free(&a);
}

static void test_kaldi_fbank(void **state) {
    (void)state;
    long n;
    float *x = load("speech_16k.wav", 0, &n);
    attn_fbank_params p = attn_fbank_default_params();
    check_features(&p, x, n, "kaldi_fbank", 1e-4, 2e-3);
    /* Each default changed, as in the script. */
    p.n_mels = 40;
    p.window = ATTN_WINDOW_HAMMING;
    p.preemphasis = 0;
    p.remove_dc_offset = 0;
    p.n_fft = 400;
    p.use_power = 0;
    p.low_freq = 0;
    p.high_freq = -400;
    p.use_log = 0;
    attn_fbank *fb;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_OK);
    float *ours;
    long T, rows, cols;
    assert_int_equal(attn_fbank_compute(fb, x, n, &ours, &T), ATTN_OK);
    float *want = reference("kaldi_fbank_options", &rows, &cols);
    assert_int_equal(T, rows);
    assert_int_equal(cols, 40);
    double worst = 0;
    for (long t = 0; t < T; t++) { /* linear magnitudes: relative to the frame's largest band */
        double peak = 0;
        for (long m = 0; m < cols; m++)
            peak = fmax(peak, want[t * cols + m]);
        for (long m = 0; m < cols; m++)
            worst = fmax(worst, fabs(ours[t * cols + m] - want[t * cols + m]) / peak);
    }
    fprintf(stderr, "kaldi_fbank_options: max error %.3g of the frame's peak\n", worst);
    assert_true(worst < 1e-3);
    free(want);
    free(ours);
    attn_fbank_free(fb);
    p = attn_fbank_default_params();
    p.use_energy = 1;
    check_features(&p, x, n, "kaldi_fbank_energy", 1e-4, 2e-3);
    p = attn_fbank_default_params();
    p.edges = ATTN_EDGES_KALDI;
    check_features(&p, x, n, "kaldi_fbank_noedges", 1e-4, 2e-3);
    p.n_mels = 23;
    p.frame_length_ms = 10;
    p.frame_shift_ms = 25;
    check_features(&p, x, n, "kaldi_fbank_noedges_skip", 1e-4, 2e-3);
    p = attn_fbank_default_params();
    p.n_mels = 64;
    p.window = ATTN_WINDOW_HANN;
    p.frame_length_ms = 20;
    p.frame_shift_ms = 12.5f;
    check_features(&p, x, n, "kaldi_fbank_hanning", 1e-4, 2e-3);
    free(x);
}

static void test_kaldi_mfcc(void **state) {
    (void)state;
    long n;
    float *x = load("speech_16k.wav", 0, &n);
    attn_fbank_params p = attn_mfcc_default_params();
    check_features(&p, x, n, "kaldi_mfcc", 1e-4, 5e-3);
    p.use_energy = 1;
    p.raw_energy = 0;
    p.energy_floor = 0;
    check_features(&p, x, n, "kaldi_mfcc_energy", 1e-4, 5e-3);
    p = attn_mfcc_default_params();
    p.n_mels = 40;
    p.n_mfcc = 40;
    p.cepstral_lifter = 0;
    p.window = ATTN_WINDOW_RECTANGULAR;
    check_features(&p, x, n, "kaldi_mfcc_options", 1e-4, 5e-3);
    free(x);
}

static void test_mel_spectrogram(void **state) {
    (void)state;
    long n;
    float *x = load("speech_16k.wav", 0, &n);
    attn_fbank_params p = attn_fbank_default_params();
    p.window = ATTN_WINDOW_HANN_PERIODIC;
    p.n_fft = 400;
    p.remove_dc_offset = 0;
    p.preemphasis = 0;
    p.low_freq = 0;
    p.mel = ATTN_MEL_HTK;
    check_features(&p, x, n, "mel_htk_log", 1e-4, 2e-3);
    p.edges = ATTN_EDGES_CENTER; /* MelSpectrogram's default center=True */
    check_features(&p, x, n, "mel_htk_center_log", 1e-4, 2e-3);
    free(x);
}

/* Features fed in chunks of awkward sizes are those of the whole utterance, bit for bit. */
static void test_streaming(void **state) {
    (void)state;
    long n;
    float *x = load("speech_16k.wav", 0, &n);
    attn_fbank_params params[3] = {attn_fbank_default_params(), attn_mfcc_default_params(),
                                   attn_fbank_default_params()};
    params[2].frame_length_ms = 10; /* shift 25 ms > length 10 ms: samples are skipped */
    params[2].frame_shift_ms = 25;
    params[2].n_mels = 23; /* 80 bands would leave some without a bin of the 256-point FFT */
    for (int c = 0; c < 3; c++) {
        attn_fbank *fb;
        assert_int_equal(attn_fbank_create(&params[c], &fb), ATTN_OK);
        float *whole;
        long T;
        assert_int_equal(attn_fbank_compute(fb, x, n, &whole, &T), ATTN_OK);
        int D = attn_fbank_dim(fb);
        float *streamed = malloc((size_t)(T * D) * sizeof *streamed);
        static const long sizes[] = {1, 7, 160, 399, 400, 401, 1000, 3, 2048, 0, 159};
        long pos = 0, frames = 0;
        for (int i = 0; pos < n; i = (i + 1) % 11) {
            long chunk = sizes[i] < n - pos ? sizes[i] : n - pos;
            long want = attn_fbank_pending(fb, chunk), got;
            assert_true(frames + want <= T);
            attn_status st =
                attn_fbank_accept(fb, x + pos, chunk, streamed + frames * D, want, &got);
            assert_int_equal(st, ATTN_OK);
            assert_int_equal(got, want);
            frames += got;
            pos += chunk;
        }
        assert_int_equal(frames, T);
        assert_memory_equal(whole, streamed, (size_t)(T * D) * sizeof(float));
        /* Too little room: refused, nothing consumed. */
        attn_fbank_reset(fb);
        long got;
        assert_int_equal(attn_fbank_accept(fb, x, n, streamed, T - 1, &got), ATTN_ERR_INVALID);
        assert_int_equal(attn_fbank_pending(fb, n), T);
        free(streamed);
        free(whole);
        attn_fbank_free(fb);
    }
    free(x);
}

/* The error's RMS over the signal's RMS, away from the ends. */
static double relative_rms_error(const float *got, const float *want, long n, long edge) {
    double e = 0, s = 0;
    for (long i = edge; i < n - edge; i++) {
        e += (double)(got[i] - want[i]) * (got[i] - want[i]);
        s += (double)want[i] * want[i];
    }
    return sqrt(e / s);
}

static void check_resampled(const float *got, long n, const char *name) {
    long rows, cols;
    float *want = reference(name, &rows, &cols);
    assert_true(labs(n - rows) <= 1);
    long m = n < rows ? n : rows;
    double err = relative_rms_error(got, want, m, 160);
    fprintf(stderr, "%s: %ld samples (reference %ld), relative RMS error %.3g\n", name, n, rows,
            err);
    assert_true(err < 1e-4);
    free(want);
}

/* kaldi.fbank of torchaudio's resampled audio against ours, in the bands below 7.6 kHz (0.95 of
 * Nyquist): above, the two resamplers' transition bands differ and the energies are at the floor.
 */
static void check_resampled_features(const float *x, long n) {
    attn_fbank_params p = attn_fbank_default_params();
    attn_fbank *fb;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_OK);
    float *ours;
    long T, rows, cols;
    assert_int_equal(attn_fbank_compute(fb, x, n, &ours, &T), ATTN_OK);
    float *want = reference("resampled_48k_fbank", &rows, &cols);
    assert_int_equal(T, rows);
    double mel_lo = 1127 * log(1 + 20 / 700.0),
           delta = (1127 * log(1 + 8000 / 700.0) - mel_lo) / 81;
    int bands = 0;
    while (bands < 80 && 700 * (exp((mel_lo + (bands + 2) * delta) / 1127) - 1) <= 7600)
        bands++;
    assert_true(bands > 70);
    double worst = 0;
    long compared = 0;
    for (long t = 0; t < T; t++)
        for (int m = 0; m < bands; m++)
            if (want[t * cols + m] > -10) {
                worst = fmax(worst, fabs(ours[t * cols + m] - want[t * cols + m]));
                compared++;
            }
    fprintf(stderr, "resampled_48k_fbank: %ld values of bands 0..%d above -10, max error %.3g\n",
            compared, bands - 1, worst);
    assert_true(compared > T * 20);
    assert_true(worst < 2e-3);
    free(want);
    free(ours);
    attn_fbank_free(fb);
}

static void test_resample(void **state) {
    (void)state;
    long n;
    float *x = load("stereo_48k.wav", 16000, &n); /* mixed down, then resampled */
    check_resampled(x, n, "resampled_48k");
    /* Features of our resampled audio against kaldi.fbank of torchaudio's. */
    check_resampled_features(x, n);
    /* The stream gives the same samples in any chunk size. */
    attn_audio_stream *s;
    assert_int_equal(attn_audio_stream_open(path_of("stereo_48k.wav"), 16000, &s), ATTN_OK);
    int file_rate, channels, rate;
    attn_audio_stream_info(s, &file_rate, &channels, &rate);
    assert_int_equal(file_rate, 48000);
    assert_int_equal(channels, 2);
    assert_int_equal(rate, 16000);
    float *y = malloc((size_t)(n + 100) * sizeof *y);
    long len = 0, got;
    for (int i = 0;; i++) {
        long cap = i % 2 ? 1000 : 77;
        if (len + cap > n + 100) cap = n + 100 - len;
        assert_int_equal(attn_audio_stream_read(s, y + len, cap, &got), ATTN_OK);
        if (got == 0) break;
        len += got;
    }
    attn_audio_stream_close(s);
    assert_int_equal(len, n);
    tu_assert_close(y, x, n, 0, 1e-6, "stream vs whole");
    free(y);
    free(x);
    x = load("tone_8k.wav", 16000, &n);
    check_resampled(x, n, "resampled_8k");
    free(x);
}

static void test_speed_perturb(void **state) {
    (void)state;
    long n, m;
    /* The 8 kHz tones brought to 16 kHz (band-limited to 4 kHz, so the two resamplers' transition
     * bands see nothing), 10% faster; the script perturbs torchaudio's resampling of the same. */
    float *x = load("tone_8k.wav", 16000, &n), *y;
    assert_int_equal(attn_audio_speed_perturb(x, n, 1.1, &y, &m), ATTN_OK);
    check_resampled(y, m, "speed_1.1");
    free(y);
    assert_int_equal(attn_audio_speed_perturb(x, n, 2.5, &y, &m), ATTN_ERR_INVALID);
    assert_null(y);
    free(x);
}

/* Silence is no error: every log energy sits at the floor, log(FLT_EPSILON); MFCC stay finite. */
static void test_silence(void **state) {
    (void)state;
    long n;
    float *x = load("silence_16k.wav", 0, &n);
    assert_int_equal(n, 8000);
    attn_fbank_params p = attn_fbank_default_params();
    attn_fbank *fb;
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_OK);
    float *f;
    long T;
    assert_int_equal(attn_fbank_compute(fb, x, n, &f, &T), ATTN_OK);
    assert_int_equal(T, 48);
    for (long i = 0; i < T * 80; i++)
        assert_true(f[i] == logf(FLT_EPSILON));
    free(f);
    attn_fbank_free(fb);
    p = attn_mfcc_default_params();
    assert_int_equal(attn_fbank_create(&p, &fb), ATTN_OK);
    assert_int_equal(attn_fbank_compute(fb, x, n, &f, &T), ATTN_OK);
    for (long i = 0; i < T * 13; i++)
        assert_true(isfinite(f[i]));
    free(f);
    attn_fbank_free(fb);
    free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),          cmocka_unit_test(test_kaldi_fbank),
        cmocka_unit_test(test_kaldi_mfcc),    cmocka_unit_test(test_mel_spectrogram),
        cmocka_unit_test(test_streaming),     cmocka_unit_test(test_resample),
        cmocka_unit_test(test_speed_perturb), cmocka_unit_test(test_silence),
    };
    int rc = setup(NULL);
    if (rc == 77) {
        fprintf(stderr, "skipped: /usr/bin/python3 with torchaudio is needed\n");
        return 77;
    }
    if (rc != 0) return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    teardown(NULL);
    return failed;
}
