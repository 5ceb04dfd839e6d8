/* io/safetensors_write.c: the safetensors writer (docs/FORMATS.md): tensors and string metadata
 * are collected (pointers to the caller's data, names copied), then written in one go, to memory
 * or atomically to a file (temporary + fsync + rename: a good file is never half-overwritten). */
#include "io/safetensors.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "io/file.h"
#include "io/safetensors_internal.h"

typedef struct {
    char *name;
    attn_dtype dtype;
    const void *data;
    int ndim;
    int64_t shape[ATTN_SAFETENSORS_MAX_DIMS];
    size_t nbytes;
} writer_entry;

struct attn_st_writer {
    writer_entry *tensors;
    int ntensors, cap;
    char **meta_keys, **meta_values;
    int nmeta, meta_cap;
    name_index by_name;
};

attn_status attn_st_writer_create(attn_st_writer **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_st_writer_create: NULL argument");
    *out = calloc(1, sizeof **out);
    return *out ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "safetensors writer: out of memory");
}

void attn_st_writer_free(attn_st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->ntensors; i++)
        free(w->tensors[i].name);
    for (int i = 0; i < w->nmeta; i++) {
        free(w->meta_keys[i]);
        free(w->meta_values[i]);
    }
    free(w->tensors);
    free(w->meta_keys);
    free(w->meta_values);
    attn_st_index_free(&w->by_name);
    free(w);
}

attn_status attn_st_writer_add(attn_st_writer *w, const char *name, attn_dtype dtype,
                               const void *data, int ndim, const int64_t *shape) {
    if (!w || !name || !*name)
        return attn_error(ATTN_ERR_INVALID, "safetensors writer: NULL writer or empty name");
    if (strcmp(name, "__metadata__") == 0)
        return attn_error(ATTN_ERR_INVALID, "safetensors writer: '__metadata__' is reserved");
    if (attn_dtype_size(dtype) == 0)
        return attn_error(ATTN_ERR_INVALID, "safetensors writer: tensor '%s': unknown dtype %d",
                          name, (int)dtype);
    if (ndim < 0 || ndim > ATTN_SAFETENSORS_MAX_DIMS || (ndim > 0 && !shape))
        return attn_error(ATTN_ERR_INVALID, "safetensors writer: tensor '%s': bad ndim %d", name,
                          ndim);
    if (attn_st_index_find(&w->by_name, name) >= 0)
        return attn_error(ATTN_ERR_INVALID, "safetensors writer: duplicate tensor name '%s'", name);
    writer_entry e = {.dtype = dtype, .data = data, .ndim = ndim};
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return attn_error(ATTN_ERR_INVALID,
                              "safetensors writer: tensor '%s': dimension %d is negative (%lld)",
                              name, i, (long long)shape[i]);
        e.shape[i] = shape[i];
    }
    if (attn_st_shape_nbytes(ndim, e.shape, attn_dtype_size(dtype), &e.nbytes) != 0)
        return attn_error(ATTN_ERR_INVALID, "safetensors writer: tensor '%s': size overflows",
                          name);
    if (!data && e.nbytes > 0)
        return attn_error(ATTN_ERR_INVALID, "safetensors writer: tensor '%s': NULL data", name);
    if (w->ntensors == w->cap) {
        if (w->cap >= INT_MAX / 2)
            return attn_error(ATTN_ERR_NOMEM, "safetensors writer: too many tensors");
        int cap = w->cap ? 2 * w->cap : 16;
        writer_entry *bigger = realloc(w->tensors, (size_t)cap * sizeof *bigger);
        if (!bigger) return attn_error(ATTN_ERR_NOMEM, "safetensors writer: out of memory");
        w->tensors = bigger;
        w->cap = cap;
    }
    e.name = attn_st_copy_string(name);
    if (!e.name || attn_st_index_add(&w->by_name, e.name, w->ntensors) != 0) {
        free(e.name);
        return attn_error(ATTN_ERR_NOMEM, "safetensors writer: out of memory");
    }
    w->tensors[w->ntensors++] = e;
    return ATTN_OK;
}

attn_status attn_st_writer_set_metadata(attn_st_writer *w, const char *key, const char *value) {
    if (!w || !key || !value)
        return attn_error(ATTN_ERR_INVALID, "safetensors writer: NULL metadata key or value");
    char *v = attn_st_copy_string(value);
    if (!v) return attn_error(ATTN_ERR_NOMEM, "safetensors writer: out of memory");
    for (int i = 0; i < w->nmeta; i++)
        if (strcmp(w->meta_keys[i], key) == 0) {
            free(w->meta_values[i]);
            w->meta_values[i] = v;
            return ATTN_OK;
        }
    if (w->nmeta == w->meta_cap) {
        int cap = w->meta_cap ? 2 * w->meta_cap : 8;
        char **keys = realloc(w->meta_keys, (size_t)cap * sizeof *keys);
        if (keys) w->meta_keys = keys;
        char **values = keys ? realloc(w->meta_values, (size_t)cap * sizeof *values) : NULL;
        if (values) w->meta_values = values;
        if (!keys || !values) {
            free(v);
            return attn_error(ATTN_ERR_NOMEM, "safetensors writer: out of memory");
        }
        w->meta_cap = cap;
    }
    char *k = attn_st_copy_string(key);
    if (!k) {
        free(v);
        return attn_error(ATTN_ERR_NOMEM, "safetensors writer: out of memory");
    }
    w->meta_keys[w->nmeta] = k;
    w->meta_values[w->nmeta++] = v;
    return ATTN_OK;
}

