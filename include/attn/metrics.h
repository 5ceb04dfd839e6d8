/* attn/metrics.h: evaluation metrics for classifiers, and k-fold helpers.
 *
 * The classification report follows scikit-learn's conventions, so that its numbers can be set
 * beside `sklearn.metrics.classification_report(y_true, y_pred, labels=range(K),
 * zero_division=0)`:
 *   precision_c = TP_c / (TP_c + FP_c), recall_c = TP_c / (TP_c + FN_c),
 *   F1_c = 2 P_c R_c / (P_c + R_c), each 0 where its denominator is 0 (a class never predicted
 *   has precision 0; a class absent from y_true has recall 0);
 *   macro average = the plain mean over all K classes, those absent from y_true included;
 *   weighted average = the mean weighted by support (the number of true examples per class);
 *   accuracy = the fraction of examples with y_pred == y_true (= micro-averaged P, R and F1).
 * Labels are ints in [0, K). */
#ifndef ATTN_METRICS_H
#define ATTN_METRICS_H

#include <stdint.h>

#include "attn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n_classes; /* K */
    long n;        /* number of examples */
    double accuracy;
    /* Per class, K entries each. */
    double *precision;
    double *recall;
    double *f1;
    long *support;   /* examples whose true label is c */
    long *predicted; /* examples predicted as c */
    /* (K, K) row-major: confusion[t * K + p] counts examples of true class t predicted as p. */
    long *confusion;
    double macro_precision, macro_recall, macro_f1;
    double weighted_precision, weighted_recall, weighted_f1;
} attn_cls_report;

/* Fills *out from n (true, predicted) label pairs with labels in [0, n_classes). The arrays of
 * *out are allocated here and released by attn_cls_report_free. Errors (ATTN_ERR_INVALID, *out
 * left zeroed): n < 1, n_classes < 1, a NULL pointer, a label out of range (the message names the
 * first such index). ATTN_ERR_NOMEM if allocation fails. */
ATTN_API attn_status attn_classification_report(const int *y_true, const int *y_pred, long n,
                                                int n_classes, attn_cls_report *out);

/* Releases the arrays of a report filled by attn_classification_report and zeroes it. Safe on a
 * zeroed report and on NULL. */
ATTN_API void attn_cls_report_free(attn_cls_report *r);

/* Formats a report as a malloc'd NUL-terminated string in *out (the caller frees it).
 * class_names: K names, or NULL for "0", "1", ...
 * json == 0: a table like sklearn's classification_report (4 digits), then the confusion matrix
 *            (rows = true class, columns = predicted class, in the same order);
 * json != 0: one line of JSON:
 *   {"n": N, "accuracy": a,
 *    "classes": [{"name": s, "precision": p, "recall": r, "f1": f, "support": n}, ...],
 *    "macro_avg": {"precision": p, "recall": r, "f1": f, "support": N},
 *    "weighted_avg": {...}, "confusion": [[...], ...]}
 * Errors: ATTN_ERR_INVALID for a NULL or empty report or a NULL name; ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_cls_report_format(const attn_cls_report *r,
                                            const char *const *class_names, int json, char **out);

/* Assigns each of n examples to one of k folds: fold[i] in [0, k). The folds are balanced (sizes
 * differ by at most one: the first n % k folds hold one more) and the assignment is a uniform
 * shuffle determined by seed alone. Errors: ATTN_ERR_INVALID unless 2 <= k <= n and fold != NULL.
 */
ATTN_API attn_status attn_kfold_assign(long n, int k, uint64_t seed, int *fold);

/* Mean and standard deviation of x[n]: std = sqrt(sum (x - mean)^2 / (n - ddof)); ddof = 0 is
 * numpy's default (np.std), ddof = 1 the sample standard deviation. Either output may be NULL.
 * Errors: ATTN_ERR_INVALID if x is NULL, ddof < 0 or n <= ddof; ATTN_ERR_NUMERIC if an x is not
 * finite. */
ATTN_API attn_status attn_mean_std(const double *x, long n, int ddof, double *mean, double *std);

#ifdef __cplusplus
}
#endif
#endif
