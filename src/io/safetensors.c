/* io/safetensors.c: a validating safetensors reader (attn/safetensors.h, docs/FORMATS.md).
 *
 * Sections: dtypes, the header parser (every check the reader makes lives there), opening (from
 * memory, a read file or a mapped one) and the accessors. Typed reads are io/safetensors_read.c,
 * the writer io/safetensors_write.c; what they share is io/safetensors_internal.h (defined in
 * io/safetensors_index.c). Little-endian host assumed throughout. */
#include "io/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "io/file.h"
#include "io/safetensors_internal.h"

/* ---- dtypes ---- */

static const struct {
    const char *name;
    size_t size;
} dtype_info[] = {
    [ATTN_DTYPE_F32] = {"F32", 4},   [ATTN_DTYPE_F64] = {"F64", 8}, [ATTN_DTYPE_F16] = {"F16", 2},
    [ATTN_DTYPE_BF16] = {"BF16", 2}, [ATTN_DTYPE_I64] = {"I64", 8}, [ATTN_DTYPE_I32] = {"I32", 4},
    [ATTN_DTYPE_I8] = {"I8", 1},     [ATTN_DTYPE_U8] = {"U8", 1},   [ATTN_DTYPE_BOOL] = {"BOOL", 1},
};
#define N_DTYPES ((int)(sizeof dtype_info / sizeof dtype_info[0]))

const char *attn_dtype_name(attn_dtype dtype) {
    return (int)dtype >= 0 && (int)dtype < N_DTYPES ? dtype_info[dtype].name : "?";
}

size_t attn_dtype_size(attn_dtype dtype) {
    return (int)dtype >= 0 && (int)dtype < N_DTYPES ? dtype_info[dtype].size : 0;
}

static int dtype_parse(const char *name, attn_dtype *out) {
    for (int i = 0; i < N_DTYPES; i++)
        if (strcmp(name, dtype_info[i].name) == 0) {
            *out = (attn_dtype)i;
            return 0;
        }
    return -1;
}

/* ---- the header parser ---- */

/* JSON numbers are doubles; integers above 2^53 are not exact, and no honest file needs them. */
#define JSON_INT_MAX 9007199254740992.0

struct attn_safetensors {
    unsigned char *bytes; /* the whole file: malloc'd, or mapped read-only when `mapped` */
    size_t size;
    int mapped;
    attn_safetensors_tensor *tensors;
    int ntensors;
    char **meta_keys, **meta_values;
    int nmeta;
    name_index by_name, meta_by_key;
};

/* A non-negative JSON integer up to 2^53. Returns NULL, or what is wrong with the item. */
static const char *json_uint(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item)) return "not a number";
    double v = item->valuedouble;
    if (v < 0) return "negative";
    if (!(v <= JSON_INT_MAX)) return "too large";
    uint64_t u = (uint64_t)v;
    if ((double)u != v) return "not an integer";
    *out = u;
    return NULL;
}

static attn_status parse_metadata(attn_safetensors *f, const cJSON *meta) {
    if (!cJSON_IsObject(meta))
        return attn_error(ATTN_ERR_FORMAT, "safetensors: __metadata__ is not a JSON object");
    int n = cJSON_GetArraySize(meta);
    f->meta_keys = calloc((size_t)n + 1, sizeof(char *));
    f->meta_values = calloc((size_t)n + 1, sizeof(char *));
    if (!f->meta_keys || !f->meta_values)
        return attn_error(ATTN_ERR_NOMEM, "safetensors: out of memory");
    const cJSON *item;
    cJSON_ArrayForEach(item, meta) {
        if (!cJSON_IsString(item))
            return attn_error(ATTN_ERR_FORMAT,
                              "safetensors: __metadata__ value of key '%s' is not a string",
                              item->string);
        int i = f->nmeta;
        f->meta_keys[i] = attn_st_copy_string(item->string);
        f->meta_values[i] = attn_st_copy_string(item->valuestring);
        if (!f->meta_keys[i] || !f->meta_values[i])
            return attn_error(ATTN_ERR_NOMEM, "safetensors: out of memory");
        f->nmeta++;
        int r = attn_st_index_add(&f->meta_by_key, f->meta_keys[i], i);
        if (r < 0) return attn_error(ATTN_ERR_NOMEM, "safetensors: out of memory");
        if (r > 0)
            return attn_error(ATTN_ERR_FORMAT, "safetensors: duplicate __metadata__ key '%s'",
                              item->string);
    }
    return ATTN_OK;
}

