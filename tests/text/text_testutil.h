/* tests/text/text_testutil.h: helpers shared by the tokenizer tests (header only: every
 * tests/<folder>/test_*.c is built on its own). */
#ifndef ATTN_TEXT_TESTUTIL_H
#define ATTN_TEXT_TESTUTIL_H

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/tokenizer.h"
#include "io/file.h"

/* Fails unless the last error message contains `needle`. */
static inline void tt_assert_error_mentions(const char *needle) {
    if (!strstr(attn_last_error(), needle))
        fail_msg("error \"%s\" does not mention \"%s\"", attn_last_error(), needle);
}

/* Path of tests/text/fixtures/<name> (static buffer). */
static inline const char *tt_fixture(const char *name) {
    static char path[4096];
    const char *src = getenv("ATTN_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/text/fixtures/%s", src ? src : ".", name);
    return path;
}

/* The whole fixture file (NUL-terminated, length in *len); the caller frees it. */
static inline char *tt_read_fixture(const char *name, size_t *len) {
    void *data = NULL;
    size_t size = 0;
    if (attn_file_read_all(tt_fixture(name), &data, &size) != ATTN_OK)
        fail_msg("cannot read fixture %s: %s", name, attn_last_error());
    if (len) *len = size;
    return data;
}

/* Encodes text[0..len) and fails on error; *n gets the count. The caller frees the ids. */
static inline int *tt_encode(const attn_tokenizer *t, const char *text, size_t len, int *n) {
    int *ids = NULL;
    attn_status s = attn_tokenizer_encode(t, text, len, &ids, n);
    if (s != ATTN_OK) fail_msg("encode failed (%d): %s", s, attn_last_error());
    assert_non_null(ids);
    return ids;
}

/* Fails unless decode(ids) is exactly want[0..want_len). */
static inline void tt_assert_decodes_to(const attn_tokenizer *t, const int *ids, int n,
                                        const char *want, size_t want_len) {
    char *text = NULL;
    size_t len = 0;
    attn_status s = attn_tokenizer_decode(t, ids, n, &text, &len);
    if (s != ATTN_OK) fail_msg("decode failed (%d): %s", s, attn_last_error());
    if (len != want_len || memcmp(text, want, len) != 0)
        fail_msg("decoded \"%.*s\" (%zu bytes), want \"%.*s\" (%zu bytes)", (int)len, text, len,
                 (int)want_len, want, want_len);
    assert_int_equal(text[len], '\0');
    free(text);
}

/* Fails unless encode(text) gives exactly want[0..n_want). */
static inline void tt_assert_encodes_to(const attn_tokenizer *t, const char *text, const int *want,
                                        int n_want) {
    int n;
    int *ids = tt_encode(t, text, strlen(text), &n);
    int same = n == n_want;
    for (int i = 0; same && i < n; i++)
        same = ids[i] == want[i];
    if (!same) {
        char got[2048] = "", exp[2048] = "";
        for (int i = 0; i < n && strlen(got) < 2000; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%d ", ids[i]);
        for (int i = 0; i < n_want && strlen(exp) < 2000; i++)
            snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%d ", want[i]);
        fail_msg("encode(\"%s\") = [%s], want [%s]", text, got, exp);
    }
    free(ids);
}

#endif
