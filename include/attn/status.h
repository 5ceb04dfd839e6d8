/* attn/status.h: error codes and the last-error message.
 *
 * Every fallible libattn function returns an attn_status: ATTN_OK (0) on success, a negative code
 * otherwise. The message describing the most recent failure on the calling thread is available from
 * attn_last_error() until the next failure overwrites it. Library code never prints and never
 * exits. */
#ifndef ATTN_STATUS_H
#define ATTN_STATUS_H

/* Marks the functions of the public API: libattn is built with hidden visibility, so its shared
 * library exports these and nothing else (tests/repo/test_exports.sh checks it). */
#if defined(__GNUC__) || defined(__clang__)
#define ATTN_API __attribute__((visibility("default")))
#else
#define ATTN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ATTN_OK = 0,
    ATTN_ERR_INVALID = -1, /* an argument is out of range or inconsistent */
    ATTN_ERR_SHAPE = -2,   /* tensor shapes do not agree */
    ATTN_ERR_NOMEM = -3,   /* an allocation failed */
    ATTN_ERR_IO = -4,      /* a file could not be opened, read or written */
    ATTN_ERR_FORMAT = -5,  /* a file is malformed: truncated, bad header, wrong dtype, ... */
    ATTN_ERR_MISSING = -6, /* a required tensor or key is absent */
    ATTN_ERR_NUMERIC = -7, /* a NaN or infinite value where a finite one is required */
    ATTN_ERR_ABORTED = -8, /* a caller's abort callback asked to stop */
} attn_status;

/* The message of the calling thread's most recent error ("" if none). Owned by the library, valid
 * until the next libattn call on this thread. */
ATTN_API const char *attn_last_error(void);

/* A short constant name for a status code ("ok", "invalid argument", ...). */
ATTN_API const char *attn_status_name(attn_status status);

#ifdef __cplusplus
}
#endif
#endif
