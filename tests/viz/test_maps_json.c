/* tests/viz/test_maps_json.c: attention maps as JSON parse back (cJSON) to the same numbers and
 * tokens, whatever bytes the tokens hold; bad maps and unwritable paths are errors. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/viz.h"
#include "io/file.h"
#include "pngcheck.h"

enum { L = 2, H = 3, TQ = 4, TK = 5 };

static attn_maps make_maps(float *probs) {
    for (int i = 0; i < L * H * TQ * TK; i++)
        probs[i] = (float)((i * 37) % 101) / 101.0f + (i == 7 ? 1e-7f : 0);
    return (attn_maps){.kind = ATTN_MAPS_DECODER_CROSS,
                       .n_layers = L,
                       .n_heads = H,
                       .n_queries = TQ,
                       .n_keys = TK,
                       .probs = probs};
}

static int get_int(const cJSON *doc, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    assert_true(cJSON_IsNumber(v));
    return v->valueint;
}

static void test_round_trip(void **state) {
    (void)state;
    float probs[L * H * TQ * TK];
    attn_maps maps = make_maps(probs);
    const char *queries[TQ] = {"plain", "quote\"back\\slash", "\xFF\xC3", NULL};
    const char *keys[TK] = {"new\nline", "tab\t", "\x01", "caf\xC3\xA9", ""};
    char *json;
    assert_int_equal(attn_maps_to_json(&maps, queries, keys, &json), ATTN_OK);
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "kind")->valuestring,
                        "decoder_cross");
    assert_int_equal(get_int(doc, "n_layers"), L);
    assert_int_equal(get_int(doc, "n_heads"), H);
    assert_int_equal(get_int(doc, "n_queries"), TQ);
    assert_int_equal(get_int(doc, "n_keys"), TK);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(doc, "query_tokens");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(doc, "key_tokens");
    assert_int_equal(cJSON_GetArraySize(q), TQ);
    assert_int_equal(cJSON_GetArraySize(k), TK);
    assert_string_equal(cJSON_GetArrayItem(q, 0)->valuestring, "plain");
    assert_string_equal(cJSON_GetArrayItem(q, 1)->valuestring, "quote\"back\\slash");
    assert_string_equal(cJSON_GetArrayItem(q, 2)->valuestring, "\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_string_equal(cJSON_GetArrayItem(q, 3)->valuestring, "");
    assert_string_equal(cJSON_GetArrayItem(k, 0)->valuestring, "new\nline"); /* kept, escaped */
    assert_string_equal(cJSON_GetArrayItem(k, 1)->valuestring, "tab\t");
    assert_string_equal(cJSON_GetArrayItem(k, 2)->valuestring, "\x01");
    assert_string_equal(cJSON_GetArrayItem(k, 3)->valuestring, "caf\xC3\xA9");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "probs");
    assert_int_equal(cJSON_GetArraySize(p), L);
    for (int l = 0; l < L; l++) {
        const cJSON *layer = cJSON_GetArrayItem(p, l);
        assert_int_equal(cJSON_GetArraySize(layer), H);
        for (int h = 0; h < H; h++) {
            const cJSON *head = cJSON_GetArrayItem(layer, h);
            assert_int_equal(cJSON_GetArraySize(head), TQ);
            const float *want = attn_maps_head(&maps, l, h);
            for (int i = 0; i < TQ; i++) {
                const cJSON *row = cJSON_GetArrayItem(head, i);
                assert_int_equal(cJSON_GetArraySize(row), TK);
                for (int j = 0; j < TK; j++) {
                    double got = cJSON_GetArrayItem(row, j)->valuedouble, w = want[i * TK + j];
                    if (fabs(got - w) > 5e-6 * fabs(w) + 1e-12) /* 6 significant digits */
                        fail_msg("probs[%d][%d][%d][%d] = %.9g, want %.9g", l, h, i, j, got, w);
                }
            }
        }
    }
    cJSON_Delete(doc);
    free(json);

    /* without tokens: null */
    assert_int_equal(attn_maps_to_json(&maps, NULL, NULL, &json), ATTN_OK);
    doc = cJSON_Parse(json);
    assert_non_null(doc);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "query_tokens")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "key_tokens")));
    cJSON_Delete(doc);
    free(json);
}

