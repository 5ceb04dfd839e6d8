/* tests/eval/test_kfold.c: k-fold assignment and mean/std (src/eval/kfold.c). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/metrics.h"

/* Every fold's size is floor(n/k) or ceil(n/k), and the first n % k folds hold the extra one. */
static void test_balanced(void **state) {
    const long sizes[] = {2, 3, 10, 11, 99, 1000, 1001};
    const int ks[] = {2, 3, 5, 10};
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++)
        for (size_t b = 0; b < sizeof ks / sizeof ks[0]; b++) {
            long n = sizes[a];
            int k = ks[b];
            if (k > n) continue;
            int *fold = malloc((size_t)n * sizeof *fold);
            long count[10] = {0};
            assert_int_equal(attn_kfold_assign(n, k, 42, fold), ATTN_OK);
            for (long i = 0; i < n; i++) {
                assert_true(fold[i] >= 0 && fold[i] < k);
                count[fold[i]]++;
            }
            for (int f = 0; f < k; f++)
                assert_int_equal(count[f], n / k + (f < n % k));
            free(fold);
        }
}

/* The same seed gives the same folds; another seed another shuffle; the folds are not blocks. */
static void test_deterministic_and_shuffled(void **state) {
    enum { n = 1000, k = 5 };
    static int a[n], b[n], c[n];
    assert_int_equal(attn_kfold_assign(n, k, 1, a), ATTN_OK);
    assert_int_equal(attn_kfold_assign(n, k, 1, b), ATTN_OK);
    assert_int_equal(attn_kfold_assign(n, k, 2, c), ATTN_OK);
    assert_memory_equal(a, b, sizeof a);
    int same = 0, runs = 0;
    for (int i = 0; i < n; i++) {
        same += a[i] == c[i];
        runs += i > 0 && a[i] != a[i - 1];
    }
    /* Independent shuffles agree on about n / k positions; a shuffle changes fold ~ (1 - 1/k). */
    assert_true(same > n / k / 2 && same < 2 * n / k);
    assert_true(runs > n / 2);
}

static void test_kfold_errors(void **state) {
    int fold[4];
    assert_int_equal(attn_kfold_assign(4, 1, 0, fold), ATTN_ERR_INVALID);
    assert_int_equal(attn_kfold_assign(4, 5, 0, fold), ATTN_ERR_INVALID);
    assert_int_equal(attn_kfold_assign(0, 2, 0, fold), ATTN_ERR_INVALID);
    assert_int_equal(attn_kfold_assign(4, 2, 0, NULL), ATTN_ERR_INVALID);
    assert_int_equal(attn_kfold_assign(4, 4, 0, fold), ATTN_OK);
}

/* numpy: x = np.array([0.81, 0.84, 0.79, 0.86, 0.80]); repr(x.mean()), repr(x.std()),
 * repr(x.std(ddof=1)) -> 0.82 0.026076809620810566 0.029154759474226473 */
static void test_mean_std(void **state) {
    const double x[] = {0.81, 0.84, 0.79, 0.86, 0.80};
    double mean, std;
    assert_int_equal(attn_mean_std(x, 5, 0, &mean, &std), ATTN_OK);
    assert_true(fabs(mean - 0.82) < 1e-15);
    assert_true(fabs(std - 0.026076809620810566) < 1e-15);
    assert_int_equal(attn_mean_std(x, 5, 1, NULL, &std), ATTN_OK);
    assert_true(fabs(std - 0.029154759474226473) < 1e-15);
    assert_int_equal(attn_mean_std(x, 1, 0, &mean, &std), ATTN_OK);
    assert_true(mean == 0.81 && std == 0.0);

    assert_int_equal(attn_mean_std(x, 1, 1, &mean, &std), ATTN_ERR_INVALID);
    assert_int_equal(attn_mean_std(x, 0, 0, &mean, &std), ATTN_ERR_INVALID);
    assert_int_equal(attn_mean_std(x, 5, -1, &mean, &std), ATTN_ERR_INVALID);
    assert_int_equal(attn_mean_std(NULL, 5, 0, &mean, &std), ATTN_ERR_INVALID);
    const double y[] = {1.0, NAN};
    assert_int_equal(attn_mean_std(y, 2, 0, &mean, &std), ATTN_ERR_NUMERIC);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balanced),
        cmocka_unit_test(test_deterministic_and_shuffled),
        cmocka_unit_test(test_kfold_errors),
        cmocka_unit_test(test_mean_std),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
