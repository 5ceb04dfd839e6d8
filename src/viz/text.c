/* viz/text.c: UTF-8 repair for labels and JSON, and a small growable buffer. */
#include "viz/text.h"

#include "io/json_quote.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Decodes the character at s (n > 0 bytes left): its length in bytes, or -1 for an invalid byte
 * (utf8proc rejects overlong forms, surrogates and code points past U+10FFFF). */
static int next_char(const char *s, size_t n, int32_t *cp) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &c);
    if (k <= 0) return -1;
    *cp = c;
    return (int)k;
}

/* The visible form of a control character in display mode, or NULL for an ordinary character. */
static const char *control_form(int32_t cp) {
    switch (cp) {
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ? VIZ_REPLACEMENT : NULL;
    }
}

/* What the character at in (n > 0 bytes left) becomes: *form (len bytes, chars characters) and
 * the number of input bytes it consumes. */
typedef struct {
    const char *form;
    size_t len;
    int chars, consumed;
} char_out;

static char_out convert(const char *in, size_t n, viz_text_mode mode) {
    int32_t cp;
    int k = next_char(in, n, &cp);
    if (k < 0) return (char_out){VIZ_REPLACEMENT, sizeof VIZ_REPLACEMENT - 1, 1, 1};
    const char *form = mode == VIZ_TEXT_DISPLAY ? control_form(cp) : NULL;
    if (form) return (char_out){form, strlen(form), form[0] == '\\' ? 2 : 1, k};
    return (char_out){in, (size_t)k, 1, k};
}

char *viz_text_sanitize(const char *in, viz_text_mode mode, int max_chars) {
    if (!in) in = "";
    size_t n = strlen(in);
    /* characters of the output, counted up to max_chars + 1 (enough to know it is too long) */
    long total = 0;
    for (size_t at = 0; at < n && (max_chars <= 0 || total <= max_chars);) {
        char_out c = convert(in + at, n - at, mode);
        total += c.chars, at += (size_t)c.consumed;
    }
    int cut = max_chars > 0 && total > max_chars;
    /* each input byte becomes at most 3 output bytes (U+FFFD, or a 2-byte escape) */
    char *out = malloc(n * 3 + sizeof VIZ_ELLIPSIS), *w = out;
    if (!out) return NULL;
    long chars = 0;
    for (size_t at = 0; at < n;) {
        char_out c = convert(in + at, n - at, mode);
        if (cut && chars + c.chars > max_chars - 1) break;
        memcpy(w, c.form, c.len), w += c.len;
        chars += c.chars, at += (size_t)c.consumed;
    }
    if (cut) memcpy(w, VIZ_ELLIPSIS, sizeof VIZ_ELLIPSIS - 1), w += sizeof VIZ_ELLIPSIS - 1;
    *w = '\0';
    return out;
}

/* ---- buffer ------------------------------------------------------------------------------- */

int viz_buf_append(viz_buf *b, const void *bytes, size_t n) {
    if (b->failed) return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return -1;
        }
        b->data = p, b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int viz_buf_printf(viz_buf *b, const char *fmt, ...) {
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return b->failed = 1, -1;
    if ((size_t)n < sizeof small) return viz_buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) return b->failed = 1, -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int r = viz_buf_append(b, big, (size_t)n);
    free(big);
    return r;
}

int viz_buf_json_string(viz_buf *b, const char *s) {
    char *q = io_json_quote(s);
    if (!q) return b->failed = 1, -1;
    int r = viz_buf_append(b, q, strlen(q));
    free(q);
    return r;
}

void viz_buf_free(viz_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}
