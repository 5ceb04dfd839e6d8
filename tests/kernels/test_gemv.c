/* tests/kernels/test_gemv.c: attn_gemv_small against attn_gemm_ref (double accumulation) on
 * awkward sizes, with and without bias; its promise that a row's result depends neither on M nor
 * on the thread count (bit for bit); the threaded path and a call from inside a parallel region. */
#include "testutil.h"
#include "kernels/gemm.h"
#include "kernels/gemv.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "attn/runtime.h"

/* want (M, N) = x (M, K) @ w^T + bias through the reference GEMM. */
static float *reference(const float *x, const float *w, const float *bias, int M, int N, int K) {
    float *want = tu_zeros((long)M * N + 1);
    for (int m = 0; m < M && bias; m++)
        memcpy(want + (long)m * N, bias, (size_t)N * sizeof *want);
    attn_gemm_ref(false, true, M, N, K, 1.0f, x, K, w, K, bias ? 1.0f : 0.0f, want, N);
    return want;
}

/* One call of M rows against the reference; the guard element after out must survive. */
static void check(int M, int N, int K, int with_bias, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    float *x = tu_randn(&rng, (long)M * K + 1, 1.0f), *w = tu_randn(&rng, (long)N * K + 1, 1.0f);
    float *bias = with_bias ? tu_randn(&rng, N, 1.0f) : NULL;
    float *out = tu_randn(&rng, (long)M * N + 1, 1.0f); /* garbage: must be overwritten */
    float guard = out[(long)M * N];
    float *want = reference(x, w, bias, M, N, K);
    attn_gemv_small(out, x, w, bias, M, N, K);
    tu_assert_close(out, want, (long)M * N, 1e-5, 1e-5 * sqrt((double)K + 1), "gemv_small");
    assert_true(out[(long)M * N] == guard);
    free(x), free(w), free(bias), free(out), free(want);
}

/* M 1..19 (every row count decoding routes here, and past it), N and K around multiples of 4, 8
 * and 16. */
static void test_awkward_sizes(void **state) {
    (void)state;
    static const int Ns[] = {1, 3, 4, 5, 13, 37, 100};
    static const int Ks[] = {1, 7, 8, 9, 15, 17, 33, 100};
    unsigned seed = 1;
    for (int M = 1; M <= 19; M++)
        for (int n = 0; n < 7; n++)
            for (int k = 0; k < 8; k++)
                check(M, Ns[n], Ks[k], (M + n + k) % 2, seed++);
}

/* K = 0: out = bias (or zeros); M = 0 or N = 0: nothing is written. */
static void test_empty(void **state) {
    (void)state;
    float x[1] = {1}, w[1] = {1}, bias[3] = {1, -2, 3};
    float out[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    attn_gemv_small(out, x, w, bias, 2, 3, 0);
    float want[6] = {1, -2, 3, 1, -2, 3};
    tu_assert_close(out, want, 6, 0, 0, "K = 0 with bias");
    attn_gemv_small(out, x, w, NULL, 2, 3, 0);
    float zeros[6] = {0};
    tu_assert_close(out, zeros, 6, 0, 0, "K = 0 without bias");
    float keep[2] = {5, 6};
    attn_gemv_small(keep, x, w, bias, 0, 2, 4);
    attn_gemv_small(keep, x, w, bias, 2, 0, 4);
    assert_true(keep[0] == 5 && keep[1] == 6);
}

/* Rows computed together equal each row computed alone, bit for bit, on one thread and on two
 * (a size above the threading threshold, N not a multiple of the tile), and from inside a
 * parallel region (which must not start another). */
static void test_rows_and_threads_invariant(void **state) {
    (void)state;
    enum { M = 15, N = 1030, K = 561 }; /* N * K * (M + 4) above gemv.c's GEMV_PAR_MIN */
    attn_rng rng;
    attn_rng_init(&rng, 77, 0);
    float *x = tu_randn(&rng, (long)M * K, 1.0f), *w = tu_randn(&rng, (long)N * K, 1.0f);
    float *bias = tu_randn(&rng, N, 1.0f);
    float *together = tu_zeros((long)M * N), *alone = tu_zeros((long)M * N);
    float *two = tu_zeros((long)M * N), *nested = tu_zeros((long)M * N);
    int threads = attn_get_num_threads();
    assert_int_equal(attn_set_num_threads(1), ATTN_OK);
    attn_gemv_small(together, x, w, bias, M, N, K);
    for (int m = 0; m < M; m++)
        attn_gemv_small(alone + (long)m * N, x + (long)m * K, w, bias, 1, N, K);
    assert_int_equal(attn_set_num_threads(2), ATTN_OK);
    attn_gemv_small(two, x, w, bias, M, N, K);
#pragma omp parallel num_threads(2)
    {
#pragma omp single
        attn_gemv_small(nested, x, w, bias, M, N, K);
    }
    assert_int_equal(attn_set_num_threads(threads), ATTN_OK);
    assert_memory_equal(together, alone, (size_t)M * N * sizeof(float));
    assert_memory_equal(together, two, (size_t)M * N * sizeof(float));
    assert_memory_equal(together, nested, (size_t)M * N * sizeof(float));
    float *want = reference(x, w, bias, M, N, K);
    tu_assert_close(two, want, (long)M * N, 1e-5, 1e-5 * sqrt((double)K), "threaded gemv_small");
    free(x), free(w), free(bias), free(together), free(alone), free(two), free(nested), free(want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_awkward_sizes),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_rows_and_threads_invariant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
