/* viz/text.h: making arbitrary bytes safe to draw (cairo) or to write into JSON.
 *
 * cairo refuses a string that is not valid UTF-8 (the context enters an error state and draws
 * nothing more), and JSON must be valid UTF-8 too; tokens, though, can be any bytes (a byte-level
 * BPE token may be half of a multi-byte character). */
#ifndef ATTN_VIZ_TEXT_H
#define ATTN_VIZ_TEXT_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER and U+2026 HORIZONTAL ELLIPSIS, as UTF-8. */
#define VIZ_REPLACEMENT "\xEF\xBF\xBD"
#define VIZ_ELLIPSIS "\xE2\x80\xA6"

typedef enum {
    VIZ_TEXT_JSON = 0,    /* only repair the encoding; control characters are kept */
    VIZ_TEXT_DISPLAY = 1, /* also make control characters visible: \n, \r, \t, others U+FFFD */
} viz_text_mode;

/* A new valid UTF-8 copy of the NUL-terminated bytes `in` (NULL reads as ""): every byte that
 * does not start a valid sequence (stray continuation bytes, truncated or overlong sequences,
 * surrogates, code points past U+10FFFF) becomes U+FFFD. With max_chars > 0, an output of more
 * than max_chars characters (an escape such as \n counts two) keeps what fits in max_chars - 1
 * and ends in "…". Returns a malloc'd string the caller frees, or NULL if out of memory. */
char *viz_text_sanitize(const char *in, viz_text_mode mode, int max_chars);

/* A growable byte buffer; every append returns 0, or -1 (and sets `failed`) when out of memory,
 * after which further appends do nothing. data is NUL-terminated whenever len > 0. */
typedef struct {
    char *data;
    size_t len, cap;
    int failed;
} viz_buf;

int viz_buf_append(viz_buf *b, const void *bytes, size_t n);
int viz_buf_printf(viz_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included): sanitised to valid UTF-8, then ", \ and
 * control characters escaped. NULL appends "". */
int viz_buf_json_string(viz_buf *b, const char *s);
void viz_buf_free(viz_buf *b);

#endif
