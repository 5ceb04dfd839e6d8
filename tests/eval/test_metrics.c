/* tests/eval/test_metrics.c: the classification report (src/eval/metrics.c, metrics_format.c)
 * against scikit-learn. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "attn/metrics.h"

/* The expected numbers below were printed by Debian 12's python3-sklearn 1.2.1:
 *
 *   from sklearn.metrics import classification_report, confusion_matrix
 *   y_true = [0, 0, 0, 1, 1, 2, 2, 2, 2, 0, 1, 2, 0, 0, 1, 3, 3, 2, 1, 0, 2, 1]
 *   y_pred = [0, 1, 0, 1, 2, 2, 2, 0, 2, 0, 1, 4, 0, 0, 1, 0, 1, 0, 1, 0, 2, 0]
 *   K = 5
 *   r = classification_report(y_true, y_pred, labels=list(range(K)), zero_division=0,
 *                             output_dict=True)
 *   for c in range(K):
 *       d = r[str(c)]
 *       print("{%r, %r, %r, %d}," % (d["precision"], d["recall"], d["f1-score"], d["support"]))
 *   print(repr(r["accuracy"]))
 *   for a in ("macro avg", "weighted avg"):
 *       print(repr(r[a]["precision"]), repr(r[a]["recall"]), repr(r[a]["f1-score"]))
 *   print(confusion_matrix(y_true, y_pred, labels=list(range(K))).tolist())
 *   print(repr(classification_report(y_true, y_pred, labels=list(range(K)), zero_division=0,
 *         target_names=["ant", "bee", "cat", "dog", "eel"], digits=4)))
 *
 * Class 3 is never predicted (precision 0 by zero_division), class 4 never occurs in y_true
 * (recall 0, support 0) but is predicted once, and the macro average still counts it. */
static const int y_true[] = {0, 0, 0, 1, 1, 2, 2, 2, 2, 0, 1, 2, 0, 0, 1, 3, 3, 2, 1, 0, 2, 1};
static const int y_pred[] = {0, 1, 0, 1, 2, 2, 2, 0, 2, 0, 1, 4, 0, 0, 1, 0, 1, 0, 1, 0, 2, 0};
#define N ((long)(sizeof y_true / sizeof y_true[0]))
#define K 5

static const struct {
    double precision, recall, f1;
    long support;
} want_class[K] = {
    {0.6, 0.8571428571428571, 0.7058823529411764, 7},
    {0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 6},
    {0.8, 0.5714285714285714, 0.6666666666666666, 7},
    {0.0, 0.0, 0.0, 2},
    {0.0, 0.0, 0.0, 0},
};
static const double want_accuracy = 0.6363636363636364;
static const double want_macro[3] = {0.4133333333333333, 0.419047619047619, 0.40784313725490196};
static const double want_weighted[3] = {0.6272727272727273, 0.6363636363636364, 0.6185383244206774};
static const long want_confusion[K][K] = {
    {6, 1, 0, 0, 0}, {1, 4, 1, 0, 0}, {2, 0, 4, 0, 1}, {1, 1, 0, 0, 0}, {0, 0, 0, 0, 0}};
static const char *names[K] = {"ant", "bee", "cat", "dog", "eel"};
static const char *want_text = "              precision    recall  f1-score   support\n\n"
                               "         ant     0.6000    0.8571    0.7059         7\n"
                               "         bee     0.6667    0.6667    0.6667         6\n"
                               "         cat     0.8000    0.5714    0.6667         7\n"
                               "         dog     0.0000    0.0000    0.0000         2\n"
                               "         eel     0.0000    0.0000    0.0000         0\n\n"
                               "    accuracy                         0.6364        22\n"
                               "   macro avg     0.4133    0.4190    0.4078        22\n"
                               "weighted avg     0.6273    0.6364    0.6185        22\n";

#define TOL 1e-12

