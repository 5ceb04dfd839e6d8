/* tests/data/test_lines.c: splitting a text into lines (src/data/lines.c). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/data.h"

static void expect_lines(const char *text, long n, const char *const *want) {
    attn_lines l;
    assert_int_equal(attn_lines_parse(text, strlen(text), "t.txt", &l), ATTN_OK);
    assert_int_equal(l.n, n);
    for (long i = 0; i < n; i++)
        assert_string_equal(l.lines[i], want[i]);
    assert_string_equal(l.name, "t.txt");
    attn_lines_free(&l);
    assert_null(l.lines);
}

static void test_split(void **state) {
    (void)state;
    expect_lines("", 0, NULL);
    expect_lines("\n", 1, (const char *[]){""});
    expect_lines("a", 1, (const char *[]){"a"});
    expect_lines("a\nb\n", 2, (const char *[]){"a", "b"});
    expect_lines("a\r\n\n  \nb", 4, (const char *[]){"a", "", "  ", "b"});
    expect_lines("caf\xc3\xa9\r\r\n", 1, (const char *[]){"caf\xc3\xa9\r"}); /* one \r dropped */
}

static void test_errors(void **state) {
    (void)state;
    attn_lines l;
    assert_int_equal(attn_lines_parse("ok\nb\xc3(\n", 7, "t.txt", &l), ATTN_ERR_FORMAT);
    assert_string_equal(attn_last_error(), "t.txt:2: invalid UTF-8 at byte 2 of the line");
    assert_null(l.lines);
    assert_int_equal(attn_lines_parse("a\0b", 3, "t.txt", &l), ATTN_ERR_FORMAT);
    assert_string_equal(attn_last_error(), "t.txt:1: a NUL byte (column 2)");
    assert_int_equal(attn_lines_read("/nonexistent/x.txt", &l), ATTN_ERR_IO);
    assert_non_null(strstr(attn_last_error(), "/nonexistent/x.txt"));
    assert_int_equal(attn_lines_parse(NULL, 1, "t", &l), ATTN_ERR_INVALID);
    attn_lines_free(NULL);
}

/* attn_lines_write then attn_lines_read gives the lines back; a folder cannot be written. */
static void test_write_round_trip(void **state) {
    (void)state;
    char dir[] = "/tmp/attn_test_lines_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.txt", dir);
    char *lines[] = {"one", "", "caf\xc3\xa9 two"};
    assert_int_equal(attn_lines_write(path, lines, 3), ATTN_OK);
    attn_lines l;
    assert_int_equal(attn_lines_read(path, &l), ATTN_OK);
    assert_int_equal(l.n, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(l.lines[i], lines[i]);
    attn_lines_free(&l);
    assert_int_equal(attn_lines_write(dir, lines, 3), ATTN_ERR_IO);
    assert_non_null(strstr(attn_last_error(), dir));
    assert_int_equal(attn_lines_write(path, NULL, 2), ATTN_ERR_INVALID);
    unlink(path);
    rmdir(dir);
}

/* What attn_json_write writes for s. */
static char *json_of(const char *s) {
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    assert_int_equal(attn_json_write(f, s), ATTN_OK);
    fclose(f);
    return buf;
}

/* RFC 8259: quotes, backslashes and control characters escaped, valid UTF-8 kept, every byte that
 * starts no valid sequence (stray continuation, overlong, surrogate, past U+10FFFF) U+FFFD. */
static void test_json_write(void **state) {
    (void)state;
    static const char *const cases[][2] = {
        {"plain", "\"plain\""},
        {"a\"b\\c", "\"a\\\"b\\\\c\""},
        {"tab\tnl\n\x01\x1f", "\"tab\\u0009nl\\u000a\\u0001\\u001f\""},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
         "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
        {"\xff\x80x", "\"\\ufffd\\ufffdx\""},
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},                       /* overlong "/" */
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},            /* a surrogate */
        {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* past U+10FFFF */
        {"\xe2\x82", "\"\\ufffd\\ufffd\""},                       /* cut short */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = json_of(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
    char *empty = json_of(NULL);
    assert_string_equal(empty, "\"\"");
    free(empty);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_write_round_trip),
        cmocka_unit_test(test_json_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