/* Fills t (not its name or data) and [*begin, *end) from one header entry, checking every field
 * against the data section of `data_size` bytes. */
static attn_status parse_tensor(const char *name, const cJSON *entry, uint64_t data_size,
                                attn_safetensors_tensor *t, uint64_t *begin, uint64_t *end) {
    if (!cJSON_IsObject(entry))
        return attn_error(ATTN_ERR_FORMAT, "safetensors: tensor '%s': entry is not a JSON object",
                          name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsString(dtype))
        return attn_error(ATTN_ERR_FORMAT, "safetensors: tensor '%s': dtype %s", name,
                          dtype ? "is not a string" : "is missing");
    if (dtype_parse(dtype->valuestring, &t->dtype) != 0)
        return attn_error(ATTN_ERR_FORMAT, "safetensors: tensor '%s': unknown dtype \"%.32s\"",
                          name, dtype->valuestring);
    if (!cJSON_IsArray(shape))
        return attn_error(ATTN_ERR_FORMAT, "safetensors: tensor '%s': shape %s", name,
                          shape ? "is not an array" : "is missing");
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > ATTN_SAFETENSORS_MAX_DIMS)
        return attn_error(ATTN_ERR_FORMAT,
                          "safetensors: tensor '%s': shape has %d dimensions (at most %d)", name,
                          ndim, ATTN_SAFETENSORS_MAX_DIMS);
    t->ndim = ndim;
    const cJSON *dim;
    int i = 0;
    cJSON_ArrayForEach(dim, shape) {
        uint64_t d;
        const char *bad = json_uint(dim, &d);
        if (bad)
            return attn_error(ATTN_ERR_FORMAT, "safetensors: tensor '%s': shape dimension %d is %s",
                              name, i, bad);
        t->shape[i++] = (int64_t)d;
    }
    if (attn_st_shape_nbytes(ndim, t->shape, attn_dtype_size(t->dtype), &t->nbytes) != 0)
        return attn_error(ATTN_ERR_FORMAT, "safetensors: tensor '%s': shape product overflows",
                          name);
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2)
        return attn_error(ATTN_ERR_FORMAT, "safetensors: tensor '%s': data_offsets %s", name,
                          !offsets ? "is missing" : "is not an array of two integers");
    const char *bad = json_uint(cJSON_GetArrayItem(offsets, 0), begin);
    if (!bad) bad = json_uint(cJSON_GetArrayItem(offsets, 1), end);
    if (bad)
        return attn_error(ATTN_ERR_FORMAT, "safetensors: tensor '%s': a data_offsets entry is %s",
                          name, bad);
    if (*begin > *end)
        return attn_error(ATTN_ERR_FORMAT,
                          "safetensors: tensor '%s': data_offsets [%llu, %llu] has begin > end",
                          name, (unsigned long long)*begin, (unsigned long long)*end);
    if (*end > data_size)
        return attn_error(ATTN_ERR_FORMAT,
                          "safetensors: tensor '%s': data_offsets [%llu, %llu] lie outside the "
                          "%llu-byte data section",
                          name, (unsigned long long)*begin, (unsigned long long)*end,
                          (unsigned long long)data_size);
    if (*end - *begin != t->nbytes) {
        char s[128];
        return attn_error(ATTN_ERR_FORMAT,
                          "safetensors: tensor '%s': shape %s of %s needs %zu bytes but "
                          "data_offsets [%llu, %llu] span %llu",
                          name, attn_st_format_shape(s, sizeof s, ndim, t->shape),
                          attn_dtype_name(t->dtype), t->nbytes, (unsigned long long)*begin,
                          (unsigned long long)*end, (unsigned long long)(*end - *begin));
    }
    return ATTN_OK;
}

typedef struct {
    uint64_t begin, end;
    int tensor;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Two tensors may not share a byte (empty tensors share none). */
static attn_status check_overlaps(const attn_safetensors *f, span *spans, int n) {
    qsort(spans, (size_t)n, sizeof *spans, span_cmp);
    int prev = -1;
    for (int i = 0; i < n; i++) {
        if (spans[i].begin == spans[i].end) continue;
        if (prev >= 0 && spans[i].begin < spans[prev].end)
            return attn_error(ATTN_ERR_FORMAT,
                              "safetensors: tensors '%s' and '%s' overlap (data_offsets [%llu, "
                              "%llu] and [%llu, %llu])",
                              f->tensors[spans[prev].tensor].name, f->tensors[spans[i].tensor].name,
                              (unsigned long long)spans[prev].begin,
                              (unsigned long long)spans[prev].end,
                              (unsigned long long)spans[i].begin, (unsigned long long)spans[i].end);
        prev = i;
    }
    return ATTN_OK;
}

/* The offset of the first NUL character of the header, raw or written as the escape \u0000, or -1.
 * cJSON would cut a name or a value there, so "a\u0000x" and "a\u0000y" would both become "a". */
static long find_nul(const char *text, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (text[i] == 0) return (long)i;
        if (text[i] == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0)
                return (long)i;
            i++; /* the escaped character: an escaped backslash does not start an escape */
        }
    }
    return -1;
}

