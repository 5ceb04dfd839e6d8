/* tests/io/test_safetensors.c: the safetensors reader and writer (src/io/safetensors.c).
 *
 * Reference files are built here byte by byte from the format's specification (8-byte
 * little-endian header length, JSON header, data), laid out as the reference implementation lays
 * them out, so the reader is not only tested against our own writer. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "io/file.h"
#include "io/safetensors.h"

static char dir[256];

static const char *in_dir(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static int setup(void **state) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/attn_test_st_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    DIR *h = opendir(dir);
    struct dirent *e;
    while (h && (e = readdir(h)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) unlink(in_dir(e->d_name));
    if (h) closedir(h);
    return rmdir(dir);
}

static void assert_error_mentions(const char *needle) {
    if (!strstr(attn_last_error(), needle))
        fail_msg("error \"%s\" does not mention \"%s\"", attn_last_error(), needle);
}

/* A file: the 8-byte little-endian length of the hlen bytes of `header`, the header, then
 * `data_len` bytes of data (copied from data, or a counting pattern when data is NULL). malloc'd.
 */
static unsigned char *build_file_n(const char *header, size_t hlen, const void *data,
                                   size_t data_len, size_t *size) {
    *size = 8 + hlen + data_len;
    unsigned char *buf = malloc(*size);
    assert_non_null(buf);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    for (size_t i = 0; i < data_len; i++)
        buf[8 + hlen + i] = data ? ((const unsigned char *)data)[i] : (unsigned char)i;
    return buf;
}

static unsigned char *build_file(const char *header, const void *data, size_t data_len,
                                 size_t *size) {
    return build_file_n(header, strlen(header), data, data_len, size);
}

static attn_status open_header(const char *header, size_t data_len, attn_safetensors **f) {
    size_t size;
    unsigned char *buf = build_file(header, NULL, data_len, &size);
    attn_status s = attn_safetensors_open_memory(buf, size, f);
    free(buf);
    return s;
}

static void expect_mentions(const char *needle, const char *needle2) {
    assert_error_mentions(needle);
    if (needle2) assert_error_mentions(needle2);
}

/* The bytes must be refused as malformed, with a message containing both needles (or one), from
 * memory and as a file on disk in both modes (the message then also names the path). */
static void expect_format_bytes(const unsigned char *buf, size_t size, const char *needle,
                                const char *needle2) {
    attn_safetensors *f = (attn_safetensors *)1;
    attn_status s = attn_safetensors_open_memory(buf, size, &f);
    if (s != ATTN_ERR_FORMAT)
        fail_msg("expected ATTN_ERR_FORMAT, got %d (%s) for %.*s", s, attn_last_error(),
                 (int)(size > 8 ? size - 8 : 0), (const char *)buf + 8);
    assert_null(f);
    expect_mentions(needle, needle2);
    const char *path = in_dir("hostile.safetensors");
    const void *parts[] = {buf};
    assert_int_equal(attn_file_write_atomic(path, parts, &size, 1), ATTN_OK);
    unsigned modes[] = {ATTN_SAFETENSORS_DEFAULT, ATTN_SAFETENSORS_MMAP};
    for (int m = 0; m < 2; m++) {
        f = (attn_safetensors *)1;
        s = attn_safetensors_open(path, modes[m], &f);
        if (s != ATTN_ERR_FORMAT)
            fail_msg("mode %u: expected ATTN_ERR_FORMAT, got %d (%s)", modes[m], s,
                     attn_last_error());
        assert_null(f);
        expect_mentions(needle, needle2);
        assert_error_mentions("hostile.safetensors");
    }
}

static void expect_format(const char *header, size_t data_len, const char *needle,
                          const char *needle2) {
    size_t size;
    unsigned char *buf = build_file(header, NULL, data_len, &size);
    expect_format_bytes(buf, size, needle, needle2);
    free(buf);
}

/* ---- reading reference files ---- */

/* What the reference implementation writes for {"w": f32 (2, 2), "ids": i64 (3)} with metadata
 * {"format": "pt"}: metadata first, tensors by decreasing alignment then name, compact JSON padded
 * with spaces so that the data starts at a multiple of 8. */
