/* tests/kernels/test_activation.c: gelu_tanh, gelu_erf and relu forward against double references;
 * backward (accumulated) against central finite differences of L = sum(act(x) * R). */
#include "testutil.h"
#include "kernels/activation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double ref_act(attn_act act, double x) {
    switch (act) {
    case ATTN_ACT_GELU_TANH:
        return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    case ATTN_ACT_GELU_ERF:
        return 0.5 * x * (1 + erf(x / sqrt(2)));
    case ATTN_ACT_RELU:
        return x > 0 ? x : 0;
    }
    return NAN;
}

/* n inputs: normal with std 3, then a few fixed awkward values; |x| >= 1e-3 so that the finite
 * difference of relu never straddles its kink. */
static float *make_inputs(attn_rng *rng, long n) {
    static const float fixed[] = {10.0f, -10.0f, 1e-3f, -1e-3f, 5.5f, -5.5f, 0.5f};
    float *x = tu_randn(rng, n, 3.0f);
    for (long i = 0; i < n; i++) {
        if (fabsf(x[i]) < 1e-3f) x[i] = 0.25f;
        if (i < 7) x[i] = fixed[i];
    }
    return x;
}

static void check_act(attn_act act, long n, int alias, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, act);
    float *x = make_inputs(&rng, n), *R = tu_randn(&rng, n, 1), *init = tu_randn(&rng, n, 1);
    float *out = alias ? malloc(n * sizeof *out) : tu_randn(&rng, n, 1);
    float *dx = malloc(n * sizeof *dx);
    double *want = malloc(n * sizeof *want), *want_dx = malloc(n * sizeof *want_dx);
    const double h = 1e-6;
    for (long i = 0; i < n; i++) { /* x[i] only affects out[i] */
        want[i] = ref_act(act, x[i]);
        double g = (ref_act(act, x[i] + h) - ref_act(act, x[i] - h)) / (2 * h);
        want_dx[i] = init[i] + g * R[i];
    }
    if (alias) memcpy(out, x, n * sizeof *out);
    attn_activation_forward(act, out, alias ? out : x, n);
    tu_assert_close_d(out, want, n, 1e-5, 2e-6, "activation forward");
    memcpy(dx, init, n * sizeof *dx);
    attn_activation_backward(act, dx, x, R, n);
    tu_assert_close_d(dx, want_dx, n, 1e-4, 1e-5, "activation backward");
    free(x), free(R), free(init), free(out), free(dx), free(want), free(want_dx);
}

static void check_all_sizes(attn_act act) {
    static const long sizes[] = {1, 7, 33, 1000, 40000}; /* the last one is threaded */
    for (int s = 0; s < 5; s++)
        check_act(act, sizes[s], 0, s);
    check_act(act, 4099, 1, 9); /* out aliases inp */
}

static void test_gelu_tanh(void **state) {
    (void)state;
    check_all_sizes(ATTN_ACT_GELU_TANH);
}

static void test_gelu_erf(void **state) {
    (void)state;
    check_all_sizes(ATTN_ACT_GELU_ERF);
}

static void test_relu(void **state) {
    (void)state;
    check_all_sizes(ATTN_ACT_RELU);
}

/* Known values, and relu'(0) == 0 as in PyTorch. */
static void test_known_values(void **state) {
    (void)state;
    float x[3] = {0.0f, 1.0f, -1.0f}, out[3];
    attn_activation_forward(ATTN_ACT_GELU_ERF, out, x, 3);
    float want_erf[3] = {0.0f, 0.8413447f, -0.1586553f};
    tu_assert_close(out, want_erf, 3, 1e-6, 1e-7, "gelu_erf known");
    attn_activation_forward(ATTN_ACT_GELU_TANH, out, x, 3);
    float want_tanh[3] = {0.0f, 0.8411920f, -0.1588080f};
    tu_assert_close(out, want_tanh, 3, 1e-6, 1e-7, "gelu_tanh known");
    float dx[1] = {0.5f}, zero[1] = {0.0f}, one[1] = {1.0f};
    attn_activation_backward(ATTN_ACT_RELU, dx, zero, one, 1);
    assert_true(dx[0] == 0.5f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gelu_tanh),
        cmocka_unit_test(test_gelu_erf),
        cmocka_unit_test(test_relu),
        cmocka_unit_test(test_known_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
