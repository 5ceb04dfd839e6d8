/* tests/kernels/test_isa.c: every ISA variant this machine can run (kernels/isa.h) against the
 * generic one and the references, on awkward sizes: lengths that are not a multiple of 4, 8 or 16,
 * T = 1 and T = 37, D = 40. (The other kernel tests run once per ISA through ctest's @generic and
 * @avx2 variants; this one calls each table directly, so it also covers the ISA in use.) Also the
 * selection itself: ATTN_ISA caps, attn_set_isa rejects unknown names. */
#include "testutil.h"
#include "attn/runtime.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/gemm.h"
#include "kernels/isa.h"
#include "kernels/softmax.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const long sizes[] = {1, 3, 7, 9, 15, 17, 31, 33, 63, 65, 1001};
enum { NSIZES = sizeof sizes / sizeof sizes[0] };

static void check_activations(const attn_kernel_table *t, attn_rng *rng) {
    for (int act = 0; act < 3; act++) {
        for (int s = 0; s < NSIZES; s++) {
            long n = sizes[s];
            float *x = tu_randn(rng, n, 3.0f), *dy = tu_randn(rng, n, 1.0f);
            float *init = tu_randn(rng, n, 1.0f), *got = tu_zeros(n), *want = tu_zeros(n);
            t->act_forward((attn_act)act, got, x, n);
            attn_activation_forward_ref((attn_act)act, want, x, n);
            tu_assert_close(got, want, n, 1e-6, 1e-7, t->name);
            memcpy(got, init, n * sizeof *got), memcpy(want, init, n * sizeof *want);
            t->act_backward((attn_act)act, got, x, dy, n, 1);
            attn_activation_backward_ref((attn_act)act, want, x, dy, n);
            tu_assert_close(got, want, n, 1e-5, 1e-6, t->name);
            t->act_backward((attn_act)act, got, x, dy, n, 0); /* written, not accumulated */
            memset(want, 0, n * sizeof *want);
            attn_activation_backward_ref((attn_act)act, want, x, dy, n);
            tu_assert_close(got, want, n, 1e-5, 1e-6, t->name);
            /* bias + activation over rows of F = n columns, in place and not */
            float *bias = tu_randn(rng, n, 1.0f), *h = tu_zeros(3 * n), *a = tu_zeros(3 * n);
            float *hin = tu_randn(rng, 3 * n, 2.0f), *hb = tu_zeros(3 * n), *ref = tu_zeros(3 * n);
            for (long i = 0; i < 3 * n; i++)
                hb[i] = hin[i] + bias[i % n];
            attn_activation_forward_ref((attn_act)act, ref, hb, 3 * n);
            memcpy(h, hin, 3 * n * sizeof *h);
            t->bias_act_forward((attn_act)act, h, a, bias, 3, (int)n);
            tu_assert_close(h, hb, 3 * n, 0, 0, "bias_act h");
            tu_assert_close(a, ref, 3 * n, 1e-6, 1e-7, "bias_act a");
            memcpy(h, hin, 3 * n * sizeof *h);
            t->bias_act_forward((attn_act)act, h, h, bias, 3, (int)n);
            tu_assert_close(h, ref, 3 * n, 1e-6, 1e-7, "bias_act in place");
            free(bias), free(h), free(a), free(hin), free(hb), free(ref);
            free(x), free(dy), free(init), free(got), free(want);
        }
    }
}

