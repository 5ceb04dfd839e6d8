/* tests/audio/test_fbank.c: properties of the feature extractor (src/audio/fbank.c) that need no
 * reference: extractors made and used on two threads at once (FFTW's planner is locked) give the
 * single-thread numbers; MFCC are the orthonormal DCT-II of the log-mel energies, computed here in
 * double from the definition; dither is reproducible from its seed and restarts with the stream;
 * a pure tone's energy lands in the band around its frequency. */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "attn/audio.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#define N 8000 /* half a second at 16 kHz */

static float signal_[N];

static void make_signal(void) {
    attn_rng rng;
    attn_rng_init(&rng, 5, 0);
    for (int i = 0; i < N; i++)
        signal_[i] =
            0.3f * sinf(2 * 3.14159265f * 1000 * i / 16000.0f) + 0.01f * attn_rng_normal(&rng);
}

static float *features(const attn_fbank_params *p, long *T) {
    attn_fbank *fb;
    assert_int_equal(attn_fbank_create(p, &fb), ATTN_OK);
    float *f;
    assert_int_equal(attn_fbank_compute(fb, signal_, N, &f, T), ATTN_OK);
    attn_fbank_free(fb);
    return f;
}

static void *worker(void *arg) {
    float **out = arg;
    attn_fbank_params p = attn_fbank_default_params();
    for (int i = 0; i < 40; i++) { /* plans made and destroyed while the other thread does too */
        p.n_fft = i % 2 ? 512 : 400 + 2 * i;
        attn_fbank *fb;
        if (attn_fbank_create(&p, &fb) != ATTN_OK) return NULL;
        free(*out);
        long T;
        if (attn_fbank_compute(fb, signal_, N, out, &T) != ATTN_OK) *out = NULL;
        attn_fbank_free(fb);
    }
    return NULL;
}

static void test_threads(void **state) {
    (void)state;
    attn_fbank_params p = attn_fbank_default_params();
    long T;
    float *want = features(&p, &T), *got[2] = {NULL, NULL};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, &got[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        assert_non_null(got[i]);
        assert_memory_equal(got[i], want,
                            (size_t)(T * 80) * sizeof(float)); /* the last: n_fft 512 */
        free(got[i]);
    }
    free(want);
}

static void test_mfcc_is_dct(void **state) {
    (void)state;
    attn_fbank_params p = attn_mfcc_default_params();
    long T, T2;
    float *c = features(&p, &T);
    p.n_mfcc = 0;
    float *logmel = features(&p, &T2);
    assert_int_equal(T, T2);
    int M = 23, K = 13;
    double Q = 22;
    for (long t = 0; t < T; t++)
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (int m = 0; m < M; m++)
                s += logmel[t * M + m] * cos(M_PI * k * (m + 0.5) / M);
            s *= sqrt((k ? 2.0 : 1.0) / M) * (1 + Q / 2 * sin(M_PI * k / Q));
            assert_true(fabs(c[t * K + k] - s) <= 1e-4 * (1 + fabs(s)));
        }
    free(c);
    free(logmel);
}

static void test_dither(void **state) {
    (void)state;
    attn_fbank_params p = attn_fbank_default_params();
    long T;
    float *clean = features(&p, &T);
    p.dither = 0.001f;
    p.dither_seed = 3;
    float *a = features(&p, &T), *b = features(&p, &T);
    assert_memory_equal(a, b, (size_t)(T * 80) * sizeof(float)); /* the seed decides */
    assert_memory_not_equal(a, clean, (size_t)(T * 80) * sizeof(float));
    p.dither_seed = 4;
    float *c = features(&p, &T);
    assert_memory_not_equal(a, c, (size_t)(T * 80) * sizeof(float));
    free(clean);
    free(a);
    free(b);
    free(c);
}

/* A 1 kHz tone's energy peaks in the Kaldi band whose centre is nearest 1 kHz. */
static void test_tone_band(void **state) {
    (void)state;
    attn_fbank_params p = attn_fbank_default_params();
    long T;
    float *f = features(&p, &T);
    double mel_lo = 1127 * log(1 + 20 / 700.0);
    double delta = (1127 * log(1 + 8000 / 700.0) - mel_lo) / 81;
    int nearest = 0;
    for (int m = 0; m < 80; m++) {
        double centre = 700 * (exp((mel_lo + (m + 1) * delta) / 1127) - 1);
        double best = 700 * (exp((mel_lo + (nearest + 1) * delta) / 1127) - 1);
        if (fabs(centre - 1000) < fabs(best - 1000)) nearest = m;
    }
    for (long t = 0; t < T; t++) {
        int top = 0;
        for (int m = 1; m < 80; m++)
            if (f[t * 80 + m] > f[t * 80 + top]) top = m;
        assert_int_equal(top, nearest);
    }
    free(f);
}

int main(void) {
    make_signal();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_mfcc_is_dct),
        cmocka_unit_test(test_dither),
        cmocka_unit_test(test_tone_band),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
