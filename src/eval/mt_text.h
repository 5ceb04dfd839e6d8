/* eval/mt_text.h: what the translation metrics (bleu.c, chrf.c, bleu_tokenize.c) share: strict
 * UTF-8, Python's notion of white space, and counting n-grams given as byte spans.
 *
 * sacreBLEU works on Python strings, so "white space" there is str.split()'s: the code points for
 * which str.isspace() is true. An n-gram is a span of bytes: for BLEU the words of a tokenized
 * line joined by single spaces, for chrF a run of code points with the white space removed; two
 * n-grams are equal exactly when their bytes are. */
#ifndef ATTN_EVAL_MT_TEXT_H
#define ATTN_EVAL_MT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "attn/status.h"

/* Decodes the code point at s[0..n) (n >= 1) into *cp and returns its length in bytes, or 0 when
 * the bytes there are not strict UTF-8 (overlong forms, surrogates, past U+10FFFF, truncated), as
 * Python's "utf-8" codec refuses them. */
int mt_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* ATTN_OK when s[0..n) is strict UTF-8 holding no NUL; otherwise ATTN_ERR_INVALID with the
 * message "<what>: invalid UTF-8 at byte B". */
attn_status mt_utf8_check(const char *s, size_t n, const char *what);

/* Nonzero for the code points Python's str.isspace() accepts: U+0009..000D, U+001C..001F, U+0020,
 * U+0085, U+00A0, U+1680, U+2000..200A, U+2028, U+2029, U+202F, U+205F, U+3000. */
int mt_is_space(uint32_t cp);

/* One n-gram: len bytes at p. */
typedef struct {
    const char *p;
    size_t len;
} mt_span;

/* Sorts n spans by their bytes (memcmp order, a prefix first). */
void mt_spans_sort(mt_span *v, size_t n);

/* How many of the n sorted spans equal key (two binary searches). */
long mt_spans_count(const mt_span *sorted, size_t n, mt_span key);

/* sum over the distinct n-grams g of hyp of min(count of g in hyp, max over the n_refs reference
 * lists of the count of g there): the clipped matches of BLEU and chrF. Every list is sorted. */
long mt_spans_clipped(const mt_span *hyp, size_t n_hyp, const mt_span *const *refs,
                      const size_t *n_refs_each, int n_refs);

#endif
