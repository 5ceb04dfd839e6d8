/* eval/metrics.c: the classification report (accuracy, per-class P/R/F1, averages, confusion). */
#include "attn/metrics.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* a / b, or 0 where b == 0 (scikit-learn's zero_division=0). */
static double safe_div(double a, double b) {
    return b > 0 ? a / b : 0.0;
}

/* Allocates the report's arrays in one block: 3 double arrays (K), then 2 long arrays (K) and the
 * (K, K) confusion matrix. `precision` is the start of the block (attn_cls_report_free). */
static attn_status report_alloc(attn_cls_report *r, int k) {
    size_t kk = (size_t)k;
    if (kk > (SIZE_MAX / sizeof(long) - 5) / kk)
        return attn_error(ATTN_ERR_NOMEM, "classification report: %d classes is too many", k);
    size_t bytes = 3 * kk * sizeof(double) + (2 * kk + kk * kk) * sizeof(long);
    char *block = calloc(1, bytes);
    if (!block)
        return attn_error(ATTN_ERR_NOMEM, "classification report: %zu bytes for %d classes", bytes,
                          k);
    double *d = (double *)block;
    long *l = (long *)(d + 3 * kk);
    r->precision = d;
    r->recall = d + kk;
    r->f1 = d + 2 * kk;
    r->support = l;
    r->predicted = l + kk;
    r->confusion = l + 2 * kk;
    return ATTN_OK;
}

void attn_cls_report_free(attn_cls_report *r) {
    if (!r) return;
    free(r->precision);
    memset(r, 0, sizeof *r);
}

static attn_status check_labels(const int *y, long n, int k, const char *which) {
    for (long i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= k)
            return attn_error(ATTN_ERR_INVALID,
                              "classification report: %s[%ld] = %d is outside [0, %d)", which, i,
                              y[i], k);
    return ATTN_OK;
}

attn_status attn_classification_report(const int *y_true, const int *y_pred, long n, int n_classes,
                                       attn_cls_report *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "classification report: out is NULL");
    memset(out, 0, sizeof *out);
    if (n < 1)
        return attn_error(ATTN_ERR_INVALID, "classification report: no examples (n = %ld)", n);
    if (n_classes < 1)
        return attn_error(ATTN_ERR_INVALID, "classification report: n_classes = %d", n_classes);
    if (!y_true || !y_pred)
        return attn_error(ATTN_ERR_INVALID, "classification report: NULL labels");
    ATTN_TRY(check_labels(y_true, n, n_classes, "y_true"));
    ATTN_TRY(check_labels(y_pred, n, n_classes, "y_pred"));

    attn_cls_report r = {.n_classes = n_classes, .n = n};
    ATTN_TRY(report_alloc(&r, n_classes));
    const long k = n_classes;
    long correct = 0;
    for (long i = 0; i < n; i++) {
        r.confusion[y_true[i] * k + y_pred[i]]++;
        r.support[y_true[i]]++;
        r.predicted[y_pred[i]]++;
        correct += y_true[i] == y_pred[i];
    }
    r.accuracy = (double)correct / (double)n;

    for (long c = 0; c < k; c++) {
        double tp = (double)r.confusion[c * k + c];
        double p = safe_div(tp, (double)r.predicted[c]);
        double rec = safe_div(tp, (double)r.support[c]);
        r.precision[c] = p;
        r.recall[c] = rec;
        r.f1[c] = safe_div(2.0 * p * rec, p + rec);
        r.macro_precision += p;
        r.macro_recall += rec;
        r.macro_f1 += r.f1[c];
        double support = (double)r.support[c];
        r.weighted_precision += support * p;
        r.weighted_recall += support * rec;
        r.weighted_f1 += support * r.f1[c];
    }
    r.macro_precision /= (double)k;
    r.macro_recall /= (double)k;
    r.macro_f1 /= (double)k;
    r.weighted_precision /= (double)n; /* the supports sum to n */
    r.weighted_recall /= (double)n;
    r.weighted_f1 /= (double)n;
    *out = r;
    return ATTN_OK;
}
