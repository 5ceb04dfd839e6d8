/* tests/kernels/test_conv2d.c: 2-D convolution, channels last (src/kernels/conv2d.c).
 * - fast against the plain reference (double accumulators), forward and backward (dinp, dweight,
 *   dbias), on shapes with Cin = 1 (the first layer), with one block of output rows and with
 *   several (Cin = 96), K = 3 with S = 2 and S = 1, K = S, K = 5 S = 3 (input past the last
 *   window), H != W, B > 1, odd sizes: to 1e-4 + 1e-4 relative;
 *   gradients accumulate (+=: two backward calls onto random gradients) and NULL dinp / dbias skip;
 * - central finite differences of L = sum(out * R), summed in double over the float reference, for
 *   the input, weight and bias: out is linear in each, so the difference has no truncation error,
 *   only float rounding (~1e-7 |out| / h with h = 0.25): to 1e-3 (1 + |fd|);
 * - against torch.nn.functional.conv2d (tests/kernels/conv2d_reference.py, run with
 *   /usr/bin/python3; float64 there on the same float32 inputs): out and the three gradients to
 *   1e-5 + 1e-5 relative; skipped (77) without torch;
 * - the argument errors (ATTN_ERR_INVALID with a message). */
#define _POSIX_C_SOURCE 200809L /* popen */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "attn/status.h"
#include "kernels/conv2d.h"

typedef struct {
    int B, H, W, Cin, Cout, K, S;
} shape;

static int out_h(shape s) {
    return (s.H - s.K) / s.S + 1;
}
static int out_w(shape s) {
    return (s.W - s.K) / s.S + 1;
}
static long n_inp(shape s) {
    return (long)s.B * s.H * s.W * s.Cin;
}
static long n_out(shape s) {
    return (long)s.B * out_h(s) * out_w(s) * s.Cout;
}
static long n_weight(shape s) {
    return (long)s.Cout * s.Cin * s.K * s.K;
}

static float *copy(const float *x, long n) {
    float *y = malloc((size_t)n * sizeof *y);
    memcpy(y, x, (size_t)n * sizeof *y);
    return y;
}

#define SIZES(s) s.B, s.H, s.W, s.Cin, s.Cout, s.K, s.S

static void check_fast_against_ref(shape s, int seed) {
    attn_rng rng;
    attn_rng_init(&rng, (uint64_t)seed, 7);
    long ni = n_inp(s), no = n_out(s), nw = n_weight(s);
    float *inp = tu_randn(&rng, ni, 1.0f), *w = tu_randn(&rng, nw, 0.3f);
    float *b = tu_randn(&rng, s.Cout, 1.0f), *dout = tu_randn(&rng, no, 1.0f);
    float *out = tu_randn(&rng, no, 1.0f), *want = tu_zeros(no); /* out starts as garbage */
    assert_int_equal(attn_conv2d_forward(out, inp, w, b, SIZES(s)), ATTN_OK);
    attn_conv2d_forward_ref(want, inp, w, b, SIZES(s));
    tu_assert_close(out, want, no, 1e-4, 1e-4, "conv2d forward");
    assert_int_equal(attn_conv2d_forward(out, inp, w, NULL, SIZES(s)), ATTN_OK);
    attn_conv2d_forward_ref(want, inp, w, NULL, SIZES(s));
    tu_assert_close(out, want, no, 1e-4, 1e-4, "conv2d forward, no bias");

    /* Twice onto random gradients, both ways: each must add its gradient, not overwrite. */
    float *dinp = tu_randn(&rng, ni, 1.0f), *dw = tu_randn(&rng, nw, 1.0f);
    float *db = tu_randn(&rng, s.Cout, 1.0f);
    float *dinp_r = copy(dinp, ni), *dw_r = copy(dw, nw), *db_r = copy(db, s.Cout);
    for (int rep = 0; rep < 2; rep++) {
        assert_int_equal(attn_conv2d_backward(dinp, dw, db, dout, inp, w, SIZES(s)), ATTN_OK);
        attn_conv2d_backward_ref(dinp_r, dw_r, db_r, dout, inp, w, SIZES(s));
    }
    tu_assert_close(dinp, dinp_r, ni, 1e-4, 1e-4, "conv2d dinp");
    tu_assert_close(dw, dw_r, nw, 1e-4, 1e-4, "conv2d dweight");
    tu_assert_close(db, db_r, s.Cout, 1e-4, 1e-4, "conv2d dbias");
    /* dinp and dbias NULL (the first layer): dweight alone, the same once. */
    float *dw1 = copy(dw_r, nw);
    memcpy(dw, dw_r, (size_t)nw * sizeof *dw);
    assert_int_equal(attn_conv2d_backward(NULL, dw, NULL, dout, inp, w, SIZES(s)), ATTN_OK);
    attn_conv2d_backward_ref(NULL, dw1, NULL, dout, inp, w, SIZES(s));
    tu_assert_close(dw, dw1, nw, 1e-4, 1e-4, "conv2d dweight alone");
    free(inp), free(w), free(b), free(dout), free(out), free(want);
    free(dinp), free(dw), free(db), free(dinp_r), free(dw_r), free(db_r), free(dw1);
}

