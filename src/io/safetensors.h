/* io/safetensors.h: reading and writing safetensors files (docs/FORMATS.md).
 *
 * Layout: 8 bytes little-endian header length N, N bytes of JSON header (an object mapping each
 * tensor name to {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional "__metadata__"
 * object of string values; trailing spaces allowed), then the data section; offsets are relative
 * to its start. Tensor bytes are little-endian and row-major, and this code assumes a little-endian
 * host (every platform attn targets), so bytes are used as they lie.
 *
 * The reader trusts nothing it reads: every length, offset, shape and type in the header is checked
 * against the file before any tensor is exposed, and any inconsistency is ATTN_ERR_FORMAT with a
 * message naming the problem and the tensor. It accepts everything the reference implementation
 * accepts, and is more lenient in three harmless ways: unused bytes between or after tensors, any
 * JSON whitespace (not only spaces) around the header object, and no UTF-8 validation of names.
 *
 * Errors are reported through attn_error() (core/error.h); attn_last_error() has the message. */
#ifndef ATTN_IO_SAFETENSORS_H
#define ATTN_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "attn/status.h"

#define ATTN_ST_MAX_DIMS 8
/* Largest header the reader accepts, as in the reference implementation: a bigger length field
 * means a corrupt file, and refusing it keeps a bad file from causing a huge JSON parse. */
#define ATTN_ST_MAX_HEADER 100000000

typedef enum {
    ATTN_ST_F32,
    ATTN_ST_F64,
    ATTN_ST_F16,
    ATTN_ST_BF16,
    ATTN_ST_I64,
    ATTN_ST_I32,
    ATTN_ST_I8,
    ATTN_ST_U8,
    ATTN_ST_BOOL,
} attn_st_dtype;

/* The format's name of a dtype ("F32", "BF16", "BOOL", ...), or "?" for a value out of range. */
const char *attn_st_dtype_name(attn_st_dtype dtype);
/* Bytes per element (1, 2, 4 or 8), or 0 for a value out of range. */
size_t attn_st_dtype_size(attn_st_dtype dtype);

/* One tensor of an open file. Everything it points to is owned by the file and valid until
 * attn_st_close(). `data` is NOT necessarily aligned for the dtype (the format does not require
 * it): copy it with attn_st_read_f32/_int or memcpy rather than casting. */
typedef struct {
    const char *name;
    attn_st_dtype dtype;
    int ndim;                        /* 0 (a scalar) to ATTN_ST_MAX_DIMS */
    int64_t shape[ATTN_ST_MAX_DIMS]; /* shape[ndim..] are 0 */
    const void *data;
    size_t nbytes; /* product(shape) * attn_st_dtype_size(dtype) */
} attn_st_tensor;

/* ---- reading ---- */

/* An open, validated file: the whole file in memory plus an index of its tensors. */
typedef struct attn_st_file attn_st_file;

/* Reads the file at `path` into memory and validates it. On success *out is a new handle the caller
 * releases with attn_st_close(); on failure *out is NULL.
 * Errors: ATTN_ERR_INVALID (NULL argument), ATTN_ERR_IO (cannot read; see attn_file_read_all),
 * ATTN_ERR_FORMAT (malformed; the message starts with the path), ATTN_ERR_NOMEM. */
attn_status attn_st_open(const char *path, attn_st_file **out);

/* As attn_st_open, from `size` bytes at `buf`, which are copied (buf may be freed on return). */
attn_status attn_st_open_memory(const void *buf, size_t size, attn_st_file **out);

/* Releases a file and everything attn_st_at/find/metadata returned from it. NULL is a no-op. */
void attn_st_close(attn_st_file *f);

/* The number of tensors, and the i-th (0 <= i < count) in the order of the file's header. */
int attn_st_count(const attn_st_file *f);
const attn_st_tensor *attn_st_at(const attn_st_file *f, int i);

/* The tensor called `name`, or NULL if the file has none. Constant time (hashed). */
const attn_st_tensor *attn_st_find(const attn_st_file *f, const char *name);

