/* tests/text/test_reference.c: the tokenizers against independent Python implementations
 * (tests/text/make_reference.py writes fixtures/reference.json and fixtures/corpus.txt):
 *   - BPE training on the corpus must learn exactly the merges of a naive trainer (recounting
 *     every pair after each merge, same documented tie-breaking), with and without lower-casing;
 *   - encoding must match GPT-2's encoder.py loop over Python `regex` pre-tokens;
 *   - WordPiece must match BERT's tokenization.py (BasicTokenizer + WordpieceTokenizer), uncased
 *     and cased, on a hand-made vocabulary. */
#include "text_testutil.h"

#include <cjson/cJSON.h>

#include "text/text_internal.h"

static cJSON *ref;
static char *corpus;
static size_t corpus_len;

static int setup(void **state) {
    (void)state;
    size_t len;
    char *json = tt_read_fixture("reference.json", &len);
    ref = cJSON_ParseWithLength(json, len);
    free(json);
    corpus = tt_read_fixture("corpus.txt", &corpus_len);
    return ref ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    cJSON_Delete(ref);
    free(corpus);
    return 0;
}

static int int_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(o, key);
    assert_true(cJSON_IsNumber(v) || cJSON_IsBool(v));
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : v->valueint;
}

static void check_bpe_variant(const cJSON *variant) {
    attn_bpe_train_params p = attn_bpe_train_default_params();
    p.vocab_size = int_of(variant, "vocab_size");
    p.min_frequency = int_of(variant, "min_frequency");
    p.lowercase = int_of(variant, "lowercase");
    const char *texts[] = {corpus};
    attn_tokenizer *t;
    assert_int_equal(attn_tokenizer_train_bpe(texts, &corpus_len, 1, p, &t), ATTN_OK);
    assert_int_equal(attn_tokenizer_vocab_size(t), int_of(variant, "n_tokens"));

    const cJSON *merges = cJSON_GetObjectItem(variant, "merges");
    assert_int_equal(t->n_merges, cJSON_GetArraySize(merges));
    int r = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, merges) {
        int a = cJSON_GetArrayItem(m, 0)->valueint, b = cJSON_GetArrayItem(m, 1)->valueint;
        if (t->merges[r][0] != a || t->merges[r][1] != b)
            fail_msg("lowercase=%d merge %d: (%d %d), Python (%d %d)", p.lowercase, r,
                     t->merges[r][0], t->merges[r][1], a, b);
        r++;
    }

    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(variant, "cases")) {
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        const cJSON *ids = cJSON_GetObjectItem(c, "ids");
        int n_want = cJSON_GetArraySize(ids);
        int *want = malloc(((size_t)n_want + 1) * sizeof *want);
        for (int i = 0; i < n_want; i++)
            want[i] = cJSON_GetArrayItem(ids, i)->valueint;
        tt_assert_encodes_to(t, text, want, n_want);
        if (!p.lowercase) tt_assert_decodes_to(t, want, n_want, text, strlen(text));
        free(want);
    }
    attn_tokenizer_free(t);
}

static void test_bpe_matches_python(void **state) {
    (void)state;
    const cJSON *variant;
    int n = 0;
    cJSON_ArrayForEach(variant, cJSON_GetObjectItem(ref, "bpe")) {
        check_bpe_variant(variant);
        n++;
    }
    assert_int_equal(n, 2);
}

/* The reference vocabulary as a vocab.txt (one token per line). */
static attn_tokenizer *wordpiece_from_reference(int lowercase) {
    text_buf b = {0};
    const cJSON *tok;
    cJSON_ArrayForEach(tok, cJSON_GetObjectItem(cJSON_GetObjectItem(ref, "wordpiece"), "vocab")) {
        assert_int_equal(text_buf_append(&b, tok->valuestring, strlen(tok->valuestring)), 0);
        assert_int_equal(text_buf_append(&b, "\n", 1), 0);
    }
    attn_tokenizer *t;
    assert_int_equal(text_load_vocab_txt(b.data, b.len, &t), ATTN_OK);
    free(b.data);
    if (!lowercase) t->bert.lowercase = t->bert.strip_accents = 0; /* bert-base-cased */
    return t;
}

static void test_wordpiece_matches_python(void **state) {
    (void)state;
    attn_tokenizer *uncased = wordpiece_from_reference(1), *cased = wordpiece_from_reference(0);
    const cJSON *c;
    int n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(ref, "wordpiece"), "cases")) {
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        const cJSON *tokens = cJSON_GetObjectItem(c, "tokens");
        attn_tokenizer *t = int_of(c, "lowercase") ? uncased : cased;
        int n;
        int *ids = tt_encode(t, text, strlen(text), &n);
        int same = n == cJSON_GetArraySize(tokens);
        for (int i = 0; same && i < n; i++)
            same = strcmp(attn_tokenizer_token(t, ids[i]),
                          cJSON_GetArrayItem(tokens, i)->valuestring) == 0;
        if (!same) {
            char got[1024] = "";
            for (int i = 0; i < n && strlen(got) < 900; i++)
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s ",
                         attn_tokenizer_token(t, ids[i]));
            char *want = cJSON_PrintUnformatted(tokens);
            fail_msg("case %d \"%s\": [%s], Python %s", n_cases, text, got, want);
        }
        free(ids);
        n_cases++;
    }
    assert_true(n_cases >= 20);
    attn_tokenizer_free(uncased);
    attn_tokenizer_free(cased);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bpe_matches_python),
        cmocka_unit_test(test_wordpiece_matches_python),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
