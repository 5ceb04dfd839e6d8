/* tests/decode/test_context_streams.c: streams of one context at different lengths
 * (attn_context_feed_streams) and copied onto one another (attn_context_reorder) give, stream by
 * stream, the logits of a context of one stream fed that stream's history alone, for the decoder
 * LM and seq2seq, pre- and post-LN; the reorder's copy orders (a chain, a cycle, all from one) are
 * all exercised. */
#include "testutil.h"

#include <string.h>

#include "attn/attn.h"

enum { B = 4, CAP = 16, V = 11, TS = 9 };

static attn_model *make_model(attn_arch arch, attn_norm norm, attn_pos pos) {
    attn_config c = attn_config_default(arch);
    c.vocab_size = V;
    c.max_len = CAP;
    c.d_model = 24;
    c.n_heads = 3;
    c.d_ff = 40;
    c.n_layers = 2;
    c.n_dec_layers = arch == ATTN_ARCH_SEQ2SEQ ? 2 : 0;
    c.norm = norm;
    c.pos = pos;
    c.dropout = 0.1f; /* must be off in decoding */
    attn_model *m;
    assert_int_equal(attn_model_create(&c, 3, &m), ATTN_OK);
    attn_rng rng;
    attn_rng_init(&rng, 9, 0);
    float *p = attn_model_params(m);
    for (size_t i = 0; i < attn_model_num_params(m); i++)
        p[i] += 0.3f * attn_rng_normal(&rng);
    return m;
}

/* What the batched context should hold: each stream's history and source. */
typedef struct {
    attn_model *m;
    int s2s;
    int src[B][TS], src_len[B]; /* the sources of the streams (seq2seq) */
    int hist[B][CAP], len[B];
    float logits[B][V]; /* the batched context's last logits */
} streams;

/* The logits of a one-stream context fed stream b's history at once (its source first). */
static void solo_logits(const streams *s, int b, float *out) {
    attn_context *ctx;
    const float *lg;
    assert_int_equal(attn_context_create(s->m, 1, CAP, &ctx), ATTN_OK);
    if (s->s2s)
        assert_int_equal(attn_context_set_source(ctx, s->src[b], &s->src_len[b], TS), ATTN_OK);
    assert_int_equal(attn_context_feed(ctx, s->hist[b], s->len[b], &lg), ATTN_OK);
    memcpy(out, lg, V * sizeof(float));
    attn_context_free(ctx);
}

/* Every stream of ctx against its solo run (zeros for a stream never fed). */
static void check_streams(streams *s, attn_context *ctx, const float *lg, const char *what) {
    for (int b = 0; b < B; b++) {
        assert_int_equal(attn_context_stream_length(ctx, b), s->len[b]);
        float want[V] = {0};
        if (s->len[b]) solo_logits(s, b, want);
        tu_assert_close(lg + b * V, want, V, 1e-4, 1e-5, what);
        memcpy(s->logits[b], lg + b * V, sizeof want);
    }
}

/* Feeds counts[b] new tokens to stream b (lockstep when counts is NULL: T each). */
static const float *feed(streams *s, attn_context *ctx, int T, const int *counts, int seed) {
    int tokens[B * CAP];
    for (int b = 0; b < B; b++) {
        int n = counts ? counts[b] : T;
        for (int t = 0; t < T; t++) {
            tokens[b * T + t] = t < n ? (seed * 7 + b * 5 + t * 3) % V : 99; /* 99: not read */
            if (t < n) s->hist[b][s->len[b] + t] = tokens[b * T + t];
        }
        s->len[b] += n;
    }
    const float *lg;
    if (counts)
        assert_int_equal(attn_context_feed_streams(ctx, tokens, T, counts, &lg), ATTN_OK);
    else
        assert_int_equal(attn_context_feed(ctx, tokens, T, &lg), ATTN_OK);
    return lg;
}