static void test_read_reference_layout(void **state) {
    const char *json = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"ids\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]},"
                       "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[24,40]}}";
    char header[256];
    size_t len = strlen(json), padded = (len + 7) / 8 * 8;
    memcpy(header, json, len);
    memset(header + len, ' ', padded - len);
    header[padded] = 0;
    unsigned char data[40];
    int64_t ids[3] = {7, -2, 1 << 30};
    float w[4] = {1.0f, -2.5f, 3.25f, 1e-3f};
    memcpy(data, ids, 24);
    memcpy(data + 24, w, 16);
    size_t size;
    unsigned char *buf = build_file(header, data, sizeof data, &size);
    assert_int_equal((8 + padded) % 8, 0);

    attn_safetensors *f;
    assert_int_equal(attn_safetensors_open_memory(buf, size, &f), ATTN_OK);
    free(buf); /* the file holds its own copy */
    assert_int_equal(attn_safetensors_count(f), 2);
    const attn_safetensors_tensor *t0 = attn_safetensors_at(f, 0), *t1 = attn_safetensors_at(f, 1);
    assert_string_equal(t0->name, "ids");
    assert_int_equal(t0->dtype, ATTN_DTYPE_I64);
    assert_int_equal(t0->ndim, 1);
    assert_int_equal(t0->shape[0], 3);
    assert_int_equal(t0->nbytes, 24);
    assert_memory_equal(t0->data, ids, 24);
    assert_string_equal(t1->name, "w");
    assert_int_equal(t1->dtype, ATTN_DTYPE_F32);
    assert_int_equal(t1->ndim, 2);
    assert_int_equal(t1->shape[0], 2);
    assert_int_equal(t1->shape[1], 2);
    assert_ptr_equal(attn_safetensors_find(f, "w"), t1);
    assert_null(attn_safetensors_find(f, "nope"));
    assert_null(attn_safetensors_at(f, 2));
    assert_null(attn_safetensors_at(f, -1));
    assert_string_equal(attn_safetensors_metadata(f, "format"), "pt");
    assert_null(attn_safetensors_metadata(f, "config"));
    assert_int_equal(attn_safetensors_metadata_count(f), 1);

    float got[4];
    int64_t shape[2] = {2, 2};
    assert_int_equal(attn_safetensors_read_f32(f, "w", got, 2, shape), ATTN_OK);
    assert_memory_equal(got, w, sizeof w);
    int got_ids[3];
    assert_int_equal(attn_safetensors_read_int(f, "ids", got_ids, 3), ATTN_OK);
    assert_int_equal(got_ids[0], 7);
    assert_int_equal(got_ids[1], -2);
    assert_int_equal(got_ids[2], 1 << 30);
    attn_safetensors_close(f);
}

/* Whitespace in the header (a pretty-printed writer), an empty header, empty tensors that share
 * an offset, unused bytes between tensors, and a scalar are all valid. */
static void test_read_lenient_but_valid(void **state) {
    attn_safetensors *f;
    assert_int_equal(open_header("{}", 0, &f), ATTN_OK);
    assert_int_equal(attn_safetensors_count(f), 0);
    attn_safetensors_close(f);

    assert_int_equal(open_header("{\n  \"__metadata__\": {},\n"
                                 "  \"s\": {\"dtype\": \"F32\", \"shape\": [], "
                                 "\"data_offsets\": [8, 12]},\n"
                                 "  \"e1\": {\"dtype\": \"F32\", \"shape\": [0, 5], "
                                 "\"data_offsets\": [12, 12]},\n"
                                 "  \"e2\": {\"dtype\": \"I8\", \"shape\": [3, 0], "
                                 "\"data_offsets\": [12, 12]}\n}\n   \t",
                                 16, &f),
                     ATTN_OK);
    assert_int_equal(attn_safetensors_count(f), 3);
    assert_int_equal(attn_safetensors_at(f, 0)->ndim, 0);
    assert_int_equal(attn_safetensors_at(f, 0)->nbytes, 4);
    assert_int_equal(attn_safetensors_at(f, 1)->nbytes, 0);
    float s;
    assert_int_equal(attn_safetensors_read_f32(f, "s", &s, 0, NULL), ATTN_OK);
    unsigned char want[4] = {8, 9, 10, 11};
    assert_memory_equal(&s, want, 4);
    attn_safetensors_close(f);
}

static void test_open_file_and_errors_name_the_path(void **state) {
    attn_safetensors *f;
    assert_int_equal(
        attn_safetensors_open(in_dir("missing.safetensors"), ATTN_SAFETENSORS_DEFAULT, &f),
        ATTN_ERR_IO);
    assert_null(f);
    assert_error_mentions("missing.safetensors");

    const char *path = in_dir("bad.safetensors");
    const void *parts[] = {"\x02\0\0\0\0\0\0\0[]"};
    size_t sizes[] = {10};
    assert_int_equal(attn_file_write_atomic(path, parts, sizes, 1), ATTN_OK);
    assert_int_equal(attn_safetensors_open(path, ATTN_SAFETENSORS_DEFAULT, &f), ATTN_ERR_FORMAT);
    assert_error_mentions("bad.safetensors");
    assert_error_mentions("not a JSON object");
}

/* ---- writer round trips ---- */

