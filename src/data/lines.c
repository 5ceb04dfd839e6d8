/* data/lines.c: a UTF-8 text file as its lines, one sentence each (include/attn/data.h).
 *
 * One pass checks every line (no NUL, strict UTF-8) and counts them; the buffer is then copied
 * once with each line end replaced by a NUL, and the array points into the copy. Also the
 * writers of lines and of JSON strings that the commands print. */
#include "attn/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/json_quote.h"
#include "text/text_internal.h"

/* The end of the line starting at p (without "\n" or "\r\n") and where the next one starts. */
static const char *line_end(const char *p, const char *stop, const char **next) {
    const char *nl = memchr(p, '\n', (size_t)(stop - p));
    const char *end = nl ? nl : stop;
    *next = nl ? nl + 1 : stop;
    if (end > p && end[-1] == '\r') end--;
    return end;
}

static attn_status check_line(const char *b, const char *e, const char *name, long line) {
    size_t n = (size_t)(e - b);
    const char *nul = memchr(b, '\0', n);
    if (nul)
        return attn_error(ATTN_ERR_FORMAT, "%s:%ld: a NUL byte (column %zu)", name, line,
                          (size_t)(nul - b) + 1);
    size_t ok = text_utf8_valid_prefix((const unsigned char *)b, n);
    if (ok < n)
        return attn_error(ATTN_ERR_FORMAT, "%s:%ld: invalid UTF-8 at byte %zu of the line", name,
                          line, ok + 1);
    return ATTN_OK;
}

attn_status attn_lines_parse(const char *data, size_t len, const char *name, attn_lines *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "lines: out is NULL");
    memset(out, 0, sizeof *out);
    if (!data && len > 0) return attn_error(ATTN_ERR_INVALID, "lines: data is NULL");
    if (!name) name = "<lines>";
    const char *stop = data + len, *next;
    long n = 0;
    for (const char *p = data; p < stop; p = next) {
        const char *e = line_end(p, stop, &next);
        ATTN_TRY(check_line(p, e, name, n + 1));
        n++;
    }
    size_t name_len = strlen(name);
    out->name = malloc(name_len + 1);
    out->buf = malloc(len + 1);
    out->lines = malloc(((size_t)n + 1) * sizeof *out->lines);
    if (!out->name || !out->buf || !out->lines) {
        attn_lines_free(out);
        return attn_error(ATTN_ERR_NOMEM, "lines: out of memory for %s (%zu bytes)", name, len);
    }
    memcpy(out->name, name, name_len + 1);
    if (len) memcpy(out->buf, data, len);
    out->buf[len] = '\0';
    for (const char *p = data; p < stop; p = next) {
        const char *e = line_end(p, stop, &next);
        char *copy = out->buf + (p - data);
        copy[e - p] = '\0';
        out->lines[out->n++] = copy;
    }
    return ATTN_OK;
}

attn_status attn_lines_read(const char *path, attn_lines *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "lines: out is NULL");
    memset(out, 0, sizeof *out);
    void *data;
    size_t size;
    ATTN_TRY(attn_file_read(path, &data, &size));
    attn_status s = attn_lines_parse(data, size, path, out);
    free(data);
    return s;
}

void attn_lines_free(attn_lines *l) {
    if (!l) return;
    free(l->lines);
    free(l->name);
    free(l->buf);
    memset(l, 0, sizeof *l);
}

attn_status attn_lines_write(const char *path, char *const *lines, long n) {
    if (!path || (!lines && n > 0) || n < 0)
        return attn_error(ATTN_ERR_INVALID, "lines write: NULL path or lines");
    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "w");
    if (!f) return attn_error(ATTN_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    int bad = 0;
    for (long i = 0; i < n && !bad; i++)
        bad = fputs(lines[i] ? lines[i] : "", f) < 0 || fputc('\n', f) == EOF;
    bad = (to_stdout ? fflush(f) : fclose(f)) != 0 || bad;
    return bad ? attn_error(ATTN_ERR_IO, "cannot write '%s': %s", path, strerror(errno)) : ATTN_OK;
}

attn_status attn_json_write(FILE *f, const char *s) {
    char *q = io_json_quote(s);
    if (!q) return attn_error(ATTN_ERR_NOMEM, "cannot write JSON: out of memory");
    int bad = fputs(q, f) < 0;
    free(q);
    return bad ? attn_error(ATTN_ERR_IO, "cannot write JSON: %s", strerror(errno)) : ATTN_OK;
}