static void test_fast_against_ref(void **state) {
    (void)state;
    const shape shapes[] = {
        {2, 21, 16, 1, 12, 3, 2}, /* the first layer */
        {3, 9, 13, 1, 5, 3, 1},   /* Cin = 1, stride 1 */
        {1, 6, 6, 4, 3, 2, 2},    /* K = S */
        {2, 13, 9, 6, 7, 3, 2},   /* the second layer, small */
        {2, 10, 7, 3, 5, 3, 1},   /* stride 1 */
        {3, 12, 7, 2, 3, 5, 3},   /* K = 5 S = 3: input past the last window */
        {1, 3, 3, 3, 2, 3, 2},    /* one output pixel */
        {2, 41, 41, 96, 8, 3, 2}, /* the second layer's channels: several blocks */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_fast_against_ref(shapes[i], 100 + (int)i);
}

/* L = sum(out * R), out by the reference, summed in double */
static double objective(const float *inp, const float *w, const float *b, const float *R, shape s) {
    long no = n_out(s);
    float *out = malloc((size_t)no * sizeof *out);
    attn_conv2d_forward_ref(out, inp, w, b, SIZES(s));
    double L = 0;
    for (long i = 0; i < no; i++)
        L += (double)out[i] * R[i];
    free(out);
    return L;
}

/* Each x[i] in turn: (L(x + h) - L(x - h)) / 2h against grad[i]. */
static void check_fd(float *x, long n, const float *grad, const float *inp, const float *w,
                     const float *b, const float *R, shape s, const char *what) {
    const float h = 0.25f;
    double worst = 0;
    for (long i = 0; i < n; i++) {
        float x0 = x[i];
        x[i] = x0 + h;
        double Lp = objective(inp, w, b, R, s);
        x[i] = x0 - h;
        double Lm = objective(inp, w, b, R, s);
        x[i] = x0;
        double fd = (Lp - Lm) / (2.0 * h), err = fabs(grad[i] - fd) / (1 + fabs(fd));
        if (err > worst) worst = err;
        if (err > 1e-3)
            fail_msg("%s[%ld]: backward %g, finite difference %g", what, i, grad[i], fd);
    }
    printf("finite differences, %s: worst %.2g\n", what, worst);
}

static void test_finite_differences(void **state) {
    (void)state;
    const shape shapes[] = {{2, 7, 6, 2, 3, 3, 2}, {1, 6, 5, 1, 4, 3, 1}};
    for (int k = 0; k < 2; k++) {
        shape s = shapes[k];
        attn_rng rng;
        attn_rng_init(&rng, 5, (uint64_t)k);
        long ni = n_inp(s), no = n_out(s), nw = n_weight(s);
        float *inp = tu_randn(&rng, ni, 1.0f), *w = tu_randn(&rng, nw, 0.5f);
        float *b = tu_randn(&rng, s.Cout, 1.0f), *R = tu_randn(&rng, no, 1.0f);
        float *dinp = tu_zeros(ni), *dw = tu_zeros(nw), *db = tu_zeros(s.Cout);
        assert_int_equal(attn_conv2d_backward(dinp, dw, db, R, inp, w, SIZES(s)), ATTN_OK);
        check_fd(inp, ni, dinp, inp, w, b, R, s, "dinp");
        check_fd(w, nw, dw, inp, w, b, R, s, "dweight");
        check_fd(b, s.Cout, db, inp, w, b, R, s, "dbias");
        free(inp), free(w), free(b), free(R), free(dinp), free(dw), free(db);
    }
}

static cJSON *reference;

static int load_reference(void) {
    const char *src = getenv("ATTN_SOURCE_DIR");
    if (access("/usr/bin/python3", X_OK) != 0) return 77;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/kernels/conv2d_reference.py'",
             src ? src : ".");
    char *buf;
    int status = tu_read_command(cmd, &buf);
    if (status == 77) {
        free(buf);
        return 77;
    }
    if (!buf || status != 0) {
        fprintf(stderr, "conv2d_reference.py failed (status %d)\n", status);
        free(buf);
        return 1;
    }
    reference = cJSON_Parse(buf);
    free(buf);
    return reference ? 0 : 1;
}

static int geti(const cJSON *o, const char *k) {
    return (int)cJSON_GetObjectItemCaseSensitive(o, k)->valuedouble;
}