static void test_round_trip_every_dtype(void **state) {
    float f32[6] = {1, 2, 3, 4, 5, 6.5f};
    double f64[2] = {1.0 / 3, -1e300};
    uint16_t f16[3] = {0x3c00, 0xc000, 0x0001}, bf16[2] = {0x3f80, 0x4049};
    int64_t i64[4] = {INT64_MIN, -1, 0, INT64_MAX};
    int32_t i32[2] = {-5, 6};
    int8_t i8[3] = {-128, 0, 127};
    uint8_t u8[2] = {0, 255}, boolean[3] = {1, 0, 1};
    float scalar = 42.0f;
    struct {
        const char *name;
        attn_dtype dtype;
        const void *data;
        int ndim;
        int64_t shape[3];
        size_t nbytes;
    } cases[] = {
        {"layer.0.weight", ATTN_DTYPE_F32, f32, 2, {2, 3}, 24},
        {"f64", ATTN_DTYPE_F64, f64, 1, {2}, 16},
        {"f16", ATTN_DTYPE_F16, f16, 1, {3}, 6},
        {"bf16", ATTN_DTYPE_BF16, bf16, 2, {1, 2}, 4},
        {"i64", ATTN_DTYPE_I64, i64, 1, {4}, 32},
        {"i32", ATTN_DTYPE_I32, i32, 3, {1, 1, 2}, 8},
        {"i8", ATTN_DTYPE_I8, i8, 1, {3}, 3},
        {"u8", ATTN_DTYPE_U8, u8, 1, {2}, 2},
        {"bool", ATTN_DTYPE_BOOL, boolean, 1, {3}, 3},
        {"scalar", ATTN_DTYPE_F32, &scalar, 0, {0}, 4},
        {"empty", ATTN_DTYPE_F32, NULL, 2, {0, 3}, 0},
        {"name with \"quotes\" \\ and\ttab \xc3\xa9", ATTN_DTYPE_U8, u8, 1, {1}, 1},
    };
    int n = (int)(sizeof cases / sizeof cases[0]);
    attn_st_writer *w;
    assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(attn_st_writer_add(w, cases[i].name, cases[i].dtype, cases[i].data,
                                            cases[i].ndim, cases[i].shape),
                         ATTN_OK);
    assert_int_equal(attn_st_writer_set_metadata(w, "format", "attn-checkpoint-v1"), ATTN_OK);
    assert_int_equal(attn_st_writer_set_metadata(w, "config", "{\"arch\": \"x\"}\n"), ATTN_OK);
    assert_int_equal(attn_st_writer_set_metadata(w, "format", "replaced"), ATTN_OK);
    const char *path = in_dir("round.safetensors");
    assert_int_equal(attn_st_writer_write(w, path), ATTN_OK);

    void *mem, *disk;
    size_t mem_size, disk_size;
    assert_int_equal(attn_st_writer_to_memory(w, &mem, &mem_size), ATTN_OK);
    assert_int_equal(attn_file_read_all(path, &disk, &disk_size), ATTN_OK);
    assert_int_equal(mem_size, disk_size);
    assert_memory_equal(mem, disk, mem_size);
    attn_st_writer_free(w);

    /* layout: data starts at a multiple of 8, metadata first, spaces as padding */
    const unsigned char *bytes = disk;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | bytes[i];
    assert_int_equal((8 + hlen) % 8, 0);
    assert_memory_equal(bytes + 8, "{\"__metadata__\":{", 17);
    size_t data_bytes = 0;
    for (int i = 0; i < n; i++)
        data_bytes += cases[i].nbytes;
    assert_int_equal(disk_size, 8 + hlen + data_bytes);
    assert_true(bytes[8 + hlen - 1] == '}' || bytes[8 + hlen - 1] == ' ');

    attn_safetensors *f;
    assert_int_equal(attn_safetensors_open(path, ATTN_SAFETENSORS_DEFAULT, &f), ATTN_OK);
    assert_int_equal(attn_safetensors_count(f), n);
    size_t offset = 0;
    for (int i = 0; i < n; i++) {
        const attn_safetensors_tensor *t = attn_safetensors_at(f, i);
        assert_string_equal(t->name, cases[i].name);
        assert_ptr_equal(attn_safetensors_find(f, cases[i].name), t);
        assert_int_equal(t->dtype, cases[i].dtype);
        assert_int_equal(t->ndim, cases[i].ndim);
        for (int d = 0; d < t->ndim; d++)
            assert_int_equal(t->shape[d], cases[i].shape[d]);
        assert_int_equal(t->nbytes, cases[i].nbytes);
        if (t->nbytes) assert_memory_equal(t->data, cases[i].data, t->nbytes);
        assert_ptr_equal(t->data, (const unsigned char *)attn_safetensors_at(f, 0)->data + offset);
        offset += t->nbytes;
    }
    assert_int_equal(attn_safetensors_metadata_count(f), 2);
    const char *key, *value;
    attn_safetensors_metadata_at(f, 0, &key, &value);
    assert_string_equal(key, "format");
    assert_string_equal(value, "replaced");
    attn_safetensors_metadata_at(f, 1, &key, &value);
    assert_string_equal(key, "config");
    assert_string_equal(value, "{\"arch\": \"x\"}\n");
    attn_safetensors_close(f);
    free(mem);
    free(disk);
}

static void test_write_without_metadata_and_rewrite(void **state) {
    attn_st_writer *w;
    assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
    float a[2] = {1, 2};
    int64_t shape[1] = {2};
    assert_int_equal(attn_st_writer_add(w, "a", ATTN_DTYPE_F32, a, 1, shape), ATTN_OK);
    const char *path = in_dir("plain.safetensors");
    assert_int_equal(attn_st_writer_write(w, path), ATTN_OK);
    a[1] = 3; /* data is not copied: a second write sees the change */
    assert_int_equal(attn_st_writer_write(w, path), ATTN_OK);
    attn_st_writer_free(w);
    attn_safetensors *f;
    assert_int_equal(attn_safetensors_open(path, ATTN_SAFETENSORS_DEFAULT, &f), ATTN_OK);
    assert_int_equal(attn_safetensors_metadata_count(f), 0);
    float got[2];
    assert_int_equal(attn_safetensors_read_f32(f, "a", got, 1, shape), ATTN_OK);
    assert_true(got[0] == 1 && got[1] == 3);
    attn_safetensors_close(f);
}

