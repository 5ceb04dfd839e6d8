/* text/pretokenize.c: pre-tokenisation with PCRE2: GPT-2's pattern, or the chain of Split
 * patterns a tokenizer.json gives (Llama 3, Qwen).
 *
 * A pre-tokeniser is a chain of 0..TEXT_MAX_STAGES patterns. Stage k cuts each piece of stage
 * k - 1 as Hugging Face's Split does with behavior "Isolated": every match is a piece, and so is
 * every gap between matches; empty matches are skipped (the search resumes one character later,
 * the gap grows), as in transformers.js. With "MergedWithPrevious" a match ends the piece of the
 * gap before it (Gemma's split on spaces). With no stage, a valid run is one piece. GPT-2's pattern
 * matches at every position, so for it the matches tile the text.
 *
 * Patterns are written for the Rust / Oniguruma engine of the `tokenizers` library; the few
 * constructs whose meaning differs between engines are translated here (case-insensitive groups)
 * or refused (see translate_pattern); PCRE2 compiles the rest (with UTF, UCP and DOLLAR_ENDONLY)
 * and names the offset of anything it does not know. A match limit bounds the work of a hostile
 * pattern: going past it is an error, never a hang.
 *
 * PCRE2 checks UTF-8 validity of the whole subject on every call unless told not to, and refuses
 * invalid text. We validate once (text_utf8_valid_prefix, the same definition PCRE2 uses), match
 * each maximal valid run with PCRE2_NO_UTF_CHECK, and hand every byte that starts no valid
 * sequence to the caller as a piece of its own: nothing is lost, so decode(encode(x)) == x. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/text_internal.h"

const char text_gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* Backtracking steps one match may take (PCRE2's default is 10 million). */
#define MATCH_LIMIT 10000000u
#define PATTERN_MAX 65536

struct text_regex {
    int n;
    pcre2_code *code[TEXT_MAX_STAGES];
    char *source[TEXT_MAX_STAGES];         /* the pattern as the file gave it */
    unsigned char merged[TEXT_MAX_STAGES]; /* behaviour MergedWithPrevious, else Isolated */
    pcre2_match_context *mctx;
};

/* ---- translation of Hugging Face (Oniguruma) patterns --------------------------------------- */

/* Copies pattern p into b with the engine differences removed:
 *   (?i:...)   becomes (?:...) with each ASCII letter x spelt [xX]: under PCRE2's Unicode
 *              caseless matching 's' would also match U+017F and 'k' U+212A, which neither
 *              transformers.js (ASCII classes) nor the published patterns intend;
 *   \d \D \w \W \b \B and '.' are refused: ASCII in JavaScript, Unicode in Oniguruma and PCRE2,
 *              no single meaning to give them;
 *   other inline flags ((?i) (?x) (?s) (?m) ...) and \Q...\E quoting are refused.
 * A character class inside (?i:...) is refused too (its letters would need the same care). */
static attn_status translate_pattern(const char *p, text_buf *b) {
    int depth = 0, caseless_depth = 0; /* caseless while depth >= caseless_depth > 0 */
    int in_class = 0;
    size_t n = strlen(p);
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\') {
            if (i + 1 >= n)
                return attn_error(ATTN_ERR_FORMAT, "pre-tokenizer pattern ends in '\\'");
            char e = p[i + 1];
            if (e == 'Q')
                return attn_error(ATTN_ERR_FORMAT, "pre-tokenizer pattern: '\\Q...\\E' quoting "
                                                   "is not supported");
            if (strchr("dDwWbB", e))
                return attn_error(ATTN_ERR_FORMAT,
                                  "pre-tokenizer pattern: '\\%c' is not supported (ASCII in "
                                  "JavaScript, Unicode in Rust: write a \\p{...} class)",
                                  e);
            size_t k = 2;
            if ((e == 'p' || e == 'P' || e == 'x') && i + 2 < n && p[i + 2] == '{') {
                const char *close = strchr(p + i + 2, '}');
                if (!close)
                    return attn_error(ATTN_ERR_FORMAT,
                                      "pre-tokenizer pattern: '\\%c{' "
                                      "without '}'",
                                      e);
                k = (size_t)(close - (p + i)) + 1;
            }
            ATTN_TRY(text_buf_append(b, p + i, k));
            i += k - 1;
            continue;
        }
        if (in_class) {
            if (c == ']') in_class = 0;
            ATTN_TRY(text_buf_append(b, &c, 1));
            continue;
        }
        if (c == '[') {
            if (caseless_depth)
                return attn_error(ATTN_ERR_FORMAT, "pre-tokenizer pattern: a character class "
                                                   "inside (?i:...) is not supported");
            in_class = 1;
            ATTN_TRY(text_buf_append(b, &c, 1));
            if (i + 1 < n && p[i + 1] == '^') ATTN_TRY(text_buf_append(b, p + ++i, 1));
            if (i + 1 < n && p[i + 1] == ']') ATTN_TRY(text_buf_append(b, p + ++i, 1));
            continue;
        }
        if (c == '.')
            return attn_error(ATTN_ERR_FORMAT, "pre-tokenizer pattern: '.' is not supported (the "
                                               "line ends it excludes differ between engines)");
        if (c == '(') {
            depth++;
            if (strncmp(p + i, "(?i:", 4) == 0) {
                if (!caseless_depth) caseless_depth = depth;
                ATTN_TRY(text_buf_append(b, "(?:", 3));
                i += 3;
                continue;
            }
            if (i + 2 < n && p[i + 1] == '?' && strchr("imsxnUJ-^)", p[i + 2]))
                return attn_error(ATTN_ERR_FORMAT,
                                  "pre-tokenizer pattern: the inline flags at "
                                  "offset %zu are not supported ((?i:...) is)",
                                  i);
        } else if (c == ')') {
            if (caseless_depth && depth == caseless_depth) caseless_depth = 0;
            depth--;
        } else if (caseless_depth && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            char cls[4] = {'[', (char)(c | 0x20), (char)(c & ~0x20), ']'};
            ATTN_TRY(text_buf_append(b, cls, 4));
            continue;
        }
        ATTN_TRY(text_buf_append(b, &c, 1));
    }
    return text_buf_append(b, "", 1);
}

