/* tests/eval/test_mt_reference.c: BLEU, its 13a tokens and chrF (src/eval/bleu*.c, chrf.c) on
 * 40 deterministic corpora of varied text (accents, Unicode spaces, numbers, entities, dashes),
 * against the independent numbers of tests/eval/mt_reference.py, run here with /usr/bin/python3:
 * 13a tokens from a Python transcription of the rules, BLEU from NLTK's corpus_bleu on those
 * tokens (every order has a match, so BLEU = 100 * NLTK's), chrF from the paper's definition
 * with sacreBLEU's aggregation. Skipped (77) when python3 or NLTK is missing. */
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

static cJSON *reference; /* the script's output */

/* Runs the script; 77 when it says NLTK is missing or python3 is not there. */
static int load_reference(void) {
    const char *src = getenv("ATTN_SOURCE_DIR");
    if (!src) src = ".";
    if (access("/usr/bin/python3", X_OK) != 0) return 77;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/eval/mt_reference.py'", src);
    FILE *p = popen(cmd, "r");
    if (!p) return 77;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n < 2) buf = realloc(buf, cap *= 2);
    }
    int rc = pclose(p);
    if (!buf) return 1;
    buf[n] = '\0';
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) {
        free(buf);
        return 77;
    }
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        fprintf(stderr, "mt_reference.py failed (status %d)\n", rc);
        free(buf);
        return 1;
    }
    reference = cJSON_Parse(buf);
    free(buf);
    return reference ? 0 : 1;
}

/* The strings of a JSON list (owned by the JSON tree) in a new array of *n pointers. */
static const char **strings(const cJSON *list, long *n) {
    *n = cJSON_GetArraySize(list);
    const char **v = malloc((size_t)(*n + 1) * sizeof *v);
    assert_non_null(v);
    for (long i = 0; i < *n; i++) {
        const cJSON *item = cJSON_GetArrayItem(list, (int)i);
        assert_true(cJSON_IsString(item));
        v[i] = item->valuestring;
    }
    return v;
}

static long json_long(const cJSON *list, int i) {
    return (long)cJSON_GetArrayItem(list, i)->valuedouble;
}

static void test_against_python(void **state) {
    (void)state;
    const cJSON *cases = cJSON_GetObjectItem(reference, "cases");
    int n_cases = cJSON_GetArraySize(cases);
    assert_int_equal(n_cases, 40);
    double max_bleu_diff = 0, max_chrf_diff = 0;
    long sentences = 0, tokens_checked = 0;
    for (int c = 0; c < n_cases; c++) {
        const cJSON *k = cJSON_GetArrayItem(cases, c);
        long n, n2, n3, n4;
        const char **hyps = strings(cJSON_GetObjectItem(k, "hyps"), &n);
        const char **refs = strings(cJSON_GetObjectItem(k, "refs"), &n2);
        const char **hyp_tok = strings(cJSON_GetObjectItem(k, "hyp_tokens"), &n3);
        const char **ref_tok = strings(cJSON_GetObjectItem(k, "ref_tokens"), &n4);
        assert_true(n == n2 && n == n3 && n == n4);
        for (long i = 0; i < n; i++) {
            char *t;
            assert_int_equal(attn_bleu_tokenize_13a(hyps[i], &t), ATTN_OK);
            if (strcmp(t, hyp_tok[i]) != 0)
                fail_msg("case %d hyp %ld: 13a gave\n  '%s'\nPython's rules\n  '%s'", c, i, t,
                         hyp_tok[i]);
            free(t);
            assert_int_equal(attn_bleu_tokenize_13a(refs[i], &t), ATTN_OK);
            if (strcmp(t, ref_tok[i]) != 0)
                fail_msg("case %d ref %ld: 13a gave\n  '%s'\nPython's rules\n  '%s'", c, i, t,
                         ref_tok[i]);
            free(t);
            tokens_checked += 2;
        }
        sentences += n;

        attn_bleu b;
        assert_int_equal(attn_corpus_bleu(hyps, refs, n, &b), ATTN_OK);
        const cJSON *counts = cJSON_GetObjectItem(k, "counts");
        const cJSON *totals = cJSON_GetObjectItem(k, "totals");
        for (int o = 0; o < ATTN_BLEU_ORDER; o++) {
            assert_int_equal(b.counts[o], json_long(counts, o));
            assert_int_equal(b.totals[o], json_long(totals, o));
        }
        assert_int_equal(b.sys_len, (long)cJSON_GetObjectItem(k, "sys_len")->valuedouble);
        assert_int_equal(b.n_sentences, n);
        double want = 100.0 * cJSON_GetObjectItem(k, "nltk_bleu")->valuedouble;
        double d = fabs(b.score - want);
        if (d > max_bleu_diff) max_bleu_diff = d;
        if (d > 1e-9) fail_msg("case %d: BLEU %.15g, NLTK x 100 = %.15g", c, b.score, want);

        attn_chrf f;
        assert_int_equal(attn_corpus_chrf(hyps, refs, n, &f), ATTN_OK);
        const cJSON *chrf = cJSON_GetObjectItem(k, "chrf");
        for (int o = 0; o < ATTN_CHRF_ORDER; o++) {
            assert_int_equal(f.hyp[o], json_long(cJSON_GetObjectItem(chrf, "hyp"), o));
            assert_int_equal(f.ref[o], json_long(cJSON_GetObjectItem(chrf, "ref"), o));
            assert_int_equal(f.match[o], json_long(cJSON_GetObjectItem(chrf, "match"), o));
        }
        want = cJSON_GetObjectItem(chrf, "score")->valuedouble;
        d = fabs(f.score - want);
        if (d > max_chrf_diff) max_chrf_diff = d;
        if (d > 1e-9) fail_msg("case %d: chrF %.15g, Python %.15g", c, f.score, want);
        free(hyps), free(refs), free(hyp_tok), free(ref_tok);
    }
    printf("%d corpora, %ld sentence pairs, %ld lines tokenized as the Python rules say; "
           "max |BLEU - 100 NLTK| = %.3g, max |chrF - Python| = %.3g\n",
           n_cases, sentences, tokens_checked, max_bleu_diff, max_chrf_diff);
}

int main(void) {
    int rc = load_reference();
    if (rc == 77) {
        printf("skipped: /usr/bin/python3 with NLTK (Debian python3-nltk) is needed\n");
        return 77;
    }
    if (rc != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_python),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    cJSON_Delete(reference);
    return rc;
}
