/* core/error.h: setting the thread-local last-error message (the public half is attn/status.h). */
#ifndef ATTN_CORE_ERROR_H
#define ATTN_CORE_ERROR_H

#include "attn/status.h"

/* Records a printf-style message as the calling thread's last error and returns `status`, so that
 * a failure reads `return attn_error(ATTN_ERR_SHAPE, "linear: %d != %d", a, b);`. */
attn_status attn_error(attn_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current last-error message with context ("loading m.safetensors: " + old). */
attn_status attn_error_context(attn_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Evaluates an expression returning attn_status and returns it from the caller if it failed. */
#define ATTN_TRY(expr)                                                                             \
    do {                                                                                           \
        attn_status attn_try_status_ = (expr);                                                     \
        if (attn_try_status_ != ATTN_OK) return attn_try_status_;                                  \
    } while (0)

#endif