/* Reorders ctx and the expected streams; the logits move with their stream, bit for bit. */
static void reorder(streams *s, attn_context *ctx, const int parents[B], const float *lg) {
    streams old = *s;
    assert_int_equal(attn_context_reorder(ctx, parents), ATTN_OK);
    for (int i = 0; i < B; i++) {
        int p = parents[i];
        memcpy(s->hist[i], old.hist[p], sizeof s->hist[i]);
        memcpy(s->src[i], old.src[p], sizeof s->src[i]);
        s->len[i] = old.len[p], s->src_len[i] = old.src_len[p];
        assert_memory_equal(lg + i * V, old.logits[p], V * sizeof(float));
        assert_int_equal(attn_context_stream_length(ctx, i), s->len[i]);
    }
}

static attn_context *start(streams *s, attn_arch arch, attn_norm norm, attn_pos pos) {
    memset(s, 0, sizeof *s);
    s->m = make_model(arch, norm, pos);
    s->s2s = arch == ATTN_ARCH_SEQ2SEQ;
    attn_context *ctx;
    assert_int_equal(attn_context_create(s->m, B, CAP, &ctx), ATTN_OK);
    if (s->s2s) {
        int src[B * TS], lens[B] = {9, 4, 7, 2};
        for (int b = 0; b < B; b++) {
            s->src_len[b] = lens[b];
            for (int t = 0; t < TS; t++)
                s->src[b][t] = src[b * TS + t] = (b * 3 + t * 5 + 1) % V;
        }
        assert_int_equal(attn_context_set_source(ctx, src, lens, TS), ATTN_OK);
    }
    return ctx;
}

/* Lockstep feeds (streams at one length), a reorder {1, 1, 0, 2}, more feeds. */
static void lockstep_then_reorder(attn_arch arch, attn_norm norm, attn_pos pos) {
    streams s;
    attn_context *ctx = start(&s, arch, norm, pos);
    const float *lg = feed(&s, ctx, 4, NULL, 1);
    check_streams(&s, ctx, lg, "lockstep prefill");
    reorder(&s, ctx, (const int[B]){1, 1, 0, 2}, lg);
    for (int step = 0; step < 3; step++) {
        lg = feed(&s, ctx, 1, NULL, 10 + step);
        check_streams(&s, ctx, lg, "after reorder {1,1,0,2}");
    }
    reorder(&s, ctx, (const int[B]){3, 0, 1, 2}, lg); /* a cycle through all four */
    lg = feed(&s, ctx, 2, NULL, 20);
    check_streams(&s, ctx, lg, "after the cycle {3,0,1,2}");
    attn_context_free(ctx);
    attn_model_free(s.m);
}

/* Streams at different lengths: fed different counts (several tokens: the attention runs stream
 * by stream; one each: batched with per-stream key counts), reordered, fed in lockstep. */
static void uneven_streams(attn_arch arch, attn_norm norm, attn_pos pos) {
    streams s;
    attn_context *ctx = start(&s, arch, norm, pos);
    const float *lg = feed(&s, ctx, 5, (const int[B]){5, 2, 0, 3}, 1);
    check_streams(&s, ctx, lg, "counts {5,2,0,3}");
    assert_int_equal(attn_context_length(ctx), 5);
    lg = feed(&s, ctx, 1, NULL, 2); /* one each, from lengths 5, 2, 0, 3 */
    check_streams(&s, ctx, lg, "lockstep one token at uneven lengths");
    reorder(&s, ctx, (const int[B]){1, 1, 0, 2}, lg);
    lg = feed(&s, ctx, 3, (const int[B]){2, 3, 1, 0}, 3);
    check_streams(&s, ctx, lg, "counts {2,3,1,0} after reorder");
    lg = feed(&s, ctx, 1, (const int[B]){1, 0, 1, 1}, 4);
    check_streams(&s, ctx, lg, "counts {1,0,1,1}");
    reorder(&s, ctx, (const int[B]){2, 0, 1, 3}, lg); /* a three-cycle and a fixed point */
    lg = feed(&s, ctx, 2, NULL, 5);
    check_streams(&s, ctx, lg, "lockstep after the cycle {2,0,1,3}");
    reorder(&s, ctx, (const int[B]){3, 3, 3, 3}, lg); /* one length again: the batched path */
    lg = feed(&s, ctx, 1, NULL, 6);
    check_streams(&s, ctx, lg, "all from stream 3");
    attn_context_free(ctx);
    attn_model_free(s.m);
}

