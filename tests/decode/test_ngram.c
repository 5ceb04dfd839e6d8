/* tests/decode/test_ngram.c: the n-gram model of decode/ngram.h against NLTK's interpolated
 * Witten-Bell (tests/decode/ngram_reference.py, run with /usr/bin/python3; skipped, 77, without
 * it): four models of orders 1, 2, 3 and 5, 25 histories each (seen, unseen, shorter than the
 * order, longer), every symbol's log-probability to 1e-5. Then by hand: probabilities sum to 1,
 * and the errors. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "decode/ngram.h"

static cJSON *reference;

static int load_reference(void) {
    const char *src = getenv("ATTN_SOURCE_DIR");
    if (access("/usr/bin/python3", X_OK) != 0) return 77;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/decode/ngram_reference.py'",
             src ? src : ".");
    char *buf;
    int status = tu_read_command(cmd, &buf);
    if (!buf || status != 0) {
        fprintf(stderr, "ngram_reference.py failed (status %d)\n", status);
        free(buf);
        return 77; /* NLTK missing */
    }
    reference = cJSON_Parse(buf);
    free(buf);
    return reference ? 0 : 1;
}

static int ids_of(const cJSON *a, int *ids) {
    int n = cJSON_GetArraySize(a);
    for (int i = 0; i < n; i++)
        ids[i] = cJSON_GetArrayItem(a, i)->valueint;
    return n;
}

static void test_against_nltk(void **state) {
    (void)state;
    if (!reference) skip();
    const cJSON *cases = cJSON_GetObjectItem(reference, "cases");
    assert_int_equal(cJSON_GetArraySize(cases), 4);
    for (int c = 0; c < 4; c++) {
        const cJSON *k = cJSON_GetArrayItem(cases, c);
        int order = cJSON_GetObjectItem(k, "order")->valueint;
        int V = cJSON_GetObjectItem(k, "V")->valueint;
        ngram *g;
        assert_int_equal(ngram_create(order, V, &g), ATTN_OK);
        const cJSON *sent;
        int ids[64];
        cJSON_ArrayForEach(sent, cJSON_GetObjectItem(k, "sentences")) {
            int n = ids_of(sent, ids);
            assert_int_equal(ngram_add(g, ids, n), ATTN_OK);
        }
        assert_int_equal(ngram_finish(g), ATTN_OK);
        assert_true(ngram_contexts(g) >= 1);
        const cJSON *q;
        int n_queries = 0;
        cJSON_ArrayForEach(q, cJSON_GetObjectItem(k, "queries")) {
            int n = ids_of(cJSON_GetObjectItem(q, "history"), ids);
            float got[64];
            ngram_log_probs(g, ids, n, got);
            assert_true(isinf(got[0]) && got[0] < 0);
            const cJSON *want = cJSON_GetObjectItem(q, "logp");
            assert_int_equal(cJSON_GetArraySize(want), V);
            for (int s = 1; s <= V; s++) {
                double w = cJSON_GetArrayItem(want, s - 1)->valuedouble;
                if (fabs(got[s] - w) > 1e-5) {
                    fprintf(stderr, "order %d, query %d, symbol %d: %.7f, NLTK %.7f\n", order,
                            n_queries, s, got[s], w);
                    fail();
                }
            }
            n_queries++;
        }
        assert_int_equal(n_queries, 25);
        ngram_free(g);
    }
}

static void test_by_hand(void **state) {
    (void)state;
    ngram *g;
    assert_int_equal(ngram_create(3, 4, &g), ATTN_OK);
    int a[] = {1, 2, 3, 1, 2}, b[] = {2, 2}, bad[] = {1, 4};
    assert_int_equal(ngram_add(g, a, 5), ATTN_OK);
    assert_int_equal(ngram_add(g, b, 2), ATTN_OK);
    assert_int_equal(ngram_add(g, NULL, 0), ATTN_OK); /* an empty sentence: its end alone */
    assert_int_equal(ngram_add(g, bad, 2), ATTN_ERR_INVALID); /* 4 is the end, not an id */
    bad[1] = 0;
    assert_int_equal(ngram_add(g, bad, 2), ATTN_ERR_INVALID); /* 0 is the blank */
    assert_int_equal(ngram_finish(g), ATTN_OK);
    assert_int_equal(ngram_add(g, a, 5), ATTN_ERR_INVALID);
    assert_int_equal(ngram_finish(g), ATTN_ERR_INVALID);
    /* the empty context after <s> <s>: targets 1, 2, end (three sentences start) */
    float lp[5];
    int hist[] = {1, 2, 3, 1, 2, 2, 1, 3, 3, 3};
    for (int n = 0; n <= 10; n++) {
        ngram_log_probs(g, hist, n, lp);
        double sum = 0;
        for (int s = 1; s <= 4; s++)
            sum += exp(lp[s]);
        assert_true(fabs(sum - 1) < 1e-6);
    }
    /* after "1 2" the next was 3 once and the end once: both above an unseen 1 */
    ngram_log_probs(g, hist, 2, lp);
    assert_true(lp[3] > lp[1] && lp[4] > lp[1]);
    ngram_free(g);
    ngram *h = NULL;
    assert_int_equal(ngram_create(0, 4, &h), ATTN_ERR_INVALID);
    assert_int_equal(ngram_create(NGRAM_MAX_ORDER + 1, 4, &h), ATTN_ERR_INVALID);
    assert_int_equal(ngram_create(2, 1, &h), ATTN_ERR_INVALID);
    assert_null(h);
}

int main(void) {
    int rc = load_reference();
    if (rc == 1) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_against_nltk),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    cJSON_Delete(reference);
    return failed;
}
