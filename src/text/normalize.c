/* text/normalize.c: the byte-level BPE's optional normaliser (NFC, lower-case), with utf8proc.
 *
 * Only valid UTF-8 can be normalised; the invalid bytes of a text are copied through unchanged
 * between its normalised valid runs, so the normaliser never fails on input and never loses a
 * byte it does not understand. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/error.h"
#include "text/text_internal.h"

/* utf8proc's per-code-point hook: the simple lower-case mapping. */
static utf8proc_int32_t lower(utf8proc_int32_t cp, void *data) {
    (void)data;
    return utf8proc_tolower(cp);
}

/* Appends the normalised form of the valid run s[0..n) to b. */
static attn_status normalize_run(const char *s, size_t n, int flags, text_buf *b) {
    utf8proc_option_t opts = UTF8PROC_STABLE;
    if (flags & TEXT_NORM_NFC) opts |= UTF8PROC_COMPOSE;
    utf8proc_uint8_t *dst = NULL;
    /* lower() is applied to each code point before (de)composition: NFC(lower(s)). */
    utf8proc_ssize_t m = utf8proc_map_custom((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst,
                                             opts, (flags & TEXT_NORM_LOWER) ? lower : NULL, NULL);
    if (m < 0) {
        return attn_error(m == UTF8PROC_ERROR_NOMEM ? ATTN_ERR_NOMEM : ATTN_ERR_INVALID,
                          "normalising text: %s", utf8proc_errmsg(m));
    }
    attn_status st = text_buf_append(b, dst, (size_t)m);
    free(dst);
    return st;
}

attn_status text_normalize(const char *text, size_t len, int flags, char **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    text_buf b = {0};
    attn_status s = ATTN_OK;
    size_t pos = 0;
    while (pos < len && s == ATTN_OK) {
        size_t run = text_utf8_valid_prefix((const unsigned char *)text + pos, len - pos);
        if (run > 0 && flags) {
            s = normalize_run(text + pos, run, flags, &b);
        } else if (run > 0) {
            s = text_buf_append(&b, text + pos, run);
        } else {
            run = 1; /* an invalid byte: kept as it is */
            s = text_buf_append(&b, text + pos, 1);
        }
        pos += run;
    }
    if (s == ATTN_OK) s = text_buf_append(&b, "", 1);
    if (s != ATTN_OK) {
        free(b.data);
        return s;
    }
    *out = b.data;
    *out_len = b.len - 1;
    return ATTN_OK;
}
