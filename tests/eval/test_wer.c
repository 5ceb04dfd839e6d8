/* tests/eval/test_wer.c: WER and CER (src/eval/wer.c). Hand-computed cases (the counts worked out
 * in the comments), then 40 corpora against tests/eval/wer_reference.py, run here with
 * /usr/bin/python3: a textbook Levenshtein programme written in Python gives each pair's distance,
 * and the substitution counts of all its least-cost alignments, of which ours must be one; the
 * corpus rates must equal sum(distance) / sum(N) to 1e-12. Skipped (77) without python3. */
#define _POSIX_C_SOURCE 200809L /* popen */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "attn/metrics.h"

static attn_error_rate wer(const char *hyp, const char *ref) {
    attn_error_rate r = {0};
    assert_int_equal(attn_wer_add(&r, hyp, ref), ATTN_OK);
    return r;
}

static attn_error_rate cer(const char *hyp, const char *ref) {
    attn_error_rate r = {0};
    assert_int_equal(attn_cer_add(&r, hyp, ref), ATTN_OK);
    return r;
}

static void expect(attn_error_rate r, long N, long S, long D, long I) {
    if (r.ref_len != N || r.substitutions != S || r.deletions != D || r.insertions != I)
        fail_msg("got N %ld S %ld D %ld I %ld, want N %ld S %ld D %ld I %ld", r.ref_len,
                 r.substitutions, r.deletions, r.insertions, N, S, D, I);
    assert_int_equal(r.hits, N - S - D);
    assert_int_equal(r.hyp_len, N - D + I);
    assert_int_equal(r.n_sentences, 1);
}

static void test_hand_cases(void **state) {
    (void)state;
    /* the cat sat on the mat / the cat sit on mat: sat -> sit, the second "the" missing. */
    attn_error_rate r = wer("the cat sit on mat", "the cat sat on the mat");
    expect(r, 6, 1, 1, 0);
    assert_int_equal(attn_error_rate_score(&r), ATTN_OK);
    assert_true(r.rate == 2.0 / 6);
    expect(wer("", "a b c"), 3, 0, 3, 0);               /* all deleted: WER 1 */
    expect(wer("a x b y", "a b"), 2, 0, 0, 2);          /* two inserted: WER 1 */
    expect(wer("  a\tb\u3000c ", "a b c"), 3, 0, 0, 0); /* white space is only a separator */
    expect(wer("x y z w", "a"), 1, 1, 0, 3);            /* one substitution, three insertions */
    /* "b a" for "a b": S = 2 or D = I = 1 cost 2 both; the walk back prefers the diagonal. */
    expect(wer("b a", "a b"), 2, 2, 0, 0);
    /* "a b c" for "b c d": cost 2 by deleting a and inserting d, or 3 substitutions: the first. */
    expect(wer("b c d", "a b c"), 3, 0, 1, 1);
    /* Characters: the space is one, runs of white space are one, ends are stripped. */
    expect(cer("abd", "abc"), 3, 1, 0, 0);
    expect(cer("ab", "a b"), 3, 0, 1, 0);
    expect(cer(" a \t\n b  ", "a b"), 3, 0, 0, 0);
    expect(cer("cafe", "café"), 4, 1, 0, 0); /* é is one code point */
    expect(cer("東京", "日本"), 2, 2, 0, 0);
    expect(cer("", ""), 0, 0, 0, 0);
    /* Ids (CTC outputs, say): 1 2 3 against 1 3 3: one substitution. */
    attn_error_rate a = {0};
    int h[] = {1, 2, 3}, ref[] = {1, 3, 3};
    assert_int_equal(attn_align_ids(&a, h, 3, ref, 3), ATTN_OK);
    expect(a, 3, 1, 0, 0);
    a = (attn_error_rate){0};
    assert_int_equal(attn_align_ids(&a, NULL, 0, ref, 3), ATTN_OK);
    expect(a, 3, 0, 3, 0);
}

