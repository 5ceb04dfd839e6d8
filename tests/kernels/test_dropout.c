/* tests/kernels/test_dropout.c: inverted dropout: out matches the mask and 1 / (1 - p); the keep
 * rate is within statistical bounds; the mask depends only on the seed (not on the thread count);
 * p == 0 copies; backward (accumulated) against central finite differences of
 * L = sum(x * mask / (1 - p) * R) with the mask fixed. */
#include "testutil.h"
#include "kernels/dropout.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *out;
    uint8_t *mask;
} drop_result;

/* Runs forward on a copy of x with a generator seeded (seed, 0). */
static drop_result run_dropout(const float *x, long n, float p, uint64_t seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    drop_result r = {malloc((n > 0 ? n : 1) * sizeof(float)), malloc(n > 0 ? n : 1)};
    memset(r.mask, 7, n > 0 ? n : 1); /* every byte must be overwritten with 0 or 1 */
    attn_dropout_forward(r.out, r.mask, x, n, p, &rng);
    return r;
}

static void free_result(drop_result r) {
    free(r.out), free(r.mask);
}

/* out[i] == x[i] / (1 - p) where kept, 0 where dropped; returns the number kept. */
static long check_consistent(const float *x, drop_result r, long n, float p) {
    long kept = 0;
    for (long i = 0; i < n; i++) {
        assert_true(r.mask[i] == 0 || r.mask[i] == 1);
        double want = r.mask[i] ? x[i] / (1.0 - p) : 0.0;
        if (!(fabs(r.out[i] - want) <= 1e-6 * fabs(want)))
            fail_msg("dropout out[%ld] = %g, want %g (mask %d)", i, r.out[i], want, r.mask[i]);
        kept += r.mask[i];
    }
    return kept;
}

/* The number kept is Binomial(n, 1 - p): within 6 standard deviations of n (1 - p). */
static void test_keep_rate(void **state) {
    (void)state;
    static const float ps[] = {0.05f, 0.1f, 0.3f, 0.5f, 0.9f};
    attn_rng rng;
    attn_rng_init(&rng, 1, 0);
    long n = 200003;
    float *x = tu_randn(&rng, n, 1);
    for (int k = 0; k < 5; k++) {
        drop_result r = run_dropout(x, n, ps[k], 100 + k);
        long kept = check_consistent(x, r, n, ps[k]);
        double mean = n * (1.0 - ps[k]), sd = sqrt(n * ps[k] * (1.0 - ps[k]));
        if (fabs(kept - mean) > 6 * sd)
            fail_msg("p = %g: kept %ld of %ld, expected %.0f +- %.0f", ps[k], kept, n, mean, sd);
        free_result(r);
    }
    free(x);
}

static void test_awkward_sizes(void **state) {
    (void)state;
    static const long sizes[] = {1, 7, 4095, 4096, 4097, 3 * 4096 + 5};
    attn_rng rng;
    attn_rng_init(&rng, 2, 0);
    for (int s = 0; s < 6; s++) {
        float *x = tu_randn(&rng, sizes[s], 1);
        drop_result r = run_dropout(x, sizes[s], 0.4f, s);
        check_consistent(x, r, sizes[s], 0.4f);
        free_result(r), free(x);
    }
}

/* Same seed, same mask; another seed or the next call of the same generator, another mask;
 * chunks are not copies of each other. */
static void test_determinism(void **state) {
    (void)state;
    long n = 3 * 4096;
    float *x = tu_zeros(n);
    for (long i = 0; i < n; i++)
        x[i] = 1.0f;
    drop_result a = run_dropout(x, n, 0.5f, 42), b = run_dropout(x, n, 0.5f, 42);
    drop_result c = run_dropout(x, n, 0.5f, 43);
    assert_memory_equal(a.mask, b.mask, n);
    assert_memory_equal(a.out, b.out, n * sizeof(float));
    assert_memory_not_equal(a.mask, c.mask, n);
    assert_memory_not_equal(a.mask, a.mask + 4096, 4096);
    assert_memory_not_equal(a.mask + 4096, a.mask + 8192, 4096);
    attn_rng rng;
    attn_rng_init(&rng, 42, 0);
    float *out = malloc(n * sizeof *out);
    uint8_t *m1 = malloc(n), *m2 = malloc(n);
    attn_dropout_forward(out, m1, x, n, 0.5f, &rng);
    attn_dropout_forward(out, m2, x, n, 0.5f, &rng);
    assert_memory_equal(m1, a.mask, n);
    assert_memory_not_equal(m1, m2, n);
    free_result(a), free_result(b), free_result(c), free(x), free(out), free(m1), free(m2);
}