/* Compiles one pattern into re->code[re->n]. */
static attn_status add_stage(text_regex *re, const char *pattern) {
    if (re->n >= TEXT_MAX_STAGES)
        return attn_error(ATTN_ERR_FORMAT, "more than %d pre-tokenizer patterns", TEXT_MAX_STAGES);
    if (strlen(pattern) > PATTERN_MAX)
        return attn_error(ATTN_ERR_FORMAT, "a pre-tokenizer pattern of more than %d bytes",
                          PATTERN_MAX);
    if (text_utf8_valid_prefix((const unsigned char *)pattern, strlen(pattern)) != strlen(pattern))
        return attn_error(ATTN_ERR_FORMAT, "a pre-tokenizer pattern is not valid UTF-8");
    text_buf b = {0};
    attn_status s = translate_pattern(pattern, &b);
    if (s != ATTN_OK) {
        free(b.data);
        return s == ATTN_ERR_NOMEM ? attn_error(s, "out of memory for a pattern") : s;
    }
    int err;
    PCRE2_SIZE err_offset;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)b.data, PCRE2_ZERO_TERMINATED,
                      PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &err_offset, NULL);
    free(b.data);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return attn_error(ATTN_ERR_FORMAT, "pre-tokenizer pattern '%.200s', offset %zu: %s",
                          pattern, (size_t)err_offset, (const char *)msg);
    }
    /* JIT is an optimisation: without it (a build lacking it) the interpreter gives the same. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    re->code[re->n] = code;
    if (!(re->source[re->n] = strdup(pattern))) {
        pcre2_code_free(code);
        return attn_error(ATTN_ERR_NOMEM, "out of memory for a pattern");
    }
    re->n++;
    return ATTN_OK;
}

attn_status text_regex_create_chain(const char *const *patterns, int n, text_regex **out) {
    *out = NULL;
    text_regex *re = calloc(1, sizeof *re);
    if (!re || !(re->mctx = pcre2_match_context_create(NULL))) {
        free(re);
        return attn_error(ATTN_ERR_NOMEM, "out of memory for the pre-tokeniser");
    }
    pcre2_set_match_limit(re->mctx, MATCH_LIMIT);
    attn_status s = ATTN_OK;
    for (int i = 0; i < n && s == ATTN_OK; i++)
        s = add_stage(re, patterns[i]);
    if (s != ATTN_OK) {
        text_regex_free(re);
        return s;
    }
    *out = re;
    return ATTN_OK;
}

attn_status text_regex_create(text_regex **out) {
    const char *gpt2 = text_gpt2_pattern;
    return text_regex_create_chain(&gpt2, 1, out);
}

void text_regex_merge_with_previous(text_regex *re, int i) {
    re->merged[i] = 1;
}

int text_regex_merged(const text_regex *re, int i) {
    return re->merged[i];
}

int text_regex_count(const text_regex *re) {
    return re ? re->n : 0;
}

const char *text_regex_source(const text_regex *re, int i) {
    return re->source[i];
}

void text_regex_free(text_regex *re) {
    if (!re) return;
    for (int i = 0; i < re->n; i++) {
        pcre2_code_free(re->code[i]);
        free(re->source[i]);
    }
    pcre2_match_context_free(re->mctx);
    free(re);
}

/* ---- splitting ------------------------------------------------------------------------------- */