static void test_writer_errors(void **state) {
    attn_st_writer *w;
    assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
    float x[4] = {0};
    int64_t shape[2] = {2, 2}, negative[2] = {2, -1}, huge[3] = {INT64_MAX, 4, 2};
    assert_int_equal(attn_st_writer_add(w, "x", ATTN_DTYPE_F32, x, 2, shape), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "x", ATTN_DTYPE_F32, x, 2, shape), ATTN_ERR_INVALID);
    assert_error_mentions("duplicate");
    assert_error_mentions("'x'");
    assert_int_equal(attn_st_writer_add(w, "__metadata__", ATTN_DTYPE_F32, x, 2, shape),
                     ATTN_ERR_INVALID);
    assert_error_mentions("__metadata__");
    assert_int_equal(attn_st_writer_add(w, "neg", ATTN_DTYPE_F32, x, 2, negative),
                     ATTN_ERR_INVALID);
    assert_error_mentions("neg");
    assert_int_equal(attn_st_writer_add(w, "big", ATTN_DTYPE_F32, x, 3, huge), ATTN_ERR_INVALID);
    assert_error_mentions("overflow");
    assert_int_equal(attn_st_writer_add(w, "null", ATTN_DTYPE_F32, NULL, 2, shape),
                     ATTN_ERR_INVALID);
    assert_error_mentions("NULL data");
    assert_int_equal(attn_st_writer_add(w, "dims", ATTN_DTYPE_F32, x, 9, shape), ATTN_ERR_INVALID);
    assert_int_equal(attn_st_writer_add(w, "", ATTN_DTYPE_F32, x, 2, shape), ATTN_ERR_INVALID);
    assert_int_equal(attn_st_writer_add(w, "dt", (attn_dtype)42, x, 2, shape), ATTN_ERR_INVALID);
    assert_int_equal(attn_st_writer_set_metadata(w, "k", NULL), ATTN_ERR_INVALID);
    /* a failed write (no such directory) leaves nothing behind */
    char path[512];
    snprintf(path, sizeof path, "%s/no_such_dir/x.safetensors", dir);
    assert_int_equal(attn_st_writer_write(w, path), ATTN_ERR_IO);
    assert_error_mentions("no_such_dir");
    attn_st_writer_free(w);
}

/* Many tensors exercise the hash index growing, in the writer and the reader. */
static void test_many_tensors(void **state) {
    enum { N = 3000 };
    attn_st_writer *w;
    assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
    static int32_t values[N];
    int64_t one = 1;
    char name[64];
    for (int i = 0; i < N; i++) {
        values[i] = i * 7;
        snprintf(name, sizeof name, "layers.%d.value", i);
        assert_int_equal(attn_st_writer_add(w, name, ATTN_DTYPE_I32, &values[i], 1, &one), ATTN_OK);
    }
    void *buf;
    size_t size;
    assert_int_equal(attn_st_writer_to_memory(w, &buf, &size), ATTN_OK);
    attn_st_writer_free(w);
    attn_safetensors *f;
    assert_int_equal(attn_safetensors_open_memory(buf, size, &f), ATTN_OK);
    free(buf);
    assert_int_equal(attn_safetensors_count(f), N);
    for (int i = N - 1; i >= 0; i--) {
        snprintf(name, sizeof name, "layers.%d.value", i);
        int v;
        assert_int_equal(attn_safetensors_read_int(f, name, &v, 1), ATTN_OK);
        assert_int_equal(v, i * 7);
    }
    attn_safetensors_close(f);
}

/* ---- typed reads ---- */

static attn_safetensors *typed_file(void) {
    static const float f32[6] = {1, 2, 3, 4, 5, 6};
    static const double f64[3] = {0.1, -1e300, 2.5};
    /* F16: 1, -2, smallest subnormal 2^-24, 65504, +inf, -0 */
    static const uint16_t f16[6] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0x8000};
    static const uint16_t bf16[2] = {0x3f80, 0xc0a0}; /* 1, -5 */
    static const int64_t i64[3] = {1, -1, (int64_t)1 << 40};
    static const uint8_t boolean[3] = {0, 1, 7};
    static const int8_t i8[2] = {-3, 100};
    attn_st_writer *w;
    assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s6[1] = {6}, s2[1] = {2};
    assert_int_equal(attn_st_writer_add(w, "f32", ATTN_DTYPE_F32, f32, 2, s23), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "f64", ATTN_DTYPE_F64, f64, 1, s3), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "f16", ATTN_DTYPE_F16, f16, 1, s6), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "bf16", ATTN_DTYPE_BF16, bf16, 1, s2), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "i64", ATTN_DTYPE_I64, i64, 1, s3), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "bool", ATTN_DTYPE_BOOL, boolean, 1, s3), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "i8", ATTN_DTYPE_I8, i8, 1, s2), ATTN_OK);
    void *buf;
    size_t size;
    assert_int_equal(attn_st_writer_to_memory(w, &buf, &size), ATTN_OK);
    attn_st_writer_free(w);
    attn_safetensors *f;
    assert_int_equal(attn_safetensors_open_memory(buf, size, &f), ATTN_OK);
    free(buf);
    return f;
}

