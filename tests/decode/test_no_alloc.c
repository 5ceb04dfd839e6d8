/* tests/decode/test_no_alloc.c: steady-state decoding allocates nothing: once a context and a
 * sampler exist, attn_context_feed of one token per stream and attn_sampler_sample (greedy, and
 * temperature + top-k + top-p, whose candidates are sorted) make no malloc, calloc or realloc, nor
 * do attn_context_reorder and attn_context_feed_streams.
 *
 * The test binary replaces malloc, calloc and realloc with counting wrappers around glibc's
 * __libc_* functions (the static libattn and the shared libraries all call these). Not counted:
 * the aligned allocations libgomp makes for the team of a parallel region that runs on one thread
 * (`#pragma omp parallel ... if (false)`, 1.5 KB each), which some kernels still start for small
 * sizes. One thread, so that no GEMM runs threaded (OpenBLAS mallocs a buffer per threaded call).
 * Skipped where the C library is not glibc, and in the sanitizer build (ATTN_TEST_SANITIZED),
 * whose own allocator cannot be wrapped this way. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "attn/attn.h"

static volatile int counting;
static long allocations;

#if defined(__GLIBC__) && !defined(ATTN_TEST_SANITIZED)
#define COUNT_ALLOCATIONS 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n) {
    if (counting) __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
    if (counting) __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
    if (counting) __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    return __libc_realloc(p, n);
}
#endif

/* Decodes `steps` tokens for B streams after a warm-up and returns the allocations made. */
static long allocations_while_decoding(int B, attn_sampler_params sp, int steps) {
    attn_config c = attn_config_default(ATTN_ARCH_DECODER_LM);
    c.d_model = 64, c.n_heads = 4, c.d_ff = 128, c.n_layers = 2, c.max_len = 64;
    attn_model *m;
    attn_sampler *s;
    attn_context *ctx;
    assert_int_equal(attn_model_create(&c, 1, &m), ATTN_OK);
    assert_int_equal(attn_sampler_create(c.vocab_size, sp, &s), ATTN_OK);
    assert_int_equal(attn_context_create(m, B, c.max_len, &ctx), ATTN_OK);
    int tokens[8 * 3] = {0};
    const float *logits;
    assert_int_equal(attn_context_feed(ctx, tokens, 3, &logits), ATTN_OK);
    long before = allocations;
    for (int step = 0; step < steps; step++) {
        counting = step >= 2; /* the first steps may still warm up libraries */
        for (int b = 0; b < B; b++)
            tokens[b] = attn_sampler_sample(s, logits + (size_t)b * c.vocab_size);
        attn_status st = attn_context_feed(ctx, tokens, 1, &logits);
        counting = 0;
        assert_int_equal(st, ATTN_OK);
    }
    long made = allocations - before;
    attn_context_free(ctx);
    attn_sampler_free(s);
    attn_model_free(m);
    return made;
}

static void test_steady_state_decoding_does_not_allocate(void **state) {
    (void)state;
#ifndef __GLIBC__
    skip();
#endif
    int threads = attn_get_num_threads();
    assert_int_equal(attn_set_num_threads(1), ATTN_OK);
    attn_sampler_params greedy = attn_sampler_default_params();
    greedy.temperature = 0;
    attn_sampler_params nucleus = attn_sampler_default_params();
    nucleus.temperature = 0.9f, nucleus.top_k = 200, nucleus.top_p = 0.95f, nucleus.seed = 3;
    attn_sampler_params top_p = nucleus;
    top_p.top_k = 0; /* the pre-filtered path */
    assert_int_equal(allocations_while_decoding(1, greedy, 20), 0);
    assert_int_equal(allocations_while_decoding(3, nucleus, 20), 0);
    assert_int_equal(allocations_while_decoding(8, top_p, 20), 0);
    assert_int_equal(attn_set_num_threads(threads), ATTN_OK);
}

/* Beam-search bookkeeping allocates nothing either: reordering streams (a chain and a cycle) and
 * feeding them different numbers of tokens. */
static void test_reorder_and_uneven_feeds_do_not_allocate(void **state) {
    (void)state;
#ifndef __GLIBC__
    skip();
#endif
    int threads = attn_get_num_threads();
    assert_int_equal(attn_set_num_threads(1), ATTN_OK);
    attn_config c = attn_config_default(ATTN_ARCH_DECODER_LM);
    c.d_model = 64, c.n_heads = 4, c.d_ff = 128, c.n_layers = 2, c.max_len = 64;
    attn_model *m;
    attn_context *ctx;
    assert_int_equal(attn_model_create(&c, 1, &m), ATTN_OK);
    assert_int_equal(attn_context_create(m, 4, c.max_len, &ctx), ATTN_OK);
    int tokens[4 * 3] = {0}, counts[4] = {3, 1, 2, 0};
    const int chain[4] = {1, 1, 0, 2}, cycle[4] = {3, 0, 1, 2};
    const float *logits;
    assert_int_equal(attn_context_feed_streams(ctx, tokens, 3, counts, &logits), ATTN_OK);
    assert_int_equal(attn_context_reorder(ctx, chain), ATTN_OK);
    long before = allocations;
    counting = 1;
    attn_status st = attn_context_reorder(ctx, cycle);
    if (st == ATTN_OK) st = attn_context_reorder(ctx, chain);
    if (st == ATTN_OK) st = attn_context_feed_streams(ctx, tokens, 3, counts, &logits);
    counting = 0;
    assert_int_equal(st, ATTN_OK);
    assert_int_equal(allocations - before, 0);
    attn_context_free(ctx);
    attn_model_free(m);
    assert_int_equal(attn_set_num_threads(threads), ATTN_OK);
}

int main(void) {
#ifndef COUNT_ALLOCATIONS
    puts("SKIPPED: malloc cannot be counted here (not glibc, or the sanitizer build)");
    return 77;
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_state_decoding_does_not_allocate),
        cmocka_unit_test(test_reorder_and_uneven_feeds_do_not_allocate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
