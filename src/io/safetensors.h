/* io/safetensors.h: writing safetensors files (docs/FORMATS.md); the reader is public
 * (attn/safetensors.h, implemented in io/safetensors.c) and included from here.
 *
 * Errors are reported through attn_error() (core/error.h); attn_last_error() has the message. */
#ifndef ATTN_IO_SAFETENSORS_H
#define ATTN_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "attn/safetensors.h"
#include "attn/status.h"

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
 * added, ndim outside [0, ATTN_SAFETENSORS_MAX_DIMS], a negative dimension, a byte size that
 * overflows, NULL data with a nonzero size, an unknown dtype), ATTN_ERR_NOMEM. */
attn_status attn_st_writer_add(attn_st_writer *w, const char *name, attn_dtype dtype,
                               const void *data, int ndim, const int64_t *shape);

/* Sets `__metadata__[key] = value`, both copied; setting a key again replaces its value (in its
 * original position). Errors: ATTN_ERR_INVALID (NULL key or value), ATTN_ERR_NOMEM. */
attn_status attn_st_writer_set_metadata(attn_st_writer *w, const char *key, const char *value);

/* Writes everything added so far to `path`, atomically (attn_file_write_atomic: an existing file
 * is replaced only once the new one is complete). The writer keeps its contents and may write
 * again. Errors: ATTN_ERR_INVALID (NULL argument, or a header over ATTN_SAFETENSORS_MAX_HEADER
 * bytes, which no reader would accept), ATTN_ERR_IO (see attn_file_write_atomic), ATTN_ERR_NOMEM.
 */
attn_status attn_st_writer_write(const attn_st_writer *w, const char *path);

/* The bytes attn_st_writer_write() would write, as one malloc'd buffer (*data, *size bytes) that
 * the caller frees with free(). Errors: as attn_st_writer_write, less ATTN_ERR_IO. */
attn_status attn_st_writer_to_memory(const attn_st_writer *w, void **data, size_t *size);

/* Releases the writer and its copies of names and metadata (never the tensor data). NULL is a
 * no-op. */
void attn_st_writer_free(attn_st_writer *w);

#endif
