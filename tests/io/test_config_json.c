/* tests/io/test_config_json.c: attn_config to and from JSON (src/io/config_json.c). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "attn/config.h"

/* The example of docs/FORMATS.md, as printed there (line breaks included). */
static const char *docs_example =
    "{\"arch\": \"decoder_lm\", \"vocab_size\": 256, \"max_len\": 128, \"d_model\": 128, "
    "\"n_heads\": 4,\n \"d_ff\": 512, \"n_layers\": 2, \"n_dec_layers\": 0, \"n_classes\": 0, "
    "\"norm\": \"pre\",\n \"pos\": \"learned\", \"act\": \"gelu_tanh\", \"pool\": \"cls\", "
    "\"dropout\": 0.1, \"ln_eps\": 1e-5,\n \"scale_embeddings\": false, \"pad_id\": 0, "
    "\"label_smoothing\": 0}";

static const char *keys[] = {
    "arch",         "vocab_size",       "max_len", "d_model", "n_heads", "d_ff", "n_layers",
    "n_dec_layers", "n_classes",        "norm",    "pos",     "act",     "pool", "dropout",
    "ln_eps",       "scale_embeddings", "pad_id"};
#define N_KEYS ((int)(sizeof keys / sizeof keys[0]))

static void assert_error_mentions(const char *needle) {
    if (!strstr(attn_last_error(), needle))
        fail_msg("error \"%s\" does not mention \"%s\"", attn_last_error(), needle);
}

static void assert_config_equal(const attn_config *a, const attn_config *b) {
    assert_int_equal(a->arch, b->arch);
    assert_int_equal(a->vocab_size, b->vocab_size);
    assert_int_equal(a->max_len, b->max_len);
    assert_int_equal(a->d_model, b->d_model);
    assert_int_equal(a->n_heads, b->n_heads);
    assert_int_equal(a->d_ff, b->d_ff);
    assert_int_equal(a->n_layers, b->n_layers);
    assert_int_equal(a->n_dec_layers, b->n_dec_layers);
    assert_int_equal(a->n_classes, b->n_classes);
    assert_int_equal(a->norm, b->norm);
    assert_int_equal(a->pos, b->pos);
    assert_int_equal(a->act, b->act);
    assert_int_equal(a->pool, b->pool);
    assert_true(a->dropout == b->dropout);
    assert_true(a->ln_eps == b->ln_eps);
    assert_int_equal(a->scale_embeddings != 0, b->scale_embeddings != 0);
    assert_int_equal(a->pad_id, b->pad_id);
    assert_true(a->label_smoothing == b->label_smoothing);
}

static attn_config docs_config(void) {
    attn_config c = attn_config_default(ATTN_ARCH_DECODER_LM);
    c.max_len = 128;
    return c;
}

/* The writer's output is the docs' example on one line, key for key and digit for digit. */
static void test_to_json_matches_docs(void **state) {
    attn_config c = docs_config();
    char *json;
    assert_int_equal(attn_config_to_json(&c, &json), ATTN_OK);
    char want[1024];
    size_t n = 0;
    for (const char *p = docs_example; *p; p++)
        if (*p != '\n') want[n++] = *p;
    want[n] = 0;
    assert_string_equal(json, want);
    free(json);
}

static void test_from_json_docs_example(void **state) {
    attn_config got, want = docs_config();
    assert_int_equal(attn_config_from_json(docs_example, &got), ATTN_OK);
    assert_config_equal(&got, &want);
}

static void round_trip(const attn_config *c) {
    char *json;
    assert_int_equal(attn_config_to_json(c, &json), ATTN_OK);
    attn_config back;
    memset(&back, 0xff, sizeof back);
    if (attn_config_from_json(json, &back) != ATTN_OK) fail_msg("%s: %s", json, attn_last_error());
    assert_config_equal(&back, c);
    free(json);
}