static void test_read_f32_converts_float_dtypes(void **state) {
    attn_safetensors *f = typed_file();
    float got[6];
    int64_t s3[1] = {3}, s6[1] = {6}, s2[1] = {2};
    assert_int_equal(attn_safetensors_read_f32(f, "f64", got, 1, s3), ATTN_OK);
    assert_true(got[0] == 0.1f && isinf(got[1]) && got[1] < 0 && got[2] == 2.5f);
    assert_int_equal(attn_safetensors_read_f32(f, "f16", got, 1, s6), ATTN_OK);
    assert_true(got[0] == 1.0f && got[1] == -2.0f && got[2] == 0x1p-24f && got[3] == 65504.0f);
    assert_true(isinf(got[4]) && got[4] > 0 && got[5] == 0.0f && signbit(got[5]));
    assert_int_equal(attn_safetensors_read_f32(f, "bf16", got, 1, s2), ATTN_OK);
    assert_true(got[0] == 1.0f && got[1] == -5.0f);
    attn_safetensors_close(f);
}

static void test_read_f32_missing(void **state) {
    attn_safetensors *f = typed_file();
    float got[6];
    int64_t s23[2] = {2, 3};
    assert_int_equal(attn_safetensors_read_f32(f, "encoder.ln_f.weight", got, 2, s23),
                     ATTN_ERR_MISSING);
    assert_error_mentions("encoder.ln_f.weight");
    attn_safetensors_close(f);
}

static void test_read_f32_wrong_dtype(void **state) {
    attn_safetensors *f = typed_file();
    float got[6];
    int64_t s3[1] = {3};
    assert_int_equal(attn_safetensors_read_f32(f, "i64", got, 1, s3), ATTN_ERR_FORMAT);
    assert_error_mentions("'i64'");
    assert_error_mentions("I64");
    attn_safetensors_close(f);
}

static void test_read_f32_wrong_shape(void **state) {
    attn_safetensors *f = typed_file();
    float got[6] = {-1, -1, -1, -1, -1, -1};
    int64_t s32[2] = {3, 2}, s6[1] = {6}, s231[3] = {2, 3, 1};
    assert_int_equal(attn_safetensors_read_f32(f, "f32", got, 2, s32), ATTN_ERR_SHAPE);
    assert_error_mentions("'f32'");
    assert_error_mentions("(2, 3)");
    assert_error_mentions("(3, 2)");
    assert_true(got[0] == -1); /* untouched */
    assert_int_equal(attn_safetensors_read_f32(f, "f32", got, 1, s6), ATTN_ERR_SHAPE);
    assert_error_mentions("(6)");
    assert_int_equal(attn_safetensors_read_f32(f, "f32", got, 3, s231), ATTN_ERR_SHAPE);
    assert_error_mentions("(2, 3, 1)");
    attn_safetensors_close(f);
}

static void test_read_int(void **state) {
    attn_safetensors *f = typed_file();
    int got[3];
    assert_int_equal(attn_safetensors_read_int(f, "bool", got, 3), ATTN_OK);
    assert_true(got[0] == 0 && got[1] == 1 && got[2] == 1);
    assert_int_equal(attn_safetensors_read_int(f, "i8", got, 2), ATTN_OK);
    assert_true(got[0] == -3 && got[1] == 100);
    assert_int_equal(attn_safetensors_read_int(f, "i64", got, 3), ATTN_ERR_FORMAT);
    assert_error_mentions("'i64'");
    assert_error_mentions("element 2");
    assert_int_equal(attn_safetensors_read_int(f, "i8", got, 3), ATTN_ERR_SHAPE);
    assert_error_mentions("'i8'");
    assert_error_mentions("2 elements");
    assert_int_equal(attn_safetensors_read_int(f, "f32", got, 6), ATTN_ERR_FORMAT);
    assert_error_mentions("F32");
    assert_int_equal(attn_safetensors_read_int(f, "absent", got, 1), ATTN_ERR_MISSING);
    assert_error_mentions("absent");
    attn_safetensors_close(f);
}

/* ---- malformed files: one test each ---- */

#define T(name) "\"" name "\":"
#define ENTRY(dtype, shape, offsets)                                                               \
    "{\"dtype\":" dtype ",\"shape\":" shape ",\"data_offsets\":" offsets "}"

/* Empty, 4 and 7 bytes: not even the header length. */
static void test_bad_too_short(void **state) {
    static const unsigned char bytes[8] = {2, 0, 0, 0, 0, 0, 0, 0};
    expect_format_bytes(bytes, 0, "file is 0 bytes", "too short");
    expect_format_bytes(bytes, 4, "file is 4 bytes", "too short");
    expect_format_bytes(bytes, 7, "file is 7 bytes", "too short");
    attn_safetensors *f;
    assert_int_equal(attn_safetensors_open_memory(NULL, 0, &f), ATTN_ERR_FORMAT);
}

static void test_bad_header_length_past_file(void **state) {
    size_t size;
    unsigned char *buf = build_file("{}", NULL, 0, &size);
    buf[0] = 3; /* claims 3 header bytes, 2 present */
    expect_format_bytes(buf, size, "header length 3", "past the end");
    free(buf);
}

static void test_bad_header_length_absurd(void **state) {
    size_t size;
    unsigned char *buf = build_file("{}", NULL, 0, &size);
    memcpy(buf, "\0\0\0\0\0\0\0\x80", 8); /* 2^63 */
    expect_format_bytes(buf, size, "9223372036854775808", "limit");
    free(buf);
}

