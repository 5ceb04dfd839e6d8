/* tests/text/test_bpe.c: byte-level BPE training and encoding on toy corpora whose merges are
 * worked out by hand (src/text/bpe_train.c, src/text/bpe.c), special tokens, lower-casing and
 * argument checks. Ids: [PAD] [UNK] [CLS] [SEP] [MASK] = 0..4, byte b = 5 + b, merges from 261. */
#include "text_testutil.h"

#include "text/text_internal.h"

#define B(c) (5 + (unsigned char)(c)) /* id of a byte token */

static attn_tokenizer *train(const char *text, int vocab_size, int min_frequency, int lowercase) {
    attn_bpe_train_params p = {vocab_size, min_frequency, lowercase};
    attn_tokenizer *t = NULL;
    attn_status s = attn_tokenizer_train_bpe(&text, NULL, 1, p, &t);
    if (s != ATTN_OK) fail_msg("train: %s", attn_last_error());
    return t;
}

/* "ab ab ab abc": words "ab" x1, " ab" x2, " abc" x1. Pairs: (a b) 4, (Ġ a) 3, (b c) 1.
 * Merge 1: a b -> "ab" (261). Then (Ġ ab) 3, (ab c) 1. Merge 2: Ġ ab -> "Ġab" (262).
 * Then only (Ġab c) 1 is left: below min_frequency 2, training stops at 263 tokens. */
static void test_toy_merges(void **state) {
    (void)state;
    attn_tokenizer *t = train("ab ab ab abc", 1000, 2, 0);
    assert_int_equal(attn_tokenizer_vocab_size(t), 263);
    assert_int_equal(t->n_merges, 2);
    assert_int_equal(t->merges[0][0], B('a'));
    assert_int_equal(t->merges[0][1], B('b'));
    assert_int_equal(t->merges[1][0], B(' '));
    assert_int_equal(t->merges[1][1], 261);
    assert_string_equal(attn_tokenizer_token(t, 261), "ab");
    assert_string_equal(attn_tokenizer_token(t, 262), "\xc4\xa0"
                                                      "ab"); /* "Ġab" */
    assert_null(attn_tokenizer_token(t, 263));
    assert_null(attn_tokenizer_token(t, -1));

    tt_assert_encodes_to(t, " abc ab", (int[]){262, B('c'), 262}, 3);
    tt_assert_encodes_to(t, "abab", (int[]){261, 261}, 2);
    tt_assert_encodes_to(t, "ba", (int[]){B('b'), B('a')}, 2);
    tt_assert_encodes_to(t, "", NULL, 0);
    /* min_frequency 1: the last pair is learned too */
    attn_tokenizer *t1 = train("ab ab ab abc", 1000, 1, 0);
    assert_int_equal(attn_tokenizer_vocab_size(t1), 264);
    assert_string_equal(attn_tokenizer_token(t1, 263), "\xc4\xa0"
                                                       "abc");
    tt_assert_encodes_to(t1, " abc ab", (int[]){263, 262}, 2);
    attn_tokenizer_free(t1);
    attn_tokenizer_free(t);
}

/* Equal counts go to the smallest (left id, right id): "xy yx" has (x y), (Ġ y), (y x), each
 * once. Ġ = 37 < x = 125 < y = 126, so: (Ġ y) first, then (x y) = (125 126) before
 * (Ġy x) = (261 125), then (Ġy x). */
static void test_tie_breaking(void **state) {
    (void)state;
    attn_tokenizer *t = train("xy yx", 1000, 1, 0);
    assert_int_equal(t->n_merges, 3);
    assert_string_equal(attn_tokenizer_token(t, 261), "\xc4\xa0y");
    assert_string_equal(attn_tokenizer_token(t, 262), "xy");
    assert_string_equal(attn_tokenizer_token(t, 263), "\xc4\xa0yx");
    attn_tokenizer_free(t);
}