static void test_file(void **state) {
    (void)state;
    float probs[L * H * TQ * TK];
    attn_maps maps = make_maps(probs);
    const char *dir = pc_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/maps.json", dir);
    assert_int_equal(attn_maps_write_json(path, &maps, NULL, NULL), ATTN_OK);
    char *json;
    void *file;
    size_t size;
    assert_int_equal(attn_maps_to_json(&maps, NULL, NULL, &json), ATTN_OK);
    assert_int_equal(attn_file_read_all(path, &file, &size), ATTN_OK);
    assert_int_equal(size, strlen(json));
    assert_memory_equal(file, json, size);
    free(file);
    free(json);
    remove(path);
    snprintf(path, sizeof path, "%s/missing/maps.json", dir);
    assert_int_equal(attn_maps_write_json(path, &maps, NULL, NULL), ATTN_ERR_IO);
    assert_non_null(strstr(attn_last_error(), "missing/maps.json"));
    assert_int_equal(attn_maps_write_json(NULL, &maps, NULL, NULL), ATTN_ERR_INVALID);
    assert_int_equal(rmdir(dir), 0);
}

static void test_bad_maps(void **state) {
    (void)state;
    float probs[L * H * TQ * TK];
    attn_maps maps = make_maps(probs);
    char *json = (char *)"untouched";
    assert_int_equal(attn_maps_to_json(NULL, NULL, NULL, &json), ATTN_ERR_INVALID);
    assert_null(json);
    assert_int_equal(attn_maps_to_json(&maps, NULL, NULL, NULL), ATTN_ERR_INVALID);
    attn_maps empty = {0};
    assert_int_equal(attn_maps_to_json(&empty, NULL, NULL, &json), ATTN_ERR_INVALID);
    attn_maps zero_rows = maps;
    zero_rows.n_queries = 0;
    assert_int_equal(attn_maps_to_json(&zero_rows, NULL, NULL, &json), ATTN_ERR_INVALID);
    probs[5] = NAN;
    assert_int_equal(attn_maps_to_json(&maps, NULL, NULL, &json), ATTN_ERR_NUMERIC);
    assert_null(json);
}

/* Maps of a real model go through JSON unchanged. */
static void test_model_maps(void **state) {
    (void)state;
    attn_config c = attn_config_default(ATTN_ARCH_DECODER_LM);
    c.vocab_size = 11, c.max_len = 8, c.d_model = 8, c.n_heads = 2, c.d_ff = 16, c.n_layers = 1;
    attn_model *m;
    assert_int_equal(attn_model_create(&c, 3, &m), ATTN_OK);
    int ids[6] = {1, 2, 3, 4, 5, 6};
    attn_batch b = {.B = 1, .T = 6, .tokens = ids};
    attn_maps maps;
    assert_int_equal(attn_model_attention_maps(m, &b, ATTN_MAPS_DECODER_SELF, &maps), ATTN_OK);
    char *json;
    assert_int_equal(attn_maps_to_json(&maps, NULL, NULL, &json), ATTN_OK);
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    const cJSON *row = cJSON_GetArrayItem(
        cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "probs"), 0), 1), 5);
    double sum = 0;
    for (int j = 0; j < 6; j++)
        sum += cJSON_GetArrayItem(row, j)->valuedouble;
    assert_true(fabs(sum - 1) < 1e-5);
    assert_string_equal(cJSON_GetObjectItem(doc, "kind")->valuestring, "decoder_self");
    cJSON_Delete(doc);
    free(json);
    attn_maps_free(&maps);
    attn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_bad_maps),
        cmocka_unit_test(test_model_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
