/* tests/kernels/test_gemm.c: the cblas backend, attn_gemm_ref and the batched entry point against a
 * double-precision reference; backend selection. */
#include "testutil.h"
#include "kernels/gemm.h"

#include <math.h>
#include <stdlib.h>

/* C (M, N) = alpha op(A) op(B) + beta C in double; C stored with row stride ldc. */
static void ref_gemm(bool ta, bool tb, int M, int N, int K, double alpha, const float *A, int lda,
                     const float *B, int ldb, double beta, const float *C0, double *C, int ldc) {
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(long)k * lda + i] : A[(long)i * lda + k];
                double b = tb ? B[(long)j * ldb + k] : B[(long)k * ldb + j];
                acc += a * b;
            }
            C[(long)i * ldc + j] = alpha * acc + (beta == 0 ? 0 : beta * C0[(long)i * ldc + j]);
        }
    }
}

typedef void (*gemm_fn)(bool, bool, int, int, int, float, const float *, int, const float *, int,
                        float, float *, int);

/* Checks one GEMM call (with padded leading dimensions) against ref_gemm; padding must survive. */
static void check_gemm(gemm_fn fn, bool ta, bool tb, int M, int N, int K, float alpha, float beta,
                       int pad, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    int arows = ta ? K : M, acols = ta ? M : K, brows = tb ? N : K, bcols = tb ? K : N;
    int lda = acols + pad, ldb = bcols + pad, ldc = N + pad;
    float *A = tu_randn(&rng, (long)arows * lda + 1, 1.0f);
    float *B = tu_randn(&rng, (long)brows * ldb + 1, 1.0f);
    long nc = (long)M * ldc + 1;
    float *C = tu_randn(&rng, nc, 1.0f);
    float *C0 = malloc(nc * sizeof *C0);
    double *want = tu_to_double(C, nc); /* padding keeps its value */
    for (long i = 0; i < nc; i++)
        C0[i] = C[i];
    ref_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, want, ldc);
    fn(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    tu_assert_close_d(C, want, nc, 1e-4, 1e-4 * sqrt((double)K + 1), "gemm");
    free(A), free(B), free(C), free(C0), free(want);
}

static void check_all_transposes(gemm_fn fn) {
    static const int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {64, 48, 130}, {5, 1, 40}};
    for (int s = 0; s < 5; s++) {
        for (int t = 0; t < 4; t++) {
            bool ta = t & 1, tb = t >> 1;
            const int *d = shapes[s];
            check_gemm(fn, ta, tb, d[0], d[1], d[2], 1.0f, 0.0f, 0, 10 * s + t);
            check_gemm(fn, ta, tb, d[0], d[1], d[2], 0.7f, -1.3f, 3, 100 + 10 * s + t);
        }
    }
}

static void test_cblas_all_transposes(void **state) {
    (void)state;
    check_all_transposes(attn_gemm_backend_cblas.gemm);
    check_all_transposes(attn_gemm);
}

static void test_ref_all_transposes(void **state) {
    (void)state;
    check_all_transposes(attn_gemm_ref);
}

/* beta == 0 must overwrite C without reading it (BLAS semantics): NaN in C must not survive. */
static void test_beta_zero_ignores_c(void **state) {
    (void)state;
    gemm_fn fns[] = {attn_gemm, attn_gemm_ref};
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1};
    for (int f = 0; f < 2; f++) {
        float C[4] = {NAN, NAN, NAN, NAN};
        fns[f](false, false, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
        float want[4] = {4, 5, 10, 11};
        tu_assert_close(C, want, 4, 0, 1e-6, "beta=0");
    }
}

/* K == 0: C = beta C (the product is empty). */
static void test_k_zero(void **state) {
    (void)state;
    float A[1] = {0}, B[1] = {0};
    float C[6] = {1, 2, 3, 4, 5, 6}, want[6] = {0.5f, 1, 1.5f, 2, 2.5f, 3};
    attn_gemm(false, false, 2, 3, 0, 1.0f, A, 1, B, 3, 0.5f, C, 3);
    tu_assert_close(C, want, 6, 0, 1e-7, "K=0");
    float C2[6] = {1, 2, 3, 4, 5, 6};
    attn_gemm_ref(false, false, 2, 3, 0, 1.0f, A, 1, B, 3, 0.5f, C2, 3);
    tu_assert_close(C2, want, 6, 0, 1e-7, "K=0 ref");
}