typedef struct {
    const text_regex *re;
    pcre2_match_data *md[TEXT_MAX_STAGES];
    text_piece_fn fn;
    void *user;
} split_state;

/* Runs one match of stage k from `offset` of the valid run s[0..n). *found = 0 when nothing
 * matches. A JIT stack overflow (very long runs) is retried with the interpreter, which keeps its
 * backtracking state on the heap. */
static attn_status match_at(const split_state *st, int k, const char *s, size_t n, size_t offset,
                            int *found, size_t *start, size_t *end) {
    uint32_t opts = PCRE2_NO_UTF_CHECK;
    pcre2_code *code = st->re->code[k];
    pcre2_match_data *md = st->md[k];
    int rc = pcre2_match(code, (PCRE2_SPTR)s, n, offset, opts, md, st->re->mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(code, (PCRE2_SPTR)s, n, offset, opts | PCRE2_NO_JIT, md, st->re->mctx);
    *found = 0;
    if (rc == PCRE2_ERROR_NOMATCH) return ATTN_OK;
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return attn_error(rc == PCRE2_ERROR_NOMEMORY || rc == PCRE2_ERROR_HEAPLIMIT
                              ? ATTN_ERR_NOMEM
                              : ATTN_ERR_INVALID,
                          "pre-tokenising at byte %zu: %s", offset, (const char *)msg);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    if (ov[0] < offset || ov[1] < ov[0] || ov[1] > n) /* \K can do this: not a split */
        return attn_error(ATTN_ERR_INVALID,
                          "pre-tokenising at byte %zu: a match outside the "
                          "text (\\K is not supported)",
                          offset);
    *found = 1;
    *start = ov[0];
    *end = ov[1];
    return ATTN_OK;
}

static attn_status split_stage(const split_state *st, int k, const char *s, size_t n);

/* Hands piece s[0..n) (n > 0) to stage k, or to the caller after the last stage. */
static attn_status emit(const split_state *st, int k, const char *s, size_t n) {
    return k < st->re->n ? split_stage(st, k, s, n) : st->fn(s, n, 0, st->user);
}

/* Splits the valid UTF-8 piece s[0..n) with stage k: matches and the gaps between them, or
 * (MergedWithPrevious) each match with the gap before it. */
static attn_status split_stage(const split_state *st, int k, const char *s, size_t n) {
    size_t gap = 0, search = 0;
    while (search < n) {
        int found;
        size_t start, end;
        ATTN_TRY(match_at(st, k, s, n, search, &found, &start, &end));
        if (!found) break;
        if (end == start) { /* empty: skipped, the search resumes one character later */
            int32_t cp;
            int len = text_utf8_decode((const unsigned char *)s + start, n - start, &cp);
            search = start + (len > 0 ? (size_t)len : 1);
            continue;
        }
        if (st->re->merged[k]) {
            ATTN_TRY(emit(st, k + 1, s + gap, end - gap));
        } else {
            if (start > gap) ATTN_TRY(emit(st, k + 1, s + gap, start - gap));
            ATTN_TRY(emit(st, k + 1, s + start, end - start));
        }
        gap = search = end;
    }
    if (gap < n) ATTN_TRY(emit(st, k + 1, s + gap, n - gap));
    return ATTN_OK;
}

attn_status text_pretokenize(const text_regex *re, const char *text, size_t len, text_piece_fn fn,
                             void *user) {
    split_state st = {.re = re, .fn = fn, .user = user};
    attn_status s = ATTN_OK;
    for (int k = 0; k < re->n && s == ATTN_OK; k++)
        if (!(st.md[k] = pcre2_match_data_create_from_pattern(re->code[k], NULL)))
            s = attn_error(ATTN_ERR_NOMEM, "out of memory for the pre-tokeniser");
    size_t pos = 0;
    while (pos < len && s == ATTN_OK) {
        size_t run = text_utf8_valid_prefix((const unsigned char *)text + pos, len - pos);
        if (run > 0) {
            s = emit(&st, 0, text + pos, run);
            pos += run;
        } else {
            s = fn(text + pos, 1, 1, user);
            pos++;
        }
    }
    for (int k = 0; k < re->n; k++)
        pcre2_match_data_free(st.md[k]);
    return s;
}
