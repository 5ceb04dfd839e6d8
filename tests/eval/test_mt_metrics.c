/* tests/eval/test_mt_metrics.c: the 13a tokenizer, BLEU and chrF (src/eval/bleu_tokenize.c,
 * bleu.c, chrf.c) on small cases computed by hand from the rules of include/attn/metrics.h:
 * sacreBLEU's 'exp' smoothing, orders with no n-grams, empty lines, brevity, clipping, several
 * references, chrF's effective orders and code points. The comparison with NLTK and a Python
 * chrF on larger corpora is tests/eval/test_mt_reference.c. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/metrics.h"

/* ---- 13a ------------------------------------------------------------------------------------ */

static void expect_tokens(const char *in, const char *want) {
    char *got = NULL;
    assert_int_equal(attn_bleu_tokenize_13a(in, &got), ATTN_OK);
    if (strcmp(got, want) != 0) fail_msg("13a('%s') = '%s', expected '%s'", in, got, want);
    free(got);
}

static void test_tokenize_13a(void **state) {
    (void)state;
    /* ASCII punctuation but ' , - . is split off */
    expect_tokens("Hello, world!", "Hello , world !");
    expect_tokens("(a)[b]{c}<d>", "( a ) [ b ] { c } < d >");
    expect_tokens("a/b@c#d$e%f^g*h+i=j|k~l`m_n\\o",
                  "a / b @ c # d $ e % f ^ g * h + i = j | k ~ l ` m _ n \\ o");
    expect_tokens("don't rock'n'roll", "don't rock'n'roll");
    expect_tokens("\"quoted\" (see: this; that?)", "\" quoted \" ( see : this ; that ? )");
    /* periods and commas: kept between digits, split off elsewhere */
    expect_tokens("It costs $5.00, ok.", "It costs $ 5.00 , ok .");
    expect_tokens("1,000.5 and 3,5", "1,000.5 and 3,5");
    expect_tokens("x.y a,b U.S.", "x . y a , b U . S .");
    expect_tokens(".5 5. 7.0.", ". 5 5 . 7.0 .");
    expect_tokens("a.5 5.a", "a . 5 5 . a");
    expect_tokens("end...", "end . . .");
    /* a dash is split off after a digit only */
    expect_tokens("pre-war 1990-2000 -5 ok- 2-", "pre-war 1990 - 2000 -5 ok- 2 -");
    expect_tokens("1.5-2.5", "1.5 - 2.5");
    /* entities, one pass each in the order quot, amp, lt, gt */
    expect_tokens("&quot;Hi&quot; &amp; &lt;b&gt;", "\" Hi \" & < b >");
    expect_tokens("&amp;lt;", "<");
    expect_tokens("&amp;quot;", "& quot ;");
    expect_tokens("AT&T", "AT & T");
    /* <skipped>, line breaks, white space (Python's, Unicode's included) */
    expect_tokens("<skipped>word <skip<skipped>ped>", "word < skipped >"); /* one pass */
    expect_tokens("well-\nknown a\nb", "wellknown a b");
    expect_tokens("x-\n", "x-"); /* the trailing "\n" goes first (BLEU's rstrip) */
    expect_tokens("  tab\there\x1f"
                  "nbsp\xc2\xa0thin\xe2\x80\x89"
                  "end\xe3\x80\x80 ",
                  "tab here nbsp thin end");
    expect_tokens("zero\xe2\x80\x8bwidth", "zero\xe2\x80\x8bwidth"); /* U+200B is not a space */
    /* non-ASCII punctuation stays in its word */
    expect_tokens("\xc2\xbfQu\xc3\xa9? \xc2\xabs\xc3\xad\xc2\xbb \xe2\x80\x94 caf\xc3\xa9.",
                  "\xc2\xbfQu\xc3\xa9 ? \xc2\xabs\xc3\xad\xc2\xbb \xe2\x80\x94 caf\xc3\xa9 .");
    expect_tokens("", "");
    expect_tokens(" \t ", "");

    char *out = (char *)1;
    assert_int_equal(attn_bleu_tokenize_13a("ok \xff", &out), ATTN_ERR_INVALID);
    assert_null(out);
    assert_non_null(strstr(attn_last_error(), "invalid UTF-8 at byte 3"));
    assert_int_equal(attn_bleu_tokenize_13a("\xc0\xaf", &out), ATTN_ERR_INVALID); /* overlong */
    assert_int_equal(attn_bleu_tokenize_13a("\xed\xa0\x80", &out),
                     ATTN_ERR_INVALID); /* surrogate */
    assert_int_equal(attn_bleu_tokenize_13a(NULL, &out), ATTN_ERR_INVALID);
    assert_int_equal(attn_bleu_tokenize_13a("a", NULL), ATTN_ERR_INVALID);
}

