/* tests/data/test_cls_data.c: texts -> [CLS] + ids, truncation, label lookup and padded batches
 * (src/data/cls_data.c), with a small BPE trained here. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/data.h"

static attn_tokenizer *tok;

static int setup(void **state) {
    static const char corpus[] = "the cat sat on the mat. the dog sat on the log. a cat, a dog.";
    const char *texts[] = {corpus};
    size_t lens[] = {sizeof corpus - 1};
    attn_bpe_train_params p = attn_bpe_train_default_params();
    p.vocab_size = 300;
    return attn_tokenizer_train_bpe(texts, lens, 1, p, &tok) == ATTN_OK ? 0 : -1;
}

static int teardown(void **state) {
    attn_tokenizer_free(tok);
    return 0;
}

/* [CLS] first, then exactly the tokenizer's ids; cut to max_len keeps [CLS] and the start. */
static void test_encode_text(void **state) {
    const char *text = "the cat sat on the log";
    int *plain, n_plain;
    assert_int_equal(attn_tokenizer_encode(tok, text, strlen(text), &plain, &n_plain), ATTN_OK);
    assert_true(n_plain >= 4);
    int ids[64], n, cut;
    assert_int_equal(attn_cls_encode_text(tok, text, strlen(text), 64, ids, &n, &cut), ATTN_OK);
    assert_int_equal(n, n_plain + 1);
    assert_false(cut);
    assert_int_equal(ids[0], attn_tokenizer_special(tok, ATTN_SPECIAL_CLS));
    assert_memory_equal(ids + 1, plain, (size_t)n_plain * sizeof(int));
    assert_int_equal(attn_cls_encode_text(tok, text, strlen(text), 3, ids, &n, &cut), ATTN_OK);
    assert_int_equal(n, 3);
    assert_true(cut);
    assert_memory_equal(ids + 1, plain, 2 * sizeof(int));
    assert_int_equal(attn_cls_encode_text(tok, text, strlen(text), 1, ids, &n, NULL), ATTN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(attn_cls_encode_text(tok, "", 0, 8, ids, &n, &cut), ATTN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(attn_cls_encode_text(tok, text, strlen(text), 0, ids, &n, &cut),
                     ATTN_ERR_INVALID);
    free(plain);
}

/* A tokenizer without [CLS] (a GPT-2 style tokenizer.json) is refused with a clear message. */
static void test_no_cls(void **state) {
    const char *src = getenv("ATTN_SOURCE_DIR");
    if (!src) skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/text/fixtures/gpt2_style.json", src);
    attn_tokenizer *gpt2;
    assert_int_equal(attn_tokenizer_load(path, &gpt2), ATTN_OK);
    int ids[8], n;
    assert_int_equal(attn_cls_encode_text(gpt2, "x", 1, 8, ids, &n, NULL), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "[CLS]"));
    attn_tokenizer_free(gpt2);
}

static void parse(const char *text, attn_tsv *t) {
    assert_int_equal(attn_tsv_parse(text, strlen(text), "d.tsv", t), ATTN_OK);
}

/* Labels by the set, truncation counted, unknown labels: error naming file:line, or skipped. */
static void test_encode_dataset(void **state) {
    attn_tsv train, other;
    parse("cat\tthe cat sat\ndog\tthe dog sat on the log. a dog. a dog.\ncat\ta cat\n", &train);
    parse("dog\ta dog\n\nbird\tthe bird\ncat\tcat\n", &other);
    attn_labels *labels;
    assert_int_equal(attn_labels_from_tsv(&train, &labels), ATTN_OK);
    attn_cls_data d;
    assert_int_equal(attn_cls_data_encode(&train, tok, labels, 6, 0, &d), ATTN_OK);
    assert_int_equal(d.n, 3);
    const int want_labels[] = {0, 1, 0};
    assert_memory_equal(d.labels, want_labels, sizeof want_labels);
    assert_int_equal(d.n_truncated, 1);
    assert_int_equal(d.truncated[0], 0);
    assert_int_equal(d.truncated[1], 1);
    assert_int_equal(d.lengths[1], 6);
    assert_int_equal(d.lines[2], 3);
    for (long i = 0; i < d.n; i++)
        assert_int_equal(d.ids[d.offsets[i]], attn_tokenizer_special(tok, ATTN_SPECIAL_CLS));
    attn_cls_data_free(&d);

    assert_int_equal(attn_cls_data_encode(&other, tok, labels, 6, 0, &d), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "d.tsv:3: label 'bird'"));
    assert_null(d.ids);
    assert_int_equal(attn_cls_data_encode(&other, tok, labels, 6, 1, &d), ATTN_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.n_skipped, 1);
    assert_int_equal(d.lines[1], 4);
    assert_int_equal(d.labels[1], 0);
    attn_cls_data_free(&d);
    assert_int_equal(attn_cls_data_encode(&other, tok, NULL, 6, 0, &d), ATTN_OK);
    assert_int_equal(d.labels[2], -1);
    attn_cls_data_free(&d);
    attn_labels_free(labels);
    attn_tsv_free(&train);
    attn_tsv_free(&other);
}

/* Right padding with pad_id to the longest row of the batch; lengths and labels follow rows. */
static void test_fill_batch(void **state) {
    attn_tsv t;
    parse("a\tthe cat sat on the mat\nb\tcat\nc\tthe dog\n", &t);
    attn_labels *labels;
    assert_int_equal(attn_labels_from_tsv(&t, &labels), ATTN_OK);
    attn_cls_data d;
    assert_int_equal(attn_cls_data_encode(&t, tok, labels, 32, 0, &d), ATTN_OK);
    const long rows[] = {1, 2, 0};
    int tokens[3 * 32], lengths[3], ys[3], T;
    assert_int_equal(attn_cls_data_fill_batch(&d, rows, 3, 77, tokens, lengths, ys, &T), ATTN_OK);
    assert_int_equal(T, d.lengths[0]);
    for (int b = 0; b < 3; b++) {
        assert_int_equal(lengths[b], d.lengths[rows[b]]);
        assert_int_equal(ys[b], d.labels[rows[b]]);
        assert_memory_equal(tokens + b * T, d.ids + d.offsets[rows[b]],
                            (size_t)lengths[b] * sizeof(int));
        for (int j = lengths[b]; j < T; j++)
            assert_int_equal(tokens[b * T + j], 77);
    }
    const long bad[] = {3};
    assert_int_equal(attn_cls_data_fill_batch(&d, bad, 1, 0, tokens, lengths, NULL, &T),
                     ATTN_ERR_INVALID);
    assert_int_equal(attn_cls_data_fill_batch(&d, rows, 0, 0, tokens, lengths, NULL, &T),
                     ATTN_ERR_INVALID);
    attn_cls_data_free(&d);
    attn_labels_free(labels);
    attn_tsv_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_text),
        cmocka_unit_test(test_no_cls),
        cmocka_unit_test(test_encode_dataset),
        cmocka_unit_test(test_fill_batch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
