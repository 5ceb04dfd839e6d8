/* eval/metrics_format.c: a classification report as text (sklearn's layout) or as JSON. */
#include "attn/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "eval/json_out.h"

/* A growing malloc'd string; `failed` is sticky, so callers check once at the end. */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? 2 * b->cap : 1024;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* Name of class c: class_names[c], or its index written into buf. */
static const char *class_name(const char *const *class_names, int c, char buf[16]) {
    if (class_names) return class_names[c];
    snprintf(buf, 16, "%d", c);
    return buf;
}

static int digits_of(long v) {
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* sklearn.metrics.classification_report's table (digits=4), then the confusion matrix. */
static void format_text(strbuf *b, const attn_cls_report *r, const char *const *names) {
    const int k = r->n_classes;
    char buf[16];
    int width = (int)strlen("weighted avg");
    for (int c = 0; c < k; c++) {
        int len = (int)strlen(class_name(names, c, buf));
        if (len > width) width = len;
    }
    sb_printf(b, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score",
              "support");
    for (int c = 0; c < k; c++)
        sb_printf(b, "%*s  %9.4f %9.4f %9.4f %9ld\n", width, class_name(names, c, buf),
                  r->precision[c], r->recall[c], r->f1[c], r->support[c]);
    sb_printf(b, "\n%*s  %9s %9s %9.4f %9ld\n", width, "accuracy", "", "", r->accuracy, r->n);
    sb_printf(b, "%*s  %9.4f %9.4f %9.4f %9ld\n", width, "macro avg", r->macro_precision,
              r->macro_recall, r->macro_f1, r->n);
    sb_printf(b, "%*s  %9.4f %9.4f %9.4f %9ld\n", width, "weighted avg", r->weighted_precision,
              r->weighted_recall, r->weighted_f1, r->n);

    /* Rows are "index name", columns the predicted class index. */
    long most = k - 1;
    for (long i = 0; i < (long)k * k; i++)
        if (r->confusion[i] > most) most = r->confusion[i];
    int cell = digits_of(most) + 1, index_width = digits_of(k - 1);
    sb_printf(b, "\nconfusion matrix (rows = true class, columns = predicted class)\n");
    sb_printf(b, "%*s", index_width + 1 + width, "");
    for (int p = 0; p < k; p++)
        sb_printf(b, " %*d", cell, p);
    sb_printf(b, "\n");
    for (int t = 0; t < k; t++) {
        sb_printf(b, "%*d %-*s", index_width, t, width, class_name(names, t, buf));
        for (int p = 0; p < k; p++)
            sb_printf(b, " %*ld", cell, r->confusion[(long)t * k + p]);
        sb_printf(b, "\n");
    }
}

/* {"name": name, "precision": p, "recall": r, "f1": f, "support": n} ("name" only if non-NULL),
 * added to `parent` (an array, or an object under `key`). Returns 0 if out of memory. */
static int add_prf(cJSON *parent, const char *key, const char *name, double p, double rec,
                   double f1, long support) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return 0;
    int ok = (!name || cJSON_AddStringToObject(o, "name", name)) &&
             cJSON_AddNumberToObject(o, "precision", p) &&
             cJSON_AddNumberToObject(o, "recall", rec) && cJSON_AddNumberToObject(o, "f1", f1) &&
             cJSON_AddNumberToObject(o, "support", (double)support);
    ok = ok && (key ? cJSON_AddItemToObject(parent, key, o) : cJSON_AddItemToArray(parent, o));
    if (!ok) cJSON_Delete(o);
    return ok;
}

/* The report as a cJSON tree (layout in attn/metrics.h), or NULL if out of memory. */
static cJSON *report_json(const attn_cls_report *r, const char *const *names) {
    const long k = r->n_classes;
    char buf[16];
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON *classes = NULL, *confusion = NULL;
    int ok = cJSON_AddNumberToObject(root, "n", (double)r->n) &&
             cJSON_AddNumberToObject(root, "accuracy", r->accuracy) &&
             (classes = cJSON_AddArrayToObject(root, "classes")) != NULL;
    for (long c = 0; ok && c < k; c++)
        ok = add_prf(classes, NULL, class_name(names, (int)c, buf), r->precision[c], r->recall[c],
                     r->f1[c], r->support[c]);
    ok = ok &&
         add_prf(root, "macro_avg", NULL, r->macro_precision, r->macro_recall, r->macro_f1, r->n) &&
         add_prf(root, "weighted_avg", NULL, r->weighted_precision, r->weighted_recall,
                 r->weighted_f1, r->n) &&
         (confusion = cJSON_AddArrayToObject(root, "confusion")) != NULL;
    for (long t = 0; ok && t < k; t++) {
        cJSON *row = cJSON_CreateArray();
        ok = row && cJSON_AddItemToArray(confusion, row);
        if (!ok) cJSON_Delete(row);
        for (long p = 0; ok && p < k; p++) {
            cJSON *v = cJSON_CreateNumber((double)r->confusion[t * k + p]);
            ok = v && cJSON_AddItemToArray(row, v);
            if (!ok) cJSON_Delete(v);
        }
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

attn_status attn_cls_report_format(const attn_cls_report *r, const char *const *class_names,
                                   int json, char **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "report format: out is NULL");
    *out = NULL;
    if (!r || r->n_classes < 1 || !r->precision)
        return attn_error(ATTN_ERR_INVALID, "report format: empty report");
    for (int c = 0; class_names && c < r->n_classes; c++)
        if (!class_names[c])
            return attn_error(ATTN_ERR_INVALID, "report format: class_names[%d] is NULL", c);
    if (json) {
        char *copy = json_take_text(report_json(r, class_names));
        if (!copy) return attn_error(ATTN_ERR_NOMEM, "report format: out of memory");
        *out = copy;
        return ATTN_OK;
    }
    strbuf b = {0};
    format_text(&b, r, class_names);
    if (b.failed || !b.s) {
        free(b.s);
        return attn_error(ATTN_ERR_NOMEM, "report format: out of memory");
    }
    *out = b.s;
    return ATTN_OK;
}
