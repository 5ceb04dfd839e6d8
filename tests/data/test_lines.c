/* tests/data/test_lines.c: splitting a text into lines (src/data/lines.c). */
#include "testutil.h"

#include <string.h>

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