static void test_round_trip_every_enum_value(void **state) {
    int count = 0;
    for (int arch = 0; arch < 3; arch++)
        for (int norm = 0; norm < 2; norm++)
            for (int pos = 0; pos < 2; pos++)
                for (int act = 0; act < 3; act++)
                    for (int pool = 0; pool < 2; pool++) {
                        attn_config c = attn_config_default((attn_arch)arch);
                        c.norm = (attn_norm)norm;
                        c.pos = (attn_pos)pos;
                        c.act = (attn_act)act;
                        c.pool = (attn_pool)pool;
                        c.scale_embeddings = (count++) % 2;
                        round_trip(&c);
                    }
    assert_int_equal(count, 72);
}

static void test_round_trip_numbers(void **state) {
    const float dropouts[] = {0.0f, 0.1f, 0.5f, 1.0f / 3.0f, 0.999999f, 1e-8f, 0.3f};
    const float epsilons[] = {1e-5f, 1e-12f, 1e-6f, 0.001f, 3e38f, 1.17549435e-38f, 1e-45f};
    for (int i = 0; i < 7; i++) {
        attn_config c = attn_config_default(ATTN_ARCH_SEQ2SEQ);
        c.dropout = dropouts[i];
        c.ln_eps = epsilons[i];
        c.vocab_size = 1 << 24;
        c.pad_id = (1 << 24) - 1;
        c.max_len = 1 << 20;
        c.d_model = 65536;
        c.n_heads = 64;
        c.n_layers = 1024;
        c.n_dec_layers = 7;
        round_trip(&c);
    }
}

/* docs_example re-printed with `key` removed (delete) or replaced by `value` (a JSON literal). */
static char *edited_example(const char *key, const char *value) {
    cJSON *root = cJSON_Parse(docs_example);
    assert_non_null(root);
    if (value) {
        cJSON *v = cJSON_Parse(value);
        assert_non_null(v);
        assert_true(cJSON_ReplaceItemInObjectCaseSensitive(root, key, v));
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(root, key);
    }
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return json;
}

static void expect_error(const char *key, const char *value, attn_status want, const char *needle) {
    char *json = edited_example(key, value);
    attn_config c = attn_config_default(ATTN_ARCH_CLASSIFIER), before = c;
    attn_status s = attn_config_from_json(json, &c);
    if (s != want)
        fail_msg("%s = %s: expected status %d, got %d (%s)", key, value ? value : "(deleted)", want,
                 s, attn_last_error());
    assert_error_mentions(needle ? needle : key);
    assert_config_equal(&c, &before); /* untouched on failure */
    cJSON_free(json);
}

static void test_missing_each_key(void **state) {
    for (int i = 0; i < N_KEYS; i++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", keys[i]);
        expect_error(keys[i], NULL, ATTN_ERR_MISSING, quoted);
        assert_error_mentions("missing");
    }
}

static void test_wrong_type_each_key(void **state) {
    for (int i = 0; i < N_KEYS; i++) {
        const char *k = keys[i];
        int is_string = !strcmp(k, "arch") || !strcmp(k, "norm") || !strcmp(k, "pos") ||
                        !strcmp(k, "act") || !strcmp(k, "pool");
        /* a string where a number or bool belongs, a number where a string belongs */
        expect_error(k, is_string ? "3" : "\"3\"", ATTN_ERR_FORMAT, k);
        expect_error(k, "null", ATTN_ERR_FORMAT, k);
        expect_error(k, "[1]", ATTN_ERR_FORMAT, k);
    }
    expect_error("scale_embeddings", "0", ATTN_ERR_FORMAT, "true or false");
}

