/* data/tsv.c: reading "label<TAB>text" files (include/attn/data.h).
 *
 * Two passes over the bytes: the first checks every line and counts the examples, the second
 * copies labels and texts into one buffer (each NUL-terminated) and points the arrays into it.
 * The parser never reads past len and accepts any bytes but NUL. */
#include "attn/data.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/file.h"

/* One line of the input: [begin, end) without the "\n" or "\r\n". */
typedef struct {
    const char *begin, *end;
} line_span;

/* The line starting at p (p < stop); *next is where the following line starts. */
static line_span next_line(const char *p, const char *stop, const char **next) {
    const char *nl = memchr(p, '\n', (size_t)(stop - p));
    line_span s = {p, nl ? nl : stop};
    *next = nl ? nl + 1 : stop;
    if (s.end > s.begin && s.end[-1] == '\r') s.end--;
    return s;
}

/* ASCII white space other than the newline (which ends lines). */
static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Nonzero when [b, e) holds only white space (or nothing). */
static int blank(const char *b, const char *e) {
    for (; b < e; b++)
        if (!is_space(*b)) return 0;
    return 1;
}

/* Checks one non-blank line; *tab receives its first tab. ATTN_ERR_FORMAT names name:line. */
static attn_status check_line(line_span s, const char *name, long line, const char **tab) {
    if (memchr(s.begin, '\0', (size_t)(s.end - s.begin)))
        return attn_error(ATTN_ERR_FORMAT, "%s:%ld: the line holds a NUL byte", name, line);
    *tab = memchr(s.begin, '\t', (size_t)(s.end - s.begin));
    if (!*tab)
        return attn_error(ATTN_ERR_FORMAT, "%s:%ld: no tab: expected \"label<TAB>text\"", name,
                          line);
    if (blank(s.begin, *tab)) return attn_error(ATTN_ERR_FORMAT, "%s:%ld: empty label", name, line);
    if (blank(*tab + 1, s.end))
        return attn_error(ATTN_ERR_FORMAT, "%s:%ld: empty text", name, line);
    return ATTN_OK;
}

/* Copies [b, e) to *dst as a C string and advances *dst past its NUL; returns the copy. */
static char *put(char **dst, const char *b, const char *e) {
    char *s = *dst;
    memcpy(s, b, (size_t)(e - b));
    s[e - b] = '\0';
    *dst += (e - b) + 1;
    return s;
}

/* Both parsers: labelled lines "label<TAB>text", or unlabelled ones (the whole line is the text,
 * the label ""). */
static attn_status parse(const char *data, size_t len, const char *name, int labelled,
                         attn_tsv *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "tsv: out is NULL");
    memset(out, 0, sizeof *out);
    if (!data && len > 0) return attn_error(ATTN_ERR_INVALID, "tsv: data is NULL");
    if (!name) name = "<tsv>";
    const char *stop = data + len, *next;
    long n = 0, line = 0;
    for (const char *p = data; p < stop; p = next) {
        line_span s = next_line(p, stop, &next);
        line++;
        if (blank(s.begin, s.end)) continue;
        const char *tab;
        if (labelled)
            ATTN_TRY(check_line(s, name, line, &tab));
        else if (memchr(s.begin, '\0', (size_t)(s.end - s.begin)))
            return attn_error(ATTN_ERR_FORMAT, "%s:%ld: the line holds a NUL byte", name, line);
        n++;
    }
    size_t name_len = strlen(name);
    out->name = malloc(name_len + 1);
    out->buf = malloc(len + 2); /* the tab (or an empty label) and the line end become NULs */
    out->labels = malloc(((size_t)n + 1) * sizeof *out->labels);
    out->texts = malloc(((size_t)n + 1) * sizeof *out->texts);
    out->lines = malloc(((size_t)n + 1) * sizeof *out->lines);
    if (!out->name || !out->buf || !out->labels || !out->texts || !out->lines) {
        attn_tsv_free(out);
        return attn_error(ATTN_ERR_NOMEM, "tsv: out of memory for %s (%zu bytes)", name, len);
    }
    memcpy(out->name, name, name_len + 1);
    char *dst = out->buf;
    out->buf[len + 1] = '\0'; /* the empty label of unlabelled lines */
    line = 0;
    for (const char *p = data; p < stop; p = next) {
        line_span s = next_line(p, stop, &next);
        line++;
        if (blank(s.begin, s.end)) continue;
        const char *text = s.begin;
        if (labelled) {
            const char *tab = memchr(s.begin, '\t', (size_t)(s.end - s.begin));
            out->labels[out->n] = put(&dst, s.begin, tab);
            text = tab + 1;
        } else {
            out->labels[out->n] = out->buf + len + 1;
        }
        out->texts[out->n] = put(&dst, text, s.end);
        out->lines[out->n] = line;
        out->n++;
    }
    return ATTN_OK;
}

attn_status attn_tsv_parse(const char *data, size_t len, const char *name, attn_tsv *out) {
    return parse(data, len, name, 1, out);
}

attn_status attn_tsv_parse_texts(const char *data, size_t len, const char *name, attn_tsv *out) {
    return parse(data, len, name, 0, out);
}

attn_status attn_tsv_read(const char *path, attn_tsv *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "tsv: out is NULL");
    memset(out, 0, sizeof *out);
    void *data;
    size_t size;
    ATTN_TRY(attn_file_read_all(path, &data, &size));
    attn_status s = attn_tsv_parse(data, size, path, out);
    free(data);
    return s;
}

void attn_tsv_free(attn_tsv *t) {
    if (!t) return;
    free(t->labels);
    free(t->texts);
    free(t->lines);
    free(t->name);
    free(t->buf);
    memset(t, 0, sizeof *t);
}
