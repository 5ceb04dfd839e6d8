/* tests/viz/test_text.c: UTF-8 repair of labels (viz/text.h) and the growable buffer. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "viz/text.h"

#define FFFD VIZ_REPLACEMENT

static void expect(const char *in, viz_text_mode mode, int max_chars, const char *want) {
    char *got = viz_text_sanitize(in, mode, max_chars);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* Every character of s decodes, and in display mode none is a control character; returns the
 * number of characters. */
static int assert_valid(const char *s, viz_text_mode mode) {
    int chars = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t n = (utf8proc_ssize_t)strlen(s);
    while (n > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, n, &cp);
        if (k <= 0)
            fail_msg("invalid UTF-8 at byte %ld of the output",
                     (long)(p - (const utf8proc_uint8_t *)s));
        if (mode == VIZ_TEXT_DISPLAY) assert_false(cp < 0x20 || (cp >= 0x7f && cp < 0xa0));
        p += k, n -= k, chars++;
    }
    return chars;
}

static void test_valid_text_is_kept(void **state) {
    (void)state;
    expect("token", VIZ_TEXT_DISPLAY, 0, "token");
    expect("h\xC3\xA9llo \xE2\x90\xA3 \xF0\x9F\x98\x80", VIZ_TEXT_DISPLAY, 0,
           "h\xC3\xA9llo \xE2\x90\xA3 \xF0\x9F\x98\x80");
    expect("", VIZ_TEXT_DISPLAY, 5, "");
    expect(NULL, VIZ_TEXT_JSON, 0, "");
}

static void test_invalid_bytes_become_fffd(void **state) {
    (void)state;
    expect("\xFF", VIZ_TEXT_JSON, 0, FFFD);
    expect("a\xC3", VIZ_TEXT_JSON, 0, "a" FFFD);                       /* truncated sequence */
    expect("\x80x", VIZ_TEXT_JSON, 0, FFFD "x");                       /* stray continuation */
    expect("\xC0\xAF", VIZ_TEXT_JSON, 0, FFFD FFFD);                   /* overlong '/' */
    expect("\xED\xA0\x80", VIZ_TEXT_JSON, 0, FFFD FFFD FFFD);          /* a UTF-16 surrogate */
    expect("\xF4\x90\x80\x80", VIZ_TEXT_JSON, 0, FFFD FFFD FFFD FFFD); /* past U+10FFFF */
    expect("\xE2\x82", VIZ_TEXT_DISPLAY, 0, FFFD FFFD);
}

static void test_controls(void **state) {
    (void)state;
    expect("a\nb\tc\rd\x01"
           "e\x7F",
           VIZ_TEXT_DISPLAY, 0, "a\\nb\\tc\\rd" FFFD "e" FFFD);
    expect("\xC2\x85", VIZ_TEXT_DISPLAY, 0, FFFD); /* C1 control NEL */
    expect("a\nb\x01", VIZ_TEXT_JSON, 0, "a\nb\x01");
}

static void test_truncation(void **state) {
    (void)state;
    expect("abcdef", VIZ_TEXT_DISPLAY, 4, "abc" VIZ_ELLIPSIS);
    expect("abcdef", VIZ_TEXT_DISPLAY, 6, "abcdef");
    expect("abcdefg", VIZ_TEXT_DISPLAY, 6, "abcde" VIZ_ELLIPSIS);
    expect("h\xC3\xA9llo w\xC3\xB6rld", VIZ_TEXT_DISPLAY, 5, "h\xC3\xA9ll" VIZ_ELLIPSIS);
    expect("\xFF\xFF\xFF\xFF", VIZ_TEXT_DISPLAY, 3, FFFD FFFD VIZ_ELLIPSIS);
    expect("\n\n\n\n", VIZ_TEXT_DISPLAY, 5, "\\n\\n" VIZ_ELLIPSIS); /* escapes count two */
    expect("a\n", VIZ_TEXT_DISPLAY, 3, "a\\n");
    expect("ab\n", VIZ_TEXT_DISPLAY, 3, "ab" VIZ_ELLIPSIS);
    expect("ab", VIZ_TEXT_DISPLAY, 1, VIZ_ELLIPSIS);
    expect("a", VIZ_TEXT_DISPLAY, 1, "a");
}

/* Random bytes, biased towards the interesting ones, always come out valid. */
static void test_random_bytes(void **state) {
    (void)state;
    attn_rng rng;
    attn_rng_init(&rng, 42, 0);
    static const unsigned char pool[] = {'a',  ' ',  '\n', 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xC3,
                                         0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0};
    char in[40];
    for (int trial = 0; trial < 3000; trial++) {
        int n = (int)attn_rng_below(&rng, 39);
        for (int i = 0; i < n; i++) {
            int r = (int)attn_rng_below(&rng, sizeof pool + 4);
            in[i] = r < (int)sizeof pool ? (char)pool[r] : (char)(1 + attn_rng_below(&rng, 255));
        }
        in[n] = '\0';
        for (int mode = 0; mode < 2; mode++) {
            int max_chars = trial % 3 == 0 ? 0 : 1 + trial % 17;
            char *out = viz_text_sanitize(in, (viz_text_mode)mode, max_chars);
            assert_non_null(out);
            int chars = assert_valid(out, (viz_text_mode)mode);
            if (max_chars) assert_true(chars <= max_chars);
            free(out);
        }
    }
}

static void test_buf(void **state) {
    (void)state;
    viz_buf b = {0};
    assert_int_equal(viz_buf_append(&b, "ab", 2), 0);
    assert_int_equal(viz_buf_printf(&b, "%d-%s", 12, "x"), 0);
    char big[300];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(viz_buf_printf(&b, "[%s]", big), 0); /* longer than printf's small buffer */
    assert_int_equal(b.len, 2 + 4 + 301);
    assert_int_equal(strncmp(b.data, "ab12-x[zzz", 10), 0);
    assert_int_equal(b.data[b.len - 1], ']');
    viz_buf_free(&b);
    assert_null(b.data);

    assert_int_equal(viz_buf_json_string(&b, "q\"b\\n\n\x01\xFF"), 0);
    assert_string_equal(b.data, "\"q\\\"b\\\\n\\u000a\\u0001\\ufffd\"");
    viz_buf_free(&b);
    assert_int_equal(viz_buf_json_string(&b, NULL), 0);
    assert_string_equal(b.data, "\"\"");
    viz_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_text_is_kept), cmocka_unit_test(test_invalid_bytes_become_fffd),
        cmocka_unit_test(test_controls),           cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_random_bytes),       cmocka_unit_test(test_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
