/* text/wordpiece_normalize.c: BERT's BasicTokenizer (Hugging Face: BertNormalizer followed by
 * BertPreTokenizer), with utf8proc for every character property.
 *
 * In order, each step an option (all on for bert-base-uncased):
 *   clean_text     drop U+0000, U+FFFD and control characters (categories C*, except tab, newline
 *                  and carriage return), and turn whitespace (tab, newline, CR, Zs) into ' ';
 *   chinese_chars  put a space on both sides of every CJK ideograph (BERT's code-point blocks);
 *   strip_accents  NFD, then drop nonspacing marks (Mn): "Café" -> "Cafe" (Hangul syllables are
 *                  decomposed into jamo by NFD and stay so, as in BERT);
 *   lowercase      utf8proc_tolower on every code point (the simple mapping), except that a
 *                  capital sigma ending a word becomes the final sigma U+03C2 as Python's,
 *                  JavaScript's and Rust's lower-casing make it (Unicode's Final_Sigma rule);
 *                  U+0130 gives "i" once accents are stripped, as in BERT.
 * Then the text is split on whitespace (the Unicode White_Space characters), and every
 * punctuation character becomes a word of its own: Unicode categories P* plus the ASCII symbols
 * BERT counts as punctuation ($ + < = > ^ ` | ~ and the rest of 0x21-0x2F, 0x3A-0x40, 0x5B-0x60,
 * 0x7B-0x7E). */
#include <stdlib.h>
#include <utf8proc.h>

#include "core/error.h"
#include "text/text_internal.h"

/* BERT's _is_control: the C* categories, except \t \n \r (whitespace there). */
static int is_control(int32_t cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') return 0;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
        return 1;
    default:
        return 0;
    }
}

/* BERT's _is_whitespace, used by clean_text. */
static int is_bert_space(int32_t cp) {
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
           utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

/* Unicode White_Space (what the pre-tokeniser splits on): Z* plus \t..\r and U+0085. */
static int is_split_space(int32_t cp) {
    if ((cp >= '\t' && cp <= '\r') || cp == ' ' || cp == 0x85) return 1;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

/* BERT's _is_punctuation: the ASCII symbol ranges, and Unicode P*. */
static int is_punctuation(int32_t cp) {
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
        (cp >= 123 && cp <= 126))
        return 1;
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

/* BERT's _is_chinese_char: the CJK Unified Ideographs blocks and their extensions and
 * compatibility blocks (not Hiragana, Katakana or Hangul). */
static int is_cjk(int32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/* Appends the UTF-8 of cp to b. */
static attn_status put_cp(text_buf *b, int32_t cp) {
    unsigned char u[4];
    return text_buf_append(b, u, (size_t)text_utf8_encode(cp, u));
}

/* Steps clean_text and chinese_chars of the valid text s[0..n), into b. */
static attn_status clean(const text_bert_norm *opt, const unsigned char *s, size_t n, text_buf *b) {
    for (size_t i = 0; i < n;) {
        int32_t cp;
        i += (size_t)text_utf8_decode(s + i, n - i, &cp);
        if (opt->clean_text) {
            if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
            if (is_bert_space(cp)) cp = ' ';
        }
        if (opt->chinese_chars && is_cjk(cp)) {
            ATTN_TRY(text_buf_append(b, " ", 1));
            ATTN_TRY(put_cp(b, cp));
            ATTN_TRY(text_buf_append(b, " ", 1));
        } else {
            ATTN_TRY(put_cp(b, cp));
        }
    }
    return ATTN_OK;
}

/* Unicode's Cased and Case_Ignorable properties (utf8proc has no table for them): letters with
 * a case (lower, upper, title), and marks, format characters, modifiers and the word-internal
 * punctuation of Word_Break MidLetter / MidNumLet / Single_Quote. */
static int is_cased(int32_t cp) {
    return utf8proc_islower(cp) || utf8proc_isupper(cp) ||
           utf8proc_category(cp) == UTF8PROC_CATEGORY_LT;
}

static int is_case_ignorable(int32_t cp) {
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
        return 1;
    default:
        break;
    }
    static const int32_t mid[] = {0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x5F4,  0x2018, 0x2019,
                                  0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
    for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++)
        if (cp == mid[i]) return 1;
    return 0;
}

/* Unicode's Final_Sigma condition for the capital sigma at s[at..at+2): a cased letter before it
 * and none after it, case-ignorable characters skipped on both sides. Python's lower(),
 * JavaScript's toLowerCase() and Rust's to_lowercase() all give U+03C2 there (U+03C3
 * elsewhere); utf8proc_tolower knows no context. */
static int final_sigma(const char *s, size_t n, size_t at) {
    const unsigned char *u = (const unsigned char *)s;
    int before = 0;
    for (size_t i = at; i > 0;) {
        size_t j = i - 1;
        while (j > 0 && (u[j] & 0xC0) == 0x80)
            j--;
        int32_t cp;
        if (!text_utf8_decode(u + j, i - j, &cp)) break;
        if (!is_case_ignorable(cp)) {
            before = is_cased(cp);
            break;
        }
        i = j;
    }
    if (!before) return 0;
    for (size_t i = at + 2; i < n;) {
        int32_t cp;
        int k = text_utf8_decode(u + i, n - i, &cp);
        if (!k) break;
        if (!is_case_ignorable(cp)) return !is_cased(cp);
        i += (size_t)k;
    }
    return 1;
}

/* Steps strip_accents and lowercase of the valid text s[0..n), into b. */
static attn_status fold(const text_bert_norm *opt, const char *s, size_t n, text_buf *b) {
    utf8proc_uint8_t *nfd = NULL;
    if (n == 0) return ATTN_OK;
    if (opt->strip_accents) {
        utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &nfd,
                                          UTF8PROC_DECOMPOSE | UTF8PROC_STABLE);
        if (m < 0) {
            return attn_error(m == UTF8PROC_ERROR_NOMEM ? ATTN_ERR_NOMEM : ATTN_ERR_INVALID,
                              "WordPiece: stripping accents: %s", utf8proc_errmsg(m));
        }
        s = (const char *)nfd;
        n = (size_t)m;
    }
    attn_status st = ATTN_OK;
    for (size_t i = 0; i < n && st == ATTN_OK;) {
        int32_t cp;
        int k = text_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k) { /* utf8proc only writes valid UTF-8; be safe anyway */
            st = attn_error(ATTN_ERR_INVALID, "WordPiece: invalid normalised text");
            break;
        }
        i += (size_t)k;
        if (opt->strip_accents && utf8proc_category(cp) == UTF8PROC_CATEGORY_MN) continue;
        if (opt->lowercase && cp == 0x3A3 && final_sigma(s, n, i - 2))
            cp = 0x3C2;
        else if (opt->lowercase)
            cp = utf8proc_tolower(cp);
        st = put_cp(b, cp);
    }
    free(nfd);
    return st;
}