static void assert_near(double got, double want, const char *what) {
    if (!(got >= want - TOL && got <= want + TOL))
        fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

static void assert_error_mentions(const char *needle) {
    if (!strstr(attn_last_error(), needle))
        fail_msg("error \"%s\" does not mention \"%s\"", attn_last_error(), needle);
}

static void test_report_matches_sklearn(void **state) {
    attn_cls_report r;
    assert_int_equal(attn_classification_report(y_true, y_pred, N, K, &r), ATTN_OK);
    assert_int_equal(r.n_classes, K);
    assert_int_equal(r.n, N);
    assert_near(r.accuracy, want_accuracy, "accuracy");
    for (int c = 0; c < K; c++) {
        assert_near(r.precision[c], want_class[c].precision, "precision");
        assert_near(r.recall[c], want_class[c].recall, "recall");
        assert_near(r.f1[c], want_class[c].f1, "f1");
        assert_int_equal(r.support[c], want_class[c].support);
        long predicted = 0;
        for (int t = 0; t < K; t++)
            predicted += want_confusion[t][c];
        assert_int_equal(r.predicted[c], predicted);
        for (int p = 0; p < K; p++)
            assert_int_equal(r.confusion[c * K + p], want_confusion[c][p]);
    }
    assert_near(r.macro_precision, want_macro[0], "macro precision");
    assert_near(r.macro_recall, want_macro[1], "macro recall");
    assert_near(r.macro_f1, want_macro[2], "macro f1");
    assert_near(r.weighted_precision, want_weighted[0], "weighted precision");
    assert_near(r.weighted_recall, want_weighted[1], "weighted recall");
    assert_near(r.weighted_f1, want_weighted[2], "weighted f1");
    attn_cls_report_free(&r);
    assert_null(r.precision);
    attn_cls_report_free(&r); /* a zeroed report frees again safely */
    attn_cls_report_free(NULL);
}

/* sklearn's own text, digit for digit, then our confusion matrix. */
static void test_text_format(void **state) {
    attn_cls_report r;
    assert_int_equal(attn_classification_report(y_true, y_pred, N, K, &r), ATTN_OK);
    char *text = NULL;
    assert_int_equal(attn_cls_report_format(&r, names, 0, &text), ATTN_OK);
    size_t len = strlen(want_text);
    if (strncmp(text, want_text, len) != 0)
        fail_msg("report text:\n%s\nwanted:\n%s", text, want_text);
    const char *want_matrix = "\nconfusion matrix (rows = true class, columns = predicted class)\n"
                              "                0  1  2  3  4\n"
                              "0 ant           6  1  0  0  0\n"
                              "1 bee           1  4  1  0  0\n"
                              "2 cat           2  0  4  0  1\n"
                              "3 dog           1  1  0  0  0\n"
                              "4 eel           0  0  0  0  0\n";
    assert_string_equal(text + len, want_matrix);
    free(text);

    /* Without names, classes are called by their index. */
    assert_int_equal(attn_cls_report_format(&r, NULL, 0, &text), ATTN_OK);
    assert_non_null(strstr(text, "           4     0.0000    0.0000    0.0000         0\n"));
    free(text);
    attn_cls_report_free(&r);
}

static double json_number(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) fail_msg("JSON lacks number \"%s\"", key);
    return v->valuedouble;
}

static void test_json_format(void **state) {
    attn_cls_report r;
    assert_int_equal(attn_classification_report(y_true, y_pred, N, K, &r), ATTN_OK);
    char *text = NULL;
    assert_int_equal(attn_cls_report_format(&r, names, 1, &text), ATTN_OK);
    assert_null(strchr(text, '\n')); /* one line */
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    assert_near(json_number(root, "n"), (double)N, "n");
    assert_near(json_number(root, "accuracy"), want_accuracy, "accuracy");
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(root, "classes");
    assert_int_equal(cJSON_GetArraySize(classes), K);
    for (int c = 0; c < K; c++) {
        const cJSON *o = cJSON_GetArrayItem(classes, c);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "name")->valuestring, names[c]);
        assert_near(json_number(o, "precision"), want_class[c].precision, "precision");
        assert_near(json_number(o, "recall"), want_class[c].recall, "recall");
        assert_near(json_number(o, "f1"), want_class[c].f1, "f1");
        assert_near(json_number(o, "support"), (double)want_class[c].support, "support");
    }
    const cJSON *macro = cJSON_GetObjectItemCaseSensitive(root, "macro_avg");
    const cJSON *weighted = cJSON_GetObjectItemCaseSensitive(root, "weighted_avg");
    assert_near(json_number(macro, "f1"), want_macro[2], "macro f1");
    assert_near(json_number(weighted, "precision"), want_weighted[0], "weighted precision");
    assert_near(json_number(weighted, "support"), (double)N, "weighted support");
    const cJSON *confusion = cJSON_GetObjectItemCaseSensitive(root, "confusion");
    assert_int_equal(cJSON_GetArraySize(confusion), K);
    for (int t = 0; t < K; t++) {
        const cJSON *row = cJSON_GetArrayItem(confusion, t);
        assert_int_equal(cJSON_GetArraySize(row), K);
        for (int p = 0; p < K; p++)
            assert_int_equal((long)cJSON_GetArrayItem(row, p)->valuedouble, want_confusion[t][p]);
    }
    cJSON_Delete(root);
    free(text);
    attn_cls_report_free(&r);
}

/* All correct: every score 1 except a class absent from both sides, which scores 0 (and pulls the
 * macro average down, as sklearn's does when given labels=range(K)). */