static void test_bad_json(void **state) {
    expect_format("{\"a\": {", 0, "not valid JSON", NULL);
}
static void test_bad_empty_header(void **state) {
    expect_format("", 0, "not valid JSON", NULL);
}
static void test_bad_not_object(void **state) {
    expect_format("[1, 2]", 0, "not a JSON object", NULL);
}
static void test_bad_trailing_bytes(void **state) {
    expect_format("{} x", 0, "after its JSON", NULL);
}
static void test_bad_entry_not_object(void **state) {
    expect_format("{" T("t") "5}", 0, "'t'", "not a JSON object");
}
static void test_bad_dtype_missing(void **state) {
    expect_format("{" T("t") "{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'t'",
                  "dtype is missing");
}
static void test_bad_dtype_not_string(void **state) {
    expect_format("{" T("t") ENTRY("4", "[1]", "[0,4]") "}", 4, "'t'", "dtype is not a string");
}
static void test_bad_dtype_unknown(void **state) {
    expect_format("{" T("t") ENTRY("\"F8_E4M3\"", "[1]", "[0,1]") "}", 1, "'t'",
                  "unknown dtype \"F8_E4M3\"");
}
static void test_bad_shape_missing(void **state) {
    expect_format("{" T("t") "{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "'t'",
                  "shape is missing");
}
static void test_bad_shape_not_array(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "{}", "[0,4]") "}", 4, "'t'",
                  "shape is not an array");
}
static void test_bad_shape_too_many_dims(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4, "'t'",
                  "9 dimensions");
}
static void test_bad_shape_negative(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[2,-1]", "[0,4]") "}", 4, "'t'",
                  "dimension 1 is negative");
}
static void test_bad_shape_not_integer(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[1.5]", "[0,4]") "}", 4, "'t'", "not an integer");
}
static void test_bad_shape_element_not_number(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[\"1\"]", "[0,4]") "}", 4, "'t'", "not a number");
}
static void test_bad_shape_huge(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[1e300]", "[0,4]") "}", 4, "'t'", "too large");
}
static void test_bad_shape_product_overflow(void **state) {
    /* each dimension alone is a valid JSON integer (< 2^53); the product is not */
    expect_format("{" T("t") ENTRY("\"F32\"", "[4294967296,4294967296]", "[0,4]") "}", 4, "'t'",
                  "overflows");
}
static void test_bad_shape_product_overflows_int64(void **state) {
    /* 3037000500^2 * 4 fits in a uint64 but not in an int64 (the format's offsets are signed) */
    expect_format("{" T("t") ENTRY("\"F32\"", "[3037000500,3037000500]", "[0,4]") "}", 4, "'t'",
                  "overflows");
    expect_format("{" T("t") ENTRY("\"F64\"", "[1048576,1048576,1048576]", "[0,8]") "}", 8, "'t'",
                  "overflows");
}
static void test_bad_name_with_nul(void **state) {
    /* cJSON would cut both names at the NUL: two tensors called "a" */
    expect_format("{" T("a\\u0000x") ENTRY("\"U8\"", "[1]", "[0,1]") "," T("a\\u0000y")
                      ENTRY("\"U8\"", "[1]", "[1,2]") "}",
                  2, "NUL character at byte 3", NULL);
    expect_format("{\"__metadata__\":{\"k\":\"v\\u0000w\"}}", 0, "NUL character", NULL);
    static const char raw[] = "{\"a\0b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    size_t size;
    unsigned char *buf = build_file_n(raw, sizeof raw - 1, NULL, 1, &size);
    expect_format_bytes(buf, size, "NUL character at byte 3", NULL);
    free(buf);
}
/* An escaped backslash followed by "u0000" is the text \u0000, not a NUL. */
static void test_escaped_backslash_is_not_nul(void **state) {
    attn_safetensors *f;
    assert_int_equal(open_header("{" T("a\\\\u0000") ENTRY("\"U8\"", "[1]", "[0,1]") "}", 1, &f),
                     ATTN_OK);
    assert_string_equal(attn_safetensors_at(f, 0)->name, "a\\u0000");
    attn_safetensors_close(f);
}
static void test_bad_offsets_missing(void **state) {
    expect_format("{" T("t") "{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "'t'",
                  "data_offsets is missing");
}
static void test_bad_offsets_not_pair(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[1]", "[0,4,8]") "}", 8, "'t'",
                  "not an array of two integers");
}
static void test_bad_offsets_not_array(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[1]", "\"0-4\"") "}", 4, "'t'",
                  "not an array of two integers");
}
static void test_bad_offsets_negative(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[1]", "[-4,0]") "}", 4, "'t'", "negative");
}
static void test_bad_offsets_begin_after_end(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[1]", "[8,4]") "}", 8, "'t'", "begin > end");
}
static void test_bad_offsets_outside_data(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[2]", "[4,12]") "}", 8, "'t'",
                  "outside the 8-byte data section");
}
static void test_bad_offsets_huge(void **state) {
    expect_format("{" T("t")
                      ENTRY("\"F32\"", "[1]", "[18446744073709551612,18446744073709551616]") "}",
                  4, "'t'", "too large");
}
static void test_bad_size_mismatch(void **state) {
    expect_format("{" T("t") ENTRY("\"F32\"", "[2,2]", "[0,12]") "}", 16, "'t'", "needs 16 bytes");
}
static void test_bad_overlap(void **state) {
    expect_format("{" T("a") ENTRY("\"F32\"", "[2]", "[0,8]") "," T("b")
                      ENTRY("\"F32\"", "[2]", "[4,12]") "}",
                  12, "'a' and 'b' overlap", NULL);
}
static void test_bad_duplicate_name(void **state) {
    expect_format("{" T("a") ENTRY("\"F32\"", "[1]", "[0,4]") "," T("a")
                      ENTRY("\"F32\"", "[1]", "[4,8]") "}",
                  8, "duplicate tensor name 'a'", NULL);
}
static void test_bad_metadata_not_string(void **state) {
    expect_format("{\"__metadata__\":{\"format\":\"pt\",\"step\":5}}", 0, "'step'", "not a string");
}
static void test_bad_metadata_not_object(void **state) {
    expect_format("{\"__metadata__\":[\"a\"]}", 0, "__metadata__", "not a JSON object");
}
static void test_bad_metadata_duplicate_key(void **state) {
    expect_format("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
                  "duplicate __metadata__ key 'k'", NULL);
}
static void test_bad_metadata_twice(void **state) {
    expect_format("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "two __metadata__", NULL);
}

/* ---- mutation fuzzing: never crash, never read out of bounds (ASan), only OK or an error ---- */

static unsigned char *fuzz_base(size_t *size) {
    static const float f32[6] = {1, 2, 3, 4, 5, 6};
    static const int64_t i64[2] = {3, -4};
    static const uint16_t f16[2] = {0x3c00, 0x7c00};
    static const uint8_t u8[3] = {1, 2, 3};
    attn_st_writer *w;
    assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
    int64_t s23[2] = {2, 3}, s2[1] = {2}, s3[1] = {3};
    assert_int_equal(attn_st_writer_add(w, "embed.tok.weight", ATTN_DTYPE_F32, f32, 2, s23),
                     ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "ids", ATTN_DTYPE_I64, i64, 1, s2), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "h", ATTN_DTYPE_F16, f16, 1, s2), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "mask", ATTN_DTYPE_BOOL, u8, 1, s3), ATTN_OK);
    assert_int_equal(attn_st_writer_add(w, "s", ATTN_DTYPE_F32, f32, 0, NULL), ATTN_OK);
    assert_int_equal(attn_st_writer_set_metadata(w, "format", "attn-checkpoint-v1"), ATTN_OK);
    void *buf;
    assert_int_equal(attn_st_writer_to_memory(w, &buf, size), ATTN_OK);
    attn_st_writer_free(w);
    return buf;
}