static void check_rows(const attn_kernel_table *t, const attn_kernel_table *g, attn_rng *rng) {
    const int rows = 5;
    for (int s = 0; s < NSIZES; s++) {
        int cols = (int)sizes[s];
        long n = (long)rows * cols;
        float *x = tu_randn(rng, n, 4.0f), *dy = tu_randn(rng, n, 1.0f);
        float *got = tu_zeros(n), *want = tu_zeros(n);
        /* softmax: against the double reference, then backward against generic */
        t->softmax_forward(got, x, rows, cols);
        attn_softmax_forward_ref(want, x, rows, cols);
        tu_assert_close(got, want, n, 2e-6, 1e-8, "softmax");
        float *gdx = tu_zeros(n), *wdx = tu_zeros(n);
        t->softmax_backward(gdx, want, dy, rows, cols);
        g->softmax_backward(wdx, want, dy, rows, cols);
        tu_assert_close(gdx, wdx, n, 1e-5, 1e-7, "softmax backward");
        /* cross-entropy with label smoothing and one ignored row */
        int targets[5];
        for (int r = 0; r < rows; r++)
            targets[r] = r == 2 ? -100 : (r * 7) % cols;
        float lse_t[5], lse_g[5];
        long count_t, count_g;
        double lt = t->ce_forward(lse_t, x, targets, rows, cols, -100, 0.1f, &count_t);
        double lg = g->ce_forward(lse_g, x, targets, rows, cols, -100, 0.1f, &count_g);
        assert_int_equal(count_t, count_g);
        assert_true(fabs(lt - lg) <= 1e-5 * fabs(lg) + 1e-6);
        tu_assert_close(lse_t, lse_g, rows, 1e-6, 1e-6, "lse");
        t->ce_backward(gdx, x, lse_g, targets, rows, cols, -100, 0.1f, 0.25f);
        g->ce_backward(wdx, x, lse_g, targets, rows, cols, -100, 0.1f, 0.25f);
        tu_assert_close(gdx, wdx, n, 1e-5, 1e-8, "cross-entropy backward");
        /* layernorm forward and backward */
        float *w = tu_randn(rng, cols, 1.0f), *b = tu_randn(rng, cols, 1.0f);
        float mean_t[5], rstd_t[5], mean_g[5], rstd_g[5];
        t->layernorm_forward(got, mean_t, rstd_t, x, w, b, rows, cols, 1e-5f);
        g->layernorm_forward(want, mean_g, rstd_g, x, w, b, rows, cols, 1e-5f);
        tu_assert_close(got, want, n, 1e-5, 1e-5, "layernorm");
        float *dw_t = tu_zeros(cols), *db_t = tu_zeros(cols), *dw_g = tu_zeros(cols);
        float *db_g = tu_zeros(cols);
        memset(gdx, 0, n * sizeof *gdx), memset(wdx, 0, n * sizeof *wdx);
        t->layernorm_backward(gdx, dw_t, db_t, dy, x, w, mean_g, rstd_g, rows, cols);
        g->layernorm_backward(wdx, dw_g, db_g, dy, x, w, mean_g, rstd_g, rows, cols);
        tu_assert_close(gdx, wdx, n, 1e-4, 1e-5, "layernorm dx");
        tu_assert_close(dw_t, dw_g, cols, 1e-4, 1e-5, "layernorm dw");
        tu_assert_close(db_t, db_g, cols, 1e-5, 1e-6, "layernorm db");
        free(x), free(dy), free(got), free(want), free(gdx), free(wdx), free(w), free(b);
        free(dw_t), free(db_t), free(dw_g), free(db_g);
    }
}

/* Fused attention of table t against the reference, forward and backward, q (B, Tq, H D) and
 * k, v (B, Tk, H D): Tq <= 4 with longer Tk is decoding's shape (the row-by-row forward). */
static void check_sdpa_case(const attn_kernel_table *t, attn_rng *rng, int Tq, int Tk, int D,
                            int causal) {
    const int B = 2, H = 2;
    const long C = (long)H * D, nq = (long)B * Tq * C, nk = (long)B * Tk * C;
    float *q = tu_randn(rng, nq, 1.0f), *k = tu_randn(rng, nk, 1.0f), *v = tu_randn(rng, nk, 1.0f);
    float *dout = tu_randn(rng, nq, 1.0f);
    int kv_len[2] = {Tk, Tk / 2 + 1};
    attn_sdpa_args a = {.B = B,
                        .H = H,
                        .Tq = Tq,
                        .Tk = Tk,
                        .D = D,
                        .scale = 1.0f / sqrtf((float)D),
                        .causal = causal,
                        .kv_len = causal ? NULL : kv_len,
                        .q = q,
                        .q_bs = Tq * C,
                        .q_rs = C,
                        .k = k,
                        .k_bs = Tk * C,
                        .k_rs = C,
                        .v = v,
                        .v_bs = Tk * C,
                        .v_rs = C};
    float *o = tu_zeros(nq), *o_ref = tu_zeros(nq), *lse = tu_zeros((long)B * H * Tq);
    t->sdpa_forward(&a, o, Tq * C, C, lse);
    attn_sdpa_probs(&a, o_ref, Tq * C, C, NULL);
    tu_assert_close(o, o_ref, nq, 1e-4, 1e-5, "sdpa forward");
    float *dq = tu_zeros(nq), *dk = tu_zeros(nk), *dv = tu_zeros(nk), *delta = tu_zeros(B * H * Tq);
    float *rq = tu_zeros(nq), *rk = tu_zeros(nk), *rv = tu_zeros(nk);
    t->sdpa_backward(&a, o, Tq * C, C, lse, dout, dq, dk, dv, delta); /* also checks lse */
    attn_sdpa_backward_ref(&a, dout, Tq * C, C, rq, rk, rv);
    tu_assert_close(dq, rq, nq, 1e-3, 1e-4, "sdpa dq");
    tu_assert_close(dk, rk, nk, 1e-3, 1e-4, "sdpa dk");
    tu_assert_close(dv, rv, nk, 1e-3, 1e-4, "sdpa dv");
    free(q), free(k), free(v), free(dout), free(o), free(o_ref), free(lse);
    free(dq), free(dk), free(dv), free(delta), free(rq), free(rk), free(rv);
}

