/* tests/text/test_wordpiece.c: BERT's WordPiece on a hand-made vocabulary (src/text/wordpiece.c,
 * src/text/wordpiece_normalize.c): punctuation, accents, CJK, "##" continuations, [UNK] for
 * unknown and over-long words, invalid UTF-8, the options, and decoding. */
#include "text_testutil.h"

#include "text/text_internal.h"

static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n" /* 0..4 */
                            "the\nquick\nbrown\nfox\njump\n"       /* 5..9 */
                            "##s\n##ed\nun\n##aff\n##able\n"       /* 10..14 */
                            ".\n,\n!\n'\n$\n"                      /* 15..19 */
                            "\xe4\xbd\xa0\n\xe5\xa5\xbd\n"         /* 20, 21: 你 好 */
                            "cafe\nCaf\xc3\xa9\nx\n##x\n"          /* 22..25 */
                            "don\nt\n?\n";                         /* 26..28 */

static attn_tokenizer *uncased;

static int setup(void **state) {
    (void)state;
    return text_load_vocab_txt(vocab, strlen(vocab), &uncased) == ATTN_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    attn_tokenizer_free(uncased);
    return 0;
}

#define ENC(t, text, ...)                                                                          \
    do {                                                                                           \
        int want_[] = {__VA_ARGS__};                                                               \
        tt_assert_encodes_to(t, text, want_, (int)(sizeof want_ / sizeof *want_));                 \
    } while (0)

static void test_basic_and_continuations(void **state) {
    (void)state;
    assert_int_equal(attn_tokenizer_get_kind(uncased), ATTN_TOKENIZER_WORDPIECE);
    assert_int_equal(attn_tokenizer_vocab_size(uncased), 29);
    ENC(uncased, "The quick brown fox jumps.", 5, 6, 7, 8, 9, 10, 15);
    ENC(uncased, "unaffable jumped", 12, 13, 14, 9, 11);
    ENC(uncased, "  \t the\n\n", 5);
    tt_assert_encodes_to(uncased, "", NULL, 0);
    tt_assert_encodes_to(uncased, " \t\n", NULL, 0);
}

/* Every punctuation character is a word: ASCII symbols and Unicode P* alike. */
static void test_punctuation(void **state) {
    (void)state;
    ENC(uncased, "don't!", 26, 18, 27, 17);
    ENC(uncased, "the,fox.", 5, 16, 8, 15);
    ENC(uncased, "$x?", 19, 24, 28);
    /* U+00BF (Po), U+2014 em dash (Pd) and '~' (ASCII symbol) are split off, unknown: [UNK] */
    ENC(uncased, "\xc2\xbfx\xe2\x80\x94x~x", 1, 24, 1, 24, 1, 24);
}

/* Lower-casing and accent stripping (NFD, drop Mn), on by default (bert-base-uncased). */
static void test_accents_and_case(void **state) {
    (void)state;
    ENC(uncased, "CAF\xc3\x89", 22);  /* CAFÉ -> cafe */
    ENC(uncased, "Cafe\xcc\x81", 22); /* decomposed é */
    ENC(uncased, "THE Quick", 5, 6);
    /* cased: "Café" is its own token; "cafe" stays; "The" is unknown */
    attn_tokenizer *cased;
    assert_int_equal(text_load_vocab_txt(vocab, strlen(vocab), &cased), ATTN_OK);
    cased->bert.lowercase = cased->bert.strip_accents = 0;
    ENC(cased, "Caf\xc3\xa9 cafe The", 23, 22, 1);
    /* NFC input against an NFC vocabulary token, decomposed input does not match it */
    ENC(cased, "Cafe\xcc\x81", 1);
    attn_tokenizer_free(cased);
}

/* CJK ideographs are words of their own, even inside other text. */
static void test_cjk(void **state) {
    (void)state;
    ENC(uncased, "\xe4\xbd\xa0\xe5\xa5\xbd", 20, 21);
    ENC(uncased, "x\xe4\xbd\xa0x", 24, 20, 24);
    /* Hiragana is not in BERT's CJK blocks: "xあ" stays one word, unknown */
    ENC(uncased, "x\xe3\x81\x82", 1);
}

static void test_unknown_and_long_words(void **state) {
    (void)state;
    ENC(uncased, "zebra fox", 1, 8);
    ENC(uncased, "foxy", 1); /* "fox" fits but "##y" does not: the whole word is [UNK] */
    char word[200];
    memset(word, 'x', sizeof word);
    word[100] = '\0'; /* 100 characters: x ##x ##x ... */
    int n;
    int *ids = tt_encode(uncased, word, 100, &n);
    assert_int_equal(n, 100);
    assert_int_equal(ids[0], 24);
    assert_int_equal(ids[99], 25);
    free(ids);
    word[100] = 'x';
    word[101] = '\0'; /* 101: too long */
    ENC(uncased, word, 1);
    /* the limit counts characters, not bytes: 60 two-byte letters are fine */
    char accented[121];
    for (int i = 0; i < 60; i++)
        memcpy(accented + 2 * i, "\xc3\xa9", 2); /* é -> e after stripping, unknown */
    accented[120] = '\0';
    ENC(uncased, accented, 1);
}