/* Parses the header of f->bytes (already checked to hold 8 + header_len bytes) into f. */
static attn_status parse_header(attn_safetensors *f, size_t header_len) {
    const char *text = (const char *)f->bytes + 8;
    long nul = find_nul(text, header_len);
    if (nul >= 0)
        return attn_error(ATTN_ERR_FORMAT,
                          "safetensors: header has a NUL character at byte %ld of %zu (names and "
                          "metadata must not contain one)",
                          nul, header_len);
    const char *parse_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, header_len, &parse_end, 0);
    if (!root) {
        long at = parse_end ? (long)(parse_end - text) : 0;
        return attn_error(ATTN_ERR_FORMAT,
                          "safetensors: header is not valid JSON (error near byte %ld of %zu)", at,
                          header_len);
    }
    attn_status s = ATTN_OK;
    for (const char *p = parse_end; s == ATTN_OK && p < text + header_len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            s = attn_error(ATTN_ERR_FORMAT,
                           "safetensors: header has bytes after its JSON value (byte %ld of %zu)",
                           (long)(p - text), header_len);
    if (s == ATTN_OK && !cJSON_IsObject(root))
        s = attn_error(ATTN_ERR_FORMAT, "safetensors: header is not a JSON object");
    int n = s == ATTN_OK ? cJSON_GetArraySize(root) : 0;
    span *spans = NULL;
    if (s == ATTN_OK) {
        f->tensors = calloc((size_t)n + 1, sizeof *f->tensors);
        spans = malloc(((size_t)n + 1) * sizeof *spans);
        if (!f->tensors || !spans) s = attn_error(ATTN_ERR_NOMEM, "safetensors: out of memory");
    }
    uint64_t data_size = f->size - 8 - header_len;
    const unsigned char *data = f->bytes + 8 + header_len;
    int seen_metadata = 0;
    const cJSON *entry = s == ATTN_OK ? root->child : NULL;
    for (; s == ATTN_OK && entry; entry = entry->next) {
        if (strcmp(entry->string, "__metadata__") == 0) {
            s = seen_metadata ? attn_error(ATTN_ERR_FORMAT, "safetensors: two __metadata__ entries")
                              : parse_metadata(f, entry);
            seen_metadata = 1;
            continue;
        }
        attn_safetensors_tensor *t = &f->tensors[f->ntensors];
        span *sp = &spans[f->ntensors];
        s = parse_tensor(entry->string, entry, data_size, t, &sp->begin, &sp->end);
        if (s != ATTN_OK) break;
        char *name = attn_st_copy_string(entry->string);
        if (!name) {
            s = attn_error(ATTN_ERR_NOMEM, "safetensors: out of memory");
            break;
        }
        t->name = name;
        t->data = data + sp->begin;
        sp->tensor = f->ntensors++;
        int r = attn_st_index_add(&f->by_name, name, sp->tensor);
        if (r < 0) s = attn_error(ATTN_ERR_NOMEM, "safetensors: out of memory");
        if (r > 0) s = attn_error(ATTN_ERR_FORMAT, "safetensors: duplicate tensor name '%s'", name);
    }
    if (s == ATTN_OK) s = check_overlaps(f, spans, f->ntensors);
    free(spans);
    cJSON_Delete(root);
    return s;
}

/* ---- the read API ---- */

static void release_bytes(unsigned char *bytes, size_t size, int mapped) {
    if (mapped)
        attn_file_unmap(bytes, size);
    else
        free(bytes);
}

/* Validates `size` bytes (owned from here on: malloc'd, or mapped when `mapped`) into a new file.
 */
