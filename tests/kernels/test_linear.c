/* tests/kernels/test_linear.c: linear forward against a double reference; backward against central
 * finite differences of it (small shapes) and its closed form (a shape big enough to thread). */
#include "testutil.h"
#include "kernels/linear.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int N, IC, OC;
    double *inp, *w, *b, *R; /* b may be NULL */
} lin_ctx;

// out: (N, OC) = inp (N, IC) @ w^T (IC, OC) + b
static void ref_forward(double *out, const lin_ctx *c) {
    for (int n = 0; n < c->N; n++) {
        for (int o = 0; o < c->OC; o++) {
            double acc = c->b ? c->b[o] : 0;
            for (int i = 0; i < c->IC; i++)
                acc += c->inp[n * c->IC + i] * c->w[o * c->IC + i];
            out[n * c->OC + o] = acc;
        }
    }
}

/* L = sum(out * R) */
static double objective(void *ctx) {
    lin_ctx *c = ctx;
    long n = (long)c->N * c->OC;
    double *out = malloc(n * sizeof *out), L = 0;
    ref_forward(out, c);
    for (long i = 0; i < n; i++)
        L += out[i] * c->R[i];
    free(out);
    return L;
}

/* grad[i] = dL/dx[i] by central differences, h = 1e-6 (x is perturbed in place and restored). */
static void fd_grad(double *grad, double *x, long n, double (*L)(void *), void *ctx) {
    const double h = 1e-6;
    for (long i = 0; i < n; i++) {
        double x0 = x[i];
        x[i] = x0 + h;
        double lp = L(ctx);
        x[i] = x0 - h;
        double lm = L(ctx);
        x[i] = x0;
        grad[i] = (lp - lm) / (2 * h);
    }
}

static float *copy_of(const float *x, long n) {
    float *y = malloc((n > 0 ? n : 1) * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

/* want[i] = base[i] + grad[i]: what an accumulating backward must produce. */
static double *plus(const float *base, const double *grad, long n) {
    double *y = malloc((n > 0 ? n : 1) * sizeof *y);
    for (long i = 0; i < n; i++)
        y[i] = base[i] + grad[i];
    return y;
}

static void check_forward(int N, int IC, int OC, int with_bias, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    float *inp = tu_randn(&rng, (long)N * IC, 1), *w = tu_randn(&rng, (long)OC * IC, 0.3f);
    float *b = tu_randn(&rng, OC, 1), *out = tu_randn(&rng, (long)N * OC, 1);
    lin_ctx c = {N,
                 IC,
                 OC,
                 tu_to_double(inp, (long)N * IC),
                 tu_to_double(w, (long)OC * IC),
                 with_bias ? tu_to_double(b, OC) : NULL,
                 NULL};
    double *want = malloc((long)N * OC * sizeof *want);
    ref_forward(want, &c);
    attn_linear_forward(out, inp, w, with_bias ? b : NULL, N, IC, OC);
    tu_assert_close_d(out, want, (long)N * OC, 1e-5, 1e-5, "linear forward");
    free(inp), free(w), free(b), free(out), free(want), free(c.inp), free(c.w), free(c.b);
}

static void test_forward(void **state) {
    (void)state;
    static const int shapes[][3] = {
        {1, 1, 1}, {3, 5, 7}, {7, 17, 13}, {33, 19, 47}, {300, 40, 260}};
    for (int s = 0; s < 5; s++) {
        for (int with_bias = 0; with_bias < 2; with_bias++)
            check_forward(shapes[s][0], shapes[s][1], shapes[s][2], with_bias, 10 * s + with_bias);
    }
}

typedef struct {
    float *dinp, *dw, *db;
} grads;

/* Runs backward with dout = R into random initial gradients (NULL where `use` says so) and checks
 * each requested one against init + finite differences (or the closed form if `closed`). */
static void check_backward(int N, int IC, int OC, unsigned use, int closed, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 1);
    long ni = (long)N * IC, nw = (long)OC * IC, no = (long)N * OC;
    float *inp = tu_randn(&rng, ni, 1), *w = tu_randn(&rng, nw, 0.3f), *R = tu_randn(&rng, no, 1);
    float *b = tu_randn(&rng, OC, 1);
    grads init = {tu_randn(&rng, ni, 1), tu_randn(&rng, nw, 1), tu_randn(&rng, OC, 1)};
    grads got = {use & 1 ? copy_of(init.dinp, ni) : NULL, use & 2 ? copy_of(init.dw, nw) : NULL,
                 use & 4 ? copy_of(init.db, OC) : NULL};
    attn_linear_backward(got.dinp, got.dw, got.db, R, inp, w, N, IC, OC);

    lin_ctx c = {N,
                 IC,
                 OC,
                 tu_to_double(inp, ni),
                 tu_to_double(w, nw),
                 tu_to_double(b, OC),
                 tu_to_double(R, no)};
    double *g_inp = calloc(ni, sizeof(double)), *g_w = calloc(nw, sizeof(double));
    double *g_b = calloc(OC, sizeof(double));
    if (closed) {
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++) {
                double r = c.R[n * OC + o];
                g_b[o] += r;
                for (int i = 0; i < IC; i++) {
                    g_inp[n * IC + i] += r * c.w[o * IC + i];
                    g_w[o * IC + i] += r * c.inp[n * IC + i];
                }
            }
    } else {
        fd_grad(g_inp, c.inp, ni, objective, &c);
        fd_grad(g_w, c.w, nw, objective, &c);
        fd_grad(g_b, c.b, OC, objective, &c);
    }
    double *want_inp = plus(init.dinp, g_inp, ni), *want_w = plus(init.dw, g_w, nw);
    double *want_b = plus(init.db, g_b, OC);
    if (got.dinp) tu_assert_close_d(got.dinp, want_inp, ni, 1e-4, 1e-4, "linear dinp");
    if (got.dw) tu_assert_close_d(got.dw, want_w, nw, 1e-4, 1e-4, "linear dweight");
    if (got.db) tu_assert_close_d(got.db, want_b, OC, 1e-4, 1e-4, "linear dbias");

    free(inp), free(w), free(R), free(b), free(init.dinp), free(init.dw), free(init.db);
    free(got.dinp), free(got.dw), free(got.db), free(c.inp), free(c.w), free(c.b), free(c.R);
    free(g_inp), free(g_w), free(g_b), free(want_inp), free(want_w), free(want_b);
}

static void test_backward_fd(void **state) {
    (void)state;
    static const int shapes[][3] = {{1, 1, 1}, {1, 7, 3}, {3, 5, 7}, {7, 17, 13}, {16, 24, 20}};
    for (int s = 0; s < 5; s++)
        check_backward(shapes[s][0], shapes[s][1], shapes[s][2], 7, 0, s);
}

/* N * OC above the threading threshold, OC above one dbias block. */
static void test_backward_threaded(void **state) {
    (void)state;
    check_backward(300, 40, 260, 7, 1, 50);
    check_backward(513, 3, 1030, 7, 1, 51);
}

/* Any gradient may be NULL; the others are still right. */
static void test_backward_null_grads(void **state) {
    (void)state;
    for (unsigned use = 0; use < 8; use++)
        check_backward(5, 6, 4, use, 0, 60 + use);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward),
        cmocka_unit_test(test_backward_fd),
        cmocka_unit_test(test_backward_threaded),
        cmocka_unit_test(test_backward_null_grads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
