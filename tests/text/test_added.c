/* tests/text/test_added.c: added tokens split out of the text before the model (src/text/added.c)
 * and the tokens add_special puts around a text (the post_processor, tokenizer_json_read.c):
 * non-special tokens always matched, special ones only with allow_special, the longest first,
 * what BERT's vocab.txt gets, and the refusal of a post_processor that cannot be applied. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include "text_testutil.h"

#include <cjson/cJSON.h>
#include <unistd.h>

/* A small trained BPE with added tokens appended after its vocabulary: "<think>" (not special),
 * "<|eot|>" and "<|eot|>x" (special), and `post` as its post_processor (JSON, or NULL). */
static attn_tokenizer *with_added(const char *post, int *first_added) {
    static const char corpus[] = "hello world, the world says hello; <think> is text here";
    const char *texts[] = {corpus};
    size_t lens[] = {sizeof corpus - 1};
    attn_bpe_train_params p = attn_bpe_train_default_params();
    p.vocab_size = 300;
    p.min_frequency = 1;
    attn_tokenizer *base = NULL;
    assert_int_equal(attn_tokenizer_train_bpe(texts, lens, 1, p, &base), ATTN_OK);
    int n = attn_tokenizer_vocab_size(base);
    *first_added = n;
    char *json;
    assert_int_equal(attn_tokenizer_to_json(base, &json), ATTN_OK);
    attn_tokenizer_free(base);
    cJSON *root = cJSON_Parse(json);
    free(json);
    cJSON *added = cJSON_GetObjectItem(root, "added_tokens");
    static const char *const names[] = {"<think>", "<|eot|>", "<|eot|>x"};
    for (int i = 0; i < 3; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", n + i);
        cJSON_AddStringToObject(o, "content", names[i]);
        cJSON_AddBoolToObject(o, "special", i > 0);
        cJSON_AddItemToArray(added, o);
    }
    if (post) cJSON_ReplaceItemInObject(root, "post_processor", cJSON_Parse(post));
    json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    attn_tokenizer *t = NULL;
    if (attn_tokenizer_from_json(json, strlen(json), &t) != ATTN_OK)
        fail_msg("%s", attn_last_error());
    free(json);
    return t;
}

/* The ids of text with params p (n in *n; the caller frees). */
static int *encode_p(const attn_tokenizer *t, const char *text, attn_encode_params p, int *n) {
    int *ids = NULL;
    if (attn_tokenizer_encode_with(t, text, strlen(text), p, &ids, n) != ATTN_OK)
        fail_msg("%s", attn_last_error());
    return ids;
}

static int count_id(const int *ids, int n, int id) {
    int c = 0;
    for (int i = 0; i < n; i++)
        c += ids[i] == id;
    return c;
}

static void test_split_out(void **state) {
    (void)state;
    int a;
    attn_tokenizer *t = with_added(NULL, &a);
    attn_encode_params plain = attn_encode_default_params(), allow = plain;
    allow.allow_special = 1;
    int n, *ids;
    /* a non-special added token is matched by default; the text around it is encoded alone */
    ids = encode_p(t, "say<think>hello", plain, &n);
    assert_int_equal(count_id(ids, n, a), 1);
    tt_assert_decodes_to(t, ids, n, "say<think>hello", 15);
    free(ids);
    /* a special one only when allowed; decode skips it */
    ids = encode_p(t, "a<|eot|>b", plain, &n);
    assert_int_equal(count_id(ids, n, a + 1), 0);
    tt_assert_decodes_to(t, ids, n, "a<|eot|>b", 9);
    free(ids);
    ids = encode_p(t, "a<|eot|>b", allow, &n);
    assert_int_equal(count_id(ids, n, a + 1), 1);
    tt_assert_decodes_to(t, ids, n, "ab", 2);
    free(ids);
    /* the longest at a position wins; adjacent tokens, at both ends */
    ids = encode_p(t, "<|eot|>x<|eot|><think><think>", allow, &n);
    int want[] = {a + 2, a + 1, a, a};
    assert_int_equal(n, 4);
    assert_memory_equal(ids, want, sizeof want);
    free(ids);
    /* a prefix of a token is text */
    ids = encode_p(t, "<|eot", allow, &n);
    assert_int_equal(count_id(ids, n, a + 1), 0);
    tt_assert_decodes_to(t, ids, n, "<|eot", 5);
    free(ids);
    /* invalid UTF-8 next to an added token */
    ids = encode_p(t, "\xff<think>\xc3", plain, &n);
    assert_int_equal(n, 3);
    assert_int_equal(ids[1], a);
    tt_assert_decodes_to(t, ids, n, "\xff<think>\xc3", 9);
    free(ids);
    /* without a post_processor, add_special adds nothing */
    attn_encode_params add = plain;
    add.add_special = 1;
    ids = encode_p(t, "hello", add, &n);
    int m, *same = tt_encode(t, "hello", 5, &m);
    assert_int_equal(n, m);
    free(ids);
    free(same);
    attn_tokenizer_free(t);
}

