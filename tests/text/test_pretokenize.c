/* tests/text/test_pretokenize.c: GPT-2 pre-tokenisation (src/text/pretokenize.c): splits of tricky
 * strings checked against Python's `regex` module (an engine independent of PCRE2), invalid
 * UTF-8, very long runs, and the byte <-> character mapping (src/text/bytes_unicode.c). */
#define _POSIX_C_SOURCE 200809L /* strndup */
#include "text_testutil.h"

#include "core/rng.h"
#include "text/text_internal.h"

typedef struct {
    const char *pieces[64];
    int is_byte[64];
    int n;
    text_buf joined;
} collected;

static attn_status collect(const char *piece, size_t len, int is_byte, void *user) {
    collected *c = user;
    if (c->n < 64) {
        c->pieces[c->n] = strndup(piece, len);
        c->is_byte[c->n] = is_byte;
    }
    c->n++;
    assert_true(len > 0);
    return text_buf_append(&c->joined, piece, len);
}

static void collected_free(collected *c) {
    for (int i = 0; i < c->n && i < 64; i++)
        free((void *)c->pieces[i]);
    free(c->joined.data);
    memset(c, 0, sizeof *c);
}

/* Expected pieces from Python: regex.findall(GPT2_PATTERN, text) (tests/text/make_reference.py
 * has the pattern). */
static const struct {
    const char *text;
    const char *pieces[40];
} cases[] = {
    {"I'm here, you're there; it's 'quoted' and they'll've DON'T",
     {"I",      "'m", " here", ",",     " you", "'re", " there", ";", " it", "'s", " '",
      "quoted", "'",  " and",  " they", "'ll",  "'ve", " DON",   "'", "T",   NULL}},
    {"abc123def 4567 8.9", {"abc", "123", "def", " 4567", " 8", ".", "9", NULL}},
    {"a  b   c\t\td\n\ne  ",
     {"a", " ", " b", "  ", " c", "\t", "\t", "d", "\n", "\n", "e", "  ", NULL}},
    {"   ", {"   ", NULL}},
    {" x", {" x", NULL}},
    {"hello\xc2\xa0world\xe3\x80\x80"
     "end",
     {"hello", "\xc2\xa0", "world", "\xe3\x80\x80", "end", NULL}},
    {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80 hi\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd!",
     {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80", " hi", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd!", NULL}},
    {"\xe6\x9d\xb1\xe4\xba\xac\xe3\x82\xbf\xe3\x83\xaf\xe3\x83\xbc "
     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xa7\xe3\x81\x99",
     {"\xe6\x9d\xb1\xe4\xba\xac\xe3\x82\xbf\xe3\x83\xaf\xe3\x83\xbc",
      " \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xa7\xe3\x81\x99", NULL}},
    {"e\xcc\x81te\xcc\x81 caf\xc3\xa9", {"e", "\xcc\x81", "te", "\xcc\x81", " caf\xc3\xa9", NULL}},
    {"x\xc2\xb2\xc2\xb3 \xc2\xbd \xd9\xa3\xd9\xa4 \xe2\x85\xab",
     {"x", "\xc2\xb2\xc2\xb3", " \xc2\xbd", " \xd9\xa3\xd9\xa4", " \xe2\x85\xab", NULL}},
    {"...!!?? ---", {"...!!??", " ---", NULL}},
    {"\r\n\r\n", {"\r\n\r\n", NULL}},
    {"tab\tend\n", {"tab", "\t", "end", "\n", NULL}},
    {"a'b''c'", {"a", "'", "b", "''", "c", "'", NULL}},
    {"\xce\x95\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac "
     "\xd1\x80\xd1\x83\xd1\x81\xd1\x81\xd0\xba\xd0\xb8\xd0\xb9 "
     "\xd7\xa2\xd7\x91\xd7\xa8\xd7\x99\xd7\xaa",
     {"\xce\x95\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac",
      " \xd1\x80\xd1\x83\xd1\x81\xd1\x81\xd0\xba\xd0\xb8\xd0\xb9",
      " \xd7\xa2\xd7\x91\xd7\xa8\xd7\x99\xd7\xaa", NULL}},
};

static text_regex *re;

static int setup(void **state) {
    (void)state;
    return text_regex_create(&re) == ATTN_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    text_regex_free(re);
    return 0;
}

static void split(const char *text, size_t len, collected *c) {
    memset(c, 0, sizeof *c);
    attn_status s = text_pretokenize(re, text, len, collect, c);
    if (s != ATTN_OK) fail_msg("pretokenize: %s", attn_last_error());
    assert_int_equal(c->joined.len, len); /* the pieces tile the text */
    assert_memory_equal(c->joined.data ? c->joined.data : "", text, len);
}

static void test_matches_python_regex(void **state) {
    (void)state;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        collected c;
        split(cases[k].text, strlen(cases[k].text), &c);
        int want = 0;
        while (cases[k].pieces[want])
            want++;
        if (c.n != want)
            fail_msg("case %zu \"%s\": %d pieces, want %d", k, cases[k].text, c.n, want);
        for (int i = 0; i < want; i++) {
            if (strcmp(c.pieces[i], cases[k].pieces[i]) != 0)
                fail_msg("case %zu \"%s\": piece %d is \"%s\", want \"%s\"", k, cases[k].text, i,
                         c.pieces[i], cases[k].pieces[i]);
            assert_false(c.is_byte[i]);
        }
        collected_free(&c);
    }
}