/* The array o[k] as floats; its length must be n. */
static float *floats(const cJSON *o, const char *k, long n) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_non_null(a);
    assert_int_equal(cJSON_GetArraySize(a), n);
    float *v = malloc((size_t)(n + 1) * sizeof *v);
    long i = 0;
    for (const cJSON *e = a->child; e; e = e->next)
        v[i++] = (float)e->valuedouble;
    return v;
}

static void test_against_torch(void **state) {
    (void)state;
    if (!reference) skip();
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(reference, "cases");
    assert_int_equal(cJSON_GetArraySize(cases), 5);
    for (const cJSON *o = cases->child; o; o = o->next) {
        shape s = {geti(o, "B"),    geti(o, "H"), geti(o, "W"), geti(o, "Cin"),
                   geti(o, "Cout"), geti(o, "K"), geti(o, "S")};
        int has_bias = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "bias"));
        long ni = n_inp(s), no = n_out(s), nw = n_weight(s), nb = has_bias ? s.Cout : 0;
        float *inp = floats(o, "inp", ni), *w = floats(o, "weight", nw), *b = floats(o, "b", nb);
        float *dout = floats(o, "dout", no), *want_out = floats(o, "out", no);
        float *want_dinp = floats(o, "dinp", ni), *want_dw = floats(o, "dweight", nw);
        float *want_db = floats(o, "dbias", nb);
        float *out = tu_zeros(no), *dinp = tu_zeros(ni), *dw = tu_zeros(nw), *db = tu_zeros(s.Cout);
        const float *bias = has_bias ? b : NULL;
        assert_int_equal(attn_conv2d_forward(out, inp, w, bias, SIZES(s)), ATTN_OK);
        tu_assert_close(out, want_out, no, 1e-5, 1e-5, "torch out");
        assert_int_equal(
            attn_conv2d_backward(dinp, dw, has_bias ? db : NULL, dout, inp, w, SIZES(s)), ATTN_OK);
        tu_assert_close(dinp, want_dinp, ni, 1e-5, 1e-5, "torch dinp");
        tu_assert_close(dw, want_dw, nw, 1e-5, 1e-5, "torch dweight");
        if (has_bias) tu_assert_close(db, want_db, nb, 1e-5, 1e-5, "torch dbias");
        /* the reference too */
        attn_conv2d_forward_ref(out, inp, w, bias, SIZES(s));
        tu_assert_close(out, want_out, no, 1e-5, 1e-5, "torch out (reference)");
        memset(dinp, 0, (size_t)ni * sizeof *dinp), memset(dw, 0, (size_t)nw * sizeof *dw);
        attn_conv2d_backward_ref(dinp, dw, NULL, dout, inp, w, SIZES(s));
        tu_assert_close(dinp, want_dinp, ni, 1e-5, 1e-5, "torch dinp (reference)");
        tu_assert_close(dw, want_dw, nw, 1e-5, 1e-5, "torch dweight (reference)");
        free(inp), free(w), free(b), free(dout), free(want_out), free(want_dinp), free(want_dw);
        free(want_db), free(out), free(dinp), free(dw), free(db);
    }
}

static void expect_invalid(int B, int H, int W, int Cin, int Cout, int K, int S) {
    float buf[64] = {0};
    assert_int_equal(attn_conv2d_forward(buf, buf, buf, NULL, B, H, W, Cin, Cout, K, S),
                     ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "conv2d"));
    assert_int_equal(attn_conv2d_backward(buf, buf, buf, buf, buf, buf, B, H, W, Cin, Cout, K, S),
                     ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "conv2d"));
}

static void test_errors(void **state) {
    (void)state;
    expect_invalid(0, 3, 3, 1, 1, 3, 1);  /* B */
    expect_invalid(1, 0, 3, 1, 1, 3, 1);  /* H */
    expect_invalid(1, 3, -1, 1, 1, 3, 1); /* W */
    expect_invalid(1, 3, 3, 0, 1, 3, 1);  /* Cin */
    expect_invalid(1, 3, 3, 1, 0, 3, 1);  /* Cout */
    expect_invalid(1, 3, 3, 1, 1, 0, 1);  /* K */
    expect_invalid(1, 3, 3, 1, 1, 3, 0);  /* S */
    expect_invalid(1, 2, 3, 1, 1, 3, 1);  /* H < K */
    expect_invalid(1, 3, 2, 1, 1, 3, 2);  /* W < K */
    /* H = W = K: one output pixel, fine */
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, y = 0, b = 0.5f;
    assert_int_equal(attn_conv2d_forward(&y, x, w, &b, 1, 3, 3, 1, 1, 3, 3), ATTN_OK);
    assert_true(fabsf(y - 45.5f) < 1e-5f);
}

int main(void) {
    int rc = load_reference();
    if (rc == 1) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_against_ref),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_against_torch),
        cmocka_unit_test(test_errors),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    cJSON_Delete(reference);
    return failed;
}
