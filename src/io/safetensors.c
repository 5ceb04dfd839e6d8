/* io/safetensors.c: a validating safetensors reader (docs/FORMATS.md).
 *
 * Sections: dtypes, a name index (hash table), small helpers, the header parser (every check the
 * reader makes lives there), the read API. The writer is io/safetensors_write.c; what the two
 * share is declared in io/safetensors_internal.h. Little-endian host assumed throughout. */
#include "io/safetensors.h"

#include <limits.h>
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
    [ATTN_ST_F32] = {"F32", 4},   [ATTN_ST_F64] = {"F64", 8}, [ATTN_ST_F16] = {"F16", 2},
    [ATTN_ST_BF16] = {"BF16", 2}, [ATTN_ST_I64] = {"I64", 8}, [ATTN_ST_I32] = {"I32", 4},
    [ATTN_ST_I8] = {"I8", 1},     [ATTN_ST_U8] = {"U8", 1},   [ATTN_ST_BOOL] = {"BOOL", 1},
};
#define N_DTYPES ((int)(sizeof dtype_info / sizeof dtype_info[0]))

const char *attn_st_dtype_name(attn_st_dtype dtype) {
    return (int)dtype >= 0 && (int)dtype < N_DTYPES ? dtype_info[dtype].name : "?";
}

size_t attn_st_dtype_size(attn_st_dtype dtype) {
    return (int)dtype >= 0 && (int)dtype < N_DTYPES ? dtype_info[dtype].size : 0;
}

static int dtype_parse(const char *name, attn_st_dtype *out) {
    for (int i = 0; i < N_DTYPES; i++)
        if (strcmp(name, dtype_info[i].name) == 0) {
            *out = (attn_st_dtype)i;
            return 0;
        }
    return -1;
}

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

/* ---- helpers ---- */

char *attn_st_copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

/* "(2, 3)"; "()" for a scalar. */
static const char *format_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
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

static int64_t numel(const attn_st_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

/* ---- the header parser ---- */

/* JSON numbers are doubles; integers above 2^53 are not exact, and no honest file needs them. */
#define JSON_INT_MAX 9007199254740992.0

struct attn_st_file {
    unsigned char *bytes; /* the whole file */
    size_t size;
    attn_st_tensor *tensors;
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

static attn_status parse_metadata(attn_st_file *f, const cJSON *meta) {
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
                                attn_st_tensor *t, uint64_t *begin, uint64_t *end) {
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
    if (ndim > ATTN_ST_MAX_DIMS)
        return attn_error(ATTN_ERR_FORMAT,
                          "safetensors: tensor '%s': shape has %d dimensions (at most %d)", name,
                          ndim, ATTN_ST_MAX_DIMS);
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
    if (attn_st_shape_nbytes(ndim, t->shape, attn_st_dtype_size(t->dtype), &t->nbytes) != 0)
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
                          name, format_shape(s, sizeof s, ndim, t->shape),
                          attn_st_dtype_name(t->dtype), t->nbytes, (unsigned long long)*begin,
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
static attn_status check_overlaps(const attn_st_file *f, span *spans, int n) {
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

/* Parses the header of f->bytes (already checked to hold 8 + header_len bytes) into f. */
static attn_status parse_header(attn_st_file *f, size_t header_len) {
    const char *text = (const char *)f->bytes + 8;
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
        attn_st_tensor *t = &f->tensors[f->ntensors];
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

static attn_status open_owned(unsigned char *bytes, size_t size, attn_st_file **out) {
    attn_st_file *f = calloc(1, sizeof *f);
    if (!f) {
        free(bytes);
        return attn_error(ATTN_ERR_NOMEM, "safetensors: out of memory");
    }
    f->bytes = bytes;
    f->size = size;
    if (size < 8) {
        attn_st_close(f);
        return attn_error(ATTN_ERR_FORMAT,
                          "safetensors: file is %zu bytes, too short for the 8-byte header length",
                          size);
    }
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--)
        header_len = header_len << 8 | bytes[i];
    attn_status s = ATTN_OK;
    if (header_len > ATTN_ST_MAX_HEADER)
        s = attn_error(ATTN_ERR_FORMAT, "safetensors: header length %llu exceeds the limit of %d",
                       (unsigned long long)header_len, ATTN_ST_MAX_HEADER);
    else if (header_len > size - 8)
        s = attn_error(ATTN_ERR_FORMAT,
                       "safetensors: header length %llu runs past the end of the file (%zu bytes)",
                       (unsigned long long)header_len, size);
    else
        s = parse_header(f, (size_t)header_len);
    if (s != ATTN_OK) {
        attn_st_close(f);
        return s;
    }
    *out = f;
    return ATTN_OK;
}

attn_status attn_st_open_memory(const void *buf, size_t size, attn_st_file **out) {
    if (!out || (!buf && size > 0))
        return attn_error(ATTN_ERR_INVALID, "attn_st_open_memory: NULL argument");
    *out = NULL;
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy) return attn_error(ATTN_ERR_NOMEM, "safetensors: cannot allocate %zu bytes", size);
    if (size) memcpy(copy, buf, size);
    return open_owned(copy, size, out);
}

attn_status attn_st_open(const char *path, attn_st_file **out) {
    if (!path || !out) return attn_error(ATTN_ERR_INVALID, "attn_st_open: NULL argument");
    *out = NULL;
    void *bytes;
    size_t size;
    ATTN_TRY(attn_file_read_all(path, &bytes, &size));
    attn_status s = open_owned(bytes, size, out);
    if (s != ATTN_OK) attn_error_context(s, "%s", path);
    return s;
}

void attn_st_close(attn_st_file *f) {
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
    free(f->bytes);
    free(f);
}

int attn_st_count(const attn_st_file *f) {
    return f ? f->ntensors : 0;
}

const attn_st_tensor *attn_st_at(const attn_st_file *f, int i) {
    return f && i >= 0 && i < f->ntensors ? &f->tensors[i] : NULL;
}

const attn_st_tensor *attn_st_find(const attn_st_file *f, const char *name) {
    if (!f || !name) return NULL;
    int i = attn_st_index_find(&f->by_name, name);
    return i >= 0 ? &f->tensors[i] : NULL;
}

const char *attn_st_metadata(const attn_st_file *f, const char *key) {
    if (!f || !key) return NULL;
    int i = attn_st_index_find(&f->meta_by_key, key);
    return i >= 0 ? f->meta_values[i] : NULL;
}

int attn_st_metadata_count(const attn_st_file *f) {
    return f ? f->nmeta : 0;
}

void attn_st_metadata_at(const attn_st_file *f, int i, const char **key, const char **value) {
    int ok = f && i >= 0 && i < f->nmeta;
    if (key) *key = ok ? f->meta_keys[i] : NULL;
    if (value) *value = ok ? f->meta_values[i] : NULL;
}

/* IEEE half to float, exactly (subnormals, infinities and NaNs included). */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) { /* zero or subnormal: mant * 2^-24 */
        float v = (float)mant * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    if (exp == 31)
        bits = sign | 0x7f800000u | mant << 13;
    else
        bits = sign | (exp + 112) << 23 | mant << 13;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

attn_status attn_st_read_f32(const attn_st_file *f, const char *name, float *dst, int ndim,
                             const int64_t *shape) {
    if (!f || !name || !dst || ndim < 0 || ndim > ATTN_ST_MAX_DIMS || (!shape && ndim > 0))
        return attn_error(ATTN_ERR_INVALID, "attn_st_read_f32: bad arguments for '%s'",
                          name ? name : "(null)");
    const attn_st_tensor *t = attn_st_find(f, name);
    if (!t) return attn_error(ATTN_ERR_MISSING, "tensor '%s' is missing", name);
    if (t->dtype != ATTN_ST_F32 && t->dtype != ATTN_ST_F64 && t->dtype != ATTN_ST_F16 &&
        t->dtype != ATTN_ST_BF16)
        return attn_error(ATTN_ERR_FORMAT,
                          "tensor '%s' has dtype %s; expected a float (F32, F64, F16 or BF16)",
                          name, attn_st_dtype_name(t->dtype));
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char got[128], want[128];
        return attn_error(ATTN_ERR_SHAPE, "tensor '%s' has shape %s; expected %s", name,
                          format_shape(got, sizeof got, t->ndim, t->shape),
                          format_shape(want, sizeof want, ndim, shape));
    }
    const unsigned char *src = t->data;
    int64_t n = numel(t);
    switch (t->dtype) {
    case ATTN_ST_F32:
        memcpy(dst, src, t->nbytes);
        break;
    case ATTN_ST_F64:
        for (int64_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, src + 8 * i, 8);
            dst[i] = (float)v;
        }
        break;
    case ATTN_ST_F16:
    case ATTN_ST_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            if (t->dtype == ATTN_ST_F16) {
                dst[i] = half_to_float(h);
            } else {
                uint32_t bits = (uint32_t)h << 16;
                memcpy(&dst[i], &bits, 4);
            }
        }
        break;
    default:
        break;
    }
    return ATTN_OK;
}

