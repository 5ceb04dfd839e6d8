/* tests/audio/test_augment.c: CMVN (src/audio/cmvn.c) against means and variances computed here in
 * double, its statistics adding up over utterances and surviving a save and load; SpecAugment
 * (src/audio/specaugment.c): masks are whole bands and spans within the widths, reproducible from
 * (seed, stream), with the widths' mean that of U{0..F}. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/audio.h"
#include "core/rng.h"
#include "io/safetensors.h"

/* Features of T frames of D values with a different mean and scale per dimension. */
static float *features(long T, int D, uint64_t seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    float *x = malloc((size_t)(T * D) * sizeof *x);
    for (long t = 0; t < T; t++)
        for (int d = 0; d < D; d++)
            x[t * D + d] = 3.0f * d - 20 + (0.5f + d) * attn_rng_normal(&rng);
    return x;
}

static void test_cmvn_utterance(void **state) {
    (void)state;
    long T = 500;
    int D = 13;
    float *x = features(T, D, 1), *y = malloc((size_t)(T * D) * sizeof *y);
    for (int norm_vars = 0; norm_vars < 2; norm_vars++) {
        memcpy(y, x, (size_t)(T * D) * sizeof *y);
        assert_int_equal(attn_cmvn_utterance(y, T, D, norm_vars), ATTN_OK);
        for (int d = 0; d < D; d++) {
            double mean = 0, var = 0, out_mean = 0, out_var = 0;
            for (long t = 0; t < T; t++)
                mean += x[t * D + d];
            mean /= T;
            for (long t = 0; t < T; t++)
                var += (x[t * D + d] - mean) * (x[t * D + d] - mean);
            var /= T;
            for (long t = 0; t < T; t++) {
                double want = (x[t * D + d] - mean) / (norm_vars ? sqrt(var) : 1);
                assert_true(fabs(y[t * D + d] - want) <= 1e-5 * (1 + fabs(want)));
                out_mean += y[t * D + d];
            }
            out_mean /= T;
            for (long t = 0; t < T; t++)
                out_var += (y[t * D + d] - out_mean) * (y[t * D + d] - out_mean);
            out_var /= T;
            assert_true(fabs(out_mean) < 1e-5 * (norm_vars ? 1 : sqrt(var)));
            if (norm_vars) assert_true(fabs(out_var - 1) < 1e-4);
        }
    }
    /* A constant dimension: no division by zero. */
    for (long t = 0; t < T; t++)
        y[t * D] = 4.0f;
    assert_int_equal(attn_cmvn_utterance(y, T, D, 1), ATTN_OK);
    for (long t = 0; t < T; t++)
        assert_true(y[t * D] == 0.0f);
    assert_int_equal(attn_cmvn_utterance(y, 0, D, 1), ATTN_ERR_INVALID);
    y[7] = NAN;
    assert_int_equal(attn_cmvn_utterance(y, T, D, 1), ATTN_ERR_NUMERIC);
    free(x);
    free(y);
}

