/* tests/kernels/test_residual.c: out = a + b and dst += src against double references, with
 * aliasing; the backward of the sum (accumulate dout into da and db) against central finite
 * differences of L = sum((a + b) * R). */
#include "testutil.h"
#include "kernels/residual.h"

#include <stdlib.h>
#include <string.h>

static void check_residual(long n, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    float *a = tu_randn(&rng, n, 1), *b = tu_randn(&rng, n, 1), *out = tu_randn(&rng, n, 1);
    double *want = malloc(n * sizeof *want);
    for (long i = 0; i < n; i++)
        want[i] = (double)a[i] + b[i];
    attn_residual_forward(out, a, b, n);
    tu_assert_close_d(out, want, n, 1e-7, 0, "residual out");
    float *alias = malloc(n * sizeof *alias); /* out aliases a, then b */
    memcpy(alias, a, n * sizeof *alias);
    attn_residual_forward(alias, alias, b, n);
    tu_assert_close_d(alias, want, n, 1e-7, 0, "residual out = a");
    memcpy(alias, b, n * sizeof *alias);
    attn_residual_forward(alias, a, alias, n);
    tu_assert_close_d(alias, want, n, 1e-7, 0, "residual out = b");
    free(a), free(b), free(out), free(want), free(alias);
}

/* da += dout and db += dout, checked against finite differences of L = sum((a + b) * R). */
static void check_backward(long n, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 1);
    float *a = tu_randn(&rng, n, 1), *b = tu_randn(&rng, n, 1), *R = tu_randn(&rng, n, 1);
    float *da = tu_randn(&rng, n, 1), *db = tu_randn(&rng, n, 1);
    double *want_a = malloc(n * sizeof *want_a), *want_b = malloc(n * sizeof *want_b);
    const double h = 1e-6;
    for (long i = 0; i < n; i++) { /* a[i] and b[i] only affect out[i] */
        double ga = (((a[i] + h) + b[i]) * R[i] - ((a[i] - h) + b[i]) * R[i]) / (2 * h);
        double gb = ((a[i] + (b[i] + h)) * R[i] - (a[i] + (b[i] - h)) * R[i]) / (2 * h);
        want_a[i] = da[i] + ga;
        want_b[i] = db[i] + gb;
    }
    attn_accumulate(da, R, n);
    attn_accumulate(db, R, n);
    tu_assert_close_d(da, want_a, n, 1e-4, 1e-6, "residual da");
    tu_assert_close_d(db, want_b, n, 1e-4, 1e-6, "residual db");
    free(a), free(b), free(R), free(da), free(db), free(want_a), free(want_b);
}

static void test_forward(void **state) {
    (void)state;
    static const long sizes[] = {1, 7, 33, 1000, 200003}; /* the last one is threaded */
    for (int s = 0; s < 5; s++)
        check_residual(sizes[s], s);
}

static void test_backward(void **state) {
    (void)state;
    static const long sizes[] = {1, 7, 33, 1000, 200003};
    for (int s = 0; s < 5; s++)
        check_backward(sizes[s], 10 + s);
}

/* n == 0 touches nothing. */
static void test_empty(void **state) {
    (void)state;
    float x[1] = {1.0f};
    attn_residual_forward(x, x, x, 0);
    attn_accumulate(x, x, 0);
    assert_true(x[0] == 1.0f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward),
        cmocka_unit_test(test_backward),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