/* batch matrices with strides larger than the matrices, every transpose combination. */
static void check_batched(bool ta, bool tb, int M, int N, int K, int batch, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 1);
    int lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 1, ldc = N + 3;
    long sa = (long)(ta ? K : M) * lda + 5, sb = (long)(tb ? N : K) * ldb + 3;
    long sc = (long)M * ldc + 7, nc = sc * batch;
    float *A = tu_randn(&rng, sa * batch, 1.0f), *B = tu_randn(&rng, sb * batch, 1.0f);
    float *C = tu_randn(&rng, nc, 1.0f);
    float *C0 = malloc(nc * sizeof *C0);
    double *want = tu_to_double(C, nc);
    for (long i = 0; i < nc; i++)
        C0[i] = C[i];
    for (int b = 0; b < batch; b++) {
        ref_gemm(ta, tb, M, N, K, 0.5, A + b * sa, lda, B + b * sb, ldb, 2.0, C0 + b * sc,
                 want + b * sc, ldc);
    }
    attn_gemm_batched(ta, tb, M, N, K, 0.5f, A, lda, sa, B, ldb, sb, 2.0f, C, ldc, sc, batch);
    tu_assert_close_d(C, want, nc, 1e-4, 1e-4 * sqrt((double)K + 1), "gemm_batched");
    free(A), free(B), free(C), free(C0), free(want);
}

static void test_batched(void **state) {
    (void)state;
    int big = tu_sanitized() ? 64 : 136; /* 136^3 > the small-GEMM threshold: serial batch loop */
    for (int t = 0; t < 4; t++) {
        check_batched(t & 1, t >> 1, 7, 5, 3, 1, 200 + t);
        check_batched(t & 1, t >> 1, 9, 16, 13, 12, 210 + t);
        check_batched(t & 1, t >> 1, 1, 1, 1, 3, 220 + t);
    }
    check_batched(false, true, big, big, big, 2, 230);
    check_batched(true, false, big, 33, big, 3, 231);
}

/* A backend that records calls, to check that attn_gemm* dispatch through the active one. */
static int fake_calls, fake_batched_calls;
static void fake_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc) {
    fake_calls++;
}
static void fake_gemm_batched(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                              int lda, long sa, const float *B, int ldb, long sb, float beta,
                              float *C, int ldc, long sc, int batch) {
    fake_batched_calls++;
}

static void test_backend_selection(void **state) {
    (void)state;
    static const attn_gemm_backend fake = {"fake", fake_gemm, fake_gemm_batched};
    assert_ptr_equal(attn_gemm_get_backend(), &attn_gemm_backend_cblas);
    assert_string_equal(attn_gemm_get_backend()->name, "cblas");
    attn_gemm_set_backend(&fake);
    assert_ptr_equal(attn_gemm_get_backend(), &fake);
    float A[1] = {2}, B[1] = {3}, C[1] = {0};
    attn_gemm(false, false, 1, 1, 1, 1.0f, A, 1, B, 1, 0.0f, C, 1);
    attn_gemm_batched(false, false, 1, 1, 1, 1.0f, A, 1, 1, B, 1, 1, 0.0f, C, 1, 1, 1);
    assert_int_equal(fake_calls, 1);
    assert_int_equal(fake_batched_calls, 1);
    assert_true(C[0] == 0.0f); /* the fake did nothing */
    attn_gemm_set_backend(NULL);
    assert_ptr_equal(attn_gemm_get_backend(), &attn_gemm_backend_cblas);
    attn_gemm(false, false, 1, 1, 1, 1.0f, A, 1, B, 1, 0.0f, C, 1);
    assert_true(C[0] == 6.0f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cblas_all_transposes),
        cmocka_unit_test(test_ref_all_transposes),
        cmocka_unit_test(test_beta_zero_ignores_c),
        cmocka_unit_test(test_k_zero),
        cmocka_unit_test(test_batched),
        cmocka_unit_test(test_backend_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
