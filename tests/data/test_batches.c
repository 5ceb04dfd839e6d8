/* tests/data/test_batches.c: length-bucketed batch plans (src/data/batches.c). */
#include "testutil.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted),
        cmocka_unit_test(test_bucketed),
        cmocka_unit_test(test_subset_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