static attn_status open_owned(unsigned char *bytes, size_t size, int mapped,
                              attn_safetensors **out) {
    attn_safetensors *f = calloc(1, sizeof *f);
    if (!f) {
        release_bytes(bytes, size, mapped);
        return attn_error(ATTN_ERR_NOMEM, "safetensors: out of memory");
    }
    f->bytes = bytes;
    f->size = size;
    f->mapped = mapped;
    if (size < 8) {
        attn_safetensors_close(f);
        return attn_error(ATTN_ERR_FORMAT,
                          "safetensors: file is %zu bytes, too short for the 8-byte header length",
                          size);
    }
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--)
        header_len = header_len << 8 | bytes[i];
    attn_status s = ATTN_OK;
    if (header_len > ATTN_SAFETENSORS_MAX_HEADER)
        s = attn_error(ATTN_ERR_FORMAT, "safetensors: header length %llu exceeds the limit of %d",
                       (unsigned long long)header_len, ATTN_SAFETENSORS_MAX_HEADER);
    else if (header_len > size - 8)
        s = attn_error(ATTN_ERR_FORMAT,
                       "safetensors: header length %llu runs past the end of the file (%zu bytes)",
                       (unsigned long long)header_len, size);
    else
        s = parse_header(f, (size_t)header_len);
    if (s != ATTN_OK) {
        attn_safetensors_close(f);
        return s;
    }
    *out = f;
    return ATTN_OK;
}

attn_status attn_safetensors_open_memory(const void *buf, size_t size, attn_safetensors **out) {
    if (!out || (!buf && size > 0))
        return attn_error(ATTN_ERR_INVALID, "attn_safetensors_open_memory: NULL argument");
    *out = NULL;
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy) return attn_error(ATTN_ERR_NOMEM, "safetensors: cannot allocate %zu bytes", size);
    if (size) memcpy(copy, buf, size);
    return open_owned(copy, size, 0, out);
}

attn_status attn_safetensors_open(const char *path, unsigned flags, attn_safetensors **out) {
    if (out) *out = NULL;
    if (!path || !out) return attn_error(ATTN_ERR_INVALID, "attn_safetensors_open: NULL argument");
    if (flags & ~(unsigned)ATTN_SAFETENSORS_MMAP)
        return attn_error(ATTN_ERR_INVALID, "attn_safetensors_open: unknown flags 0x%x for %s",
                          flags, path);
    int mapped = (flags & ATTN_SAFETENSORS_MMAP) != 0;
    void *bytes;
    size_t size;
    if (mapped) {
        ATTN_TRY(attn_file_map(path, &bytes, &size));
        mapped = bytes != NULL; /* an empty file has no mapping */
    } else {
        ATTN_TRY(attn_file_read_all(path, &bytes, &size));
    }
    attn_status s = open_owned(bytes, size, mapped, out);
    if (s != ATTN_OK) attn_error_context(s, "%s", path);
    return s;
}

void attn_safetensors_close(attn_safetensors *f) {
    if (!f) return;
    for (int i = 0; i < f->ntensors; i++)
        free((char *)f->tensors[i].name);
    for (int i = 0; i < f->nmeta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    /* a key copied before its value failed to allocate */
    if (f->meta_keys) free(f->meta_keys[f->nmeta]);
    if (f->meta_values) free(f->meta_values[f->nmeta]);
    free(f->meta_keys);
    free(f->meta_values);
    free(f->tensors);
    attn_st_index_free(&f->by_name);
    attn_st_index_free(&f->meta_by_key);
    if (f->bytes) release_bytes(f->bytes, f->size, f->mapped);
    free(f);
}

int attn_safetensors_count(const attn_safetensors *f) {
    return f ? f->ntensors : 0;
}

const attn_safetensors_tensor *attn_safetensors_at(const attn_safetensors *f, int i) {
    return f && i >= 0 && i < f->ntensors ? &f->tensors[i] : NULL;
}

const attn_safetensors_tensor *attn_safetensors_find(const attn_safetensors *f, const char *name) {
    if (!f || !name) return NULL;
    int i = attn_st_index_find(&f->by_name, name);
    return i >= 0 ? &f->tensors[i] : NULL;
}

const char *attn_safetensors_metadata(const attn_safetensors *f, const char *key) {
    if (!f || !key) return NULL;
    int i = attn_st_index_find(&f->meta_by_key, key);
    return i >= 0 ? f->meta_values[i] : NULL;
}

int attn_safetensors_metadata_count(const attn_safetensors *f) {
    return f ? f->nmeta : 0;
}

void attn_safetensors_metadata_at(const attn_safetensors *f, int i, const char **key,
                                  const char **value) {
    int ok = f && i >= 0 && i < f->nmeta;
    if (key) *key = ok ? f->meta_keys[i] : NULL;
    if (value) *value = ok ? f->meta_values[i] : NULL;
}
