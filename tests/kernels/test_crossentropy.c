/* tests/kernels/test_crossentropy.c: cross-entropy forward (sum, count, lse) against a double
 * reference; backward (written, not accumulated) against central finite differences of
 * scale * loss; ignored rows, all rows ignored, label smoothing, huge logits, aliasing. */
#include "testutil.h"
#include "kernels/crossentropy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double ref_lse(const double *x, int V) {
    double max = -INFINITY, sum = 0;
    for (int k = 0; k < V; k++)
        max = fmax(max, x[k]);
    for (int k = 0; k < V; k++)
        sum += exp(x[k] - max);
    return max + log(sum);
}

/* -sum_k q_k log softmax(x)_k with q = (1 - e) onehot(y) + e / V */
static double ref_row_loss(const double *x, int y, int V, double e) {
    double lse = ref_lse(x, V), loss = 0;
    for (int k = 0; k < V; k++)
        loss -= ((k == y) * (1 - e) + e / V) * (x[k] - lse);
    return loss;
}

/* dloss/dx = softmax(x) - q, for logits too large for finite differences */
static void ref_row_grad(double *g, const double *x, int y, int V, double e) {
    double lse = ref_lse(x, V);
    for (int k = 0; k < V; k++)
        g[k] = exp(x[k] - lse) - ((k == y) * (1 - e) + e / V);
}

typedef struct {
    int N, V, ignore;
    float smoothing;
    float *logits;
    int *targets;
} ce_case;

/* Random logits (std `std`) and targets; rows with n % ignore_every == 1 are ignored. */
static ce_case make_case(int N, int V, int ignore, int ignore_every, float smoothing, float std,
                         unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    ce_case c = {
        N, V, ignore, smoothing, tu_randn(&rng, (long)N * V, std), malloc(N * sizeof(int))};
    for (int n = 0; n < N; n++) {
        int y = (int)attn_rng_below(&rng, V);
        c.targets[n] = ignore_every && n % ignore_every == 1 ? ignore : y;
    }
    return c;
}

static void free_case(ce_case c) {
    free(c.logits), free(c.targets);
}

/* Forward against the reference; returns the kernel's count. lse is checked on every row. */
static long check_forward(const ce_case *c, float *lse) {
    long n = (long)c->N * c->V, count = -1, want_count = 0;
    double *x = tu_to_double(c->logits, n), want_sum = 0, *want_lse = malloc(c->N * sizeof(double));
    for (int r = 0; r < c->N; r++) {
        want_lse[r] = ref_lse(x + (long)r * c->V, c->V);
        if (c->targets[r] == c->ignore) continue;
        want_sum += ref_row_loss(x + (long)r * c->V, c->targets[r], c->V, c->smoothing);
        want_count++;
    }
    double sum = attn_crossentropy_forward(lse, c->logits, c->targets, c->N, c->V, c->ignore,
                                           c->smoothing, &count);
    assert_int_equal(count, want_count);
    if (!(fabs(sum - want_sum) <= 1e-5 * fabs(want_sum) + 1e-5))
        fail_msg("crossentropy sum %.9g, want %.9g", sum, want_sum);
    tu_assert_close_d(lse, want_lse, c->N, 1e-6, 1e-6, "crossentropy lse");
    free(x), free(want_lse);
    return count;
}

/* Backward against scale * (finite differences of the row loss) (or the closed form if `closed`);
 * dlogits starts as NaN so every entry must be written; also in place over a copy of logits. */
static void check_backward(const ce_case *c, const float *lse, float scale, int closed) {
    long n = (long)c->N * c->V;
    double *x = tu_to_double(c->logits, n), *want = calloc(n, sizeof(double));
    const double h = 1e-6;
    for (int r = 0; r < c->N; r++) {
        double *xr = x + (long)r * c->V, *wr = want + (long)r * c->V;
        int y = c->targets[r];
        if (y == c->ignore) continue;
        if (closed) ref_row_grad(wr, xr, y, c->V, c->smoothing);
        for (int k = 0; !closed && k < c->V; k++) { /* x[r, k] only affects row r */
            double x0 = xr[k];
            xr[k] = x0 + h;
            double lp = ref_row_loss(xr, y, c->V, c->smoothing);
            xr[k] = x0 - h;
            wr[k] = (lp - ref_row_loss(xr, y, c->V, c->smoothing)) / (2 * h);
            xr[k] = x0;
        }
        for (int k = 0; k < c->V; k++)
            wr[k] *= scale;
    }
    float *d = malloc(n * sizeof *d);
    for (long i = 0; i < n; i++)
        d[i] = NAN;
    attn_crossentropy_backward(d, c->logits, lse, c->targets, c->N, c->V, c->ignore, c->smoothing,
                               scale);
    tu_assert_close_d(d, want, n, 1e-4, 1e-6, "crossentropy dlogits");
    float *inplace = malloc(n * sizeof *inplace); /* dlogits aliasing logits */
    memcpy(inplace, c->logits, n * sizeof *inplace);
    attn_crossentropy_backward(inplace, inplace, lse, c->targets, c->N, c->V, c->ignore,
                               c->smoothing, scale);
    tu_assert_close(inplace, d, n, 0, 0, "crossentropy dlogits in place");
    free(x), free(want), free(d), free(inplace);
}

