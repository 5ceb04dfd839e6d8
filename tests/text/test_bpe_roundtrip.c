/* tests/text/test_bpe_roundtrip.c: decode(encode(x)) == x for thousands of random byte strings
 * (valid UTF-8 of every length class, invalid and truncated sequences, surrogates, NULs, long
 * whitespace runs), with a tokenizer trained on the reference corpus; and, with lower-casing,
 * decode(encode(x)) == the normalised x. */
#include "text_testutil.h"

#include "core/rng.h"
#include "text/text_internal.h"

static attn_tokenizer *plain, *lower;

static int setup(void **state) {
    (void)state;
    size_t len;
    char *corpus = tt_read_fixture("corpus.txt", &len);
    const char *texts[] = {corpus};
    attn_status s =
        attn_tokenizer_train_bpe(texts, &len, 1, (attn_bpe_train_params){1000, 2, 0}, &plain);
    if (s == ATTN_OK)
        s = attn_tokenizer_train_bpe(texts, &len, 1, (attn_bpe_train_params){1000, 2, 1}, &lower);
    free(corpus);
    return s == ATTN_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    attn_tokenizer_free(plain);
    attn_tokenizer_free(lower);
    return 0;
}

/* Appends one random "unit" to buf (room for 8 bytes); returns its length. */
static size_t random_unit(attn_rng *rng, unsigned char *buf) {
    static const char *const words[] = {"the", " the", "'s",   "'ll", " ",   "  ",         "\n",
                                        "\t",  "123",  " cat", "!",   "...", "Caf\xc3\xa9"};
    uint32_t kind = attn_rng_below(rng, 10);
    int32_t cp;
    switch (kind) {
    case 0: /* any byte */
        buf[0] = (unsigned char)attn_rng_below(rng, 256);
        return 1;
    case 1: /* a lead byte without its continuation, or a lone continuation */
        buf[0] = (unsigned char)(0xc0 + attn_rng_below(rng, 64));
        return 1;
    case 2: /* a surrogate, encoded (invalid in UTF-8) */
        cp = 0xd800 + (int32_t)attn_rng_below(rng, 0x800);
        buf[0] = (unsigned char)(0xe0 | cp >> 12);
        buf[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        buf[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    case 3: /* a code point from anywhere (valid, maybe unassigned) */
        do {
            cp = (int32_t)attn_rng_below(rng, 0x110000);
        } while (cp >= 0xd800 && cp <= 0xdfff);
        return (size_t)text_utf8_encode(cp, buf);
    case 4: /* Latin-1 / Greek / Cyrillic / combining marks */
        return (size_t)text_utf8_encode(0xa0 + (int32_t)attn_rng_below(rng, 0x400), buf);
    case 5: /* CJK or emoji */
        cp = attn_rng_below(rng, 2) ? 0x4e00 + (int32_t)attn_rng_below(rng, 0x5000)
                                    : 0x1f300 + (int32_t)attn_rng_below(rng, 0x300);
        return (size_t)text_utf8_encode(cp, buf);
    default: { /* common words and spaces */
        const char *w = words[attn_rng_below(rng, sizeof words / sizeof *words)];
        memcpy(buf, w, strlen(w));
        return strlen(w);
    }
    }
}

static void test_random_roundtrip(void **state) {
    (void)state;
    attn_rng rng;
    attn_rng_init(&rng, 2024, 0);
    int n_strings = tu_sanitized() ? 1000 : 5000;
    unsigned char buf[600];
    for (int k = 0; k < n_strings; k++) {
        size_t len = 0, units = attn_rng_below(&rng, 60);
        for (size_t u = 0; u < units; u++)
            len += random_unit(&rng, buf + len);
        int n;
        int *ids = tt_encode(plain, (const char *)buf, len, &n);
        for (int i = 0; i < n; i++)
            assert_true(ids[i] >= ATTN_SPECIAL_COUNT && ids[i] < 1000);
        tt_assert_decodes_to(plain, ids, n, (const char *)buf, len);
        free(ids);

        /* lower-casing: decode gives exactly the normalised text */
        char *norm;
        size_t norm_len;
        assert_int_equal(text_normalize((const char *)buf, len, TEXT_NORM_NFC | TEXT_NORM_LOWER,
                                        &norm, &norm_len),
                         ATTN_OK);
        ids = tt_encode(lower, (const char *)buf, len, &n);
        tt_assert_decodes_to(lower, ids, n, norm, norm_len);
        free(ids);
        free(norm);
    }
}

/* Every single byte and every pair of bytes. */
static void test_all_short_strings(void **state) {
    (void)state;
    unsigned char buf[2];
    for (int a = 0; a < 256; a++) {
        for (int b = -1; b < 256; b++) {
            buf[0] = (unsigned char)a;
            buf[1] = (unsigned char)b;
            size_t len = b < 0 ? 1 : 2;
            int n;
            int *ids = tt_encode(plain, (const char *)buf, len, &n);
            tt_assert_decodes_to(plain, ids, n, (const char *)buf, len);
            free(ids);
        }
    }
}

typedef struct {
    text_ints ids;
} piecewise;

static attn_status encode_alone(const char *piece, size_t len, int is_byte, void *user) {
    piecewise *pw = user;
    int n;
    int *ids = tt_encode(plain, piece, len, &n);
    for (int i = 0; i < n; i++)
        assert_int_equal(text_ints_push(&pw->ids, ids[i]), ATTN_OK);
    free(ids);
    return ATTN_OK;
}

/* A long text (the per-call pre-token cache at work) and long runs of one character. */
static void test_long_texts(void **state) {
    (void)state;
    size_t len;
    char *corpus = tt_read_fixture("corpus.txt", &len);
    int n;
    int *ids = tt_encode(plain, corpus, len, &n);
    assert_true(n > 0 && (size_t)n < len / 2); /* the merges compress the training text */
    tt_assert_decodes_to(plain, ids, n, corpus, len);
    /* the per-call cache must not change the result: the same as encoding each pre-token alone
     * (pieces shorter than 256 bytes are encoded without the cache) */
    piecewise pw = {0};
    assert_int_equal(text_pretokenize(plain->re, corpus, len, encode_alone, &pw), ATTN_OK);
    assert_int_equal(pw.ids.len, (size_t)n);
    assert_memory_equal(pw.ids.data, ids, (size_t)n * sizeof *ids);
    free(pw.ids.data);
    free(ids);
    free(corpus);
    size_t big = tu_sanitized() ? 20000 : 200000;
    char *run = malloc(big);
    assert_non_null(run);
    const char fills[] = {' ', 'e', '\xff', '.'};
    for (size_t f = 0; f < sizeof fills; f++) {
        memset(run, fills[f], big);
        ids = tt_encode(plain, run, big, &n);
        tt_assert_decodes_to(plain, ids, n, run, big);
        free(ids);
    }
    free(run);
}

/* One tokenizer shared by threads (it is immutable): every thread's round trips hold. Failures
 * are counted, since cmocka's assertions are not for other threads. */
static void test_shared_between_threads(void **state) {
    (void)state;
    int failures = 0, n_strings = tu_sanitized() ? 200 : 2000;
#pragma omp parallel for num_threads(4) schedule(dynamic, 16) reduction(+ : failures)
    for (int k = 0; k < n_strings; k++) {
        attn_rng rng;
        attn_rng_init(&rng, 77, (uint64_t)k);
        unsigned char buf[600];
        size_t len = 0, units = attn_rng_below(&rng, 60);
        for (size_t u = 0; u < units; u++)
            len += random_unit(&rng, buf + len);
        /* long enough, sometimes, for the per-call cache */
        const attn_tokenizer *t = k % 2 ? plain : lower;
        int *ids = NULL, n = 0;
        char *back = NULL, *norm = NULL;
        size_t back_len = 0, norm_len = 0;
        int ok =
            attn_tokenizer_encode(t, (const char *)buf, len, &ids, &n) == ATTN_OK &&
            attn_tokenizer_decode(t, ids, n, &back, &back_len) == ATTN_OK &&
            text_normalize((const char *)buf, len, t->norm_flags, &norm, &norm_len) == ATTN_OK &&
            back_len == norm_len && memcmp(back, norm, norm_len) == 0;
        failures += !ok;
        free(ids);
        free(back);
        free(norm);
    }
    assert_int_equal(failures, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_all_short_strings),
        cmocka_unit_test(test_long_texts),
        cmocka_unit_test(test_shared_between_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