/* A JSON integer written exactly (cJSON prints numbers as doubles, with exponents when large). */
static cJSON *json_int(uint64_t v) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(text);
}

static int add_ints(cJSON *array, const uint64_t *v, int n) {
    for (int i = 0; i < n; i++) {
        cJSON *item = json_int(v[i]);
        if (!item || !cJSON_AddItemToArray(array, item)) {
            cJSON_Delete(item);
            return -1;
        }
    }
    return 0;
}

/* The header JSON, unpadded (malloc'd by cJSON; release with cJSON_free), or NULL if out of memory.
 */
static char *header_json(const attn_st_writer *w) {
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    if (ok && w->nmeta > 0) {
        cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
        ok = meta != NULL;
        for (int i = 0; ok && i < w->nmeta; i++)
            ok = cJSON_AddStringToObject(meta, w->meta_keys[i], w->meta_values[i]) != NULL;
    }
    uint64_t offset = 0;
    for (int i = 0; ok && i < w->ntensors; i++) {
        const writer_entry *e = &w->tensors[i];
        uint64_t dims[ATTN_SAFETENSORS_MAX_DIMS], where[2] = {offset, offset + e->nbytes};
        for (int d = 0; d < e->ndim; d++)
            dims[d] = (uint64_t)e->shape[d];
        cJSON *entry = cJSON_AddObjectToObject(root, e->name);
        ok = entry && cJSON_AddStringToObject(entry, "dtype", attn_dtype_name(e->dtype));
        cJSON *shape = ok ? cJSON_AddArrayToObject(entry, "shape") : NULL;
        cJSON *offsets = shape ? cJSON_AddArrayToObject(entry, "data_offsets") : NULL;
        ok = offsets != NULL;
        ok = ok && add_ints(shape, dims, e->ndim) == 0 && add_ints(offsets, where, 2) == 0;
        offset += e->nbytes;
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

/* The 8-byte length plus the header padded with spaces to a multiple of 8 (malloc'd), and the
 * total file size. */
static attn_status build_header(const attn_st_writer *w, unsigned char **out, size_t *out_len,
                                size_t *file_size) {
    char *json = header_json(w);
    if (!json) return attn_error(ATTN_ERR_NOMEM, "safetensors writer: out of memory");
    size_t len = strlen(json), padded = (len + 7) & ~(size_t)7;
    if (padded > ATTN_SAFETENSORS_MAX_HEADER) {
        cJSON_free(json);
        return attn_error(ATTN_ERR_INVALID,
                          "safetensors writer: the header would be %zu bytes, over the limit of %d",
                          padded, ATTN_SAFETENSORS_MAX_HEADER);
    }
    unsigned char *buf = malloc(8 + padded);
    if (!buf) {
        cJSON_free(json);
        return attn_error(ATTN_ERR_NOMEM, "safetensors writer: out of memory");
    }
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(buf + 8, json, len);
    memset(buf + 8 + len, ' ', padded - len);
    cJSON_free(json);
    size_t total = 8 + padded;
    for (int i = 0; i < w->ntensors; i++) {
        if (w->tensors[i].nbytes > SIZE_MAX - total) {
            free(buf);
            return attn_error(ATTN_ERR_NOMEM, "safetensors writer: total size overflows");
        }
        total += w->tensors[i].nbytes;
    }
    *out = buf;
    *out_len = 8 + padded;
    *file_size = total;
    return ATTN_OK;
}

attn_status attn_st_writer_to_memory(const attn_st_writer *w, void **data, size_t *size) {
    if (!w || !data || !size)
        return attn_error(ATTN_ERR_INVALID, "attn_st_writer_to_memory: NULL argument");
    unsigned char *header;
    size_t header_len, total;
    ATTN_TRY(build_header(w, &header, &header_len, &total));
    unsigned char *buf = realloc(header, total ? total : 1);
    if (!buf) {
        free(header);
        return attn_error(ATTN_ERR_NOMEM, "safetensors writer: cannot allocate %zu bytes", total);
    }
    size_t at = header_len;
    for (int i = 0; i < w->ntensors; i++) {
        if (w->tensors[i].nbytes) memcpy(buf + at, w->tensors[i].data, w->tensors[i].nbytes);
        at += w->tensors[i].nbytes;
    }
    *data = buf;
    *size = total;
    return ATTN_OK;
}

attn_status attn_st_writer_write(const attn_st_writer *w, const char *path) {
    if (!w || !path) return attn_error(ATTN_ERR_INVALID, "attn_st_writer_write: NULL argument");
    unsigned char *header;
    size_t header_len, total;
    ATTN_TRY(build_header(w, &header, &header_len, &total));
    const void **parts = malloc(((size_t)w->ntensors + 1) * sizeof *parts);
    size_t *sizes = malloc(((size_t)w->ntensors + 1) * sizeof *sizes);
    attn_status s;
    if (!parts || !sizes) {
        s = attn_error(ATTN_ERR_NOMEM, "safetensors writer: out of memory");
    } else {
        parts[0] = header;
        sizes[0] = header_len;
        for (int i = 0; i < w->ntensors; i++) {
            parts[i + 1] = w->tensors[i].data;
            sizes[i + 1] = w->tensors[i].nbytes;
        }
        s = attn_file_write_atomic(path, parts, sizes, w->ntensors + 1);
    }
    free(parts);
    free(sizes);
    free(header);
    return s;
}