/* ---- BLEU ----------------------------------------------------------------------------------- */

static attn_bleu bleu_of(const char *const *hyps, const char *const *refs, long n) {
    attn_bleu b;
    attn_status s = attn_corpus_bleu(hyps, refs, n, &b);
    if (s != ATTN_OK) fail_msg("corpus bleu: %s", attn_last_error());
    return b;
}

static void expect_counts(const attn_bleu *b, const long counts[4], const long totals[4]) {
    for (int k = 0; k < 4; k++) {
        assert_int_equal(b->counts[k], counts[k]);
        assert_int_equal(b->totals[k], totals[k]);
    }
}

static void test_bleu_identical_and_lengths(void **state) {
    (void)state;
    const char *same[] = {"the cat sat on the mat."};
    attn_bleu b = bleu_of(same, same, 1);
    expect_counts(&b, (long[]){7, 6, 5, 4}, (long[]){7, 6, 5, 4});
    assert_true(fabs(b.score - 100.0) < 1e-12);
    assert_true(b.bp == 1.0 && b.sys_len == 7 && b.ref_len == 7);

    /* longer than the reference: no penalty; p_n = 4/6, 3/5, 2/4, 1/3 */
    const char *h1[] = {"a b c d e f"}, *r1[] = {"a b c d"};
    b = bleu_of(h1, r1, 1);
    expect_counts(&b, (long[]){4, 3, 2, 1}, (long[]){6, 5, 4, 3});
    assert_true(b.bp == 1.0);
    assert_true(fabs(b.score - 100.0 * pow(4.0 / 6 * 3.0 / 5 * 2.0 / 4 * 1.0 / 3, 0.25)) < 1e-9);
    assert_true(fabs(b.precisions[0] - 400.0 / 6) < 1e-12);

    /* shorter: every precision 100, BP = exp(1 - 6/4) */
    b = bleu_of(r1, h1, 1);
    assert_true(fabs(b.bp - exp(-0.5)) < 1e-15);
    assert_true(fabs(b.score - 100.0 * exp(-0.5)) < 1e-9);
}