static void test_add_special(void **state) {
    (void)state;
    int a;
    attn_encode_params add = attn_encode_default_params();
    add.add_special = 1;
    char post[512];
    /* TemplateProcessing: <|eot|>x before, <|eot|> after (names resolved by special_tokens or
     * by the vocabulary) */
    attn_tokenizer *t = with_added(
        "{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<|eot|>x\", "
        "\"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"SpecialToken\": "
        "{\"id\": \"E\", \"type_id\": 0}}], \"special_tokens\": {\"E\": {\"id\": \"E\", \"ids\": "
        "[0], \"tokens\": [\"[PAD]\"]}}}",
        &a);
    int n, *ids = encode_p(t, "hello", add, &n), m, *bare = tt_encode(t, "hello", 5, &m);
    assert_int_equal(n, m + 2);
    assert_int_equal(ids[0], a + 2);
    assert_int_equal(ids[n - 1], 0);
    free(ids);
    free(bare);
    /* written back and read again: the same */
    char *json;
    assert_int_equal(attn_tokenizer_to_json(t, &json), ATTN_OK);
    attn_tokenizer *back = NULL;
    assert_int_equal(attn_tokenizer_from_json(json, strlen(json), &back), ATTN_OK);
    ids = encode_p(back, "hello", add, &n);
    assert_int_equal(ids[0], a + 2);
    assert_int_equal(ids[n - 1], 0);
    free(ids);
    free(json);
    attn_tokenizer_free(back);
    attn_tokenizer_free(t);
    /* BertProcessing, and a Sequence holding ByteLevel and it */
    snprintf(post, sizeof post,
             "{\"type\": \"Sequence\", \"processors\": [{\"type\": \"ByteLevel\"}, {\"type\": "
             "\"BertProcessing\", \"cls\": [\"[CLS]\", 2], \"sep\": [\"[SEP]\", 3]}]}");
    t = with_added(post, &a);
    ids = encode_p(t, "", add, &n);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 3);
    free(ids);
    attn_tokenizer_free(t);
    /* a kind we cannot apply: loads (encode without add_special works), add_special refuses,
     * and the file cannot be written back */
    t = with_added("{\"type\": \"SomethingNew\"}", &a);
    ids = tt_encode(t, "hello", 5, &n);
    free(ids);
    ids = (int *)&ids;
    assert_int_equal(attn_tokenizer_encode_with(t, "hello", 5, add, &ids, &n), ATTN_ERR_INVALID);
    assert_null(ids);
    tt_assert_error_mentions("SomethingNew");
    assert_int_equal(attn_tokenizer_to_json(t, &json), ATTN_ERR_INVALID);
    tt_assert_error_mentions("SomethingNew");
    attn_tokenizer_free(t);
}

/* A vocab.txt gets [CLS] text [SEP], and its [CLS] in the text with allow_special. */
static void test_vocab_txt(void **state) {
    (void)state;
    static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n[\n]\nsep\n";
    char path[] = "/tmp/attn-test-vocab-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, vocab, sizeof vocab - 1), (ssize_t)(sizeof vocab - 1));
    close(fd);
    attn_tokenizer *t = NULL;
    attn_status s = attn_tokenizer_load(path, &t);
    unlink(path);
    if (s != ATTN_OK) fail_msg("%s", attn_last_error());
    attn_encode_params p = attn_encode_default_params();
    p.add_special = 1;
    int n, *ids = encode_p(t, "hello", p, &n);
    assert_int_equal(ids[0], attn_tokenizer_special(t, ATTN_SPECIAL_CLS));
    assert_int_equal(ids[n - 1], attn_tokenizer_special(t, ATTN_SPECIAL_SEP));
    free(ids);
    p.add_special = 0;
    p.allow_special = 1;
    ids = encode_p(t, "[SEP]", p, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], attn_tokenizer_special(t, ATTN_SPECIAL_SEP));
    free(ids);
    ids = tt_encode(t, "[SEP]", 5, &n);
    assert_true(n > 1); /* by default, text */
    free(ids);
    attn_tokenizer_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_out),
        cmocka_unit_test(test_add_special),
        cmocka_unit_test(test_vocab_txt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
