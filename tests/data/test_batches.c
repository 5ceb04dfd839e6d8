/* tests/data/test_batches.c: length-bucketed batch plans and token dropout (src/data/batches.c). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/data.h"

/* Every index of idx (or 0..n-1) exactly once, batch sizes within [1, bs]. */
static void check_partition(const attn_batch_plan *p, const long *idx, long n, int bs) {
    assert_int_equal(p->offsets[0], 0);
    assert_int_equal(p->offsets[p->n_batches], n);
    for (long b = 0; b < p->n_batches; b++) {
        long size = p->offsets[b + 1] - p->offsets[b];
        assert_true(size >= 1 && size <= bs);
    }
    long top = 0;
    for (long k = 0; k < n; k++)
        if ((idx ? idx[k] : k) > top) top = idx ? idx[k] : k;
    int *seen = calloc((size_t)top + 1, sizeof *seen);
    for (long k = 0; k < n; k++)
        seen[p->order[k]]++;
    for (long k = 0; k < n; k++)
        assert_int_equal(seen[idx ? idx[k] : k], 1);
    free(seen);
}

/* Evaluation plans: sorted by length, ties in index order, full batches but the last. */
static void test_sorted(void **state) {
    const int lengths[] = {5, 1, 3, 1, 5, 2, 9};
    attn_batch_plan p;
    assert_int_equal(attn_batch_plan_make(lengths, NULL, 7, 3, 1, 0, 0, 0, &p), ATTN_OK);
    const long want[] = {1, 3, 5, 2, 0, 4, 6};
    assert_memory_equal(p.order, want, sizeof want);
    assert_int_equal(p.n_batches, 3);
    const long offsets[] = {0, 3, 6, 7};
    assert_memory_equal(p.offsets, offsets, sizeof offsets);
    attn_batch_plan_free(&p);
    attn_batch_plan_free(&p);
}

/* Training plans: a partition, same (seed, stream) same plan, another stream another plan, and
 * far less padding than random batches. */
static void test_bucketed(void **state) {
    enum { n = 5000, bs = 16 };
    int *lengths = malloc(n * sizeof *lengths);
    attn_rng rng;
    attn_rng_init(&rng, 7, 0);
    for (long i = 0; i < n; i++)
        lengths[i] = 1 + (int)attn_rng_below(&rng, 128);
    attn_batch_plan a, b, c;
    assert_int_equal(attn_batch_plan_make(lengths, NULL, n, bs, 50, 1, 3, 1, &a), ATTN_OK);
    assert_int_equal(attn_batch_plan_make(lengths, NULL, n, bs, 50, 1, 3, 1, &b), ATTN_OK);
    assert_int_equal(attn_batch_plan_make(lengths, NULL, n, bs, 50, 1, 3, 2, &c), ATTN_OK);
    check_partition(&a, NULL, n, bs);
    check_partition(&c, NULL, n, bs);
    assert_int_equal(a.n_batches, b.n_batches);
    assert_memory_equal(a.order, b.order, n * sizeof(long));
    assert_memory_equal(a.offsets, b.offsets, (size_t)(a.n_batches + 1) * sizeof(long));
    assert_true(memcmp(a.order, c.order, n * sizeof(long)) != 0);
    /* padding = sum over batches of (B * longest - sum of lengths) */
    long pad_bucketed = 0, pad_random = 0, real = 0;
    for (long k = 0; k < a.n_batches; k++) {
        int longest = 0, longest_r = 0;
        for (long j = a.offsets[k]; j < a.offsets[k + 1]; j++) {
            if (lengths[a.order[j]] > longest) longest = lengths[a.order[j]];
            if (lengths[j] > longest_r)
                longest_r = lengths[j]; /* unsorted batch of the same size */
            real += lengths[a.order[j]];
        }
        long size = a.offsets[k + 1] - a.offsets[k];
        pad_bucketed += size * longest;
        pad_random += size * longest_r;
    }
    pad_bucketed -= real;
    pad_random -= real;
    /* random batches of 16 from U[1,128] pad ~ 55% of their cells; buckets of 800 under 2% */
    assert_true(pad_bucketed * 20 < pad_random);
    /* batches are not in length order: the first batches are not the shortest */
    int ordered = 1;
    for (long k = 1; k < a.n_batches && ordered; k++)
        ordered = lengths[a.order[a.offsets[k]]] >= lengths[a.order[a.offsets[k - 1]]];
    assert_false(ordered);
    attn_batch_plan_free(&a);
    attn_batch_plan_free(&b);
    attn_batch_plan_free(&c);
    free(lengths);
}