static void test_integers_must_be_whole_and_fit(void **state) {
    expect_error("d_model", "128.5", ATTN_ERR_FORMAT, "integer");
    expect_error("vocab_size", "1e10", ATTN_ERR_FORMAT, "vocab_size");
    expect_error("pad_id", "-3000000000", ATTN_ERR_FORMAT, "pad_id");
    /* whole numbers in another spelling are fine */
    char *json = edited_example("d_model", "1.28e2");
    attn_config c;
    assert_int_equal(attn_config_from_json(json, &c), ATTN_OK);
    assert_int_equal(c.d_model, 128);
    cJSON_free(json);
}

static void test_unknown_enum_names(void **state) {
    expect_error("arch", "\"gpt2\"", ATTN_ERR_FORMAT, "\"arch\"");
    assert_error_mentions("gpt2");
    expect_error("norm", "\"rms\"", ATTN_ERR_FORMAT, "\"norm\"");
    assert_error_mentions("rms");
    expect_error("pos", "\"rope\"", ATTN_ERR_FORMAT, "\"pos\"");
    expect_error("act", "\"swiglu\"", ATTN_ERR_FORMAT, "\"act\"");
    assert_error_mentions("gelu_erf");
    expect_error("pool", "\"max\"", ATTN_ERR_FORMAT, "\"pool\"");
}

static void test_validation_runs_after_parsing(void **state) {
    expect_error("n_heads", "3", ATTN_ERR_INVALID, "divisible by n_heads");
    expect_error("dropout", "1.5", ATTN_ERR_INVALID, "dropout");
    expect_error("n_classes", "4", ATTN_ERR_INVALID, "n_classes"); /* a decoder_lm has no head */
    expect_error("ln_eps", "0", ATTN_ERR_INVALID, "ln_eps");
}

static void test_extra_keys_ignored(void **state) {
    char *json = edited_example("arch", "\"decoder_lm\"");
    cJSON *root = cJSON_Parse(json);
    cJSON_AddStringToObject(root, "comment", "from a newer version");
    cJSON_AddNumberToObject(root, "rope_theta", 10000);
    char *extended = cJSON_PrintUnformatted(root);
    attn_config c, want = docs_config();
    assert_int_equal(attn_config_from_json(extended, &c), ATTN_OK);
    assert_config_equal(&c, &want);
    cJSON_Delete(root);
    cJSON_free(json);
    cJSON_free(extended);
}

static void test_not_json_or_not_object(void **state) {
    attn_config c;
    assert_int_equal(attn_config_from_json("{\"arch\": ", &c), ATTN_ERR_FORMAT);
    assert_error_mentions("not valid JSON");
    assert_int_equal(attn_config_from_json("[]", &c), ATTN_ERR_FORMAT);
    assert_error_mentions("not a JSON object");
    assert_int_equal(attn_config_from_json("{} {}", &c), ATTN_ERR_FORMAT);
    assert_int_equal(attn_config_from_json("", &c), ATTN_ERR_FORMAT);
    assert_int_equal(attn_config_from_json(NULL, &c), ATTN_ERR_INVALID);
}

static void test_to_json_refuses_invalid_config(void **state) {
    attn_config c = attn_config_default(ATTN_ARCH_DECODER_LM);
    c.d_model = 130;
    char *json = (char *)1;
    assert_int_equal(attn_config_to_json(&c, &json), ATTN_ERR_INVALID);
    assert_error_mentions("d_model");
    assert_ptr_equal(json, (char *)1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_to_json_matches_docs),
        cmocka_unit_test(test_from_json_docs_example),
        cmocka_unit_test(test_round_trip_every_enum_value),
        cmocka_unit_test(test_round_trip_numbers),
        cmocka_unit_test(test_missing_each_key),
        cmocka_unit_test(test_wrong_type_each_key),
        cmocka_unit_test(test_integers_must_be_whole_and_fit),
        cmocka_unit_test(test_unknown_enum_names),
        cmocka_unit_test(test_validation_runs_after_parsing),
        cmocka_unit_test(test_extra_keys_ignored),
        cmocka_unit_test(test_not_json_or_not_object),
        cmocka_unit_test(test_to_json_refuses_invalid_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
