/* tests/decode/test_generate.c: attn_generate_batch: every stream of a batch gets what
 * attn_generate gives its prompt alone (greedy, seeded sampling, stop token, callback, a full
 * context, prompts of different lengths), and bad arguments are errors. */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "attn/attn.h"

enum { V = 13, P = 24, N_STREAMS = 5, MAX_NEW = 12 };

static attn_model *tiny_lm(uint64_t seed) {
    attn_config c = attn_config_default(ATTN_ARCH_DECODER_LM);
    c.vocab_size = V, c.max_len = P, c.d_model = 32, c.n_heads = 4, c.d_ff = 48, c.n_layers = 2;
    attn_model *m;
    assert_int_equal(attn_model_create(&c, seed, &m), ATTN_OK);
    attn_rng rng; /* weights well away from N(0, 0.02), so the logits are far from ties */
    attn_rng_init(&rng, seed, 1);
    float *p = attn_model_params(m);
    for (size_t i = 0; i < attn_model_num_params(m); i++)
        p[i] += 0.3f * attn_rng_normal(&rng);
    return m;
}

static attn_sampler *sampler(float temperature, float top_p, uint64_t seed) {
    attn_sampler_params sp = attn_sampler_default_params();
    sp.temperature = temperature, sp.top_p = top_p, sp.seed = seed;
    attn_sampler *s;
    assert_int_equal(attn_sampler_create(V, sp, &s), ATTN_OK);
    return s;
}

/* Prompts of lengths 1, 6, 3, 17 and 2: the first 1 token fed together, the rest in lockstep. */
static const int lengths[N_STREAMS] = {1, 6, 3, 17, 2};
static int prompt_tokens[N_STREAMS][P];
static const int *prompts[N_STREAMS];

static void make_prompts(void) {
    for (int i = 0; i < N_STREAMS; i++) {
        for (int t = 0; t < lengths[i]; t++)
            prompt_tokens[i][t] = (i * 5 + t * 3 + 1) % V;
        prompts[i] = prompt_tokens[i];
    }
}

/* Stops stream 2 (or the only stream, when alone) after its third token. */
static int stop_third(int stream, int token, void *user) {
    (void)token;
    int *counts = user;
    return stream == 2 && ++counts[stream] == 3;
}
static int stop_third_alone(int token, void *user) {
    (void)token;
    return ++*(int *)user == 3;
}

/* Runs the batch, then each prompt alone with a fresh sampler made the same way, and compares. */
static void check_batch_equals_alone(float temperature, float top_p, int stop_id, int with_cb) {
    attn_model *m = tiny_lm(3);
    make_prompts();
    attn_sampler *samplers[N_STREAMS];
    for (int i = 0; i < N_STREAMS; i++)
        samplers[i] = sampler(temperature, top_p, 100 + i);
    int out[N_STREAMS * MAX_NEW], n_out[N_STREAMS], counts[N_STREAMS] = {0};
    assert_int_equal(attn_generate_batch(m, N_STREAMS, prompts, lengths, MAX_NEW, samplers, stop_id,
                                         with_cb ? stop_third : NULL, counts, out, n_out),
                     ATTN_OK);
    for (int i = 0; i < N_STREAMS; i++) {
        attn_sampler *alone = sampler(temperature, top_p, 100 + i);
        int want[MAX_NEW], n_want = -1, count = 0;
        attn_token_callback cb = with_cb && i == 2 ? stop_third_alone : NULL;
        assert_int_equal(attn_generate(m, prompts[i], lengths[i], MAX_NEW, alone, stop_id, cb,
                                       &count, want, &n_want),
                         ATTN_OK);
        assert_int_equal(n_out[i], n_want);
        assert_memory_equal(out + i * MAX_NEW, want, (size_t)n_want * sizeof(int));
        attn_sampler_free(alone);
        attn_sampler_free(samplers[i]);
    }
    /* the 17-token prompt fills the 24 positions after 7 tokens; the 8th is drawn, never fed */
    if (stop_id < 0) assert_int_equal(n_out[3], P - lengths[3] + 1);
    if (with_cb) assert_int_equal(n_out[2], 3);
    int stopped = 0, lengths_differ = 0; /* the stop token did end some streams, not all alike */
    for (int i = 0; i < N_STREAMS; i++) {
        stopped += stop_id >= 0 && n_out[i] > 0 && out[i * MAX_NEW + n_out[i] - 1] == stop_id;
        lengths_differ |= n_out[i] != n_out[0];
    }
    if (stop_id >= 0) assert_true(stopped >= 1);
    assert_true(lengths_differ);
    attn_model_free(m);
}

static void test_greedy(void **state) {
    (void)state;
    check_batch_equals_alone(0.0f, 1.0f, -1, 0);
}

static void test_sampling_with_seeds(void **state) {
    (void)state;
    check_batch_equals_alone(1.0f, 1.0f, -1, 0);
    check_batch_equals_alone(0.8f, 0.9f, -1, 0);
}

/* Every stream stops on its own: at the first stop token, or where the callback says. */
static void test_each_stream_stops_on_its_own(void **state) {
    (void)state;
    check_batch_equals_alone(1.0f, 1.0f, 4, 0);
    check_batch_equals_alone(1.0f, 1.0f, -1, 1);
    check_batch_equals_alone(0.0f, 1.0f, 7, 1);
}