/* Overlapping pairs: "aaaa" counts (a a) 3 times but merges left to right: aa aa. */
static void test_overlapping_pairs(void **state) {
    (void)state;
    attn_tokenizer *t = train("aaaa aaaa", 1000, 1, 0);
    /* words: "aaaa" 1, " aaaa" 1; (a a) 6 -> "aa"; then (aa aa) 2, (Ġ aa) 1 -> "aaaa";
     * then (Ġ aaaa) 1 -> "Ġaaaa" */
    assert_string_equal(attn_tokenizer_token(t, 261), "aa");
    assert_string_equal(attn_tokenizer_token(t, 262), "aaaa");
    assert_string_equal(attn_tokenizer_token(t, 263), "\xc4\xa0"
                                                      "aaaa");
    tt_assert_encodes_to(t, "aaa", (int[]){261, B('a')}, 2);
    tt_assert_encodes_to(t, "aaaaa", (int[]){262, B('a')}, 2);
    attn_tokenizer_free(t);
}

/* The vocabulary never exceeds vocab_size, and 261 means no merge at all. */
static void test_vocab_size_limit(void **state) {
    (void)state;
    const char *text = "the theme of the thesis: then there, thereby, thence";
    for (int v = 261; v < 270; v++) {
        attn_tokenizer *t = train(text, v, 1, 0);
        assert_int_equal(attn_tokenizer_vocab_size(t), v);
        assert_int_equal(t->n_merges, v - 261);
        attn_tokenizer_free(t);
    }
}

static void test_special_tokens(void **state) {
    (void)state;
    attn_tokenizer *t = train("[CLS] hello [SEP] hello", 300, 1, 0);
    const char *names[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < ATTN_SPECIAL_COUNT; i++) {
        assert_int_equal(attn_tokenizer_special(t, (attn_special)i), i);
        assert_string_equal(attn_tokenizer_token(t, i), names[i]);
    }
    assert_int_equal(attn_tokenizer_special(t, ATTN_SPECIAL_COUNT), -1);
    assert_int_equal(attn_tokenizer_get_kind(t), ATTN_TOKENIZER_BPE);
    assert_string_equal(attn_tokenizer_token(t, B(' ')), "\xc4\xa0");
    assert_string_equal(attn_tokenizer_token(t, B('\n')), "\xc4\x8a");
    /* "[CLS]" in the text is text: never the special id */
    int n;
    int *ids = tt_encode(t, "[CLS]", 5, &n);
    for (int i = 0; i < n; i++)
        assert_true(ids[i] >= ATTN_SPECIAL_COUNT);
    tt_assert_decodes_to(t, ids, n, "[CLS]", 5);
    free(ids);
    /* decoding skips special tokens */
    int with_special[] = {2, B('h'), B('i'), 3, 0, 0};
    tt_assert_decodes_to(t, with_special, 6, "hi", 2);
    attn_tokenizer_free(t);
}

/* Lower-casing: NFC + lower-case before pre-tokenisation; decode gives the lowered text. */
static void test_lowercase(void **state) {
    (void)state;
    attn_tokenizer *t = train("Hello HELLO hello Caf\xc3\xa9", 300, 1, 1);
    int n1, n2;
    int *a = tt_encode(t, "HeLLo CAFE\xcc\x81", strlen("HeLLo CAFE\xcc\x81"), &n1);
    int *b = tt_encode(t, "hello caf\xc3\xa9", strlen("hello caf\xc3\xa9"), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, (size_t)n1 * sizeof *a);
    tt_assert_decodes_to(t, a, n1, "hello caf\xc3\xa9", strlen("hello caf\xc3\xa9"));
    /* invalid bytes pass through the normaliser untouched */
    free(a);
    a = tt_encode(t,
                  "A\xff"
                  "B",
                  3, &n1);
    tt_assert_decodes_to(t, a, n1,
                         "a\xff"
                         "b",
                         3);
    free(a);
    free(b);
    attn_tokenizer_free(t);
}

/* Invalid UTF-8 bytes are their byte tokens; the valid text around them is encoded as usual. */
static void test_invalid_utf8_bytes(void **state) {
    (void)state;
    attn_tokenizer *t = train("ab ab ab abc", 1000, 2, 0);
    const char text[] = "ab\xff\xc3 ab";
    tt_assert_encodes_to(t, text, (int[]){261, B(0xff), B(0xc3), 262}, 4);
    tt_assert_decodes_to(t, (int[]){261, B(0xff), B(0xc3), 262}, 4, text, strlen(text));
    attn_tokenizer_free(t);
}

