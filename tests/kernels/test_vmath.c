/* tests/kernels/test_vmath.c: the vector exp, exp2, tanh, erf and log of kernels/vmath.h, on every
 * ISA variant this machine can run, against double-precision libm rounded to float, in ulps of
 * the correctly rounded result, over every STRIDE-th float bit pattern of the whole range (both
 * signs, denormals included) and the edges (+-0, +-inf, NaN, the overflow and underflow limits).
 * The bounds asserted here are the ones stated in kernels/vmath.h. */
#include "testutil.h"
#include "kernels/isa.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRIDE 61u /* prime: hits every exponent and mantissa pattern class */
#define CHUNK 4096

typedef struct {
    const char *name;
    size_t fn_offset; /* of the attn_vmath_fn in attn_kernel_table */
    double (*ref)(double);
    double lo, hi; /* inputs outside are only checked for sanity (finite/inf/NaN as libm) */
    double max_ulp;
} vmath_case;

static double ref_exp2(double x) {
    return exp2(x);
}

static const vmath_case cases[] = {
    {"exp", offsetof(attn_kernel_table, vexp), exp, -104.0, 89.0, 1.5},
    {"exp2", offsetof(attn_kernel_table, vexp2), ref_exp2, -150.0, 128.0, 1.5},
    {"tanh", offsetof(attn_kernel_table, vtanh), tanh, -INFINITY, INFINITY, 1.5},
    {"erf", offsetof(attn_kernel_table, verf), erf, -INFINITY, INFINITY, 1.5},
    {"log", offsetof(attn_kernel_table, vlog), log, 0.0, INFINITY, 1.0},
};

/* |got - want| in units of the last place of want rounded to float (2^-149 at least). */
static double ulp_error(float got, double want) {
    float w = (float)want;
    if (isinf(w) || isinf(got)) {
        if (isinf(w) && got == w) return 0;
        /* one side overflowed: measure against the first value past FLT_MAX */
        double g = isinf(got) ? copysign(ldexp(1.0, 128), got) : got;
        return fabs(g - want) / ldexp(1.0, 104);
    }
    int e;
    frexp(w == 0 ? FLT_MIN : (double)w, &e);
    double ulp = ldexp(1.0, (e - 24) < -149 ? -149 : e - 24);
    return fabs((double)got - want) / ulp;
}

static attn_vmath_fn get_fn(const attn_kernel_table *t, const vmath_case *c) {
    attn_vmath_fn f;
    memcpy(&f, (const char *)t + c->fn_offset, sizeof f);
    return f;
}

static void check_range(const attn_kernel_table *t, const vmath_case *c) {
    attn_vmath_fn f = get_fn(t, c);
    float x[CHUNK], y[CHUNK];
    double worst = 0;
    float worst_x = 0;
    const uint64_t stride = tu_sanitized() ? 997u : STRIDE;
    int n = 0;
    for (uint64_t bits = 0; bits <= 0xffffffffu; bits += stride) {
        uint32_t b = (uint32_t)bits;
        float v;
        memcpy(&v, &b, sizeof v);
        if (isnan(v) || v < c->lo || v > c->hi) continue;
        x[n++] = v;
        if (n < CHUNK && bits + stride <= 0xffffffffu) continue;
        f(y, x, n);
        for (int i = 0; i < n; i++) {
            double e = ulp_error(y[i], c->ref(x[i]));
            if (!(e <= worst)) worst = e, worst_x = x[i]; /* NaN results count as worst */
        }
        n = 0;
    }
    printf("# %-7s %-5s max %.3f ulp (at x = %.9g)\n", t->name, c->name, worst, worst_x);
    if (!(worst <= c->max_ulp))
        fail_msg("%s %s: %.3f ulp at x = %.9g (bound %.1f)", t->name, c->name, worst, worst_x,
                 c->max_ulp);
}

/* Special values; a partial vector (n = 11) also exercises the masked tail. */
static void check_edges(const attn_kernel_table *t) {
    const float in[11] = {0.0f,    -0.0f,  INFINITY, -INFINITY, NAN,  1e-45f,
                          -1e-45f, 88.73f, -103.5f,  1e-30f,    -5.0f};
    float y[11];
    t->vexp(y, in, 11);
    assert_true(y[0] == 1 && y[1] == 1 && isinf(y[2]) && y[3] == 0 && isnan(y[4]));
    assert_true(y[5] == 1 && y[6] == 1 && isinf(y[7]) && y[8] == 1e-45f);
    t->vexp2(y, in, 11);
    assert_true(y[0] == 1 && isinf(y[2]) && y[3] == 0 && isnan(y[4]));
    t->vtanh(y, in, 11);
    assert_true(y[0] == 0 && !signbit(y[0]) && y[1] == 0 && signbit(y[1]));
    assert_true(y[2] == 1 && y[3] == -1 && isnan(y[4]) && y[5] == 1e-45f && y[9] == 1e-30f);
    t->verf(y, in, 11);
    assert_true(y[0] == 0 && signbit(y[1]) && y[2] == 1 && y[3] == -1 && isnan(y[4]));
    assert_true(y[10] == -1.0f);
    t->vlog(y, in, 11);
    assert_true(y[0] == -INFINITY && y[1] == -INFINITY && isinf(y[2]) && y[2] > 0);
    assert_true(isnan(y[3]) && isnan(y[4]) && isnan(y[6]) && isnan(y[10]));
    assert_true(fabs(y[5] - log((double)in[5])) < 1e-4); /* the smallest denormal */
}

static void test_isa(attn_isa isa) {
    const attn_kernel_table *t = attn_kernels_for(isa);
    if (!t) {
        printf("# %s: not supported by this CPU, skipped\n", attn_isa_name(isa));
        return;
    }
    check_edges(t);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_range(t, &cases[i]);
}

static void test_generic(void **state) {
    (void)state;
    test_isa(ATTN_ISA_GENERIC);
}
static void test_avx2(void **state) {
    (void)state;
    test_isa(ATTN_ISA_AVX2);
}
static void test_avx512(void **state) {
    (void)state;
    test_isa(ATTN_ISA_AVX512);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generic),
        cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
