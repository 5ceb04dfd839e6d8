/* tests/decode/test_sampler.c: token sampling (src/decode/sampler.c): greedy, temperature, top-k,
 * top-p, reproducibility, parameter checks. Empirical frequencies are compared with the exact
 * distribution by a chi-square statistic; the seeds are fixed, so the test is deterministic. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/decode.h"

#define DRAWS 20000

static attn_sampler *make(int vocab, float temperature, int top_k, float top_p, uint64_t seed) {
    attn_sampler_params p = attn_sampler_default_params();
    p.temperature = temperature, p.top_k = top_k, p.top_p = top_p, p.seed = seed;
    attn_sampler *s = NULL;
    assert_int_equal(attn_sampler_create(vocab, p, &s), ATTN_OK);
    assert_non_null(s);
    return s;
}

/* softmax(logits / T) in double into q. */
static void softmax_t(const float *logits, int n, double T, double *q) {
    double max = -INFINITY, sum = 0;
    for (int i = 0; i < n; i++)
        max = fmax(max, logits[i]);
    for (int i = 0; i < n; i++)
        sum += q[i] = exp((logits[i] - max) / T);
    for (int i = 0; i < n; i++)
        q[i] /= sum;
}

/* Draws DRAWS tokens and checks the counts against q (normalised here): tokens with q = 0 must
 * never appear, and Σ (c - Nq)² / Nq over the others must stay below a bound far in the tail of
 * the chi-square distribution with (support - 1) degrees of freedom. */
static void check_frequencies(attn_sampler *s, const float *logits, int n, const double *q_in) {
    double q[64], mass = 0;
    long counts[64] = {0};
    assert_true(n <= 64);
    for (int i = 0; i < n; i++)
        mass += q_in[i];
    for (int i = 0; i < n; i++)
        q[i] = q_in[i] / mass;
    for (int d = 0; d < DRAWS; d++) {
        int tok = attn_sampler_sample(s, logits);
        assert_in_range(tok, 0, n - 1);
        counts[tok]++;
    }
    double chi2 = 0;
    int support = 0;
    for (int i = 0; i < n; i++) {
        if (q[i] == 0) {
            if (counts[i] != 0)
                fail_msg("token %d (outside the support) drawn %ld times", i, counts[i]);
            continue;
        }
        support++;
        double e = DRAWS * q[i];
        chi2 += (counts[i] - e) * (counts[i] - e) / e;
    }
    int dof = support > 1 ? support - 1 : 1;
    double bound = dof + 6.0 * sqrt(2.0 * dof) + 10.0; /* p < 1e-5 for these dof */
    if (!(chi2 < bound)) fail_msg("chi-square %.2f >= %.2f with %d dof", chi2, bound, dof);
}

static void test_greedy(void **state) {
    (void)state;
    const float logits[6] = {0.5f, 2.0f, -1.0f, 3.0f, 3.0f, 1.0f};
    attn_sampler *s = make(6, 0.0f, 0, 1.0f, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(attn_sampler_sample(s, logits), 3); /* tie: 3 */
    const float neg[6] = {-5.0f, -2.0f, -3.0f, -2.5f, -9.0f, -2.0001f};
    assert_int_equal(attn_sampler_sample(s, neg), 1);
    const float first[6] = {7.0f, 1.0f, 7.0f, 7.0f, 0.0f, 6.9f};
    assert_int_equal(attn_sampler_sample(s, first), 0);
    const float last[6] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1e-6f};
    assert_int_equal(attn_sampler_sample(s, last), 5);
    attn_sampler_free(s);
}

/* top_k = 1 is greedy at any temperature, ties included. */
static void test_top_k_one_is_greedy(void **state) {
    (void)state;
    attn_rng rng;
    attn_rng_init(&rng, 99, 0);
    attn_sampler *s = make(50, 1.5f, 1, 1.0f, 5);
    for (int trial = 0; trial < 200; trial++) {
        float *x = tu_randn(&rng, 50, 2.0f);
        if (trial % 10 == 0) x[7] = x[31] = 100.0f; /* a tie at the top */
        int want = 0;
        for (int i = 1; i < 50; i++)
            if (x[i] > x[want]) want = i;
        assert_int_equal(attn_sampler_sample(s, x), want);
        free(x);
    }
    attn_sampler_free(s);
}

/* A temperature near 0 concentrates all the mass on the argmax. */
static void test_low_temperature(void **state) {
    (void)state;
    const float logits[5] = {1.0f, 2.0f, 0.0f, 1.9f, -3.0f};
    attn_sampler *s = make(5, 1e-3f, 0, 1.0f, 3);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(attn_sampler_sample(s, logits), 1);
    attn_sampler_free(s);
}

