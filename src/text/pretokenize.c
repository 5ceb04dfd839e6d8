/* text/pretokenize.c: GPT-2's pre-tokenisation with PCRE2.
 *
 * The pattern (GPT-2's encoder.py) cuts text into contractions, letter runs, digit runs, runs of
 * other symbols (each optionally led by one space) and whitespace; a space before a word stays
 * with the word. Every character falls in one of the classes, so at every position some
 * alternative matches: the matches tile the text.
 *
 * PCRE2 checks UTF-8 validity of the whole subject on every call unless told not to, and refuses
 * invalid text. We validate once (text_utf8_valid_prefix, the same definition PCRE2 uses), match
 * each maximal valid run with PCRE2_NO_UTF_CHECK, and hand every byte that starts no valid
 * sequence to the caller as a piece of its own: nothing is lost, so decode(encode(x)) == x. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>

#include "core/error.h"
#include "text/text_internal.h"

static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

struct text_regex {
    pcre2_code *code;
};

attn_status text_regex_create(text_regex **out) {
    *out = NULL;
    text_regex *re = calloc(1, sizeof *re);
    if (!re) return attn_error(ATTN_ERR_NOMEM, "out of memory for the pre-tokeniser");
    int err;
    PCRE2_SIZE err_offset;
    re->code = pcre2_compile((PCRE2_SPTR)gpt2_pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                             &err, &err_offset, NULL);
    if (!re->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        free(re);
        return attn_error(ATTN_ERR_INVALID, "pre-tokeniser pattern, offset %zu: %s",
                          (size_t)err_offset, (const char *)msg);
    }
    /* JIT is an optimisation: without it (a build lacking it) the interpreter gives the same. */
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
    *out = re;
    return ATTN_OK;
}

void text_regex_free(text_regex *re) {
    if (!re) return;
    pcre2_code_free(re->code);
    free(re);
}

/* Runs one match at `offset` of the valid run s[0..n). Returns the match bounds in *start, *end,
 * or an error. A JIT stack overflow (very long runs) is retried with the interpreter, which keeps
 * its backtracking state on the heap. */
static attn_status match_at(const text_regex *re, const char *s, size_t n, size_t offset,
                            pcre2_match_data *md, size_t *start, size_t *end) {
    uint32_t opts = PCRE2_NO_UTF_CHECK;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, offset, opts, md, NULL);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, offset, opts | PCRE2_NO_JIT, md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH) { /* cannot happen (see above): take the rest as one piece */
        *start = offset;
        *end = n;
        return ATTN_OK;
    }
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return attn_error(rc == PCRE2_ERROR_NOMEMORY || rc == PCRE2_ERROR_HEAPLIMIT
                              ? ATTN_ERR_NOMEM
                              : ATTN_ERR_INVALID,
                          "pre-tokenising at byte %zu: %s", offset, (const char *)msg);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    *start = ov[0];
    *end = ov[1];
    return ATTN_OK;
}

/* Splits the valid UTF-8 run s[0..n) into matches, calling fn for each. */
static attn_status split_run(const text_regex *re, const char *s, size_t n, pcre2_match_data *md,
                             text_piece_fn fn, void *user) {
    size_t pos = 0;
    while (pos < n) {
        size_t start, end;
        ATTN_TRY(match_at(re, s, n, pos, md, &start, &end));
        if (start > pos) ATTN_TRY(fn(s + pos, start - pos, 0, user)); /* a gap: keep its bytes */
        if (end <= start) { /* an empty match would not advance: take one character */
            int32_t cp;
            size_t k = (size_t)text_utf8_decode((const unsigned char *)s + start, n - start, &cp);
            end = start + (k ? k : 1);
        }
        ATTN_TRY(fn(s + start, end - start, 0, user));
        pos = end;
    }
    return ATTN_OK;
}

attn_status text_pretokenize(const text_regex *re, const char *text, size_t len, text_piece_fn fn,
                             void *user) {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (!md) return attn_error(ATTN_ERR_NOMEM, "out of memory for the pre-tokeniser");
    attn_status s = ATTN_OK;
    size_t pos = 0;
    while (pos < len && s == ATTN_OK) {
        size_t run = text_utf8_valid_prefix((const unsigned char *)text + pos, len - pos);
        if (run > 0) {
            s = split_run(re, text + pos, run, md, fn, user);
            pos += run;
        } else {
            s = fn(text + pos, 1, 1, user);
            pos++;
        }
    }
    pcre2_match_data_free(md);
    return s;
}