attn_status attn_st_read_int(const attn_st_file *f, const char *name, int *dst, long n) {
    if (!f || !name || (!dst && n > 0))
        return attn_error(ATTN_ERR_INVALID, "attn_st_read_int: bad arguments for '%s'",
                          name ? name : "(null)");
    const attn_st_tensor *t = attn_st_find(f, name);
    if (!t) return attn_error(ATTN_ERR_MISSING, "tensor '%s' is missing", name);
    switch (t->dtype) {
    case ATTN_ST_I64:
    case ATTN_ST_I32:
    case ATTN_ST_I8:
    case ATTN_ST_U8:
    case ATTN_ST_BOOL:
        break;
    default:
        return attn_error(ATTN_ERR_FORMAT,
                          "tensor '%s' has dtype %s; expected an integer (I64, I32, I8, U8, BOOL)",
                          name, attn_st_dtype_name(t->dtype));
    }
    if (numel(t) != n)
        return attn_error(ATTN_ERR_SHAPE, "tensor '%s' has %lld elements; expected %ld", name,
                          (long long)numel(t), n);
    const unsigned char *src = t->data;
    for (long i = 0; i < n; i++) {
        if (t->dtype == ATTN_ST_I64) {
            int64_t v;
            memcpy(&v, src + 8 * i, 8);
            if (v < INT_MIN || v > INT_MAX)
                return attn_error(ATTN_ERR_FORMAT,
                                  "tensor '%s': element %ld (%lld) does not fit in an int", name, i,
                                  (long long)v);
            dst[i] = (int)v;
        } else if (t->dtype == ATTN_ST_I32) {
            int32_t v;
            memcpy(&v, src + 4 * i, 4);
            dst[i] = v;
        } else if (t->dtype == ATTN_ST_I8) {
            dst[i] = (signed char)src[i];
        } else if (t->dtype == ATTN_ST_U8) {
            dst[i] = src[i];
        } else {
            dst[i] = src[i] != 0;
        }
    }
    return ATTN_OK;
}