static void test_cmvn_global(void **state) {
    (void)state;
    int D = 80;
    float *a = features(300, D, 2), *b = features(200, D, 3), *ab = malloc(500 * 80 * sizeof *ab);
    memcpy(ab, a, 300 * 80 * sizeof *ab);
    memcpy(ab + 300 * 80, b, 200 * 80 * sizeof *ab);
    attn_cmvn_stats s, whole;
    assert_int_equal(attn_cmvn_stats_init(&s, D), ATTN_OK);
    assert_int_equal(attn_cmvn_stats_init(&whole, D), ATTN_OK);
    float dummy[1];
    assert_int_equal(attn_cmvn_apply(&s, dummy, 0, 1), ATTN_ERR_INVALID); /* no statistics yet */
    assert_int_equal(attn_cmvn_stats_add(&s, a, 300), ATTN_OK);
    assert_int_equal(attn_cmvn_stats_add(&s, b, 200), ATTN_OK);
    assert_int_equal(attn_cmvn_stats_add(&whole, ab, 500), ATTN_OK);
    assert_true(s.count == 500 && whole.count == 500);
    for (int d = 0; d < D; d++) {
        assert_true(fabs(s.sum[d] - whole.sum[d]) <= 1e-12 * fabs(whole.sum_sq[d]));
        assert_true(fabs(s.sum_sq[d] - whole.sum_sq[d]) <= 1e-12 * whole.sum_sq[d]);
    }
    /* Saved and loaded, bit for bit. */
    char path[] = "/tmp/attn_cmvn_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(attn_cmvn_stats_save(&s, path), ATTN_OK);
    attn_cmvn_stats l;
    assert_int_equal(attn_cmvn_stats_load(path, &l), ATTN_OK);
    assert_int_equal(l.dim, D);
    assert_true(l.count == s.count);
    assert_memory_equal(l.sum, s.sum, (size_t)D * sizeof(double));
    assert_memory_equal(l.sum_sq, s.sum_sq, (size_t)D * sizeof(double));
    /* Applied: (x - mean) / std of the pooled frames. */
    float *y = features(10, D, 4), *z = malloc(10 * 80 * sizeof *z);
    memcpy(z, y, 10 * 80 * sizeof *z);
    assert_int_equal(attn_cmvn_apply(&l, z, 10, 1), ATTN_OK);
    for (int d = 0; d < D; d++) {
        double mean = 0, var = 0;
        for (long t = 0; t < 500; t++)
            mean += ab[t * D + d];
        mean /= 500;
        for (long t = 0; t < 500; t++)
            var += (ab[t * D + d] - mean) * (ab[t * D + d] - mean);
        var /= 500;
        for (long t = 0; t < 10; t++) {
            double want = (y[t * D + d] - mean) / sqrt(var);
            assert_true(fabs(z[t * D + d] - want) <= 1e-5 * (1 + fabs(want)));
        }
    }
    attn_cmvn_stats_free(&l);
    /* Files that are not statistics. */
    attn_st_writer *w;
    assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
    float f32[80] = {0};
    int64_t one = 1, dim = 80;
    double count = 5;
    assert_int_equal(attn_st_writer_add(w, "cmvn.count", ATTN_DTYPE_F64, &count, 1, &one), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "cmvn.sum", ATTN_DTYPE_F32, f32, 1, &dim), ATTN_OK);
    assert_int_equal(attn_st_writer_write(w, path), ATTN_OK);
    attn_st_writer_free(w);
    assert_int_equal(attn_cmvn_stats_load(path, &l), ATTN_ERR_FORMAT);
    assert_null(l.sum);
    assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "cmvn.count", ATTN_DTYPE_F64, &count, 1, &one), ATTN_OK);
    assert_int_equal(attn_st_writer_write(w, path), ATTN_OK);
    attn_st_writer_free(w);
    assert_int_equal(attn_cmvn_stats_load(path, &l), ATTN_ERR_MISSING);
    unlink(path);
    assert_int_equal(attn_cmvn_stats_load(path, &l), ATTN_ERR_IO);
    attn_cmvn_stats_free(&s);
    attn_cmvn_stats_free(&whole);
    attn_cmvn_stats_free(NULL);
    free(a);
    free(b);
    free(ab);
    free(y);
    free(z);
}

#define SENTINEL -1000.0f

/* Checks that the sentinels of f (T, D) form whole columns (bands) and whole rows (spans): returns
 * the number of masked columns and rows, and the widest run of each. */
static void mask_shape(const float *f, long T, int D, int *cols, int *widest_col, long *rows,
                       long *widest_row) {
    *cols = *widest_col = 0;
    *rows = *widest_row = 0;
    char *col = calloc((size_t)D, 1), *row = calloc((size_t)T, 1);
    for (int d = 0; d < D; d++) {
        col[d] = 1;
        for (long t = 0; t < T; t++)
            col[d] &= f[t * D + d] == SENTINEL;
    }
    for (long t = 0; t < T; t++) {
        row[t] = 1;
        for (int d = 0; d < D; d++)
            row[t] &= f[t * D + d] == SENTINEL;
    }
    for (long t = 0; t < T; t++)
        for (int d = 0; d < D; d++)
            if (f[t * D + d] == SENTINEL)
                assert_true(col[d] || row[t]);
            else
                assert_true(f[t * D + d] == 1.0f);
    for (int d = 0, run = 0; d < D; d++) {
        run = col[d] ? run + 1 : 0;
        *cols += col[d];
        if (run > *widest_col) *widest_col = run;
    }
    for (long t = 0, run = 0; t < T; t++) {
        run = row[t] ? run + 1 : 0;
        *rows += row[t];
        if (run > *widest_row) *widest_row = run;
    }
    free(col);
    free(row);
}

