/* tests/decode/test_context.c: KV-cached decoding gives the logits of the full forward pass, one
 * token at a time and in chunks, for the decoder LM and the seq2seq model. */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "attn/attn.h"

static attn_config tiny(attn_arch arch, attn_norm norm, attn_pos pos) {
    attn_config c = attn_config_default(arch);
    c.vocab_size = 11;
    c.max_len = 16;
    c.d_model = 24;
    c.n_heads = 3;
    c.d_ff = 40;
    c.n_layers = 2;
    c.n_dec_layers = arch == ATTN_ARCH_SEQ2SEQ ? 2 : 0;
    c.norm = norm;
    c.pos = pos;
    c.dropout = 0.1f; /* must be off in inference */
    return c;
}

static void perturb(attn_model *m) {
    attn_rng rng;
    attn_rng_init(&rng, 9, 0);
    float *p = attn_model_params(m);
    for (size_t i = 0; i < attn_model_num_params(m); i++)
        p[i] += 0.2f * attn_rng_normal(&rng);
}

/* Full forward logits of every position vs the cache, fed in chunks of `chunk`. */
static void check_lm(attn_norm norm, attn_pos pos, int chunk) {
    attn_config c = tiny(ATTN_ARCH_DECODER_LM, norm, pos);
    attn_model *m;
    assert_int_equal(attn_model_create(&c, 3, &m), ATTN_OK);
    perturb(m);
    enum { B = 2, T = 13 };
    int tokens[B * T];
    for (int i = 0; i < B * T; i++)
        tokens[i] = (i * 7 + 3) % c.vocab_size;
    attn_batch batch = {.B = B, .T = T, .tokens = tokens};
    assert_int_equal(attn_model_forward(m, &batch, 0, NULL), ATTN_OK);
    int rows, V;
    const float *full = attn_model_logits(m, &rows, &V);
    float want[B * T * 11];
    memcpy(want, full, sizeof want);

    attn_context *ctx;
    assert_int_equal(attn_context_create(m, B, T, &ctx), ATTN_OK);
    for (int t0 = 0; t0 < T; t0 += chunk) {
        int n = t0 + chunk <= T ? chunk : T - t0;
        int step[B * 16];
        for (int b = 0; b < B; b++)
            memcpy(step + b * n, tokens + b * T + t0, n * sizeof(int));
        const float *logits;
        assert_int_equal(attn_context_feed(ctx, step, n, &logits), ATTN_OK);
        for (int b = 0; b < B; b++)
            tu_assert_close(logits + b * V, want + ((size_t)b * T + t0 + n - 1) * V, V, 1e-4, 1e-5,
                            "cached logits");
    }
    assert_int_equal(attn_context_length(ctx), T);
    const float *logits;
    int more[B] = {1, 2};
    assert_int_equal(attn_context_feed(ctx, more, 1, &logits), ATTN_ERR_INVALID); /* full */
    attn_context_free(ctx);
    attn_model_free(m);
}

static void test_lm_one_by_one(void **state) {
    (void)state;
    check_lm(ATTN_NORM_PRE, ATTN_POS_LEARNED, 1);
    check_lm(ATTN_NORM_POST, ATTN_POS_SINUSOIDAL, 1);
}

static void test_lm_chunks(void **state) {
    (void)state;
    check_lm(ATTN_NORM_PRE, ATTN_POS_SINUSOIDAL, 5);
    check_lm(ATTN_NORM_POST, ATTN_POS_LEARNED, 13);
}

static void test_seq2seq(void **state) {
    (void)state;
    attn_config c = tiny(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_PRE, ATTN_POS_LEARNED);
    attn_model *m;
    assert_int_equal(attn_model_create(&c, 4, &m), ATTN_OK);
    perturb(m);
    enum { B = 2, T = 9, Tt = 6 };
    int src[B * T], tgt[B * Tt], lengths[B] = {9, 4};
    for (int i = 0; i < B * T; i++)
        src[i] = (i * 5 + 1) % c.vocab_size;
    for (int i = 0; i < B * Tt; i++)
        tgt[i] = (i * 3 + 2) % c.vocab_size;
    attn_batch batch = {.B = B, .T = T, .tokens = src, .lengths = lengths, .Tt = Tt, .tgt_in = tgt};
    assert_int_equal(attn_model_forward(m, &batch, 0, NULL), ATTN_OK);
    int rows, V;
    const float *full = attn_model_logits(m, &rows, &V);
    assert_int_equal(rows, B * Tt);
    float want[B * Tt * 11];
    memcpy(want, full, sizeof want);

    attn_context *ctx;
    assert_int_equal(attn_context_create(m, B, Tt, &ctx), ATTN_OK);
    const float *logits;
    int one[B] = {0, 0};
    assert_int_equal(attn_context_feed(ctx, one, 1, &logits), ATTN_ERR_INVALID); /* no source */
    assert_int_equal(attn_context_set_source(ctx, src, lengths, T), ATTN_OK);
    for (int t = 0; t < Tt; t++) {
        int step[B] = {tgt[t], tgt[Tt + t]};
        assert_int_equal(attn_context_feed(ctx, step, 1, &logits), ATTN_OK);
        for (int b = 0; b < B; b++)
            tu_assert_close(logits + b * V, want + ((size_t)b * Tt + t) * V, V, 1e-4, 1e-5,
                            "seq2seq cached logits");
    }
    attn_context_free(ctx);
    attn_model_free(m);
}

static void test_generate_greedy_matches_argmax(void **state) {
    (void)state;
    attn_config c = tiny(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE, ATTN_POS_LEARNED);
    attn_model *m;
    assert_int_equal(attn_model_create(&c, 5, &m), ATTN_OK);
    perturb(m);
    attn_sampler_params sp = attn_sampler_default_params();
    sp.temperature = 0;
    attn_sampler *s;
    assert_int_equal(attn_sampler_create(c.vocab_size, sp, &s), ATTN_OK);
    int prompt[3] = {1, 2, 3}, out[8], n = 0;
    assert_int_equal(attn_generate(m, prompt, 3, 8, s, -1, NULL, NULL, out, &n), ATTN_OK);
    assert_int_equal(n, 8);
    /* each generated token is the argmax of a full forward over prompt + what came before */
    int seq[16];
    memcpy(seq, prompt, sizeof prompt);
    for (int i = 0; i < n; i++) {
        attn_batch b = {.B = 1, .T = 3 + i, .tokens = seq};
        assert_int_equal(attn_model_forward(m, &b, 0, NULL), ATTN_OK);
        int rows, V;
        const float *lg = attn_model_logits(m, &rows, &V) + (size_t)(rows - 1) * V;
        int best = 0;
        for (int v = 1; v < V; v++)
            if (lg[v] > lg[best]) best = v;
        assert_int_equal(out[i], best);
        seq[3 + i] = out[i];
    }
    attn_sampler_free(s);
    attn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lm_one_by_one),
        cmocka_unit_test(test_lm_chunks),
        cmocka_unit_test(test_seq2seq),
        cmocka_unit_test(test_generate_greedy_matches_argmax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