/* Several texts are counted together; lengths may be given (embedded NULs) or NULL (strlen). */
static void test_several_texts(void **state) {
    (void)state;
    const char *texts[] = {"ab", "ab\0ab", "", NULL};
    size_t lengths[] = {2, 5, 0, 0};
    attn_tokenizer *t;
    assert_int_equal(
        attn_tokenizer_train_bpe(texts, lengths, 4, (attn_bpe_train_params){300, 3, 0}, &t),
        ATTN_OK);
    /* (a b) is seen 3 times: learned; nothing else reaches 3 */
    assert_int_equal(t->n_merges, 1);
    attn_tokenizer_free(t);
}

static void test_argument_errors(void **state) {
    (void)state;
    const char *text = "abc";
    attn_tokenizer *t = (attn_tokenizer *)&text; /* must be reset to NULL on failure */
    assert_int_equal(
        attn_tokenizer_train_bpe(&text, NULL, 1, (attn_bpe_train_params){260, 2, 0}, &t),
        ATTN_ERR_INVALID);
    assert_null(t);
    tt_assert_error_mentions("vocab_size 260");
    assert_int_equal(
        attn_tokenizer_train_bpe(&text, NULL, 1, (attn_bpe_train_params){300, -1, 0}, &t),
        ATTN_ERR_INVALID);
    assert_int_equal(attn_tokenizer_train_bpe(NULL, NULL, 1, attn_bpe_train_default_params(), &t),
                     ATTN_ERR_INVALID);
    const char *null_text[] = {NULL};
    size_t len = 3;
    assert_int_equal(
        attn_tokenizer_train_bpe(null_text, &len, 1, attn_bpe_train_default_params(), &t),
        ATTN_ERR_INVALID);
    assert_int_equal(
        attn_tokenizer_train_bpe(&text, NULL, 1, attn_bpe_train_default_params(), NULL),
        ATTN_ERR_INVALID);
    attn_bpe_train_params d = attn_bpe_train_default_params();
    assert_int_equal(d.vocab_size, 16000);
    assert_int_equal(d.min_frequency, 2);
    assert_int_equal(d.lowercase, 0);

    t = train("abc", 300, 1, 0);
    int *ids = NULL, n = 0;
    char *out = NULL;
    size_t out_len;
    assert_int_equal(attn_tokenizer_encode(t, NULL, 3, &ids, &n), ATTN_ERR_INVALID);
    assert_int_equal(attn_tokenizer_encode(t, "a", 1, NULL, &n), ATTN_ERR_INVALID);
    assert_int_equal(attn_tokenizer_decode(t, (int[]){5, 400}, 2, &out, &out_len),
                     ATTN_ERR_INVALID);
    tt_assert_error_mentions("id 400 (position 1)");
    assert_null(out);
    assert_int_equal(attn_tokenizer_decode(t, (int[]){-1}, 1, &out, &out_len), ATTN_ERR_INVALID);
    assert_int_equal(attn_tokenizer_decode(t, NULL, 1, &out, &out_len), ATTN_ERR_INVALID);
    assert_int_equal(attn_tokenizer_decode(t, NULL, 0, &out, &out_len), ATTN_OK);
    assert_int_equal(out_len, 0);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(attn_tokenizer_encode(t, NULL, 0, &ids, &n), ATTN_OK);
    assert_int_equal(n, 0);
    assert_non_null(ids);
    free(ids);
    attn_tokenizer_free(t);
    attn_tokenizer_free(NULL);
    assert_int_equal(attn_tokenizer_vocab_size(NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toy_merges),         cmocka_unit_test(test_tie_breaking),
        cmocka_unit_test(test_overlapping_pairs),  cmocka_unit_test(test_vocab_size_limit),
        cmocka_unit_test(test_special_tokens),     cmocka_unit_test(test_lowercase),
        cmocka_unit_test(test_invalid_utf8_bytes), cmocka_unit_test(test_several_texts),
        cmocka_unit_test(test_argument_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