/* Plain sampling follows softmax(logits / T) at several temperatures; logits are not changed. */
static void test_frequencies_match_softmax(void **state) {
    (void)state;
    const float logits[8] = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, 1.5f, -2.0f, 0.7f};
    const float temps[3] = {1.0f, 0.7f, 2.5f};
    for (int t = 0; t < 3; t++) {
        double q[8];
        softmax_t(logits, 8, temps[t], q);
        float copy[8];
        memcpy(copy, logits, sizeof copy);
        attn_sampler *s = make(8, temps[t], 0, 1.0f, 42 + t);
        check_frequencies(s, copy, 8, q);
        assert_memory_equal(copy, logits, sizeof copy);
        attn_sampler_free(s);
    }
}

/* Sampling must be able to fail: a distribution that is not softmax(logits/T) is rejected by the
 * same statistic (here the counts of T = 1 against the expectation of T = 0.8). */
static void test_chi_square_detects_wrong_temperature(void **state) {
    (void)state;
    const float logits[8] = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, 1.5f, -2.0f, 0.7f};
    double q[8];
    softmax_t(logits, 8, 0.8, q);
    attn_sampler *s = make(8, 1.0f, 0, 1.0f, 42);
    long counts[8] = {0};
    for (int d = 0; d < DRAWS; d++)
        counts[attn_sampler_sample(s, logits)]++;
    double chi2 = 0;
    for (int i = 0; i < 8; i++)
        chi2 += pow(counts[i] - DRAWS * q[i], 2) / (DRAWS * q[i]);
    assert_true(chi2 > 7 + 6 * sqrt(14.0) + 10);
    attn_sampler_free(s);
}

/* top-k: never a token outside the k largest, and within them the renormalised softmax. */
static void test_top_k(void **state) {
    (void)state;
    const float logits[10] = {0.3f, 2.0f, -1.0f, 1.1f, 0.9f, 1.8f, -0.2f, 1.0f, 0.5f, 1.2f};
    for (int k = 2; k <= 5; k++) {
        double q[10];
        softmax_t(logits, 10, 1.0, q);
        /* zero all but the k largest (the logits are distinct) */
        for (int i = 0; i < 10; i++) {
            int larger = 0;
            for (int j = 0; j < 10; j++)
                larger += logits[j] > logits[i];
            if (larger >= k) q[i] = 0;
        }
        attn_sampler *s = make(10, 1.0f, k, 1.0f, 100 + k);
        check_frequencies(s, logits, 10, q);
        attn_sampler_free(s);
    }
    /* k >= vocab is "all" */
    double q[10];
    softmax_t(logits, 10, 1.0, q);
    attn_sampler *s = make(10, 1.0f, 10, 1.0f, 7);
    check_frequencies(s, logits, 10, q);
    attn_sampler_free(s);
}

/* top-k on a large vocabulary never leaves the top k (exercises the selection). */
static void test_top_k_large_vocab(void **state) {
    (void)state;
    const int V = 5000, k = 40;
    attn_rng rng;
    attn_rng_init(&rng, 11, 0);
    float *x = tu_randn(&rng, V, 1.0f);
    float *sorted = malloc((size_t)V * sizeof *sorted);
    assert_non_null(sorted);
    memcpy(sorted, x, (size_t)V * sizeof *x);
    /* threshold: the k-th largest value (partial selection sort is fine at this size) */
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < V; j++)
            if (sorted[j] > sorted[i]) {
                float t = sorted[i];
                sorted[i] = sorted[j], sorted[j] = t;
            }
    float kth = sorted[k - 1];
    attn_sampler *s = make(V, 1.3f, k, 1.0f, 8);
    char *seen = calloc((size_t)V, 1);
    assert_non_null(seen);
    int distinct = 0;
    for (int d = 0, draws = tu_sanitized() ? 1000 : 5000; d < draws; d++) {
        int tok = attn_sampler_sample(s, x);
        if (!(x[tok] >= kth))
            fail_msg("draw %d: token %d (logit %g) is not in the top %d", d, tok, x[tok], k);
        distinct += !seen[tok];
        seen[tok] = 1;
    }
    assert_true(distinct > k / 2); /* it does sample, not just take the argmax */
    attn_sampler_free(s);
    free(seen), free(sorted), free(x);
}