static void test_perfect_and_absent_class(void **state) {
    const int y[] = {0, 1, 1, 0, 1};
    attn_cls_report r;
    assert_int_equal(attn_classification_report(y, y, 5, 3, &r), ATTN_OK);
    assert_near(r.accuracy, 1.0, "accuracy");
    assert_near(r.f1[0], 1.0, "f1[0]");
    assert_near(r.f1[1], 1.0, "f1[1]");
    assert_near(r.precision[2], 0.0, "precision[2]");
    assert_near(r.recall[2], 0.0, "recall[2]");
    assert_int_equal(r.support[2], 0);
    assert_near(r.macro_f1, 2.0 / 3.0, "macro f1");
    assert_near(r.weighted_f1, 1.0, "weighted f1");
    attn_cls_report_free(&r);
}

/* Identities that hold for any input: weighted recall == accuracy, counts add up to n. */
static void test_random_identities(void **state) {
    attn_rng rng;
    attn_rng_init(&rng, 7, 0);
    enum { n = 5000, k = 17 };
    static int t[n], p[n];
    for (int i = 0; i < n; i++) {
        t[i] = (int)attn_rng_below(&rng, k);
        p[i] = attn_rng_uniform(&rng) < 0.6f ? t[i] : (int)attn_rng_below(&rng, k - 1);
    }
    attn_cls_report r;
    assert_int_equal(attn_classification_report(t, p, n, k, &r), ATTN_OK);
    assert_near(r.weighted_recall, r.accuracy, "weighted recall vs accuracy");
    long total = 0, support = 0, predicted = 0, diag = 0;
    for (int c = 0; c < k; c++) {
        support += r.support[c];
        predicted += r.predicted[c];
        diag += r.confusion[c * k + c];
        for (int q = 0; q < k; q++)
            total += r.confusion[c * k + q];
    }
    assert_int_equal(total, n);
    assert_int_equal(support, n);
    assert_int_equal(predicted, n);
    assert_near(r.accuracy, (double)diag / n, "accuracy from the diagonal");
    assert_near(r.precision[k - 1], 1.0, "class never wrongly predicted");
    attn_cls_report_free(&r);
}

static void test_errors(void **state) {
    attn_cls_report r;
    const int ok[] = {0, 1, 2};
    const int bad_high[] = {0, 3, 1};
    const int bad_low[] = {0, 1, -1};

    assert_int_equal(attn_classification_report(ok, ok, 0, 3, &r), ATTN_ERR_INVALID);
    assert_error_mentions("no examples");
    assert_null(r.precision);
    attn_cls_report_free(&r);
    assert_int_equal(attn_classification_report(ok, ok, -4, 3, &r), ATTN_ERR_INVALID);
    assert_int_equal(attn_classification_report(ok, ok, 3, 0, &r), ATTN_ERR_INVALID);
    assert_int_equal(attn_classification_report(NULL, ok, 3, 3, &r), ATTN_ERR_INVALID);
    assert_int_equal(attn_classification_report(ok, NULL, 3, 3, &r), ATTN_ERR_INVALID);
    assert_int_equal(attn_classification_report(ok, ok, 3, 3, NULL), ATTN_ERR_INVALID);

    assert_int_equal(attn_classification_report(bad_high, ok, 3, 3, &r), ATTN_ERR_INVALID);
    assert_error_mentions("y_true[1] = 3");
    assert_null(r.precision);
    assert_int_equal(attn_classification_report(ok, bad_low, 3, 3, &r), ATTN_ERR_INVALID);
    assert_error_mentions("y_pred[2] = -1");
    /* Labels valid for K = 4 but not for K = 3. */
    assert_int_equal(attn_classification_report(bad_high, ok, 3, 4, &r), ATTN_OK);
    attn_cls_report_free(&r);

    char *text = (char *)1;
    attn_cls_report empty = {0};
    assert_int_equal(attn_cls_report_format(&empty, NULL, 0, &text), ATTN_ERR_INVALID);
    assert_null(text);
    assert_int_equal(attn_cls_report_format(NULL, NULL, 1, &text), ATTN_ERR_INVALID);
    assert_int_equal(attn_classification_report(ok, ok, 3, 3, &r), ATTN_OK);
    const char *holes[3] = {"a", NULL, "c"};
    assert_int_equal(attn_cls_report_format(&r, holes, 0, &text), ATTN_ERR_INVALID);
    assert_error_mentions("class_names[1]");
    assert_int_equal(attn_cls_report_format(&r, NULL, 0, NULL), ATTN_ERR_INVALID);
    attn_cls_report_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_matches_sklearn),
        cmocka_unit_test(test_text_format),
        cmocka_unit_test(test_json_format),
        cmocka_unit_test(test_perfect_and_absent_class),
        cmocka_unit_test(test_random_identities),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
