/* io/json_quote.h: any bytes as one JSON string literal that parses, for the writers that emit
 * JSON text directly (data's attn_json_write, viz's maps and reports). Internal. */
#ifndef ATTN_IO_JSON_QUOTE_H
#define ATTN_IO_JSON_QUOTE_H

/* s (NULL reads as "") between double quotes: '"' and '\' backslash-escaped, bytes below 0x20 as
 * \u00XX, every byte that does not start a valid UTF-8 character (utf8proc's rule: no overlong
 * forms, surrogates or code points past U+10FFFF) as \ufffd, all else copied. A malloc'd string
 * the caller frees, or NULL when out of memory. */
char *io_json_quote(const char *s);

#endif