static void test_specaugment(void **state) {
    (void)state;
    long T = 300;
    int D = 80;
    float *f = malloc((size_t)(T * D) * sizeof *f), *g = malloc((size_t)(T * D) * sizeof *g);
    attn_specaugment_params p = attn_specaugment_default_params();
    p.fill = SENTINEL;
    double width_sum = 0;
    int draws = 2000, differ = 0;
    for (int i = 0; i < draws; i++) {
        for (long k = 0; k < T * D; k++)
            f[k] = 1.0f;
        memcpy(g, f, (size_t)(T * D) * sizeof *g);
        assert_int_equal(attn_specaugment(f, T, D, &p, 42, (uint64_t)i), ATTN_OK);
        assert_int_equal(attn_specaugment(g, T, D, &p, 42, (uint64_t)i), ATTN_OK);
        assert_memory_equal(f, g, (size_t)(T * D) * sizeof *f); /* a function of (seed, stream) */
        int cols, widest_col;
        long rows, widest_row;
        mask_shape(f, T, D, &cols, &widest_col, &rows, &widest_row);
        assert_true(cols <= 2 * 27 && widest_col <= 2 * 27);
        assert_true(rows <= 2 * 100 && widest_row <= 2 * 100);
        if (i > 0) {
            memcpy(g, f, (size_t)(T * D) * sizeof *g);
            for (long k = 0; k < T * D; k++)
                f[k] = 1.0f;
            assert_int_equal(attn_specaugment(f, T, D, &p, 42, (uint64_t)i - 1), ATTN_OK);
            differ += memcmp(f, g, (size_t)(T * D) * sizeof *f) != 0;
        }
    }
    assert_true(differ > draws * 9 / 10);
    /* One band at a time: its width is U{0..27}, of mean 13.5 and std 8.08 (the mean of 2000 within
     * 0.8 = 4.4 standard errors). */
    p.n_time_masks = 0;
    p.n_freq_masks = 1;
    for (int i = 0; i < draws; i++) {
        for (long k = 0; k < T * D; k++)
            f[k] = 1.0f;
        assert_int_equal(attn_specaugment(f, T, D, &p, 7, (uint64_t)i), ATTN_OK);
        int cols, widest_col;
        long rows, widest_row;
        mask_shape(f, T, D, &cols, &widest_col, &rows, &widest_row);
        assert_true(cols == widest_col && cols <= 27);
        width_sum += cols;
    }
    assert_true(fabs(width_sum / draws - 13.5) < 0.8);
    /* Time masks capped by max_time_ratio: 50 frames at p = 0.2 -> spans of at most 10. */
    p.n_freq_masks = 0;
    p.n_time_masks = 1;
    p.max_time_ratio = 0.2f;
    long widest = 0;
    for (int i = 0; i < 500; i++) {
        for (long k = 0; k < 50 * D; k++)
            f[k] = 1.0f;
        assert_int_equal(attn_specaugment(f, 50, D, &p, 9, (uint64_t)i), ATTN_OK);
        int cols, widest_col;
        long rows, widest_row;
        mask_shape(f, 50, D, &cols, &widest_col, &rows, &widest_row);
        assert_true(rows == widest_row && rows <= 10);
        if (rows > widest) widest = rows;
    }
    assert_int_equal(widest, 10);
    p.max_time_ratio = 1.5f;
    assert_int_equal(attn_specaugment(f, 50, D, &p, 9, 0), ATTN_ERR_INVALID);
    p = attn_specaugment_default_params();
    p.n_freq_masks = -1;
    assert_int_equal(attn_specaugment(f, 50, D, &p, 9, 0), ATTN_ERR_INVALID);
    p = attn_specaugment_default_params();
    assert_int_equal(attn_specaugment(f, 0, D, &p, 9, 0), ATTN_OK);
    free(f);
    free(g);
}

static void test_speed_draw(void **state) {
    (void)state;
    int counts[3] = {0};
    for (uint64_t u = 0; u < 3000; u++) {
        double f = attn_audio_speed_draw(11, u);
        assert_true(f == attn_audio_speed_draw(11, u)); /* a function of (seed, stream) */
        assert_true(f == 0.9 || f == 1.0 || f == 1.1);
        counts[f == 0.9 ? 0 : f == 1.0 ? 1 : 2]++;
    }
    /* Uniform: each near 1000 (binomial std 26; within 130 = 5 std). */
    for (int i = 0; i < 3; i++)
        assert_true(abs(counts[i] - 1000) < 130);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmvn_utterance),
        cmocka_unit_test(test_cmvn_global),
        cmocka_unit_test(test_specaugment),
        cmocka_unit_test(test_speed_draw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
