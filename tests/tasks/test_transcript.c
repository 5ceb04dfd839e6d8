/* tests/tasks/test_transcript.c: a transcript as JSON (attn_transcript_format_json, src/tasks/asr.c),
 * parsed back with cJSON: every field, word times rounded to 10 ms, a file name that is not UTF-8. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "attn/asr.h"

static void test_json_fields(void **state) {
    (void)state;
    float start[2] = {0.12f, 0.48f}, end[2] = {0.40f, 0.8799999f};
    char text[] = "one  two";
    attn_transcript t = {.text = text, .audio_seconds = 1.25, .seconds = 0.05, .n_words = 2,
                         .word_start = start, .word_end = end, .n_windows = 1};
    char *out = NULL;
    assert_int_equal(attn_transcript_format_json(&t, "dir/caf\xe9.wav", &out), ATTN_OK);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "file")->valuestring, "dir/caf\xef\xbf\xbd.wav");
    assert_string_equal(cJSON_GetObjectItem(j, "text")->valuestring, "one  two");
    assert_true(cJSON_GetObjectItem(j, "audio_seconds")->valuedouble == 1.25);
    assert_true(fabs(cJSON_GetObjectItem(j, "rtf")->valuedouble - 0.04) < 1e-12);
    assert_int_equal(cJSON_GetObjectItem(j, "windows")->valueint, 1);
    cJSON *words = cJSON_GetObjectItem(j, "words");
    assert_int_equal(cJSON_GetArraySize(words), 2);
    cJSON *w1 = cJSON_GetArrayItem(words, 1);
    assert_string_equal(cJSON_GetObjectItem(w1, "word")->valuestring, "two");
    assert_true(cJSON_GetObjectItem(w1, "start")->valuedouble == 0.48);
    assert_true(cJSON_GetObjectItem(w1, "end")->valuedouble == 0.88);
    assert_non_null(strstr(out, "\"end\":0.88}")); /* printed rounded, not 0.87999999523 */
    cJSON_Delete(j);
    free(out);
    assert_int_equal(attn_transcript_format_json(NULL, "x", &out), ATTN_ERR_INVALID);
    assert_int_equal(attn_transcript_format_json(&t, NULL, &out), ATTN_ERR_INVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
