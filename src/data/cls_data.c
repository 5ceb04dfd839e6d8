/* data/cls_data.c: texts -> token ids for a classifier, and right-padded batches
 * (include/attn/data.h).
 *
 * Every example is [CLS] + the text's tokens, cut to max_len ids: the classifier pools the first
 * position (or the mean over the real ones), so [CLS] must survive truncation, and the text's end
 * is what is dropped. */
#include "attn/data.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

attn_status attn_cls_encode_text(const attn_tokenizer *tok, const char *text, size_t len,
                                 int max_len, int *ids, int *n, int *truncated) {
    if (!tok || (!text && len > 0) || !ids || !n)
        return attn_error(ATTN_ERR_INVALID, "cls encode: NULL argument");
    if (max_len < 1) return attn_error(ATTN_ERR_INVALID, "cls encode: max_len %d < 1", max_len);
    int cls = attn_tokenizer_special(tok, ATTN_SPECIAL_CLS);
    if (cls < 0) return attn_error(ATTN_ERR_INVALID, "the tokenizer has no [CLS] token");
    int *tokens = NULL, count = 0;
    ATTN_TRY(attn_tokenizer_encode(tok, text ? text : "", len, &tokens, &count));
    int keep = count < max_len - 1 ? count : max_len - 1;
    ids[0] = cls;
    if (keep > 0) memcpy(ids + 1, tokens, (size_t)keep * sizeof *ids);
    free(tokens);
    *n = keep + 1;
    if (truncated) *truncated = keep < count;
    return ATTN_OK;
}

void attn_cls_data_free(attn_cls_data *d) {
    if (!d) return;
    free(d->ids);
    free(d->offsets);
    free(d->lengths);
    free(d->labels);
    free(d->lines);
    free(d->truncated);
    memset(d, 0, sizeof *d);
}

/* Grows *ids so that it holds at least `need` ints. */
static attn_status reserve_ids(int **ids, size_t *cap, size_t need) {
    if (need <= *cap) return ATTN_OK;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    int *bigger = realloc(*ids, c * sizeof **ids);
    if (!bigger) return attn_error(ATTN_ERR_NOMEM, "cls data: out of memory for %zu ids", c);
    *ids = bigger;
    *cap = c;
    return ATTN_OK;
}

/* The label id of row i, or -1 without a label set; *skip when the row is to be left out. */
static attn_status row_label(const attn_tsv *t, long i, const attn_labels *labels, int skip_unknown,
                             int *id, int *skip) {
    *skip = 0;
    *id = -1;
    if (!labels) return ATTN_OK;
    *id = attn_labels_find(labels, t->labels[i]);
    if (*id >= 0) return ATTN_OK;
    if (skip_unknown) {
        *skip = 1;
        return ATTN_OK;
    }
    int k = attn_labels_count(labels);
    return attn_error(ATTN_ERR_INVALID, "%s:%ld: label '%s' is not one of the %d known label%s",
                      t->name, t->lines[i], t->labels[i], k, k == 1 ? "" : "s");
}

/* Appends every row of t that is not skipped to d (whose per-row arrays hold t->n rows). */
static attn_status encode_rows(const attn_tsv *t, const attn_tokenizer *tok,
                               const attn_labels *labels, int max_len, int skip_unknown,
                               attn_cls_data *d) {
    size_t cap = 0, used = 0;
    for (long i = 0; i < t->n; i++) {
        int id, skip;
        ATTN_TRY(row_label(t, i, labels, skip_unknown, &id, &skip));
        if (skip) {
            d->n_skipped++;
            continue;
        }
        ATTN_TRY(reserve_ids(&d->ids, &cap, used + (size_t)max_len));
        int n, truncated;
        attn_status s = attn_cls_encode_text(tok, t->texts[i], strlen(t->texts[i]), max_len,
                                             d->ids + used, &n, &truncated);
        if (s != ATTN_OK) return attn_error_context(s, "%s:%ld", t->name, t->lines[i]);
        long k = d->n++;
        d->offsets[k] = (long)used;
        d->lengths[k] = n;
        d->labels[k] = id;
        d->lines[k] = t->lines[i];
        d->truncated[k] = (unsigned char)truncated;
        d->n_truncated += truncated;
        used += (size_t)n;
    }
    return ATTN_OK;
}

attn_status attn_cls_data_encode(const attn_tsv *t, const attn_tokenizer *tok,
                                 const attn_labels *labels, int max_len, int skip_unknown,
                                 attn_cls_data *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "cls data: out is NULL");
    memset(out, 0, sizeof *out);
    if (!t || !tok) return attn_error(ATTN_ERR_INVALID, "cls data: NULL argument");
    if (max_len < 1) return attn_error(ATTN_ERR_INVALID, "cls data: max_len %d < 1", max_len);
    size_t rows = (size_t)t->n + 1;
    out->offsets = malloc(rows * sizeof *out->offsets);
    out->lengths = malloc(rows * sizeof *out->lengths);
    out->labels = malloc(rows * sizeof *out->labels);
    out->lines = malloc(rows * sizeof *out->lines);
    out->truncated = malloc(rows * sizeof *out->truncated);
    attn_status s = ATTN_OK;
    if (!out->offsets || !out->lengths || !out->labels || !out->lines || !out->truncated)
        s = attn_error(ATTN_ERR_NOMEM, "cls data: out of memory for %ld rows", t->n);
    if (s == ATTN_OK) s = encode_rows(t, tok, labels, max_len, skip_unknown, out);
    if (s != ATTN_OK) attn_cls_data_free(out);
    return s;
}

attn_status attn_cls_data_fill_batch(const attn_cls_data *d, const long *rows, int B, int pad_id,
                                     int *tokens, int *lengths, int *labels, int *T) {
    if (!d || !rows || !tokens || !lengths || !T)
        return attn_error(ATTN_ERR_INVALID, "cls batch: NULL argument");
    if (B < 1) return attn_error(ATTN_ERR_INVALID, "cls batch: B = %d < 1", B);
    int longest = 0;
    for (int b = 0; b < B; b++) {
        if (rows[b] < 0 || rows[b] >= d->n)
            return attn_error(ATTN_ERR_INVALID, "cls batch: row %ld is outside [0, %ld)", rows[b],
                              d->n);
        if (d->lengths[rows[b]] > longest) longest = d->lengths[rows[b]];
    }
    for (int b = 0; b < B; b++) {
        long r = rows[b];
        int len = d->lengths[r];
        int *row = tokens + (size_t)b * (size_t)longest;
        memcpy(row, d->ids + d->offsets[r], (size_t)len * sizeof *row);
        for (int j = len; j < longest; j++)
            row[j] = pad_id;
        lengths[b] = len;
        if (labels) labels[b] = d->labels[r];
    }
    *T = longest;
    return ATTN_OK;
}