/* max_new 0 generates nothing; one stream is attn_generate. */
static void test_edges(void **state) {
    (void)state;
    attn_model *m = tiny_lm(4);
    make_prompts();
    attn_sampler *s = sampler(0.0f, 1.0f, 1), *ss[N_STREAMS] = {s, s, s, s, s};
    int out[N_STREAMS * MAX_NEW], n_out[N_STREAMS] = {9, 9, 9, 9, 9};
    assert_int_equal(
        attn_generate_batch(m, N_STREAMS, prompts, lengths, 0, ss, -1, NULL, NULL, out, n_out),
        ATTN_OK);
    for (int i = 0; i < N_STREAMS; i++)
        assert_int_equal(n_out[i], 0);
    /* a prompt filling the whole context: one token, then the context is full */
    int full[P], n_full = P, one[MAX_NEW], n_one;
    for (int t = 0; t < P; t++)
        full[t] = t % V;
    const int *fp = full;
    assert_int_equal(
        attn_generate_batch(m, 1, &fp, &n_full, MAX_NEW, ss, -1, NULL, NULL, one, &n_one), ATTN_OK);
    assert_int_equal(n_one, 1);
    attn_sampler_free(s);
    attn_model_free(m);
}

static void test_errors(void **state) {
    (void)state;
    attn_model *m = tiny_lm(5);
    make_prompts();
    attn_sampler *s = sampler(0.0f, 1.0f, 1), *ss[N_STREAMS] = {s, s, s, s, s};
    int out[N_STREAMS * MAX_NEW], n_out[N_STREAMS];
    assert_int_equal(attn_generate_batch(m, 0, prompts, lengths, 4, ss, -1, NULL, NULL, out, n_out),
                     ATTN_ERR_INVALID);
    assert_int_equal(
        attn_generate_batch(m, N_STREAMS, prompts, lengths, -1, ss, -1, NULL, NULL, out, n_out),
        ATTN_ERR_INVALID);
    int bad_len[N_STREAMS] = {1, 0, 3, 17, 2}, long_len[N_STREAMS] = {1, 6, 3, P + 1, 2};
    assert_int_equal(
        attn_generate_batch(m, N_STREAMS, prompts, bad_len, 4, ss, -1, NULL, NULL, out, n_out),
        ATTN_ERR_INVALID);
    assert_int_equal(
        attn_generate_batch(m, N_STREAMS, prompts, long_len, 4, ss, -1, NULL, NULL, out, n_out),
        ATTN_ERR_INVALID);
    prompt_tokens[3][10] = V; /* out of the vocabulary, past the first min(lengths) tokens */
    assert_int_equal(
        attn_generate_batch(m, N_STREAMS, prompts, lengths, 4, ss, -1, NULL, NULL, out, n_out),
        ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "prompt 3"));
    make_prompts();
    ss[4] = NULL;
    assert_int_equal(
        attn_generate_batch(m, N_STREAMS, prompts, lengths, 4, ss, -1, NULL, NULL, out, n_out),
        ATTN_ERR_INVALID);
    attn_config cc = attn_config_default(ATTN_ARCH_CLASSIFIER);
    attn_model *cls;
    assert_int_equal(attn_model_create(&cc, 1, &cls), ATTN_OK);
    ss[4] = s;
    assert_int_equal(
        attn_generate_batch(cls, 1, prompts, lengths, 4, ss, -1, NULL, NULL, out, n_out),
        ATTN_ERR_INVALID);
    attn_model_free(cls);
    attn_sampler_free(s);
    attn_model_free(m);
}

/* A model whose weights are NaN computes NaN logits: generation refuses to sample them (it used
 * to emit token 0 as the argmax of nothing), for one stream and in a batch, greedy or not. */
static void test_nan_logits_are_an_error(void **state) {
    (void)state;
    make_prompts();
    for (int greedy = 0; greedy < 2; greedy++) {
        attn_model *m = tiny_lm(7);
        attn_model_params(m)[attn_model_num_params(m) - 1] = NAN; /* the last LayerNorm bias */
        attn_sampler *s = sampler(greedy ? 0.0f : 1.0f, 1.0f, 1);
        attn_sampler *ss[N_STREAMS] = {s, s, s, s, s};
        int out[N_STREAMS * MAX_NEW], n_out[N_STREAMS];
        assert_int_equal(attn_generate(m, prompts[1], lengths[1], 4, s, -1, NULL, NULL, out, n_out),
                         ATTN_ERR_NUMERIC);
        assert_int_equal(n_out[0], 0);
        assert_non_null(strstr(attn_last_error(), "NaN"));
        assert_non_null(strstr(attn_last_error(), "stream 0"));
        assert_int_equal(
            attn_generate_batch(m, N_STREAMS, prompts, lengths, 4, ss, -1, NULL, NULL, out, n_out),
            ATTN_ERR_NUMERIC);
        assert_non_null(strstr(attn_last_error(), "NaN"));
        attn_sampler_free(s);
        attn_model_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy),
        cmocka_unit_test(test_sampling_with_seeds),
        cmocka_unit_test(test_each_stream_stops_on_its_own),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_nan_logits_are_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