/* Uses everything an accepted file exposes, so that ASan sees any out-of-bounds pointer. */
static void touch_all(const attn_safetensors *f) {
    unsigned sum = 0;
    for (int i = 0; i < attn_safetensors_count(f); i++) {
        const attn_safetensors_tensor *t = attn_safetensors_at(f, i);
        assert_ptr_equal(attn_safetensors_find(f, t->name), t);
        for (size_t b = 0; b < t->nbytes; b++)
            sum += ((const unsigned char *)t->data)[b];
        long n = (long)(t->nbytes / attn_dtype_size(t->dtype));
        if (n > 4096) continue;
        float fbuf[4096];
        int ibuf[4096];
        attn_status s = attn_safetensors_read_f32(f, t->name, fbuf, t->ndim, t->shape);
        attn_status si = attn_safetensors_read_int(f, t->name, ibuf, n);
        assert_true(s == ATTN_OK || s == ATTN_ERR_FORMAT);
        assert_true(si == ATTN_OK || si == ATTN_ERR_FORMAT);
    }
    for (int i = 0; i < attn_safetensors_metadata_count(f); i++) {
        const char *k, *v;
        attn_safetensors_metadata_at(f, i, &k, &v);
        sum += (unsigned)strlen(k) + (unsigned)strlen(v);
        assert_ptr_equal(attn_safetensors_metadata(f, k), v);
    }
    (void)sum;
}