static void test_bleu_exp_smoothing(void **state) {
    (void)state;
    /* no 4-gram match: p = 6/7, 4/6, 2/5 and, smoothed, 100 / (2 * 4) */
    const char *h[] = {"a b c x d e f"}, *r[] = {"a b c y d e f"};
    attn_bleu b = bleu_of(h, r, 1);
    expect_counts(&b, (long[]){6, 4, 2, 0}, (long[]){7, 6, 5, 4});
    assert_true(fabs(b.precisions[3] - 12.5) < 1e-12);
    double want = pow(600.0 / 7 * 400.0 / 6 * 40.0 * 12.5, 0.25);
    assert_true(fabs(b.score - want) < 1e-9);

    /* no 3- or 4-gram match: the second zero order gets 100 / (4 * totals) */
    const char *h2[] = {"a b x c d"}, *r2[] = {"a b y c d"};
    b = bleu_of(h2, r2, 1);
    expect_counts(&b, (long[]){4, 2, 0, 0}, (long[]){5, 4, 3, 2});
    assert_true(fabs(b.precisions[2] - 100.0 / 6) < 1e-12);
    assert_true(fabs(b.precisions[3] - 100.0 / 8) < 1e-12);
    assert_true(fabs(b.score - pow(80.0 * 50.0 * 100.0 / 6 * 12.5, 0.25)) < 1e-9);

    /* clipping: "the" counts once; 2..4-grams are smoothed 1/2, 1/4, 1/8 */
    const char *h3[] = {"the the the the"}, *r3[] = {"the cat"};
    b = bleu_of(h3, r3, 1);
    expect_counts(&b, (long[]){1, 0, 0, 0}, (long[]){4, 3, 2, 1});
    assert_true(fabs(b.score - pow(25.0 * 100.0 / 6 * 12.5 * 12.5, 0.25)) < 1e-9);

    /* hypotheses shorter than 4 tokens: no 4-grams at all, BLEU 0 (the first orders still 100) */
    const char *h4[] = {"a b c"};
    b = bleu_of(h4, h4, 1);
    expect_counts(&b, (long[]){3, 2, 1, 0}, (long[]){3, 2, 1, 0});
    assert_true(b.score == 0.0 && b.precisions[0] == 100.0 && b.precisions[3] == 0.0);

    /* nothing matches: BLEU 0 and every precision 0, though totals > 0 */
    const char *h5[] = {"p q r s t"}, *r5[] = {"a b c d e"};
    b = bleu_of(h5, r5, 1);
    assert_true(b.score == 0.0 && b.precisions[0] == 0.0 && b.totals[0] == 5);
}

static void test_bleu_empty_lines(void **state) {
    (void)state;
    /* an empty hypothesis alone: no tokens, BP 0, BLEU 0 */
    const char *empty[] = {""}, *r[] = {"a b c"};
    attn_bleu b = bleu_of(empty, r, 1);
    expect_counts(&b, (long[]){0, 0, 0, 0}, (long[]){0, 0, 0, 0});
    assert_true(b.score == 0.0 && b.bp == 0.0 && b.sys_len == 0 && b.ref_len == 3);

    /* a corpus with one empty hypothesis: its reference still counts in ref_len */
    const char *h2[] = {"a b c d e", ""}, *r2[] = {"a b c d e", "x y"};
    b = bleu_of(h2, r2, 2);
    expect_counts(&b, (long[]){5, 4, 3, 2}, (long[]){5, 4, 3, 2});
    assert_true(b.sys_len == 5 && b.ref_len == 7 && b.n_sentences == 2);
    assert_true(fabs(b.score - 100.0 * exp(1.0 - 7.0 / 5.0)) < 1e-9);

    /* an empty reference: nothing can match */
    const char *h3[] = {"a b c d"};
    b = bleu_of(h3, empty, 1);
    assert_true(b.score == 0.0 && b.ref_len == 0 && b.bp == 1.0);
}

