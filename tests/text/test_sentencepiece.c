/* tests/text/test_sentencepiece.c: SentencePiece-style BPE (src/text/sentencepiece.c) on a small
 * file laid out as Llama 2's: Prepend and Replace normalisers, no pre-tokenizer, characters as
 * the first symbols, byte fallback, fused unknown tokens, the decoder chain, and what is
 * refused. The published Llama 2 and Gemma 3 files are compared with transformers.js in
 * test_real_tokenizers.c. */
#include "text_testutil.h"

#include "text/text_internal.h"

#define MARK "\xe2\x96\x81" /* U+2581 */

/* <unk> 0, <0x00>..<0x..> (n_bytes of them) from 1, then "▁" "a" "b" "▁a" "ab"; merges "▁ a",
 * "a b". `normalizer`, `pre` and `decoder` are JSON (NULL: Llama 2's). malloc'd. */
static char *sp_json(int n_bytes, const char *normalizer, const char *pre, const char *decoder) {
    text_buf b = {0};
    char tmp[64];
    const char *start = "{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"fuse_unk\": "
                        "true, \"unk_token\": \"<unk>\", \"vocab\": {\"<unk>\": 0, ";
    assert_int_equal(text_buf_append(&b, start, strlen(start)), 0);
    for (int i = 0; i < n_bytes; i++) {
        snprintf(tmp, sizeof tmp, "\"<0x%02X>\": %d, ", i, i + 1);
        assert_int_equal(text_buf_append(&b, tmp, strlen(tmp)), 0);
    }
    int id = n_bytes + 1;
    char rest[2048];
    if (!normalizer)
        normalizer = "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\", "
                     "\"prepend\": \"" MARK "\"}, {\"type\": \"Replace\", \"pattern\": "
                     "{\"String\": \" \"}, \"content\": \"" MARK "\"}]}";
    if (!pre) pre = "null";
    if (!decoder)
        decoder = "{\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", \"pattern\": "
                  "{\"String\": \"" MARK "\"}, \"content\": \" \"}, {\"type\": \"ByteFallback\"}, "
                  "{\"type\": \"Fuse\"}, {\"type\": \"Strip\", \"content\": \" \", \"start\": 1, "
                  "\"stop\": 0}]}";
    snprintf(rest, sizeof rest,
             "\"" MARK "\": %d, \"a\": %d, \"b\": %d, \"" MARK "a\": %d, \"ab\": %d}, \"merges\": "
             "[\"" MARK " a\", \"a b\"]}, \"added_tokens\": [{\"id\": 0, \"content\": \"<unk>\", "
             "\"special\": true}], \"normalizer\": %s, \"pre_tokenizer\": %s, \"decoder\": %s}",
             id, id + 1, id + 2, id + 3, id + 4, normalizer, pre, decoder);
    assert_int_equal(text_buf_append(&b, rest, strlen(rest) + 1), 0);
    return b.data;
}

static attn_tokenizer *load(char *json) {
    attn_tokenizer *t = NULL;
    if (attn_tokenizer_from_json(json, strlen(json), &t) != ATTN_OK)
        fail_msg("%s", attn_last_error());
    free(json);
    return t;
}

static void test_encode_decode(void **state) {
    (void)state;
    attn_tokenizer *t = load(sp_json(256, NULL, NULL, NULL));
    int mark = 257, a = 258, b = 259, mark_a = 260;
    tt_assert_encodes_to(t, "a b", (int[]){mark_a, mark, b}, 3); /* ▁a ▁ b */
    tt_assert_encodes_to(t, "ab", (int[]){mark_a, b}, 2); /* "▁ a" first, then no "▁a b" */
    tt_assert_encodes_to(t, "ba", (int[]){mark, b, a}, 3);
    tt_assert_encodes_to(t, "c", (int[]){mark, 1 + 'c'}, 2); /* byte fallback */
    tt_assert_encodes_to(t, "\xc3\xa9", (int[]){mark, 1 + 0xc3, 1 + 0xa9}, 3);
    tt_assert_encodes_to(t, "\xff", (int[]){mark, 1 + 0xff}, 2); /* an invalid byte */
    tt_assert_encodes_to(t, "", (int[]){0}, 0);                  /* nothing to prepend to */
    static const char *const texts[] = {"a b", "ab  ba", "caf\xc3\xa9 \xff\xfe x", " lead"};
    for (int i = 0; i < 4; i++) {
        int n, *ids = tt_encode(t, texts[i], strlen(texts[i]), &n);
        tt_assert_decodes_to(t, ids, n, texts[i], strlen(texts[i]));
        free(ids);
    }
    /* written back, read again: the same ids and text */
    char *json = NULL;
    assert_int_equal(attn_tokenizer_to_json(t, &json), ATTN_OK);
    attn_tokenizer *back = load(json);
    for (int i = 0; i < 4; i++) {
        int n, m, *ids = tt_encode(t, texts[i], strlen(texts[i]), &n);
        int *again = tt_encode(back, texts[i], strlen(texts[i]), &m);
        assert_int_equal(n, m);
        assert_memory_equal(ids, again, (size_t)n * sizeof *ids);
        tt_assert_decodes_to(back, again, m, texts[i], strlen(texts[i]));
        free(ids);
        free(again);
    }
    attn_tokenizer_free(back);
    attn_tokenizer_free(t);
}