static void test_corpus_and_errors(void **state) {
    (void)state;
    /* A corpus rate is the summed errors over the summed N: (1 + 0 + 3) / (4 + 1 + 1) = 2/3,
     * not the mean of the sentences' rates (1/4, 0, 3). */
    const char *hyps[] = {"a b c e", "x", "p q r s"}, *refs[] = {"a b c d", "x", "p"};
    attn_error_rate r;
    assert_int_equal(attn_corpus_wer(hyps, refs, 3, &r), ATTN_OK);
    assert_int_equal(r.ref_len, 6);
    assert_int_equal(r.substitutions, 1);
    assert_int_equal(r.insertions, 3);
    assert_int_equal(r.n_sentences, 3);
    assert_true(fabs(r.rate - 4.0 / 6) < 1e-15);
    /* Empty references: 0 when the hypotheses are empty too, undefined otherwise. */
    const char *empty[] = {"", " "};
    assert_int_equal(attn_corpus_wer(empty, empty, 2, &r), ATTN_OK);
    assert_true(r.rate == 0);
    const char *some[] = {"a", ""};
    assert_int_equal(attn_corpus_wer(some, empty, 2, &r), ATTN_ERR_INVALID);
    assert_int_equal(r.ref_len, 0);
    /* Invalid UTF-8, with the sentence named; NULLs; inconsistent counts. */
    const char *bad[] = {"ok", "caf\xc3"};
    assert_int_equal(attn_corpus_cer(bad, bad, 2, &r), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "sentence 1"));
    assert_int_equal(attn_wer_add(NULL, "a", "b"), ATTN_ERR_INVALID);
    assert_int_equal(attn_corpus_wer(NULL, refs, 1, &r), ATTN_ERR_INVALID);
    attn_error_rate odd = {.ref_len = 2, .hyp_len = 5, .substitutions = 1};
    assert_int_equal(attn_error_rate_score(&odd), ATTN_ERR_INVALID);
    /* Over the table's limit: two lines of 9000 characters. */
    char *long_line = malloc(9001);
    memset(long_line, 'a', 9000);
    long_line[9000] = '\0';
    attn_error_rate acc = {0};
    assert_int_equal(attn_cer_add(&acc, long_line, long_line), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "ATTN_ALIGN_MAX_CELLS"));
    assert_int_equal(acc.n_sentences, 0);
    free(long_line);
}

static cJSON *reference;

static int load_reference(void) {
    const char *src = getenv("ATTN_SOURCE_DIR");
    if (access("/usr/bin/python3", X_OK) != 0) return 77;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/eval/wer_reference.py'", src ? src : ".");
    char *buf;
    int status = tu_read_command(cmd, &buf);
    if (!buf || status != 0) {
        fprintf(stderr, "wer_reference.py failed (status %d)\n", status);
        free(buf);
        return 1;
    }
    reference = cJSON_Parse(buf);
    free(buf);
    return reference ? 0 : 1;
}

static long item_long(const cJSON *o, const char *key) {
    return (long)cJSON_GetObjectItem(o, key)->valuedouble;
}

