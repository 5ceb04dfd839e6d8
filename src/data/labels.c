/* data/labels.c: label sets: names <-> ids, and their JSON list form (include/attn/data.h).
 *
 * The names keep their id order; a second array holds the ids sorted by name, so that a lookup is
 * a binary search whatever the order the names were given in. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "attn/data.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"

struct attn_labels {
    int n;
    char **names; /* n names in id order, each malloc'd */
    int *sorted;  /* n ids ordered by strcmp of their names */
};

void attn_labels_free(attn_labels *l) {
    if (!l) return;
    for (int i = 0; l->names && i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    free(l->sorted);
    free(l);
}

/* qsort over ids needs the names: a file-local pointer is not thread safe, so sort pairs. */
typedef struct {
    const char *name;
    int id;
} name_id;

/* qsort order of name_id pairs: by name, then by id. */
static int cmp_name_id(const void *a, const void *b) {
    int c = strcmp(((const name_id *)a)->name, ((const name_id *)b)->name);
    return c ? c : ((const name_id *)a)->id - ((const name_id *)b)->id;
}

attn_status attn_labels_create(const char *const *names, int n, attn_labels **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "labels: out is NULL");
    *out = NULL;
    if (!names || n < 1) return attn_error(ATTN_ERR_INVALID, "labels: need at least one name");
    for (int i = 0; i < n; i++)
        if (!names[i] || !names[i][0])
            return attn_error(ATTN_ERR_INVALID, "labels: name %d is NULL or empty", i);
    attn_labels *l = calloc(1, sizeof *l);
    name_id *pairs = malloc((size_t)n * sizeof *pairs);
    if (l) {
        l->names = calloc((size_t)n, sizeof *l->names);
        l->sorted = malloc((size_t)n * sizeof *l->sorted);
    }
    if (!l || !pairs || !l->names || !l->sorted) {
        free(pairs);
        attn_labels_free(l);
        return attn_error(ATTN_ERR_NOMEM, "labels: out of memory for %d names", n);
    }
    l->n = n;
    for (int i = 0; i < n; i++)
        pairs[i] = (name_id){names[i], i};
    qsort(pairs, (size_t)n, sizeof *pairs, cmp_name_id);
    attn_status s = ATTN_OK;
    for (int i = 0; i < n && s == ATTN_OK; i++) {
        l->sorted[i] = pairs[i].id;
        if (i > 0 && strcmp(pairs[i].name, pairs[i - 1].name) == 0)
            s = attn_error(ATTN_ERR_INVALID, "labels: '%s' is given twice", pairs[i].name);
    }
    for (int i = 0; i < n && s == ATTN_OK; i++)
        if (!(l->names[i] = strdup(names[i])))
            s = attn_error(ATTN_ERR_NOMEM, "labels: out of memory for %d names", n);
    free(pairs);
    if (s != ATTN_OK) {
        attn_labels_free(l);
        return s;
    }
    *out = l;
    return ATTN_OK;
}

/* qsort order of C strings by bytes. */
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

attn_status attn_labels_from_tsv(const attn_tsv *t, attn_labels **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "labels: out is NULL");
    *out = NULL;
    if (!t || t->n < 1) return attn_error(ATTN_ERR_INVALID, "labels: the data has no examples");
    const char **all = malloc((size_t)t->n * sizeof *all);
    if (!all) return attn_error(ATTN_ERR_NOMEM, "labels: out of memory for %ld labels", t->n);
    memcpy(all, t->labels, (size_t)t->n * sizeof *all);
    qsort(all, (size_t)t->n, sizeof *all, cmp_str);
    long k = 0;
    for (long i = 0; i < t->n; i++)
        if (k == 0 || strcmp(all[i], all[k - 1]) != 0) all[k++] = all[i];
    attn_status s = k > (1 << 24) ? attn_error(ATTN_ERR_INVALID, "labels: %ld distinct labels", k)
                                  : attn_labels_create(all, (int)k, out);
    free(all);
    return s;
}

int attn_labels_count(const attn_labels *l) {
    return l ? l->n : 0;
}

const char *attn_labels_name(const attn_labels *l, int id) {
    return l && id >= 0 && id < l->n ? l->names[id] : NULL;
}

const char *const *attn_labels_names(const attn_labels *l) {
    return l ? (const char *const *)l->names : NULL;
}

int attn_labels_find(const attn_labels *l, const char *name) {
    if (!l || !name) return -1;
    int lo = 0, hi = l->n; /* the answer, if any, is in sorted[lo, hi) */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(name, l->names[l->sorted[mid]]);
        if (c == 0) return l->sorted[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

attn_status attn_labels_to_json(const attn_labels *l, char **json) {
    if (!l || !json) return attn_error(ATTN_ERR_INVALID, "labels: NULL argument");
    *json = NULL;
    cJSON *list = cJSON_CreateStringArray((const char *const *)l->names, l->n);
    *json = list ? cJSON_PrintUnformatted(list) : NULL;
    cJSON_Delete(list);
    return *json ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "labels: out of memory writing JSON");
}

attn_status attn_labels_from_json(const char *json, attn_labels **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "labels: out is NULL");
    *out = NULL;
    if (!json) return attn_error(ATTN_ERR_INVALID, "labels: json is NULL");
    cJSON *list = cJSON_Parse(json);
    if (!list || !cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1) {
        cJSON_Delete(list);
        return attn_error(ATTN_ERR_FORMAT, "labels: expected a non-empty JSON list of strings");
    }
    int n = cJSON_GetArraySize(list);
    const char **names = malloc((size_t)n * sizeof *names);
    if (!names) {
        cJSON_Delete(list);
        return attn_error(ATTN_ERR_NOMEM, "labels: out of memory for %d names", n);
    }
    attn_status s = ATTN_OK;
    int i = 0;
    for (cJSON *e = list->child; e && s == ATTN_OK; e = e->next, i++) {
        if (!cJSON_IsString(e) || !e->valuestring[0])
            s = attn_error(ATTN_ERR_FORMAT, "labels: entry %d is not a non-empty string", i);
        else
            names[i] = e->valuestring;
    }
    if (s == ATTN_OK) {
        s = attn_labels_create(names, n, out);
        if (s == ATTN_ERR_INVALID) s = attn_error_context(ATTN_ERR_FORMAT, "labels JSON");
    }
    free(names);
    cJSON_Delete(list);
    return s;
}
