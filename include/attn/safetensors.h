/* attn/safetensors.h: reading safetensors files (docs/FORMATS.md), the format of attn's checkpoints
 * and of Hugging Face's weights.
 *
 * Layout: 8 bytes little-endian header length N, N bytes of JSON header (an object mapping each
 * tensor name to {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional "__metadata__"
 * object of string values), then the data section; offsets are relative to its start. Tensor bytes
 * are little-endian and row-major; a little-endian host is assumed (every platform attn targets).
 *
 * The reader trusts nothing it reads: every length, offset, shape and dtype of the header is
 * checked against the file's size once, when it is opened, and any inconsistency is ATTN_ERR_FORMAT
 * with a message naming the path, the problem and the tensor. Names and metadata are C strings: a
 * header with a NUL character (raw or escaped as \u0000) is refused. The reader accepts everything
 * the reference implementation accepts, and is more lenient in three harmless ways: unused bytes
 * between or after tensors, any JSON whitespace around the header object, and no UTF-8 validation.
 *
 *     attn_safetensors *f;
 *     if (attn_safetensors_open("model.safetensors", ATTN_SAFETENSORS_MMAP, &f) != ATTN_OK) ...
 *     const attn_safetensors_tensor *t = attn_safetensors_find(f, "wte.weight");   // or NULL
 *     int64_t shape[2] = {50257, 768};
 *     attn_safetensors_read_f32(f, "wte.weight", dst, 2, shape);  // checks dtype and shape
 *     attn_safetensors_close(f);
 *
 * A handle may be read from several threads at once (nothing in it changes after open). */
#ifndef ATTN_SAFETENSORS_H
#define ATTN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "attn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most dimensions a tensor may have (the reference implementation has no limit; no real file
 * needs more). A header entry with more is ATTN_ERR_FORMAT. */
#define ATTN_SAFETENSORS_MAX_DIMS 8
/* The largest header the reader accepts, as in the reference implementation: a bigger length field
 * means a corrupt file, and refusing it keeps a bad file from causing a huge JSON parse. */
#define ATTN_SAFETENSORS_MAX_HEADER 100000000

/* Element types of the format (the ones attn reads; the float8 and unsigned 16/32/64-bit ones of
 * the reference are refused as unknown). */
typedef enum {
    ATTN_DTYPE_F32,
    ATTN_DTYPE_F64,
    ATTN_DTYPE_F16,
    ATTN_DTYPE_BF16,
    ATTN_DTYPE_I64,
    ATTN_DTYPE_I32,
    ATTN_DTYPE_I8,
    ATTN_DTYPE_U8,
    ATTN_DTYPE_BOOL,
} attn_dtype;

/* The format's name of a dtype ("F32", "BF16", "BOOL", ...), or "?" for a value out of range. */
ATTN_API const char *attn_dtype_name(attn_dtype dtype);
/* Bytes per element (1, 2, 4 or 8), or 0 for a value out of range. */
ATTN_API size_t attn_dtype_size(attn_dtype dtype);

/* One tensor of an open file. Everything it points to is owned by the file and valid until
 * attn_safetensors_close(). `data` is NOT necessarily aligned for the dtype (the format does not
 * require it): read it with attn_safetensors_read_f32 / _read_int or memcpy rather than a cast. */
typedef struct {
    const char *name;
    attn_dtype dtype;
    int ndim;                                 /* 0 (a scalar) to ATTN_SAFETENSORS_MAX_DIMS */
    int64_t shape[ATTN_SAFETENSORS_MAX_DIMS]; /* shape[ndim..] are 0 */
    const void *data;                         /* nbytes bytes inside the file */
    size_t nbytes;                            /* product(shape) * attn_dtype_size(dtype) */
} attn_safetensors_tensor;

/* An open, validated file: its bytes (read into memory, or mapped) and an index of its tensors. */
typedef struct attn_safetensors attn_safetensors;

/* How attn_safetensors_open holds the file's bytes. */
typedef enum {
    /* Read the whole file into one malloc'd buffer. Works for pipes and FIFOs too: a file that is
     * not a regular one is read up to 256 MiB (more is ATTN_ERR_IO; io/file.h),
     * so /dev/zero or an endless pipe is refused instead of filling memory. */
    ATTN_SAFETENSORS_DEFAULT = 0,
    /* Map a regular file read-only instead of copying it (for large files: only the pages of the
     * tensors read are loaded, and they are shared with the page cache). Anything but a regular
     * file is ATTN_ERR_IO. The header is validated against the mapping's length at open; the
     * mapping is private, but POSIX gives no protection against ANOTHER process truncating the file
     * while it is open: touching a page past the new end raises SIGBUS. Use the default mode for a
     * file that may be rewritten in place (attn itself only ever replaces files by rename, which
     * leaves an open mapping intact). */
    ATTN_SAFETENSORS_MMAP = 1,
} attn_safetensors_flag;