static void test_bleu_references_and_sums(void **state) {
    (void)state;
    /* closest reference length, the shorter on a tie (|5 - 3| = |5 - 7|); counts clipped by the
     * largest count in any reference */
    const char *refs[] = {"a b c", "a b c d e f g"};
    attn_bleu b = {0};
    assert_int_equal(attn_bleu_add(&b, "a b c d e", refs, 2), ATTN_OK);
    assert_int_equal(attn_bleu_score(&b), ATTN_OK);
    assert_true(b.ref_len == 3 && b.sys_len == 5);
    expect_counts(&b, (long[]){5, 4, 3, 2}, (long[]){5, 4, 3, 2});
    assert_true(fabs(b.score - 100.0) < 1e-12);
    const char *twice[] = {"x x", "x x x"};
    attn_bleu c = {0};
    assert_int_equal(attn_bleu_add(&c, "x x x x", twice, 2), ATTN_OK);
    assert_true(c.counts[0] == 3 && c.counts[1] == 2 && c.ref_len == 3);

    /* a NULL reference is skipped */
    const char *some[] = {NULL, "a b c d e"};
    attn_bleu d = {0};
    assert_int_equal(attn_bleu_add(&d, "a b c d e", some, 2), ATTN_OK);
    assert_true(d.ref_len == 5 && d.n_sentences == 1);

    /* sums sentence by sentence are the corpus's */
    const char *hyps[] = {"the cat is on the mat", "there is a cat here", ""};
    const char *one[] = {"the cat sat on the mat", "a cat is here", "nothing"};
    attn_bleu corpus = bleu_of(hyps, one, 3), acc = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(attn_bleu_add(&acc, hyps[i], &one[i], 1), ATTN_OK);
    assert_int_equal(attn_bleu_score(&acc), ATTN_OK);
    assert_memory_equal(&acc, &corpus, sizeof acc);
}

static void test_bleu_errors(void **state) {
    (void)state;
    const char *ok[] = {"a b"}, *bad[] = {"a \xc3"}, *null[] = {NULL};
    attn_bleu b;
    assert_int_equal(attn_corpus_bleu(ok, ok, 0, &b), ATTN_ERR_INVALID);
    assert_int_equal(attn_corpus_bleu(NULL, ok, 1, &b), ATTN_ERR_INVALID);
    assert_int_equal(attn_corpus_bleu(ok, null, 1, &b), ATTN_ERR_INVALID);
    assert_int_equal(attn_corpus_bleu(null, ok, 1, &b), ATTN_ERR_INVALID);
    const char *two[] = {"a b", "a b"}, *two_bad[] = {"a b", "a \xc3"};
    assert_int_equal(attn_corpus_bleu(two, two_bad, 2, &b), ATTN_ERR_INVALID);
    assert_string_equal(attn_last_error(),
                        "sentence 1: reference 0: bleu tokenize: invalid UTF-8 at byte 2");
    assert_int_equal(attn_corpus_bleu(bad, ok, 1, &b), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "sentence 0: hypothesis"));
    attn_bleu acc = {0};
    assert_int_equal(attn_bleu_add(&acc, "a", null, 1), ATTN_ERR_INVALID);
    assert_int_equal(attn_bleu_add(&acc, "a", ok, 0), ATTN_ERR_INVALID);
    assert_int_equal(attn_bleu_add(&acc, "a", bad, 1), ATTN_ERR_INVALID);
    assert_true(acc.n_sentences == 0 && acc.totals[0] == 0); /* left as it was */
    acc.counts[0] = 2;                                       /* more matches than n-grams */
    assert_int_equal(attn_bleu_score(&acc), ATTN_ERR_INVALID);
}

/* ---- chrF ----------------------------------------------------------------------------------- */

static attn_chrf chrf_of(const char *hyp, const char *ref) {
    attn_chrf c;
    attn_status s = attn_corpus_chrf(&hyp, &ref, 1, &c);
    if (s != ATTN_OK) fail_msg("corpus chrf: %s", attn_last_error());
    return c;
}

