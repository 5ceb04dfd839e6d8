/* core/error.c: the thread-local last-error message. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ATTN_ERROR_MAX 1024

static _Thread_local char last_error[ATTN_ERROR_MAX];

const char *attn_last_error(void) {
    return last_error;
}

const char *attn_status_name(attn_status status) {
    switch (status) {
    case ATTN_OK:
        return "ok";
    case ATTN_ERR_INVALID:
        return "invalid argument";
    case ATTN_ERR_SHAPE:
        return "shape mismatch";
    case ATTN_ERR_NOMEM:
        return "out of memory";
    case ATTN_ERR_IO:
        return "i/o error";
    case ATTN_ERR_FORMAT:
        return "malformed file";
    case ATTN_ERR_MISSING:
        return "missing entry";
    case ATTN_ERR_NUMERIC:
        return "non-finite value";
    case ATTN_ERR_ABORTED:
        return "aborted";
    }
    return "unknown error";
}

attn_status attn_error(attn_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

attn_status attn_error_context(attn_status status, const char *fmt, ...) {
    char message[2 * ATTN_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(message, ATTN_ERROR_MAX, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if (n > ATTN_ERROR_MAX - 1) n = ATTN_ERROR_MAX - 1;
    /* "context: old message", cut to fit */
    size_t len = (size_t)n;
    memcpy(message + len, ": ", 2);
    len += 2;
    size_t old = strnlen(last_error, ATTN_ERROR_MAX - 1);
    memcpy(message + len, last_error, old);
    len += old;
    if (len > ATTN_ERROR_MAX - 1) len = ATTN_ERROR_MAX - 1;
    memcpy(last_error, message, len);
    last_error[len] = '\0';
    return status;
}
