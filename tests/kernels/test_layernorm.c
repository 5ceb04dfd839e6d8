/* tests/kernels/test_layernorm.c: LayerNorm forward (out, mean, rstd) against a double reference;
 * backward (dinp, dweight, dbias, accumulated) against central finite differences of
 * L = sum(out * R) computed in double. */
#include "testutil.h"
#include "kernels/layernorm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-5f

typedef struct {
    int N, C;
    double *x, *w, *b, *R;
    double *mean, *rstd; /* (N) row statistics of x */
} ln_ctx;

// out, x: (C); returns nothing, stores mean and rstd
static void ref_row(double *out, double *mean, double *rstd, const double *x, const double *w,
                    const double *b, int C) {
    double m = 0, v = 0;
    for (int c = 0; c < C; c++)
        m += x[c];
    m /= C;
    for (int c = 0; c < C; c++)
        v += (x[c] - m) * (x[c] - m);
    double r = 1 / sqrt(v / C + EPS);
    for (int c = 0; c < C; c++)
        out[c] = (x[c] - m) * r * w[c] + b[c];
    *mean = m;
    *rstd = r;
}

/* sum over rows [r0, r1) of out * R; out is scratch of C doubles */
static double rows_objective(const ln_ctx *k, int r0, int r1, double *out) {
    double L = 0, m, r;
    for (int n = r0; n < r1; n++) {
        ref_row(out, &m, &r, k->x + (long)n * k->C, k->w, k->b, k->C);
        for (int c = 0; c < k->C; c++)
            L += out[c] * k->R[(long)n * k->C + c];
    }
    return L;
}

/* Central difference of f(k, arg, scratch) with respect to *p (h = 1e-6). */
static double central_diff(double (*f)(const ln_ctx *, int, double *), const ln_ctx *k, int arg,
                           double *p, double *scratch) {
    const double h = 1e-6;
    double p0 = *p;
    *p = p0 + h;
    double lp = f(k, arg, scratch);
    *p = p0 - h;
    double lm = f(k, arg, scratch);
    *p = p0;
    return (lp - lm) / (2 * h);
}

/* x[n, c] only affects row n: the part of L in row n. */
static double row_objective(const ln_ctx *k, int n, double *scratch) {
    return rows_objective(k, n, n + 1, scratch);
}

/* weight[c] and bias[c] only affect column c: the part of L in column c (the row statistics do
 * not depend on them, so they come from k->mean, k->rstd). */
static double column_objective(const ln_ctx *k, int c, double *scratch) {
    double L = 0;
    for (int n = 0; n < k->N; n++) {
        double xhat = (k->x[(long)n * k->C + c] - k->mean[n]) * k->rstd[n];
        L += (xhat * k->w[c] + k->b[c]) * k->R[(long)n * k->C + c];
    }
    return L;
}

static double *plus_fd_rows(const ln_ctx *k, const float *init, double *scratch) {
    long n = (long)k->N * k->C;
    double *want = malloc(n * sizeof *want);
    for (long i = 0; i < n; i++)
        want[i] = init[i] + central_diff(row_objective, k, (int)(i / k->C), &k->x[i], scratch);
    return want;
}

static double *plus_fd_param(const ln_ctx *k, double *param, const float *init, double *scratch) {
    double *want = malloc(k->C * sizeof *want);
    for (int c = 0; c < k->C; c++)
        want[c] = init[c] + central_diff(column_objective, k, c, &param[c], scratch);
    return want;
}