static void test_fuzz_mutations(void **state) {
    size_t base_size;
    unsigned char *base = fuzz_base(&base_size);
    size_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | base[i];
    static const char tokens[] = "{}[]\",:0123456789-e. \\";
    attn_rng rng;
    attn_rng_init(&rng, 1234, 0);
    int iters = tu_sanitized() ? 3000 : 20000, accepted = 0;
    unsigned char *buf = malloc(base_size + 64);
    assert_non_null(buf);
    for (int it = 0; it < iters; it++) {
        memcpy(buf, base, base_size);
        size_t size = base_size;
        int edits = 1 + (int)attn_rng_below(&rng, 4);
        for (int e = 0; e < edits; e++) {
            /* most edits land in the header, where the structure is */
            size_t at = 8 + attn_rng_below(&rng, (uint32_t)(size > 8 ? size - 8 : 1));
            if (attn_rng_below(&rng, 4) != 0 && hlen > 0)
                at = 8 + attn_rng_below(&rng, (uint32_t)hlen);
            if (at >= size) at = size ? size - 1 : 0;
            switch (attn_rng_below(&rng, 6)) {
            case 0:
                size = attn_rng_below(&rng, (uint32_t)size + 1);
                break; /* truncate */
            case 1:
                buf[at] ^= (unsigned char)(1u << attn_rng_below(&rng, 8));
                break;
            case 2:
                buf[at] = tokens[attn_rng_below(&rng, sizeof tokens - 1)];
                break;
            case 3:
                buf[at] = (unsigned char)attn_rng_u64(&rng);
                break;
            case 4: { /* length field: small drift, or anything */
                uint64_t len = hlen;
                if (attn_rng_below(&rng, 2))
                    len += (uint64_t)attn_rng_below(&rng, 33) - 16;
                else
                    len = attn_rng_u64(&rng) >> attn_rng_below(&rng, 64);
                for (int i = 0; i < 8 && i < (int)size; i++)
                    buf[i] = (unsigned char)(len >> (8 * i));
                break;
            }
            case 5: /* rewrite a digit: offsets and shapes change */
                for (size_t p = at; p < size && p < 8 + hlen; p++)
                    if (buf[p] >= '0' && buf[p] <= '9') {
                        buf[p] = (unsigned char)('0' + attn_rng_below(&rng, 10));
                        break;
                    }
                break;
            }
        }
        /* an exact-size copy, so ASan catches a read even one byte past the end */
        unsigned char *exact = malloc(size ? size : 1);
        assert_non_null(exact);
        memcpy(exact, buf, size);
        attn_safetensors *f = NULL;
        attn_status s = attn_safetensors_open_memory(exact, size, &f);
        free(exact);
        if (s == ATTN_OK) {
            accepted++;
            touch_all(f);
            attn_safetensors_close(f);
        } else {
            assert_true(s == ATTN_ERR_FORMAT);
            assert_null(f);
            assert_true(strlen(attn_last_error()) > 0);
        }
        /* one in 32 also as a mapped file: the same verdict */
        if (it % 32 == 0) {
            const char *path = in_dir("fuzz.safetensors");
            FILE *fp = fopen(path, "wb");
            assert_non_null(fp);
            assert_int_equal(fwrite(buf, 1, size, fp), size);
            assert_int_equal(fclose(fp), 0);
            attn_safetensors *g = NULL;
            assert_int_equal(attn_safetensors_open(path, ATTN_SAFETENSORS_MMAP, &g), s);
            if (g) touch_all(g);
            attn_safetensors_close(g);
        }
    }
    /* sanity: the loop exercised both outcomes */
    assert_true(accepted > 0 && accepted < iters);
    free(buf);
    free(base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_reference_layout),
        cmocka_unit_test(test_read_lenient_but_valid),
        cmocka_unit_test(test_open_file_and_errors_name_the_path),
        cmocka_unit_test(test_round_trip_every_dtype),
        cmocka_unit_test(test_write_without_metadata_and_rewrite),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_many_tensors),
        cmocka_unit_test(test_read_f32_converts_float_dtypes),
        cmocka_unit_test(test_read_f32_missing),
        cmocka_unit_test(test_read_f32_wrong_dtype),
        cmocka_unit_test(test_read_f32_wrong_shape),
        cmocka_unit_test(test_read_int),
        cmocka_unit_test(test_bad_too_short),
        cmocka_unit_test(test_bad_header_length_past_file),
        cmocka_unit_test(test_bad_header_length_absurd),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_empty_header),
        cmocka_unit_test(test_bad_not_object),
        cmocka_unit_test(test_bad_trailing_bytes),
        cmocka_unit_test(test_bad_entry_not_object),
        cmocka_unit_test(test_bad_dtype_missing),
        cmocka_unit_test(test_bad_dtype_not_string),
        cmocka_unit_test(test_bad_dtype_unknown),
        cmocka_unit_test(test_bad_shape_missing),
        cmocka_unit_test(test_bad_shape_not_array),
        cmocka_unit_test(test_bad_shape_too_many_dims),
        cmocka_unit_test(test_bad_shape_negative),
        cmocka_unit_test(test_bad_shape_not_integer),
        cmocka_unit_test(test_bad_shape_element_not_number),
        cmocka_unit_test(test_bad_shape_huge),
        cmocka_unit_test(test_bad_shape_product_overflow),
        cmocka_unit_test(test_bad_shape_product_overflows_int64),
        cmocka_unit_test(test_bad_name_with_nul),
        cmocka_unit_test(test_escaped_backslash_is_not_nul),
        cmocka_unit_test(test_bad_offsets_missing),
        cmocka_unit_test(test_bad_offsets_not_pair),
        cmocka_unit_test(test_bad_offsets_not_array),
        cmocka_unit_test(test_bad_offsets_negative),
        cmocka_unit_test(test_bad_offsets_begin_after_end),
        cmocka_unit_test(test_bad_offsets_outside_data),
        cmocka_unit_test(test_bad_offsets_huge),
        cmocka_unit_test(test_bad_size_mismatch),
        cmocka_unit_test(test_bad_overlap),
        cmocka_unit_test(test_bad_duplicate_name),
        cmocka_unit_test(test_bad_metadata_not_string),
        cmocka_unit_test(test_bad_metadata_not_object),
        cmocka_unit_test(test_bad_metadata_duplicate_key),
        cmocka_unit_test(test_bad_metadata_twice),
        cmocka_unit_test(test_fuzz_mutations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