/* Calls fn on each word of the normalised text s[0..n). */
static attn_status split(const char *s, size_t n, text_piece_fn fn, void *user) {
    size_t word = 0; /* start of the current word */
    for (size_t i = 0; i < n;) {
        int32_t cp;
        int k = text_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k) return attn_error(ATTN_ERR_INVALID, "WordPiece: invalid normalised text");
        int space = is_split_space(cp), punct = !space && is_punctuation(cp);
        if (space || punct) {
            if (i > word) ATTN_TRY(fn(s + word, i - word, 0, user));
            if (punct) ATTN_TRY(fn(s + i, (size_t)k, 0, user));
            word = i + (size_t)k;
        }
        i += (size_t)k;
    }
    if (n > word) ATTN_TRY(fn(s + word, n - word, 0, user));
    return ATTN_OK;
}

attn_status text_bert_split(const text_bert_norm *opt, const char *text, size_t len,
                            text_piece_fn fn, void *user) {
    size_t valid = text_utf8_valid_prefix((const unsigned char *)text, len);
    if (valid < len) {
        return attn_error(ATTN_ERR_INVALID,
                          "WordPiece: the text is not valid UTF-8 (byte 0x%02x at offset %zu)",
                          (unsigned char)text[valid], valid);
    }
    text_buf cleaned = {0}, folded = {0};
    attn_status s = clean(opt, (const unsigned char *)text, len, &cleaned);
    if (s == ATTN_OK && (opt->strip_accents || opt->lowercase)) {
        s = fold(opt, cleaned.data, cleaned.len, &folded);
        free(cleaned.data);
        cleaned = folded;
    }
    if (s == ATTN_OK) s = split(cleaned.data, cleaned.len, fn, user);
    free(cleaned.data);
    return s;
}
