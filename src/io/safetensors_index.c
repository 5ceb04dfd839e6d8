/* io/safetensors_index.c: what the safetensors reader and writer share (io/safetensors_internal.h):
 * a name -> index hash table, string copies, and shape arithmetic. */
#include "io/safetensors_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- name index: open addressing over a power-of-two table, linear probing ---- */

static uint64_t hash_name(const char *s) { /* FNV-1a */
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void attn_st_index_free(name_index *ix) {
    free(ix->keys);
    free(ix->values);
    memset(ix, 0, sizeof *ix);
}

/* The slot holding `key`, or the empty slot where it would go. */
static size_t index_slot(const name_index *ix, const char *key) {
    size_t i = (size_t)hash_name(key) & (ix->cap - 1);
    while (ix->keys[i] && strcmp(ix->keys[i], key) != 0)
        i = (i + 1) & (ix->cap - 1);
    return i;
}

int attn_st_index_find(const name_index *ix, const char *key) {
    if (ix->cap == 0) return -1;
    size_t i = index_slot(ix, key);
    return ix->keys[i] ? ix->values[i] : -1;
}

/* Keeps the load factor at most 1/2. Returns -1 when out of memory. */
static int index_reserve(name_index *ix, size_t count) {
    if (count * 2 <= ix->cap) return 0;
    size_t cap = 16;
    while (cap < count * 2)
        cap *= 2;
    name_index bigger = {calloc(cap, sizeof(char *)), malloc(cap * sizeof(int)), cap, 0};
    if (!bigger.keys || !bigger.values) {
        attn_st_index_free(&bigger);
        return -1;
    }
    for (size_t i = 0; i < ix->cap; i++)
        if (ix->keys[i]) {
            size_t j = index_slot(&bigger, ix->keys[i]);
            bigger.keys[j] = ix->keys[i];
            bigger.values[j] = ix->values[i];
        }
    bigger.count = ix->count;
    attn_st_index_free(ix);
    *ix = bigger;
    return 0;
}

/* Adds key -> value. Returns 0, 1 if the key is already present (nothing changes), -1 if out of
 * memory. */
int attn_st_index_add(name_index *ix, const char *key, int value) {
    if (index_reserve(ix, ix->count + 1) != 0) return -1;
    size_t i = index_slot(ix, key);
    if (ix->keys[i]) return 1;
    ix->keys[i] = key;
    ix->values[i] = value;
    ix->count++;
    return 0;
}

char *attn_st_copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

/* "(2, 3)"; "()" for a scalar. */
const char *attn_st_format_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t len = (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (len < cap) snprintf(buf + len, cap - len, ")");
    return buf;
}

/* Product of dims times itemsize into *nbytes; -1 if it does not fit in an int64 and a size_t. */
int attn_st_shape_nbytes(int ndim, const int64_t *shape, size_t itemsize, size_t *nbytes) {
    uint64_t limit = (uint64_t)INT64_MAX < (uint64_t)SIZE_MAX ? (uint64_t)INT64_MAX : SIZE_MAX;
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        uint64_t d = (uint64_t)shape[i];
        if (d != 0 && n > limit / d) return -1;
        n *= d;
    }
    if (n > limit / itemsize) return -1;
    *nbytes = (size_t)(n * itemsize);
    return 0;
}
