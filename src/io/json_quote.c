/* io/json_quote.c: bytes to a JSON string literal (json_quote.h). */
#include "io/json_quote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

char *io_json_quote(const char *s) {
    const char *p = s ? s : "";
    size_t n = strlen(p);
    /* the worst case: every byte a 6-byte escape, plus the quotes and the NUL */
    char *out = malloc(6 * n + 3), *w = out;
    if (!out) return NULL;
    *w++ = '"';
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)p, (utf8proc_ssize_t)n, &cp);
        unsigned char c = (unsigned char)*p;
        if (k <= 0) {
            memcpy(w, "\\ufffd", 6), w += 6, k = 1;
        } else if (c == '"' || c == '\\') {
            *w++ = '\\', *w++ = (char)c;
        } else if (c < 0x20) {
            w += snprintf(w, 7, "\\u%04x", c);
        } else {
            memcpy(w, p, (size_t)k), w += k;
        }
        p += k, n -= (size_t)k;
    }
    *w++ = '"', *w = '\0';
    return out;
}