static void test_lm_reorder(void **state) {
    (void)state;
    lockstep_then_reorder(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE, ATTN_POS_LEARNED);
    lockstep_then_reorder(ATTN_ARCH_DECODER_LM, ATTN_NORM_POST, ATTN_POS_SINUSOIDAL);
}

static void test_seq2seq_reorder(void **state) {
    (void)state;
    lockstep_then_reorder(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_PRE, ATTN_POS_LEARNED);
    lockstep_then_reorder(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_POST, ATTN_POS_SINUSOIDAL);
}

static void test_lm_uneven(void **state) {
    (void)state;
    uneven_streams(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE, ATTN_POS_SINUSOIDAL);
    uneven_streams(ATTN_ARCH_DECODER_LM, ATTN_NORM_POST, ATTN_POS_LEARNED);
}

static void test_seq2seq_uneven(void **state) {
    (void)state;
    uneven_streams(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_PRE, ATTN_POS_SINUSOIDAL);
    uneven_streams(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_POST, ATTN_POS_LEARNED);
}

/* Bad arguments are refused and change nothing. */
static void test_errors(void **state) {
    (void)state;
    streams s;
    attn_context *ctx = start(&s, ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE, ATTN_POS_LEARNED);
    const float *lg = feed(&s, ctx, 3, (const int[B]){3, 1, 2, 0}, 1);
    int tokens[B * 2] = {0};
    assert_int_equal(attn_context_reorder(ctx, (const int[B]){0, 1, 4, 2}), ATTN_ERR_INVALID);
    assert_int_equal(attn_context_reorder(ctx, (const int[B]){0, -1, 1, 2}), ATTN_ERR_INVALID);
    assert_int_equal(attn_context_feed_streams(ctx, tokens, 2, (const int[B]){0, 0, 0, 0}, &lg),
                     ATTN_ERR_INVALID);
    assert_int_equal(attn_context_feed_streams(ctx, tokens, 2, (const int[B]){1, 3, 0, 0}, &lg),
                     ATTN_ERR_INVALID);
    assert_int_equal(attn_context_feed_streams(ctx, tokens, 2, (const int[B]){1, -1, 0, 0}, &lg),
                     ATTN_ERR_INVALID);
    tokens[1 * 2] = V; /* stream 1's first token, out of range */
    assert_int_equal(attn_context_feed_streams(ctx, tokens, 2, (const int[B]){1, 1, 0, 0}, &lg),
                     ATTN_ERR_INVALID);
    tokens[1 * 2] = 0;
    tokens[1 * 2 + 1] = V; /* past stream 1's count: not read */
    assert_int_equal(attn_context_feed_streams(ctx, tokens, 2, (const int[B]){1, 1, 0, 0}, &lg),
                     ATTN_OK);
    /* stream 0 is at 4 of 16: 13 more do not fit, 12 do */
    int many[B * 13] = {0};
    assert_int_equal(attn_context_feed_streams(ctx, many, 13, (const int[B]){13, 0, 0, 0}, &lg),
                     ATTN_ERR_INVALID);
    assert_int_equal(attn_context_feed(ctx, many, 13, &lg), ATTN_ERR_INVALID);
    assert_int_equal(attn_context_stream_length(ctx, 0), 4);
    assert_int_equal(attn_context_stream_length(ctx, 1), 2);
    assert_int_equal(attn_context_stream_length(ctx, 3), 0);
    assert_int_equal(attn_context_stream_length(ctx, B), -1);
    assert_int_equal(attn_context_feed_streams(ctx, many, 12, (const int[B]){12, 0, 0, 0}, &lg),
                     ATTN_OK);
    assert_int_equal(attn_context_length(ctx), CAP);
    attn_context_reset(ctx);
    assert_int_equal(attn_context_length(ctx), 0);
    attn_context_free(ctx);
    attn_model_free(s.m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lm_reorder), cmocka_unit_test(test_seq2seq_reorder),
        cmocka_unit_test(test_lm_uneven),  cmocka_unit_test(test_seq2seq_uneven),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