/* A subset through idx; n = 0; argument errors. */
static void test_subset_and_errors(void **state) {
    const int lengths[] = {4, 3, 2, 1, 9, 9};
    const long idx[] = {5, 0, 3};
    attn_batch_plan p;
    assert_int_equal(attn_batch_plan_make(lengths, idx, 3, 2, 4, 1, 1, 0, &p), ATTN_OK);
    check_partition(&p, idx, 3, 2);
    attn_batch_plan_free(&p);
    assert_int_equal(attn_batch_plan_make(lengths, idx, 3, 8, 1, 0, 0, 0, &p), ATTN_OK);
    const long want[] = {3, 0, 5};
    assert_memory_equal(p.order, want, sizeof want);
    attn_batch_plan_free(&p);
    assert_int_equal(attn_batch_plan_make(lengths, NULL, 0, 2, 4, 1, 1, 0, &p), ATTN_OK);
    assert_int_equal(p.n_batches, 0);
    attn_batch_plan_free(&p);
    assert_int_equal(attn_batch_plan_make(lengths, NULL, 6, 0, 4, 1, 1, 0, &p), ATTN_ERR_INVALID);
    assert_int_equal(attn_batch_plan_make(lengths, NULL, 6, 2, 0, 1, 1, 0, &p), ATTN_ERR_INVALID);
    assert_int_equal(attn_batch_plan_make(lengths, NULL, -1, 2, 1, 1, 1, 0, &p), ATTN_ERR_INVALID);
    assert_int_equal(attn_batch_plan_make(lengths, NULL, 6, 2, 1, 1, 1, 0, NULL), ATTN_ERR_INVALID);
}

/* Token dropout: about p of the eligible positions replaced (a binomial count within 5 sigma),
 * never the kept prefix or the padding, the same positions for the same (seed, stream). */
static void test_token_dropout(void **state) {
    (void)state;
    enum { B = 64, T = 100, PAD = -1, MASK = -7 };
    int *tokens = malloc(B * T * sizeof *tokens), *again = malloc(B * T * sizeof *again);
    int lengths[B];
    long eligible = 0;
    for (int b = 0; b < B; b++) {
        lengths[b] = 1 + (b * 37) % T;
        eligible += lengths[b] - 1;
        for (int t = 0; t < T; t++)
            tokens[b * T + t] = t < lengths[b] ? 1000 + t : PAD;
    }
    memcpy(again, tokens, B * T * sizeof *tokens);
    long n = -1;
    assert_int_equal(attn_token_dropout(tokens, lengths, B, T, 0.25f, MASK, 1, 9, 4, &n), ATTN_OK);
    long seen = 0;
    for (int b = 0; b < B; b++) {
        assert_int_equal(tokens[b * T], 1000); /* the [CLS] position is kept */
        for (int t = 1; t < T; t++) {
            int v = tokens[b * T + t];
            if (t >= lengths[b])
                assert_int_equal(v, PAD);
            else if (v == MASK)
                seen++;
            else
                assert_int_equal(v, 1000 + t);
        }
    }
    assert_int_equal(seen, n);
    double mean = 0.25 * (double)eligible, sd = sqrt(eligible * 0.25 * 0.75);
    assert_true(fabs((double)n - mean) < 5 * sd);
    assert_int_equal(attn_token_dropout(again, lengths, B, T, 0.25f, MASK, 1, 9, 4, NULL), ATTN_OK);
    assert_memory_equal(tokens, again, B * T * sizeof *tokens);
    /* another step drops other positions */
    memcpy(again, tokens, B * T * sizeof *tokens);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < lengths[b]; t++)
            again[b * T + t] = 1000 + t;
    assert_int_equal(attn_token_dropout(again, lengths, B, T, 0.25f, MASK, 1, 9, 5, NULL), ATTN_OK);
    assert_memory_not_equal(tokens, again, B * T * sizeof *tokens);
    /* p = 0 changes nothing; bad arguments are errors */
    memcpy(again, tokens, B * T * sizeof *tokens);
    assert_int_equal(attn_token_dropout(again, lengths, B, T, 0.0f, MASK, 1, 9, 4, &n), ATTN_OK);
    assert_int_equal(n, 0);
    assert_memory_equal(tokens, again, B * T * sizeof *tokens);
    assert_int_equal(attn_token_dropout(tokens, lengths, B, T, 1.0f, MASK, 1, 9, 4, NULL),
                     ATTN_ERR_INVALID);
    assert_int_equal(attn_token_dropout(tokens, lengths, B, T, -0.1f, MASK, 1, 9, 4, NULL),
                     ATTN_ERR_INVALID);
    lengths[3] = T + 1;
    assert_int_equal(attn_token_dropout(tokens, lengths, B, T, 0.1f, MASK, 1, 9, 4, NULL),
                     ATTN_ERR_INVALID);
    free(tokens);
    free(again);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted),
        cmocka_unit_test(test_bucketed),
        cmocka_unit_test(test_subset_and_errors),
        cmocka_unit_test(test_token_dropout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