static float *copy_of(const float *x, long n) {
    float *y = malloc((n > 0 ? n : 1) * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

static void check_forward(attn_rng *rng, const ln_ctx *k, const float *x, const float *w,
                          const float *b) {
    long n = (long)k->N * k->C;
    float *out = tu_randn(rng, n, 1), *mean = tu_randn(rng, k->N, 1),
          *rstd = tu_randn(rng, k->N, 1);
    double *want = malloc(n * sizeof *want), *wm = malloc(k->N * sizeof *wm);
    double *wr = malloc(k->N * sizeof *wr);
    for (int r = 0; r < k->N; r++)
        ref_row(want + (long)r * k->C, &wm[r], &wr[r], k->x + (long)r * k->C, k->w, k->b, k->C);
    attn_layernorm_forward(out, mean, rstd, x, w, b, k->N, k->C, EPS);
    tu_assert_close_d(out, want, n, 1e-4, 1e-5, "layernorm out");
    tu_assert_close_d(mean, wm, k->N, 1e-5, 1e-6, "layernorm mean");
    tu_assert_close_d(rstd, wr, k->N, 1e-4, 0, "layernorm rstd");
    float *out2 = tu_zeros(n); /* mean and rstd are optional */
    attn_layernorm_forward(out2, NULL, NULL, x, w, b, k->N, k->C, EPS);
    tu_assert_close(out2, out, n, 0, 0, "layernorm out without stats");
    free(out), free(mean), free(rstd), free(want), free(wm), free(wr), free(out2);
}

static void check_layernorm(int N, int C, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    long n = (long)N * C;
    float *x = tu_randn(&rng, n, 2.0f), *w = tu_randn(&rng, C, 1), *b = tu_randn(&rng, C, 1);
    for (long i = 0; i < n; i++)
        x[i] += 3.0f; /* a mean far from 0 */
    float *R = tu_randn(&rng, n, 1);
    ln_ctx k = {N,
                C,
                tu_to_double(x, n),
                tu_to_double(w, C),
                tu_to_double(b, C),
                tu_to_double(R, n),
                malloc(N * sizeof(double)),
                malloc(N * sizeof(double))};
    double *scratch = malloc(C * sizeof *scratch);
    for (int r = 0; r < N; r++)
        ref_row(scratch, &k.mean[r], &k.rstd[r], k.x + (long)r * C, k.w, k.b, C);
    check_forward(&rng, &k, x, w, b);

    float *mean = malloc(N * sizeof *mean), *rstd = malloc(N * sizeof *rstd), *out = tu_zeros(n);
    attn_layernorm_forward(out, mean, rstd, x, w, b, N, C, EPS);
    float *i_dx = tu_randn(&rng, n, 1), *i_dw = tu_randn(&rng, C, 1), *i_db = tu_randn(&rng, C, 1);
    float *dx = copy_of(i_dx, n), *dw = copy_of(i_dw, C), *db = copy_of(i_db, C);
    attn_layernorm_backward(dx, dw, db, R, x, w, mean, rstd, N, C);
    double *want_dx = plus_fd_rows(&k, i_dx, scratch);
    double *want_dw = plus_fd_param(&k, k.w, i_dw, scratch);
    double *want_db = plus_fd_param(&k, k.b, i_db, scratch);
    tu_assert_close_d(dx, want_dx, n, 1e-4, 1e-4, "layernorm dinp");
    tu_assert_close_d(dw, want_dw, C, 1e-4, 1e-4, "layernorm dweight");
    tu_assert_close_d(db, want_db, C, 1e-4, 1e-4, "layernorm dbias");

    /* any gradient may be NULL; the others are unchanged by that */
    float *dx2 = copy_of(i_dx, n), *db2 = copy_of(i_db, C);
    attn_layernorm_backward(dx2, NULL, db2, R, x, w, mean, rstd, N, C);
    tu_assert_close(dx2, dx, n, 0, 0, "layernorm dinp alone");
    tu_assert_close(db2, db, C, 0, 0, "layernorm dbias alone");

    free(x), free(w), free(b), free(R), free(k.x), free(k.w), free(k.b), free(k.R);
    free(k.mean), free(k.rstd);
    free(mean), free(rstd), free(out), free(i_dx), free(i_dw), free(i_db), free(dx), free(dw);
    free(db), free(scratch), free(want_dx), free(want_dw), free(want_db), free(dx2), free(db2);
}

static void test_shapes(void **state) {
    (void)state;
    static const int shapes[][2] = {{1, 1}, {1, 7}, {3, 33}, {5, 16}, {2, 130}};
    for (int s = 0; s < 5; s++)
        check_layernorm(shapes[s][0], shapes[s][1], s);
}

/* N * C above the threading threshold; C spans several column blocks. */
static void test_threaded(void **state) {
    (void)state;
    check_layernorm(260, 130, 10);
}

/* A constant row: var = 0, so out = bias and rstd = 1 / sqrt(eps), no NaN. */
static void test_constant_row(void **state) {
    (void)state;
    float x[4] = {2, 2, 2, 2}, w[4] = {1, 2, 3, 4}, b[4] = {0.5f, -1, 0, 7}, out[4], m, r;
    attn_layernorm_forward(out, &m, &r, x, w, b, 1, 4, EPS);
    tu_assert_close(out, b, 4, 0, 1e-6, "constant row");
    float want_r = 1.0f / sqrtf(EPS);
    tu_assert_close(&r, &want_r, 1, 1e-5, 0, "constant row rstd");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_threaded),
        cmocka_unit_test(test_constant_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