static void check_sdpa(const attn_kernel_table *t, attn_rng *rng) {
    static const int Ts[] = {1, 37, 64, 65}, Ds[] = {40, 64};
    static const int decode[][2] = {{1, 1}, {1, 37}, {1, 200}, {3, 129}, {4, 300}, {5, 70}};
    for (int j = 0; j < 2; j++)
        for (int causal = 0; causal < 2; causal++) {
            for (int i = 0; i < 4; i++)
                check_sdpa_case(t, rng, Ts[i], Ts[i], Ds[j], causal);
            for (int i = 0; i < 6; i++)
                check_sdpa_case(t, rng, decode[i][0], decode[i][1], Ds[j], causal);
        }
}

/* The few-row product against the double-accumulating GEMM reference, M = 1..17. */
static void check_gemv(const attn_kernel_table *t, attn_rng *rng) {
    const int N = 37, K = 45;
    float *w = tu_randn(rng, (long)N * K, 1.0f), *b = tu_randn(rng, N, 1.0f);
    for (int M = 1; M <= 17; M += 4) {
        float *x = tu_randn(rng, (long)M * K, 1.0f), *got = tu_zeros((long)M * N);
        float *want = tu_zeros((long)M * N);
        for (int m = 0; m < M; m++)
            memcpy(want + (long)m * N, b, N * sizeof *b);
        t->gemv(got, x, w, b, M, N, K);
        attn_gemm_ref(false, true, M, N, K, 1.0f, x, K, w, K, 1.0f, want, N);
        tu_assert_close(got, want, (long)M * N, 1e-5, 1e-5, "gemv");
        free(x), free(got), free(want);
    }
    free(w), free(b);
}

static void test_every_isa(void **state) {
    (void)state;
    const attn_kernel_table *g = attn_kernels_for(ATTN_ISA_GENERIC);
    assert_non_null(g);
    for (int isa = 0; isa < ATTN_ISA_COUNT; isa++) {
        const attn_kernel_table *t = attn_kernels_for((attn_isa)isa);
        if (!t) {
            printf("# %s: not supported by this CPU, skipped\n", attn_isa_name((attn_isa)isa));
            continue;
        }
        attn_rng rng;
        attn_rng_init(&rng, 77, (uint64_t)isa);
        check_activations(t, &rng);
        check_rows(t, g, &rng);
        check_sdpa(t, &rng);
        check_gemv(t, &rng);
        printf("# %s: checked\n", t->name);
    }
}

static void test_selection(void **state) {
    (void)state;
    attn_isa best = attn_isa_supported();
    assert_int_equal(attn_set_isa("generic"), ATTN_OK);
    assert_int_equal(attn_isa_active(), ATTN_ISA_GENERIC);
    assert_string_equal(attn_kernels()->name, "generic");
    assert_int_equal(attn_set_isa("avx512"), ATTN_OK); /* capped at what the CPU has */
    assert_int_equal(attn_isa_active(), best);
    assert_string_equal(attn_runtime_info().isa, attn_isa_name(best));
    assert_int_not_equal(attn_set_isa("sse9"), ATTN_OK);
    assert_non_null(strstr(attn_last_error(), "sse9"));
    assert_int_equal(attn_isa_active(), best);
    assert_int_not_equal(attn_set_isa(NULL), ATTN_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_isa),
        cmocka_unit_test(test_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