/* Without the byte tokens a missing character is <unk>, consecutive ones fused. */
static void test_unknown_fused(void **state) {
    (void)state;
    attn_tokenizer *t = load(sp_json(0, NULL, NULL, NULL));
    int mark = 1, b = 3;
    tt_assert_encodes_to(t, "xyz b", (int[]){mark, 0, mark, b}, 4);
    attn_tokenizer_free(t);
}

/* Gemma's layout: Replace alone, a Split on " " merged with the previous piece, no Strip. */
static void test_gemma_layout(void **state) {
    (void)state;
    attn_tokenizer *t = load(sp_json(
        256, "{\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"" MARK "\"}",
        "{\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, \"behavior\": "
        "\"MergedWithPrevious\", \"invert\": false}",
        "{\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", \"pattern\": {\"String\": "
        "\"" MARK "\"}, \"content\": \" \"}, {\"type\": \"ByteFallback\"}, {\"type\": "
        "\"Fuse\"}]}"));
    tt_assert_encodes_to(t, "a b", (int[]){258, 257, 259}, 3); /* a ▁ b: no merge applies */
    int n, *ids = tt_encode(t, " ab c", 5, &n);
    tt_assert_decodes_to(t, ids, n, " ab c", 5);
    free(ids);
    char *json = NULL;
    assert_int_equal(attn_tokenizer_to_json(t, &json), ATTN_OK);
    assert_non_null(strstr(json, "MergedWithPrevious"));
    attn_tokenizer *back = load(json);
    tt_assert_encodes_to(back, "a b", (int[]){258, 257, 259}, 3);
    attn_tokenizer_free(back);
    attn_tokenizer_free(t);
}

static void expect_refused(char *json, const char *needle) {
    attn_tokenizer *t = (attn_tokenizer *)&t;
    attn_status s = attn_tokenizer_from_json(json, strlen(json), &t);
    if (s != ATTN_ERR_FORMAT) fail_msg("status %d (%s)", s, attn_last_error());
    assert_null(t);
    tt_assert_error_mentions(needle);
    free(json);
}

static void test_refused(void **state) {
    (void)state;
    expect_refused(
        sp_json(256, NULL, "{\"type\": \"Metaspace\", \"replacement\": \"" MARK "\"}", NULL),
        "pre_tokenizer 'Metaspace' is not supported for a SentencePiece-style");
    expect_refused(
        sp_json(256, NULL, "{\"type\": \"ByteLevel\", \"add_prefix_space\": false}", NULL),
        "'ByteLevel' is not supported for a SentencePiece-style");
    expect_refused(sp_json(256,
                           "{\"type\": \"Replace\", \"pattern\": {\"Regex\": \" +\"}, "
                           "\"content\": \"" MARK "\"}",
                           NULL, NULL),
                   "a Regex is not supported");
    expect_refused(sp_json(256, "{\"type\": \"NFKC\"}", NULL, NULL), "normalizer 'NFKC'");
    expect_refused(sp_json(256, NULL, NULL, "{\"type\": \"Metaspace\"}"),
                   "decoder 'Metaspace' is not supported");
    expect_refused(sp_json(256, NULL, NULL,
                           "{\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Strip\", "
                           "\"content\": \" \", \"start\": 1, \"stop\": 0}]}"),
                   "decoder step 'Strip'");
    expect_refused(sp_json(256, NULL, NULL,
                           "{\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", "
                           "\"pattern\": {\"String\": \"x\"}, \"content\": \" \"}]}"),
                   "decoder step 'Replace'");
    char *json = sp_json(256, NULL, NULL, NULL);
    char *unk = strstr(json, "\"unk_token\": \"<unk>\"");
    memcpy(unk + 14, "<un?", 4);
    expect_refused(json, "unk_token '<un?>' is not in the vocabulary");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_decode),
        cmocka_unit_test(test_unknown_fused),
        cmocka_unit_test(test_gemma_layout),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
