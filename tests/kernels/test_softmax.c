/* tests/kernels/test_softmax.c: softmax forward against a double reference, backward against
 * central finite differences of L = sum(softmax(x) * R); -INFINITY entries and masked rows. */
#include "testutil.h"
#include "kernels/softmax.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// y, x: (cols), double; an all -inf row gives zeros (the kernel's convention)
static void ref_softmax_row(double *y, const double *x, int cols) {
    double max = -INFINITY, sum = 0;
    for (int j = 0; j < cols; j++)
        max = fmax(max, x[j]);
    for (int j = 0; j < cols; j++) {
        y[j] = max == -INFINITY ? 0 : exp(x[j] - max);
        sum += y[j];
    }
    for (int j = 0; j < cols; j++)
        y[j] = sum > 0 ? y[j] / sum : 0;
}

/* L_r = sum_j softmax(x_r)_j R_rj; y is scratch of cols doubles. */
static double row_objective(const double *x, const double *R, double *y, int cols) {
    ref_softmax_row(y, x, cols);
    double L = 0;
    for (int j = 0; j < cols; j++)
        L += y[j] * R[j];
    return L;
}

/* Random (rows, cols) logits; with `masked`, about a quarter of the entries are -INFINITY, and
 * row 1 (if any) entirely. */
static float *make_logits(attn_rng *rng, int rows, int cols, int masked) {
    float *x = tu_randn(rng, (long)rows * cols, 2.0f);
    if (!masked) return x;
    for (long i = 0; i < (long)rows * cols; i++)
        if (attn_rng_uniform(rng) < 0.25f) x[i] = -INFINITY;
    for (int j = 0; rows > 1 && j < cols; j++)
        x[cols + j] = -INFINITY;
    return x;
}

static void check_softmax(int rows, int cols, int masked, int alias, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    long n = (long)rows * cols;
    float *x = make_logits(&rng, rows, cols, masked), *R = tu_randn(&rng, n, 1.0f);
    float *init = tu_randn(&rng, n, 1.0f), *dx = malloc(n * sizeof *dx);
    float *y = alias ? malloc(n * sizeof *y) : tu_randn(&rng, n, 1.0f);
    memcpy(dx, init, n * sizeof *dx);
    double *xd = tu_to_double(x, n), *Rd = tu_to_double(R, n);
    double *want_y = malloc(n * sizeof *want_y), *want_dx = malloc(n * sizeof *want_dx);
    double *scratch = malloc(cols * sizeof *scratch);
    const double h = 1e-6;
    for (int r = 0; r < rows; r++) {
        double *xr = xd + (long)r * cols, *Rr = Rd + (long)r * cols;
        ref_softmax_row(want_y + (long)r * cols, xr, cols);
        for (int j = 0; j < cols; j++) {
            double x0 = xr[j], g = 0;
            if (x0 != -INFINITY) { /* y = 0 there for every finite perturbation: gradient 0 */
                xr[j] = x0 + h;
                double lp = row_objective(xr, Rr, scratch, cols);
                xr[j] = x0 - h;
                g = (lp - row_objective(xr, Rr, scratch, cols)) / (2 * h);
                xr[j] = x0;
            }
            want_dx[(long)r * cols + j] = init[(long)r * cols + j] + g;
        }
    }
    if (alias) memcpy(y, x, n * sizeof *y);
    attn_softmax_forward(y, alias ? y : x, rows, cols);
    tu_assert_close_d(y, want_y, n, 1e-5, 1e-7, "softmax forward");
    attn_softmax_backward(dx, y, R, rows, cols);
    tu_assert_close_d(dx, want_dx, n, 1e-4, 1e-5, "softmax backward");
    free(x), free(R), free(init), free(dx), free(y), free(xd), free(Rd);
    free(want_y), free(want_dx), free(scratch);
}

static void test_shapes(void **state) {
    (void)state;
    static const int shapes[][2] = {{1, 1}, {1, 7}, {5, 33}, {3, 1000}, {4, 16}};
    for (int s = 0; s < 5; s++)
        check_softmax(shapes[s][0], shapes[s][1], 0, 0, s);
}

/* rows * cols above the threading threshold */
static void test_threaded(void **state) {
    (void)state;
    check_softmax(70, 257, 0, 0, 20);
    check_softmax(70, 257, 1, 1, 21);
}

static void test_minus_infinity(void **state) {
    (void)state;
    check_softmax(6, 19, 1, 0, 30);
    check_softmax(2, 1, 1, 0, 31); /* row 1 is one -inf entry */
    /* explicit values: softmax(-inf, 0, log 3) = (0, 1/4, 3/4); an all -inf row gives zeros */
    float x[6] = {-INFINITY, 0.0f, logf(3.0f), -INFINITY, -INFINITY, -INFINITY}, y[6];
    float want[6] = {0, 0.25f, 0.75f, 0, 0, 0};
    attn_softmax_forward(y, x, 2, 3);
    tu_assert_close(y, want, 6, 1e-6, 0, "softmax -inf");
}

static void test_aliasing(void **state) {
    (void)state;
    check_softmax(9, 45, 0, 1, 40);
}

/* Large logits must not overflow (max subtraction). */
static void test_large_logits(void **state) {
    (void)state;
    float x[4] = {1e30f, 1e30f, -1e30f, 0}, y[4], want[4] = {0.5f, 0.5f, 0, 0};
    attn_softmax_forward(y, x, 1, 4);
    tu_assert_close(y, want, 4, 1e-6, 0, "softmax large");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),         cmocka_unit_test(test_threaded),
        cmocka_unit_test(test_minus_infinity), cmocka_unit_test(test_aliasing),
        cmocka_unit_test(test_large_logits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