/* The `__metadata__` value for `key`, or NULL if absent. Owned by the file. */
const char *attn_st_metadata(const attn_st_file *f, const char *key);
/* The number of metadata entries, and the i-th in header order (*key and *value owned by f). */
int attn_st_metadata_count(const attn_st_file *f);
void attn_st_metadata_at(const attn_st_file *f, int i, const char **key, const char **value);

/* Copies tensor `name` into dst (product(shape) floats) after checking, in this order:
 *   it exists                                         else ATTN_ERR_MISSING
 *   its dtype is F32, F64, F16 or BF16                else ATTN_ERR_FORMAT
 *   its shape is exactly (ndim, shape[0..ndim))       else ATTN_ERR_SHAPE
 * Each message names the tensor (and both shapes or the dtype). F32 is copied bit for bit; F64 is
 * rounded to nearest float (values beyond float's range become infinities), F16 and BF16 are
 * widened exactly. dst is not written on failure. shape may be NULL when ndim == 0. */
attn_status attn_st_read_f32(const attn_st_file *f, const char *name, float *dst, int ndim,
                             const int64_t *shape);

/* Copies integer tensor `name` (I64, I32, I8, U8 or BOOL; BOOL bytes read as 0 for zero, else 1)
 * into dst[n]. Errors: ATTN_ERR_MISSING (absent), ATTN_ERR_FORMAT (a float dtype, or a value that
 * does not fit in int: the message gives its index), ATTN_ERR_SHAPE (element count != n). dst may
 * be partly written when a value does not fit. */
attn_status attn_st_read_int(const attn_st_file *f, const char *name, int *dst, long n);

/* ---- writing ---- */

/* Collects tensors and metadata, then writes them in one go. Tensors are written in the order
 * they were added, the header JSON has `__metadata__` first (when there is any metadata) and is
 * padded with spaces so that the data section starts at a multiple of 8 bytes. */
typedef struct attn_st_writer attn_st_writer;

/* A new, empty writer (*out); release it with attn_st_writer_free(). Errors: ATTN_ERR_NOMEM. */
attn_status attn_st_writer_create(attn_st_writer **out);

/* Adds a tensor. The name is copied; `data` (product(shape) * dtype size bytes) is NOT copied and
 * must stay valid and unchanged until attn_st_writer_write() returns. shape may be NULL when
 * ndim == 0 (a scalar).
 * Errors: ATTN_ERR_INVALID (NULL or empty name, the reserved name "__metadata__", a name already
 * added, ndim outside [0, ATTN_ST_MAX_DIMS], a negative dimension, a byte size that overflows,
 * NULL data with a nonzero size, an unknown dtype), ATTN_ERR_NOMEM. */
attn_status attn_st_writer_add(attn_st_writer *w, const char *name, attn_st_dtype dtype,
                               const void *data, int ndim, const int64_t *shape);

/* Sets `__metadata__[key] = value`, both copied; setting a key again replaces its value (in its
 * original position). Errors: ATTN_ERR_INVALID (NULL key or value), ATTN_ERR_NOMEM. */
attn_status attn_st_writer_set_metadata(attn_st_writer *w, const char *key, const char *value);

/* Writes everything added so far to `path`, atomically (attn_file_write_atomic: an existing file
 * is replaced only once the new one is complete). The writer keeps its contents and may write
 * again. Errors: ATTN_ERR_INVALID (NULL argument, or a header over ATTN_ST_MAX_HEADER bytes, which
 * no reader would accept), ATTN_ERR_IO (see attn_file_write_atomic), ATTN_ERR_NOMEM. */
attn_status attn_st_writer_write(const attn_st_writer *w, const char *path);

/* The bytes attn_st_writer_write() would write, as one malloc'd buffer (*data, *size bytes) that
 * the caller frees with free(). Errors: as attn_st_writer_write, less ATTN_ERR_IO. */
attn_status attn_st_writer_to_memory(const attn_st_writer *w, void **data, size_t *size);

/* Releases the writer and its copies of names and metadata (never the tensor data). NULL is a
 * no-op. */
void attn_st_writer_free(attn_st_writer *w);

#endif