static void test_cleaning(void **state) {
    (void)state;
    /* control characters vanish (joining the words around them), other spaces split */
    ENC(uncased,
        "fo\x01x the\xc2\xa0"
        "fox\xe3\x80\x80x",
        8, 5, 8, 24);
    ENC(uncased, "fo\xef\xbf\xbdx", 8); /* U+FFFD is dropped */
    ENC(uncased, "fox\xe2\x80\x8b", 8); /* zero-width space (Cf) is dropped */
}

static void test_invalid_utf8(void **state) {
    (void)state;
    int *ids = (int *)&ids, n = 7;
    attn_status s = attn_tokenizer_encode(uncased, "the \xff fox", 9, &ids, &n);
    assert_int_equal(s, ATTN_ERR_INVALID);
    assert_null(ids);
    assert_int_equal(n, 0);
    tt_assert_error_mentions("offset 4");
    tt_assert_error_mentions("0xff");
}

static void test_decode(void **state) {
    (void)state;
    const char *expect = "the quick unaffable fox jumps.";
    int ids[] = {2, 5, 6, 12, 13, 14, 8, 9, 10, 15, 3, 0};
    tt_assert_decodes_to(uncased, ids, 12, expect, strlen(expect));
    /* clean-up, token by token as the Hugging Face decoder does: no space before , ! ? .; the
     * rules that span two tokens (" ' " -> "'") never apply */
    int ids2[] = {26, 18, 27, 16, 8, 17, 28};
    tt_assert_decodes_to(uncased, ids2, 7, "don ' t, fox!?", strlen("don ' t, fox!?"));
    /* a leading continuation keeps its "##" (as the Hugging Face decoder does) */
    tt_assert_decodes_to(uncased, (int[]){10, 10}, 2, "##ss", 4);
    uncased->cleanup = 0;
    tt_assert_decodes_to(uncased, (int[]){8, 15}, 2, "fox .", 5);
    uncased->cleanup = 1;
    char *text;
    size_t len;
    assert_int_equal(attn_tokenizer_decode(uncased, (int[]){29}, 1, &text, &len), ATTN_ERR_INVALID);
}

/* Options and limits read from a tokenizer.json. */
static void test_json_options(void **state) {
    (void)state;
    const char json[] =
        "{\"added_tokens\": [{\"id\": 0, \"content\": \"<unk>\", \"special\": true}],"
        " \"normalizer\": {\"type\": \"BertNormalizer\", \"lowercase\": false,"
        " \"strip_accents\": null, \"clean_text\": true, \"handle_chinese_chars\": false},"
        " \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},"
        " \"decoder\": {\"type\": \"WordPiece\", \"prefix\": \"@@\", \"cleanup\": false},"
        " \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"<unk>\","
        " \"continuing_subword_prefix\": \"@@\", \"max_input_chars_per_word\": 4,"
        " \"vocab\": {\"<unk>\": 0, \"Ab\": 1, \"@@c\": 2, \"\xc3\xa9\": 3, \"\xe4\xbd\xa0\": 4,"
        " \"@@\xe4\xbd\xa0\": 5}}}";
    attn_tokenizer *t;
    if (attn_tokenizer_from_json(json, strlen(json), &t) != ATTN_OK)
        fail_msg("%s", attn_last_error());
    assert_int_equal(attn_tokenizer_special(t, ATTN_SPECIAL_UNK), -1); /* named <unk> */
    ENC(t, "Abc ab \xc3\xa9", 1, 2, 0, 3);    /* cased, accents kept (strip follows lower) */
    ENC(t, "Abccc Abcc", 0, 1, 2, 2);         /* 5 characters > 4 */
    ENC(t, "\xe4\xbd\xa0\xe4\xbd\xa0", 4, 5); /* no CJK splitting */
    tt_assert_decodes_to(t, (int[]){0, 1, 2, 3}, 4, "Abc \xc3\xa9", strlen("Abc \xc3\xa9"));
    attn_tokenizer_free(t);
    /* no normalizer at all: no cleaning, no lower-casing, but still the BERT splitting */
    const char bare[] =
        "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"A\": 1}},"
        " \"normalizer\": null}";
    assert_int_equal(attn_tokenizer_from_json(bare, strlen(bare), &t), ATTN_OK);
    ENC(t, "A a A,", 1, 0, 1, 0);
    attn_tokenizer_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_and_continuations),
        cmocka_unit_test(test_punctuation),
        cmocka_unit_test(test_accents_and_case),
        cmocka_unit_test(test_cjk),
        cmocka_unit_test(test_unknown_and_long_words),
        cmocka_unit_test(test_cleaning),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_json_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
