/* tests/data/test_tsv.c: reading "label<TAB>text" files (src/data/tsv.c). */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/data.h"

static attn_status parse(const char *text, attn_tsv *t) {
    return attn_tsv_parse(text, strlen(text), "x.tsv", t);
}

/* Labels and texts byte for byte, line numbers counting the skipped blank lines, CRLF, a last
 * line without "\n", tabs inside the text. */
static void test_rows(void **state) {
    attn_tsv t;
    const char *in = "a\tfirst text\n\n  \t \r\nb\tsecond\ttabbed \r\n\nc c\t third";
    assert_int_equal(parse(in, &t), ATTN_OK);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.labels[0], "a");
    assert_string_equal(t.texts[0], "first text");
    assert_int_equal(t.lines[0], 1);
    assert_string_equal(t.labels[1], "b");
    assert_string_equal(t.texts[1], "second\ttabbed ");
    assert_int_equal(t.lines[1], 4);
    assert_string_equal(t.labels[2], "c c");
    assert_string_equal(t.texts[2], " third");
    assert_int_equal(t.lines[2], 6);
    assert_string_equal(t.name, "x.tsv");
    attn_tsv_free(&t);
    attn_tsv_free(&t); /* zeroed: harmless */
}

/* Empty input and blank-only input give zero examples, not an error. */
static void test_empty(void **state) {
    attn_tsv t;
    assert_int_equal(attn_tsv_parse("", 0, "e.tsv", &t), ATTN_OK);
    assert_int_equal(t.n, 0);
    attn_tsv_free(&t);
    assert_int_equal(parse("\n\n \n", &t), ATTN_OK);
    assert_int_equal(t.n, 0);
    attn_tsv_free(&t);
}

/* expect_format(TEXT, "x.tsv:LINE: WHY"): the parse fails and the message starts like that. */
static void expect_format(const char *text, const char *start) {
    attn_tsv t;
    assert_int_equal(parse(text, &t), ATTN_ERR_FORMAT);
    const char *msg = attn_last_error();
    if (strncmp(msg, start, strlen(start)) != 0) fail_msg("message '%s' lacks '%s'", msg, start);
    assert_int_equal(t.n, 0);
    assert_null(t.labels);
}

static void test_malformed(void **state) {
    expect_format("a\tok\nno tab here\n", "x.tsv:2: no tab");
    expect_format("a\tok\n\n\tno label\n", "x.tsv:3: empty label");
    expect_format("  \tno label\n", "x.tsv:1: empty label");
    expect_format("a\tok\nb\t\n", "x.tsv:2: empty text");
    expect_format("a\t   \n", "x.tsv:1: empty text");
    static const char nul[] = "a\tx\0y\n";
    attn_tsv t;
    assert_int_equal(attn_tsv_parse(nul, sizeof nul - 1, "x.tsv", &t), ATTN_ERR_FORMAT);
    assert_non_null(strstr(attn_last_error(), "x.tsv:1: "));
}

/* A file on disk; a missing file names the path. */
static void test_read(void **state) {
    char path[] = "/tmp/attn_test_tsv_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("pos\tgood\nneg\tbad\n", f);
    fclose(f);
    attn_tsv t;
    assert_int_equal(attn_tsv_read(path, &t), ATTN_OK);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.texts[1], "bad");
    assert_string_equal(t.name, path);
    attn_tsv_free(&t);
    remove(path);
    assert_int_equal(attn_tsv_read(path, &t), ATTN_ERR_IO);
    assert_non_null(strstr(attn_last_error(), path));
    assert_int_equal(attn_tsv_read(path, NULL), ATTN_ERR_INVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