static void test_chrf_small(void **state) {
    (void)state;
    attn_chrf c = chrf_of("abc", "abc");
    assert_true(fabs(c.score - 100.0) < 1e-12 && c.effective_order == 3);

    /* "ab" / "abc": P = (2/2 + 1/1) / 2 = 1, R = (2/3 + 1/2) / 2 = 7/12 (order 3: the hypothesis
     * has none, so it is not effective); F2 = 5 P R / (4 P + R) = 7/11 */
    c = chrf_of("ab", "abc");
    assert_int_equal(c.effective_order, 2);
    assert_true(fabs(c.score - 700.0 / 11) < 1e-9);
    assert_true(fabs(c.precision - 100.0) < 1e-12 && fabs(c.recall - 700.0 / 12) < 1e-9);

    /* a reference without 3-grams: the hypothesis's 3-grams are not counted (sacreBLEU);
     * P = (2/4 + 1/3) / 2 = 5/12, R = 1, F2 = 25/32 */
    c = chrf_of("abcd", "ab");
    assert_true(c.hyp[0] == 4 && c.hyp[1] == 3 && c.hyp[2] == 0 && c.ref[2] == 0);
    assert_true(fabs(c.score - 78.125) < 1e-9);

    /* white space (Unicode's too) is removed before counting */
    c = chrf_of("a b\xc2\xa0"
                "c",
                " abc\t");
    assert_true(fabs(c.score - 100.0) < 1e-12 && c.hyp[0] == 3);

    /* code points, not bytes: "año" is 3 characters; "ñ" and "n" share nothing */
    c = chrf_of("a\xc3\xb1o", "a\xc3\xb1o");
    assert_true(c.hyp[0] == 3 && c.hyp[2] == 1 && c.hyp[3] == 0 && c.score > 99.999);
    c = chrf_of("\xc3\xb1", "n");
    assert_true(c.match[0] == 0 && c.hyp[0] == 1 && c.score == 0.0);

    /* empty hypothesis or reference: no effective order, 0 */
    c = chrf_of("", "abc");
    assert_true(c.score == 0.0 && c.effective_order == 0 && c.ref[0] == 3);
    c = chrf_of("abc", "");
    assert_true(c.score == 0.0 && c.hyp[0] == 0);

    /* repeated characters are clipped: "aaaa" / "aa": 1-grams 2 of 4 match */
    c = chrf_of("aaaa", "aa");
    assert_true(c.match[0] == 2 && c.match[1] == 1 && c.hyp[2] == 0);
}

static void test_chrf_corpus_and_references(void **state) {
    (void)state;
    /* the corpus sums the statistics, then scores once (not a mean of sentence scores) */
    const char *hyps[] = {"abc", "x"}, *refs[] = {"abc", "yz"};
    attn_chrf c;
    assert_int_equal(attn_corpus_chrf(hyps, refs, 2, &c), ATTN_OK);
    /* order 1: hyp 3 + 1, ref 3 + 2, match 3; order 2: hyp 2 + 1, ref 2 + 1, match 2; order 3:
     * hyp 1 + 0 (no 3-gram in "yz"), ref 1, match 1 */
    assert_true(c.hyp[0] == 4 && c.ref[0] == 5 && c.match[0] == 3);
    assert_true(c.hyp[1] == 2 && c.ref[1] == 3 && c.match[1] == 2);
    assert_true(c.hyp[2] == 1 && c.ref[2] == 1 && c.match[2] == 1 && c.n_sentences == 2);
    double p = (3.0 / 4 + 2.0 / 2 + 1.0) / 3, r = (3.0 / 5 + 2.0 / 3 + 1.0) / 3;
    assert_true(fabs(c.score - 100.0 * 5 * p * r / (4 * p + r)) < 1e-9);

    /* several references: the one with the best chrF is kept (NULL skipped) */
    const char *several[] = {"xyz", NULL, "abd", "abc"};
    attn_chrf acc = {0};
    assert_int_equal(attn_chrf_add(&acc, "abc", several, 4), ATTN_OK);
    assert_int_equal(attn_chrf_score(&acc), ATTN_OK);
    assert_true(fabs(acc.score - 100.0) < 1e-12 && acc.ref[0] == 3 && acc.match[2] == 1);

    const char *bad[] = {"a\xe2\x82"};
    assert_int_equal(attn_corpus_chrf(bad, refs, 1, &c), ATTN_ERR_INVALID);
    assert_string_equal(attn_last_error(), "sentence 0: hypothesis: invalid UTF-8 at byte 1");
    assert_int_equal(attn_corpus_chrf(hyps, refs, 0, &c), ATTN_ERR_INVALID);
    assert_int_equal(attn_chrf_add(&acc, "a", several + 1, 1), ATTN_ERR_INVALID);
    assert_int_equal(acc.n_sentences, 1);
}