/* top-p: the support is exactly the nucleus, with the renormalised probabilities. */
static void test_top_p(void **state) {
    (void)state;
    /* probabilities in a scrambled order: 0.05 0.4 0.02 0.15 0.25 0.03 0.1 */
    const double p[7] = {0.05, 0.4, 0.02, 0.15, 0.25, 0.03, 0.1};
    float logits[7];
    for (int i = 0; i < 7; i++)
        logits[i] = (float)log(p[i]) + 3.0f;
    struct {
        float top_p;
        int nucleus[7]; /* 1 for the tokens in it */
    } cases[] = {
        {0.75f, {0, 1, 0, 1, 1, 0, 0}}, /* 0.4 + 0.25 + 0.15 = 0.8 >= 0.75 */
        {0.6f, {0, 1, 0, 0, 1, 0, 0}},  /* 0.65 */
        {0.3f, {0, 1, 0, 0, 0, 0, 0}},  /* the top token alone */
        {0.01f, {0, 1, 0, 0, 0, 0, 0}}, /* always at least one */
        {0.97f, {1, 1, 0, 1, 1, 1, 1}}, /* 0.98 */
        {1.0f, {1, 1, 1, 1, 1, 1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double q[7];
        for (int i = 0; i < 7; i++)
            q[i] = cases[c].nucleus[i] ? p[i] : 0;
        attn_sampler *s = make(7, 1.0f, 0, cases[c].top_p, 200 + c);
        check_frequencies(s, logits, 7, q);
        attn_sampler_free(s);
    }
}

/* top-k then top-p: the nucleus is taken of the renormalised top-k distribution. */
static void test_top_k_then_top_p(void **state) {
    (void)state;
    const double p[6] = {0.3, 0.25, 0.2, 0.15, 0.06, 0.04};
    float logits[6];
    for (int i = 0; i < 6; i++)
        logits[i] = (float)log(p[i]);
    /* top 3: 0.3 0.25 0.2 -> renormalised 0.4 0.333 0.267; top_p 0.7 keeps the first two
     * (0.733), where the full distribution would have needed three (0.3+0.25+0.2 = 0.75). */
    double q[6] = {0.3, 0.25, 0, 0, 0, 0};
    attn_sampler *s = make(6, 1.0f, 3, 0.7f, 9);
    check_frequencies(s, logits, 6, q);
    attn_sampler_free(s);
}

/* top-p on a large vocabulary (the pre-filter path): every draw is inside the nucleus computed
 * here by a full sort, and the most likely tokens of the nucleus do appear. */
static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void test_top_p_large_vocab(void **state) {
    (void)state;
    const int V = 3000;
    const float top_p = 0.9f;
    attn_rng rng;
    attn_rng_init(&rng, 12, 0);
    float *x = tu_randn(&rng, V, 2.5f);
    double *q = malloc((size_t)V * sizeof *q), *sorted = malloc((size_t)V * sizeof *sorted);
    assert_non_null(q);
    assert_non_null(sorted);
    softmax_t(x, V, 1.0, q);
    memcpy(sorted, q, (size_t)V * sizeof *q);
    qsort(sorted, (size_t)V, sizeof *sorted, cmp_desc);
    double acc = 0, smallest = 0;
    int size = 0;
    while (acc < top_p)
        acc += smallest = sorted[size++];
    assert_true(size > 20 && size < V / 2); /* a meaningful nucleus for this test */
    attn_sampler *s = make(V, 1.0f, 0, top_p, 13);
    int top_seen = 0;
    for (int d = 0, draws = tu_sanitized() ? 1000 : 4000; d < draws; d++) {
        int tok = attn_sampler_sample(s, x);
        if (!(q[tok] >= smallest))
            fail_msg("token %d (p %g) outside the nucleus (p >= %g)", tok, q[tok], smallest);
        top_seen += q[tok] == sorted[0];
    }
    assert_true(top_seen > 0);
    attn_sampler_free(s);
    free(q), free(sorted), free(x);
}

static void test_same_seed_same_sequence(void **state) {
    (void)state;
    const float logits[8] = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, 1.5f, -2.0f, 0.7f};
    attn_sampler *a = make(8, 0.9f, 5, 0.95f, 2024), *b = make(8, 0.9f, 5, 0.95f, 2024);
    attn_sampler *c = make(8, 0.9f, 5, 0.95f, 2025);
    int differs = 0;
    for (int i = 0; i < 500; i++) {
        int ta = attn_sampler_sample(a, logits);
        assert_int_equal(ta, attn_sampler_sample(b, logits));
        differs += ta != attn_sampler_sample(c, logits);
    }
    assert_true(differs > 50);
    attn_sampler_free(a), attn_sampler_free(b), attn_sampler_free(c);
}

static void test_edge_cases(void **state) {
    (void)state;
    attn_sampler *s = make(1, 1.0f, 0, 0.5f, 0);
    const float one[1] = {-4.0f};
    assert_int_equal(attn_sampler_sample(s, one), 0);
    attn_sampler_free(s);

    s = make(4, 1.0f, 0, 1.0f, 0);
    const float all_neg_inf[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    assert_int_equal(attn_sampler_sample(s, all_neg_inf), 0);
    const float masked[4] = {-INFINITY, 0.0f, -INFINITY, -INFINITY}; /* one allowed token */
    for (int i = 0; i < 100; i++)
        assert_int_equal(attn_sampler_sample(s, masked), 1);
    const float with_nan[4] = {NAN, 0.0f, NAN, -INFINITY};
    for (int i = 0; i < 100; i++)
        assert_int_equal(attn_sampler_sample(s, with_nan), 1);
    const float pos_inf[4] = {0.0f, 1.0f, INFINITY, 2.0f};
    assert_int_equal(attn_sampler_sample(s, pos_inf), 2);
    attn_sampler_free(s);
}

/* attn_sampler_draw samples as attn_sampler_sample where the logits are finite or -inf (masks),
 * and refuses NaN, +inf and all -inf without drawing from the generator. */
static void test_draw_refuses_non_finite_logits(void **state) {
    (void)state;
    for (int greedy = 0; greedy < 2; greedy++) {
        attn_sampler *a = make(4, greedy ? 0.0f : 1.0f, 0, 1.0f, 9);
        attn_sampler *b = make(4, greedy ? 0.0f : 1.0f, 0, 1.0f, 9);
        const float ok[4] = {0.5f, -INFINITY, 1.0f, 0.25f};
        const float with_nan[4] = {NAN, 0.0f, 1.0f, -INFINITY};
        const float with_inf[4] = {0.0f, 1.0f, INFINITY, 2.0f};
        const float all_masked[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
        for (int i = 0; i < 50; i++) {
            int tok = -1;
            assert_int_equal(attn_sampler_draw(a, ok, &tok), ATTN_OK);
            assert_int_equal(tok, attn_sampler_sample(b, ok));
            tok = -7;
            assert_int_equal(attn_sampler_draw(a, with_nan, &tok), ATTN_ERR_NUMERIC);
            assert_non_null(strstr(attn_last_error(), "logit 0 of 4 is NaN"));
            assert_int_equal(attn_sampler_draw(a, with_inf, &tok), ATTN_ERR_NUMERIC);
            assert_non_null(strstr(attn_last_error(), "logit 2 of 4 is +inf"));
            assert_int_equal(attn_sampler_draw(a, all_masked, &tok), ATTN_ERR_NUMERIC);
            assert_non_null(strstr(attn_last_error(), "-inf"));
            assert_int_equal(tok, -7); /* untouched, and a and b still draw in step */
        }
        int tok;
        assert_int_equal(attn_sampler_draw(a, NULL, &tok), ATTN_ERR_INVALID);
        attn_sampler_free(a), attn_sampler_free(b);
    }
}

static void test_invalid_params(void **state) {
    (void)state;
    attn_sampler_params p = attn_sampler_default_params();
    assert_true(p.temperature == 1.0f && p.top_k == 0 && p.top_p == 1.0f && p.seed == 0);
    attn_sampler *s = (attn_sampler *)&p; /* must be reset to NULL on failure */
    assert_int_equal(attn_sampler_create(0, p, &s), ATTN_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(attn_last_error(), "vocab"));
    attn_sampler_params bad = p;
    bad.temperature = -0.5f;
    assert_int_equal(attn_sampler_create(10, bad, &s), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "temperature"));
    bad.temperature = NAN;
    assert_int_equal(attn_sampler_create(10, bad, &s), ATTN_ERR_INVALID);
    bad = p, bad.top_k = -1;
    assert_int_equal(attn_sampler_create(10, bad, &s), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "top_k"));
    const float bad_p[] = {0.0f, -0.1f, 1.01f, NAN};
    for (int i = 0; i < 4; i++) {
        bad = p, bad.top_p = bad_p[i];
        assert_int_equal(attn_sampler_create(10, bad, &s), ATTN_ERR_INVALID);
        assert_non_null(strstr(attn_last_error(), "top_p"));
    }
    assert_int_equal(attn_sampler_create(10, p, NULL), ATTN_ERR_INVALID);
    attn_sampler_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy),
        cmocka_unit_test(test_top_k_one_is_greedy),
        cmocka_unit_test(test_low_temperature),
        cmocka_unit_test(test_frequencies_match_softmax),
        cmocka_unit_test(test_chi_square_detects_wrong_temperature),
        cmocka_unit_test(test_top_k),
        cmocka_unit_test(test_top_k_large_vocab),
        cmocka_unit_test(test_top_p),
        cmocka_unit_test(test_top_k_then_top_p),
        cmocka_unit_test(test_top_p_large_vocab),
        cmocka_unit_test(test_same_seed_same_sequence),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_draw_refuses_non_finite_logits),
        cmocka_unit_test(test_invalid_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