static void check_case(ce_case c, int closed) {
    float *lse = malloc(c.N * sizeof *lse);
    long count = check_forward(&c, lse);
    check_backward(&c, lse, count ? 1.0f / count : 1.0f, closed);
    free(lse), free_case(c);
}

static void test_shapes(void **state) {
    (void)state;
    check_case(make_case(1, 1, -100, 0, 0, 1, 1), 0); /* V = 1: loss 0, gradient 0 */
    check_case(make_case(1, 7, -100, 0, 0, 1, 2), 0);
    check_case(make_case(5, 33, -100, 0, 0, 2, 3), 0);
    check_case(make_case(3, 17, -100, 0, 0, 0.01f, 4), 0);
}

static void test_ignored_rows(void **state) {
    (void)state;
    check_case(make_case(7, 19, -100, 3, 0, 1, 10), 0);
    check_case(make_case(6, 16, 0, 2, 0.1f, 1, 11), 0); /* ignore_index = 0, a real class id */
}

/* Every row ignored: count 0, sum 0, gradient all zeros. */
static void test_all_ignored(void **state) {
    (void)state;
    ce_case c = make_case(4, 9, -1, 1, 0.1f, 1, 20);
    for (int n = 0; n < c.N; n++)
        c.targets[n] = -1;
    float lse[4], d[36];
    long count = 5;
    double sum = attn_crossentropy_forward(lse, c.logits, c.targets, 4, 9, -1, 0.1f, &count);
    assert_int_equal(count, 0);
    assert_true(sum == 0.0);
    for (int i = 0; i < 36; i++)
        d[i] = NAN;
    attn_crossentropy_backward(d, c.logits, lse, c.targets, 4, 9, -1, 0.1f, 1.0f);
    for (int i = 0; i < 36; i++)
        assert_true(d[i] == 0.0f);
    free_case(c);
}

static void test_smoothing(void **state) {
    (void)state;
    check_case(make_case(5, 33, -100, 0, 0.1f, 1, 30), 0);
    check_case(make_case(4, 8, -100, 3, 0.5f, 2, 31), 0);
    check_case(make_case(2, 3, -100, 0, 1.0f, 1, 32), 0); /* uniform target */
}

/* N * V above the threading threshold. */
static void test_threaded(void **state) {
    (void)state;
    check_case(make_case(40, 500, -100, 7, 0.1f, 3, 40), 0);
    check_case(make_case(300, 257, -100, 5, 0, 1, 41), 1);
}

/* Logits of 1e4 and 1e30 overflow a naive exp: the loss and gradients must stay finite. */
static void test_huge_logits(void **state) {
    (void)state;
    float scales[] = {1e4f, 1e30f};
    for (int s = 0; s < 2; s++) {
        ce_case c = make_case(6, 11, -100, 4, s ? 0.1f : 0, 1, 50 + s);
        for (long i = 0; i < 66; i++)
            c.logits[i] *= scales[s];
        c.logits[0] = 3e38f; /* close to FLT_MAX */
        float lse[6], d[66];
        long count;
        double sum =
            attn_crossentropy_forward(lse, c.logits, c.targets, 6, 11, -100, c.smoothing, &count);
        assert_true(isfinite(sum));
        attn_crossentropy_backward(d, c.logits, lse, c.targets, 6, 11, -100, c.smoothing, 1.0f);
        for (int i = 0; i < 66; i++)
            assert_true(isfinite(d[i]));
        check_case(c, 1);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),      cmocka_unit_test(test_ignored_rows),
        cmocka_unit_test(test_all_ignored), cmocka_unit_test(test_smoothing),
        cmocka_unit_test(test_threaded),    cmocka_unit_test(test_huge_logits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