static void test_against_python(void **state) {
    (void)state;
    if (!reference) skip();
    const cJSON *cases = cJSON_GetObjectItem(reference, "cases");
    assert_int_equal(cJSON_GetArraySize(cases), 40);
    long pairs = 0, ties = 0;
    for (int c = 0; c < 40; c++) {
        const cJSON *k = cJSON_GetArrayItem(cases, c);
        const cJSON *jh = cJSON_GetObjectItem(k, "hyps"), *jr = cJSON_GetObjectItem(k, "refs");
        long n = cJSON_GetArraySize(jh);
        const char **hyps = malloc((size_t)n * sizeof *hyps),
                   **refs = malloc((size_t)n * sizeof *refs);
        for (long i = 0; i < n; i++) {
            hyps[i] = cJSON_GetArrayItem(jh, (int)i)->valuestring;
            refs[i] = cJSON_GetArrayItem(jr, (int)i)->valuestring;
        }
        for (int chars = 0; chars < 2; chars++) {
            const cJSON *want = cJSON_GetObjectItem(k, chars ? "chars" : "words");
            long dist_sum = 0, N = 0;
            for (long i = 0; i < n; i++) {
                const cJSON *w = cJSON_GetArrayItem(want, (int)i);
                attn_error_rate r = chars ? cer(hyps[i], refs[i]) : wer(hyps[i], refs[i]);
                long d = r.substitutions + r.deletions + r.insertions;
                if (d != item_long(w, "distance") || r.ref_len != item_long(w, "ref_len") ||
                    r.hyp_len != item_long(w, "hyp_len"))
                    fail_msg("case %d pair %ld (%s): distance %ld, N %ld, hyp %ld; Python %ld, "
                             "%ld, %ld\n  hyp '%s'\n  ref '%s'",
                             c, i, chars ? "chars" : "words", d, r.ref_len, r.hyp_len,
                             item_long(w, "distance"), item_long(w, "ref_len"),
                             item_long(w, "hyp_len"), hyps[i], refs[i]);
                const cJSON *options = cJSON_GetObjectItem(w, "s_options");
                int found = 0;
                for (int o = 0; o < cJSON_GetArraySize(options); o++)
                    found |= (long)cJSON_GetArrayItem(options, o)->valuedouble == r.substitutions;
                if (!found)
                    fail_msg("case %d pair %ld: S = %ld is no least-cost alignment's", c, i,
                             r.substitutions);
                ties += cJSON_GetArraySize(options) > 1;
                dist_sum += d;
                N += r.ref_len;
                pairs++;
            }
            attn_error_rate corpus;
            attn_status st = chars ? attn_corpus_cer(hyps, refs, n, &corpus)
                                   : attn_corpus_wer(hyps, refs, n, &corpus);
            if (N == 0) {
                assert_int_equal(st, dist_sum ? ATTN_ERR_INVALID : ATTN_OK);
            } else {
                assert_int_equal(st, ATTN_OK);
                assert_true(fabs(corpus.rate - (double)dist_sum / N) <= 1e-12);
            }
        }
        free(hyps);
        free(refs);
    }
    assert_true(ties > 20); /* the choice among alignments was exercised */
    printf("%ld sentence pairs (words and characters) at the Python distance; %ld with several "
           "least-cost alignments, ours one of them\n",
           pairs, ties);
}

/* The line and the JSON of attn eval asr, from known counts. */
static void test_format(void **state) {
    (void)state;
    attn_error_rate w = {0}, c = {0};
    assert_int_equal(attn_wer_add(&w, "a x b y", "a b c"), ATTN_OK);
    assert_int_equal(attn_cer_add(&c, "ab", "abc"), ATTN_OK);
    assert_int_equal(attn_error_rate_score(&w), ATTN_OK);
    assert_int_equal(attn_error_rate_score(&c), ATTN_OK);
    char *text = NULL;
    assert_int_equal(attn_error_rates_format(&w, &c, 0, 0, 0, &text), ATTN_OK);
    assert_string_equal(text, "WER 66.67%  (S 1, D 0, I 1, N 3)  CER 33.33%  (S 0, D 1, I 0, N 3)");
    free(text);
    assert_int_equal(attn_error_rates_format(&w, &c, 2.0, 0.5, 0, &text), ATTN_OK);
    assert_non_null(strstr(text, "N 3)  sentences 1  audio 2.0 s  RTF 0.2500"));
    free(text);
    assert_int_equal(attn_error_rates_format(&w, &c, 2.0, 0.5, 1, &text), ATTN_OK);
    assert_true(strncmp(text, "{\"wer\":{\"rate\":66.66666666666",
                        strlen("{\"wer\":{\"rate\":66.66666666666")) == 0);
    assert_non_null(strstr(text, "\"cer\":{\"rate\":33.33"));
    assert_non_null(
        strstr(text, "\"sentences\":1,\"audio_seconds\":2,\"seconds\":0.5,\"rtf\":0.25}"));
    free(text);
    assert_int_equal(attn_error_rates_format(NULL, &c, 0, 0, 0, &text), ATTN_ERR_INVALID);
}

int main(void) {
    int rc = load_reference();
    if (rc == 1) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_cases),
        cmocka_unit_test(test_corpus_and_errors),
        cmocka_unit_test(test_against_python),
        cmocka_unit_test(test_format),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    cJSON_Delete(reference);
    return failed;
}