/* attn_corpus_mt is the add loop of both metrics, over every reference set; its text and JSON
 * carry the same numbers (the JSON is checked by Python's json in tests/cli/test_eval_translate).
 */
static void test_corpus_mt_and_format(void **state) {
    (void)state;
    const char *hyps[] = {"the cat is on the mat", "there is a cat here"};
    const char *r1[] = {"the cat sat on the mat", "a cat is here"};
    const char *r2[] = {"a cat is on the mat", "there is a cat"};
    const char *const *refs[] = {r1, r2};
    attn_bleu b, want_b = {0};
    attn_chrf c, want_c = {0};
    assert_int_equal(attn_corpus_mt(hyps, refs, 2, 2, &b, &c), ATTN_OK);
    for (int i = 0; i < 2; i++) {
        const char *both[] = {r1[i], r2[i]};
        assert_int_equal(attn_bleu_add(&want_b, hyps[i], both, 2), ATTN_OK);
        assert_int_equal(attn_chrf_add(&want_c, hyps[i], both, 2), ATTN_OK);
    }
    assert_int_equal(attn_bleu_score(&want_b), ATTN_OK);
    assert_int_equal(attn_chrf_score(&want_c), ATTN_OK);
    assert_memory_equal(&b, &want_b, sizeof b);
    assert_memory_equal(&c, &want_c, sizeof c);
    attn_bleu one;
    attn_chrf one_c;
    assert_int_equal(attn_corpus_mt(hyps, refs, 1, 2, &one, &one_c), ATTN_OK);
    attn_bleu corpus = bleu_of(hyps, r1, 2);
    assert_memory_equal(&one, &corpus, sizeof one);

    char *text = NULL, want[256];
    assert_int_equal(attn_mt_scores_format(&b, &c, 2, 0, &text), ATTN_OK);
    snprintf(want, sizeof want,
             "BLEU %.2f  chrF %.2f  (4-gram precisions %.1f/%.1f/%.1f/%.1f, BP %.3f, hyp %ld ref "
             "%ld tokens)",
             b.score, c.score, b.precisions[0], b.precisions[1], b.precisions[2], b.precisions[3],
             b.bp, b.sys_len, b.ref_len);
    assert_string_equal(text, want);
    free(text);
    assert_int_equal(attn_mt_scores_format(&b, &c, 2, 1, &text), ATTN_OK);
    assert_true(strncmp(text, "{\"sentences\":2,\"references\":2,\"bleu\":{\"score\":",
                        strlen("{\"sentences\":2,\"references\":2,\"bleu\":{\"score\":")) == 0);
    assert_non_null(strstr(text, "\"tokenize\":\"13a\""));
    assert_non_null(strstr(text, "\"char_order\":6"));
    free(text);

    const char *bad[] = {"ok", "b\xc3("};
    assert_int_equal(attn_corpus_mt(bad, refs, 2, 2, &b, &c), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "sentence 2"));
    assert_true(b.n_sentences == 0 && c.n_sentences == 0);
    assert_int_equal(attn_corpus_mt(hyps, refs, 0, 2, &b, &c), ATTN_ERR_INVALID);
    assert_int_equal(attn_mt_scores_format(NULL, &c, 1, 0, &text), ATTN_ERR_INVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenize_13a),
        cmocka_unit_test(test_bleu_identical_and_lengths),
        cmocka_unit_test(test_bleu_exp_smoothing),
        cmocka_unit_test(test_bleu_empty_lines),
        cmocka_unit_test(test_bleu_references_and_sums),
        cmocka_unit_test(test_bleu_errors),
        cmocka_unit_test(test_chrf_small),
        cmocka_unit_test(test_chrf_corpus_and_references),
        cmocka_unit_test(test_corpus_mt_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
