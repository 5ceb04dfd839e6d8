/* tests/data/test_labels.c: label sets and their JSON form (src/data/labels.c). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "attn/data.h"

/* From a tsv: distinct labels sorted by bytes, whatever the row order; lookups both ways. */
static void test_from_tsv(void **state) {
    const char *in = "zeta\t1\nalpha\t2\nmid\t3\nalpha\t4\nzeta\t5\nZ\t6\n";
    attn_tsv t;
    assert_int_equal(attn_tsv_parse(in, strlen(in), "l.tsv", &t), ATTN_OK);
    attn_labels *l;
    assert_int_equal(attn_labels_from_tsv(&t, &l), ATTN_OK);
    assert_int_equal(attn_labels_count(l), 4);
    const char *want[] = {"Z", "alpha", "mid", "zeta"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(attn_labels_name(l, i), want[i]);
        assert_string_equal(attn_labels_names(l)[i], want[i]);
        assert_int_equal(attn_labels_find(l, want[i]), i);
    }
    assert_null(attn_labels_name(l, 4));
    assert_null(attn_labels_name(l, -1));
    assert_int_equal(attn_labels_find(l, "beta"), -1);
    assert_int_equal(attn_labels_find(l, ""), -1);
    assert_int_equal(attn_labels_find(l, "zzz"), -1);
    attn_labels_free(l);
    attn_tsv_free(&t);
}

/* create keeps the given order; find still works (through the sorted index). */
static void test_create_order(void **state) {
    const char *names[] = {"neg", "pos", "neutral", "a"};
    attn_labels *l;
    assert_int_equal(attn_labels_create(names, 4, &l), ATTN_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(attn_labels_find(l, names[i]), i);
    attn_labels_free(l);
    const char *dup[] = {"x", "y", "x"};
    assert_int_equal(attn_labels_create(dup, 3, &l), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "'x'"));
    assert_null(l);
    const char *empty[] = {"x", ""};
    assert_int_equal(attn_labels_create(empty, 2, &l), ATTN_ERR_INVALID);
    assert_int_equal(attn_labels_create(names, 0, &l), ATTN_ERR_INVALID);
    attn_tsv none = {0};
    assert_int_equal(attn_labels_from_tsv(&none, &l), ATTN_ERR_INVALID);
}

/* JSON round trip, escaping included; malformed lists are ATTN_ERR_FORMAT. */
static void test_json(void **state) {
    const char *names[] = {"b", "a \"quoted\"", "caf\xc3\xa9", "tab\there"};
    attn_labels *l, *back;
    assert_int_equal(attn_labels_create(names, 4, &l), ATTN_OK);
    char *json;
    assert_int_equal(attn_labels_to_json(l, &json), ATTN_OK);
    assert_int_equal(json[0], '[');
    assert_int_equal(attn_labels_from_json(json, &back), ATTN_OK);
    assert_int_equal(attn_labels_count(back), 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(attn_labels_name(back, i), names[i]);
    free(json);
    attn_labels_free(back);
    attn_labels_free(l);
    const char *bad[] = {"", "[]", "{}", "[1]", "[\"a\", 2]", "[\"a\", \"a\"]", "[\"\"]", "[\"a\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        back = (attn_labels *)1;
        if (attn_labels_from_json(bad[i], &back) != ATTN_ERR_FORMAT)
            fail_msg("accepted %s", bad[i]);
        assert_null(back);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_tsv),
        cmocka_unit_test(test_create_order),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