/* The mask does not depend on the number of OpenMP threads (n is above the threading threshold). */
static void test_thread_count_independent(void **state) {
    (void)state;
    int saved = omp_get_max_threads();
    long n = 100003;
    attn_rng rng;
    attn_rng_init(&rng, 3, 0);
    float *x = tu_randn(&rng, n, 1);
    omp_set_num_threads(1);
    drop_result one = run_dropout(x, n, 0.25f, 7);
    omp_set_num_threads(2);
    drop_result two = run_dropout(x, n, 0.25f, 7);
    omp_set_num_threads(3);
    drop_result three = run_dropout(x, n, 0.25f, 7);
    omp_set_num_threads(saved);
    assert_memory_equal(one.mask, two.mask, n);
    assert_memory_equal(one.mask, three.mask, n);
    assert_memory_equal(one.out, two.out, n * sizeof(float));
    check_consistent(x, one, n, 0.25f);
    free_result(one), free_result(two), free_result(three), free(x);
}

/* p == 0 copies and keeps everything; out may alias inp. */
static void test_p_zero_and_alias(void **state) {
    (void)state;
    long n = 5000;
    attn_rng rng;
    attn_rng_init(&rng, 4, 0);
    float *x = tu_randn(&rng, n, 1);
    drop_result r = run_dropout(x, n, 0.0f, 9);
    assert_memory_equal(r.out, x, n * sizeof(float));
    for (long i = 0; i < n; i++)
        assert_int_equal(r.mask[i], 1);
    drop_result ref = run_dropout(x, n, 0.2f, 9);
    float *y = malloc(n * sizeof *y);
    uint8_t *mask = malloc(n);
    memcpy(y, x, n * sizeof *y);
    attn_rng_init(&rng, 9, 0);
    attn_dropout_forward(y, mask, y, n, 0.2f, &rng);
    assert_memory_equal(mask, ref.mask, n);
    assert_memory_equal(y, ref.out, n * sizeof(float));
    free_result(r), free_result(ref), free(x), free(y), free(mask);
}

static void check_backward(long n, float p, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 1);
    float *x = tu_randn(&rng, n, 1), *R = tu_randn(&rng, n, 1), *dx = tu_randn(&rng, n, 1);
    drop_result r = run_dropout(x, n, p, seed);
    double *want = malloc(n * sizeof *want);
    const double h = 1e-6;
    for (long i = 0; i < n; i++) { /* out[i] = x[i] mask[i] / (1 - p) */
        double s = r.mask[i] / (1.0 - p);
        double g = ((x[i] + h) * s * R[i] - (x[i] - h) * s * R[i]) / (2 * h);
        want[i] = dx[i] + g;
    }
    attn_dropout_backward(dx, R, r.mask, n, p);
    tu_assert_close_d(dx, want, n, 1e-4, 1e-6, "dropout backward");
    free_result(r), free(x), free(R), free(dx), free(want);
}

static void test_backward(void **state) {
    (void)state;
    check_backward(1, 0.3f, 1);
    check_backward(4097, 0.3f, 2);
    check_backward(100003, 0.1f, 3); /* threaded */
    check_backward(1000, 0.0f, 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_rate),        cmocka_unit_test(test_awkward_sizes),
        cmocka_unit_test(test_determinism),      cmocka_unit_test(test_thread_count_independent),
        cmocka_unit_test(test_p_zero_and_alias), cmocka_unit_test(test_backward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