/* Invalid bytes are single pieces; the valid runs around them are split on their own. */
static void test_invalid_utf8(void **state) {
    (void)state;
    /* "ab" 0xff " cd" 0xe2 0x82 (truncated euro sign) "x" 0xc0 0xaf (overlong '/')
     * 0xed 0xa0 0x80 (a surrogate) "!" */
    const char text[] = "ab\xff cd\xe2\x82x\xc0\xaf\xed\xa0\x80!";
    const char *want[] = {"ab",   "\xff", " cd",  "\xe2", "\x82", "x",
                          "\xc0", "\xaf", "\xed", "\xa0", "\x80", "!"};
    int want_byte[] = {0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0};
    collected c;
    split(text, sizeof text - 1, &c);
    assert_int_equal(c.n, 12);
    for (int i = 0; i < 12; i++) {
        assert_string_equal(c.pieces[i], want[i]);
        assert_int_equal(c.is_byte[i], want_byte[i]);
    }
    collected_free(&c);
    /* NUL bytes are valid UTF-8 (a control character: a symbol) */
    split("a\0\0b", 4, &c);
    assert_int_equal(c.n, 3);
    collected_free(&c);
}

/* The pieces always tile the input, whatever the bytes. */
static void test_random_bytes_tile(void **state) {
    (void)state;
    attn_rng rng;
    attn_rng_init(&rng, 7, 0);
    char buf[200];
    for (int k = 0; k < 2000; k++) {
        size_t len = attn_rng_u64(&rng) % sizeof buf;
        for (size_t i = 0; i < len; i++) {
            uint64_t r = attn_rng_u64(&rng);
            /* mostly ASCII letters, spaces and apostrophes, some high bytes */
            static const char common[] = "ab 's\t\n1.'";
            buf[i] = (r & 3) ? common[(r >> 8) % (sizeof common - 1)] : (char)(r >> 16);
        }
        collected c;
        split(buf, len, &c);
        collected_free(&c);
    }
}

/* Runs of a million characters of one class (JIT stack, backtracking of \s+(?!\S)). */
static void test_long_runs(void **state) {
    (void)state;
    size_t n = tu_sanitized() ? 100000 : 1000000;
    char *text = malloc(n + 2);
    assert_non_null(text);
    const char fills[] = {' ', 'a', '7', '.', '\n'};
    for (size_t f = 0; f < sizeof fills; f++) {
        memset(text, fills[f], n);
        text[n] = 'z'; /* a letter after the run */
        collected c;
        split(text, n + 1, &c);
        assert_true(c.n >= 1 && c.n <= 3);
        collected_free(&c);
    }
    free(text);
}

static void test_bytes_to_unicode(void **state) {
    (void)state;
    /* GPT-2: '!' stays, space is U+0120 'Ġ', newline U+010A 'Ċ', 0xAD is U+0143, 0x7F is U+0121 */
    assert_int_equal(text_byte_to_char('!'), '!');
    assert_int_equal(text_byte_to_char(' '), 0x120);
    assert_int_equal(text_byte_to_char('\n'), 0x10a);
    assert_int_equal(text_byte_to_char(0x00), 0x100);
    assert_int_equal(text_byte_to_char(0x7f), 0x121);
    assert_int_equal(text_byte_to_char(0xa0), 0x142);
    assert_int_equal(text_byte_to_char(0xad), 0x143);
    assert_int_equal(text_byte_to_char(0xe9), 0xe9);
    int seen[0x200] = {0};
    for (int b = 0; b < 256; b++) {
        int32_t cp = text_byte_to_char((unsigned char)b);
        assert_true(cp > 0x20 && cp < 0x144);
        assert_int_equal(seen[cp]++, 0); /* a bijection */
        assert_int_equal(text_char_to_byte(cp), b);
        char s[2];
        int len = text_byte_to_utf8((unsigned char)b, s);
        int32_t back;
        assert_int_equal(text_utf8_decode((const unsigned char *)s, (size_t)len, &back), len);
        assert_int_equal(back, cp);
    }
    assert_int_equal(text_char_to_byte(' '), -1);
    assert_int_equal(text_char_to_byte(0x144), -1);
    assert_int_equal(text_char_to_byte(0x20ac), -1);
}

static void test_utf8_decoder(void **state) {
    (void)state;
    int32_t cp;
    assert_int_equal(text_utf8_decode((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, &cp), 4);
    assert_int_equal(cp, 0x10ffff);
    assert_int_equal(text_utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 0);
    assert_int_equal(text_utf8_decode((const unsigned char *)"\xe0\x80\xaf", 3, &cp), 0);
    assert_int_equal(text_utf8_decode((const unsigned char *)"\xed\x9f\xbf", 3, &cp), 3);
    assert_int_equal(text_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0);
    assert_int_equal(text_utf8_decode((const unsigned char *)"\xc3", 1, &cp), 0);
    assert_int_equal(text_utf8_valid_prefix((const unsigned char *)"ab\xc3\xa9\xff", 5), 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_python_regex), cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_random_bytes_tile),    cmocka_unit_test(test_long_runs),
        cmocka_unit_test(test_bytes_to_unicode),     cmocka_unit_test(test_utf8_decoder),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
