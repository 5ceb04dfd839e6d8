/* eval/bleu_tokenize.c: sacreBLEU's "13a" tokenizer (mteval-v13a.pl's), attn_bleu_tokenize_13a.
 *
 * The steps, each over the whole line, in sacreBLEU's order (tokenizer_13a.py, tokenizer_re.py):
 *   0. trailing white space is stripped (BLEU does `sent.rstrip()` before tokenizing);
 *   1. "<skipped>" and "-\n" are removed, "\n" becomes " ", and, one after the other, "&quot;",
 *      "&amp;", "&lt;", "&gt;" become '"', '&', '<', '>' (each a single left-to-right pass, so
 *      "&amp;lt;" ends as "<" but "&amp;quot;" as "&quot;");
 *   2. a space is put before and after the line;
 *   3. every ASCII character in { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
 *      gets a space on each side;
 *   4. ([^0-9])([.,]) -> "\1 \2 ": a period or comma not after a digit is split off;
 *   5. ([.,])([^0-9]) -> " \1 \2": a period or comma not before a digit is split off;
 *   6. ([0-9])(-)     -> "\1 \2 ": a dash after a digit is split off;
 *   7. the words (split at Python white space, Unicode's included) are joined by single spaces.
 * Steps 4-6 are Python's re.sub: matches do not overlap and the scan goes on after each match.
 * Their patterns are ASCII, so running them over bytes gives what running them over code points
 * does (a multi-byte character can only match a [^0-9] and is copied whole either way).
 * Non-ASCII punctuation is never split. */
#include "attn/metrics.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/mt_text.h"

/* s[0..*n) with every occurrence of `from` replaced by the no longer `to`, in place. */
static void replace_all(char *s, size_t *n, const char *from, const char *to) {
    size_t lf = strlen(from), lt = strlen(to), w = 0;
    for (size_t r = 0; r < *n;) {
        if (r + lf <= *n && memcmp(s + r, from, lf) == 0) {
            memcpy(s + w, to, lt);
            w += lt, r += lf;
        } else {
            s[w++] = s[r++];
        }
    }
    *n = w;
}

/* The length of s[0..n) without its trailing Python white space (s is valid UTF-8). */
static size_t rstrip_len(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t end = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = mt_utf8_next(u + i, n - i, &cp);
        i += (size_t)k;
        if (!mt_is_space(cp)) end = i;
    }
    return end;
}

/* Step 3's character class: [{-~[-` -&(-+:-@/]. */
static int is_split_punct(unsigned char c) {
    return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
           (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

static int is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

static int is_period_comma(unsigned char c) {
    return c == '.' || c == ',';
}

/* Step 3 from in[0..n) to out (3n bytes at most); returns the length written. */
static size_t pad_punct(const char *in, size_t n, char *out) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (is_split_punct(c)) {
            out[w++] = ' ', out[w++] = (char)c, out[w++] = ' ';
        } else {
            out[w++] = (char)c;
        }
    }
    return w;
}

/* One of the two-character substitutions of steps 4-6: where in[i], in[i + 1] match `rule`, the
 * pair is written with the rule's spaces and the scan goes on at i + 2. out holds 2n bytes. */
enum { RULE_PERIOD_AFTER, RULE_PERIOD_BEFORE, RULE_DASH };
static size_t substitute(const char *in, size_t n, char *out, int rule) {
    size_t w = 0, i = 0;
    while (i < n) {
        unsigned char a = (unsigned char)in[i], b = i + 1 < n ? (unsigned char)in[i + 1] : 0;
        int match = i + 1 < n && (rule == RULE_PERIOD_AFTER    ? !is_digit(a) && is_period_comma(b)
                                  : rule == RULE_PERIOD_BEFORE ? is_period_comma(a) && !is_digit(b)
                                                               : is_digit(a) && b == '-');
        if (!match) {
            out[w++] = (char)a, i++;
        } else if (rule == RULE_PERIOD_BEFORE) { /* " \1 \2" */
            out[w++] = ' ', out[w++] = (char)a, out[w++] = ' ', out[w++] = (char)b, i += 2;
        } else { /* "\1 \2 " */
            out[w++] = (char)a, out[w++] = ' ', out[w++] = (char)b, out[w++] = ' ', i += 2;
        }
    }
    return w;
}

/* Step 7 from in[0..n) to out (n + 1 bytes): the words joined by single spaces, NUL-terminated. */
static void join_words(const char *in, size_t n, char *out) {
    const unsigned char *u = (const unsigned char *)in;
    size_t w = 0;
    int in_word = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = mt_utf8_next(u + i, n - i, &cp);
        if (mt_is_space(cp)) {
            in_word = 0;
        } else {
            if (!in_word && w > 0) out[w++] = ' ';
            in_word = 1;
            memcpy(out + w, in + i, (size_t)k);
            w += (size_t)k;
        }
        i += (size_t)k;
    }
    out[w] = '\0';
}

attn_status attn_bleu_tokenize_13a(const char *s, char **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "bleu tokenize: out is NULL");
    *out = NULL;
    if (!s) return attn_error(ATTN_ERR_INVALID, "bleu tokenize: the text is NULL");
    size_t n = strlen(s);
    ATTN_TRY(mt_utf8_check(s, n, "bleu tokenize"));
    if (n > (SIZE_MAX - 16) / 16)
        return attn_error(ATTN_ERR_NOMEM, "bleu tokenize: a line of %zu bytes is too long", n);
    /* Two buffers used in turn. Step 3 at most triples the n + 2 bytes; steps 4 and 5 add two
     * bytes per period or comma of the line, step 6 two per dash, so no stage exceeds 7n + 6. */
    size_t cap = 8 * n + 16;
    char *a = malloc(cap), *b = malloc(cap);
    if (!a || !b) {
        free(a), free(b);
        return attn_error(ATTN_ERR_NOMEM, "bleu tokenize: %zu bytes", 2 * cap);
    }
    n = rstrip_len(s, n);
    a[0] = ' ';
    memcpy(a + 1, s, n);
    size_t m = n;
    char *line = a + 1;
    replace_all(line, &m, "<skipped>", "");
    replace_all(line, &m, "-\n", "");
    replace_all(line, &m, "\n", " ");
    if (memchr(line, '&', m)) {
        replace_all(line, &m, "&quot;", "\"");
        replace_all(line, &m, "&amp;", "&");
        replace_all(line, &m, "&lt;", "<");
        replace_all(line, &m, "&gt;", ">");
    }
    line[m] = ' ';
    m += 2; /* the spaces of step 2, a[0] and a[m + 1] */
    m = pad_punct(a, m, b);
    m = substitute(b, m, a, RULE_PERIOD_AFTER);
    m = substitute(a, m, b, RULE_PERIOD_BEFORE);
    m = substitute(b, m, a, RULE_DASH);
    join_words(a, m, b);
    free(a);
    char *shrunk = realloc(b, strlen(b) + 1);
    *out = shrunk ? shrunk : b;
    return ATTN_OK;
}