/* Opens and validates the file at `path`; `flags` is ATTN_SAFETENSORS_DEFAULT or
 * ATTN_SAFETENSORS_MMAP. On success *out is a new handle the caller releases with
 * attn_safetensors_close(); on failure *out is NULL.
 * Errors: ATTN_ERR_INVALID (NULL argument, unknown flag), ATTN_ERR_IO (missing, unreadable, a
 * directory, not a regular file in mmap mode, a stream over the limit; the message names the
 * path and the reason), ATTN_ERR_FORMAT (malformed, or shorter than 8 bytes; the message starts
 * with the path), ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_safetensors_open(const char *path, unsigned flags,
                                           attn_safetensors **out);

/* As attn_safetensors_open, from `size` bytes at `buf`, which are copied (buf may be freed on
 * return). Errors: ATTN_ERR_INVALID (NULL out, or NULL buf with size > 0), ATTN_ERR_FORMAT,
 * ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_safetensors_open_memory(const void *buf, size_t size,
                                                  attn_safetensors **out);

/* Releases a file and everything attn_safetensors_at / _find / _metadata returned from it (and
 * unmaps it in mmap mode). NULL is a no-op. */
ATTN_API void attn_safetensors_close(attn_safetensors *f);

/* The number of tensors (0 for NULL), and the i-th (0 <= i < count, else NULL) in the order of
 * the file's header. The tensors lie in one array: attn_safetensors_at(f, i) is
 * attn_safetensors_at(f, 0) + i, so a pointer from attn_safetensors_find gives its index. */
ATTN_API int attn_safetensors_count(const attn_safetensors *f);
ATTN_API const attn_safetensors_tensor *attn_safetensors_at(const attn_safetensors *f, int i);

/* The tensor called `name`, or NULL if the file has none. Constant time (hashed). */
ATTN_API const attn_safetensors_tensor *attn_safetensors_find(const attn_safetensors *f,
                                                              const char *name);

/* The `__metadata__` value for `key`, or NULL if absent. Owned by the file. */
ATTN_API const char *attn_safetensors_metadata(const attn_safetensors *f, const char *key);
/* The number of metadata entries, and the i-th in header order (*key and *value owned by f; both
 * NULL when i is out of range). key or value may be NULL when not wanted. */
ATTN_API int attn_safetensors_metadata_count(const attn_safetensors *f);
ATTN_API void attn_safetensors_metadata_at(const attn_safetensors *f, int i, const char **key,
                                           const char **value);

/* Checks, without reading any data, what attn_safetensors_read_f32 checks (below) and returns the
 * same errors: so a caller can validate every tensor before allocating room for them. */
ATTN_API attn_status attn_safetensors_check_f32(const attn_safetensors *f, const char *name,
                                                int ndim, const int64_t *shape);

/* Copies tensor `name` into dst (product(shape) floats, owned by the caller) after checking, in
 * this order:
 *   it exists                                         else ATTN_ERR_MISSING
 *   its dtype is F32, F64, F16 or BF16                else ATTN_ERR_FORMAT
 *   its shape is exactly (ndim, shape[0..ndim))       else ATTN_ERR_SHAPE
 * Each message names the tensor (and both shapes or the dtype). F32 is copied bit for bit; F64 is
 * rounded to nearest float (values beyond float's range become infinities), F16 and BF16 are
 * widened exactly. dst is not written on failure. shape may be NULL when ndim == 0.
 * ATTN_ERR_INVALID: NULL f, name or dst, or ndim outside [0, ATTN_SAFETENSORS_MAX_DIMS]. */
ATTN_API attn_status attn_safetensors_read_f32(const attn_safetensors *f, const char *name,
                                               float *dst, int ndim, const int64_t *shape);

/* Copies integer tensor `name` (I64, I32, I8, U8 or BOOL; BOOL bytes read as 0 for zero, else 1)
 * into dst[n] (owned by the caller). Errors: ATTN_ERR_MISSING (absent), ATTN_ERR_FORMAT (a float
 * dtype, or a value that does not fit in int: the message gives its index), ATTN_ERR_SHAPE
 * (element count != n), ATTN_ERR_INVALID (NULL argument). dst may be partly written when a value
 * does not fit. */
ATTN_API attn_status attn_safetensors_read_int(const attn_safetensors *f, const char *name,
                                               int *dst, long n);

#ifdef __cplusplus
}
#endif
#endif
