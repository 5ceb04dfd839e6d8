/* tests/models/test_features.c: an encoder over feature vectors (config n_features > 0):
 * emb = features input_proj^T + b + pos. Its config round-trips through JSON (and a config without
 * the key still reads, as 0), its parameter table holds input_proj, its gradients (classifier
 * pre-/post-LN, seq2seq encoder) match central finite differences taken in double, KV-cached
 * decoding of a feature seq2seq gives the full forward's logits, and bad inputs are refused. The
 * PyTorch fixture classifier_features_pre (tests/parity) checks the same model against torch. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

enum { NF = 5, B = 3, T = 6, TT = 4 };

static attn_config feature_config(attn_arch arch, attn_norm norm, attn_pool pool) {
    attn_config c = attn_config_default(arch);
    c.vocab_size = 13;
    c.max_len = 8;
    c.d_model = 8;
    c.n_heads = 2;
    c.d_ff = 12;
    c.n_layers = 2;
    c.n_dec_layers = arch == ATTN_ARCH_SEQ2SEQ ? 1 : 0;
    c.n_classes = arch == ATTN_ARCH_CLASSIFIER ? 3 : 0;
    c.norm = norm;
    c.pool = pool;
    c.dropout = 0.0f;
    c.n_features = NF;
    return c;
}

/* Weights of order one (as the parity fixtures), so that every gradient is well above the noise
 * of a float32 loss. */
static attn_model *make_model(const attn_config *c, uint64_t seed) {
    attn_model *m;
    assert_int_equal(attn_model_create(c, seed, &m), ATTN_OK);
    attn_rng rng;
    attn_rng_init(&rng, seed, 7);
    for (int i = 0; i < attn_model_num_tensors(m); i++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
        float scale = p.ndim == 2 ? 1.0f / sqrtf((float)p.shape[1]) : 0.1f;
        for (size_t j = 0; j < p.size; j++)
            p.data[j] += scale * attn_rng_normal(&rng);
    }
    return m;
}

typedef struct {
    float features[B * T * NF];
    int lengths[B], labels[B], tgt_in[B * TT], targets[B * TT];
    attn_batch batch;
} feature_batch;

static void make_batch(feature_batch *fb, const attn_config *c) {
    attn_rng rng;
    attn_rng_init(&rng, 3, 1);
    for (int i = 0; i < B * T * NF; i++)
        fb->features[i] = attn_rng_normal(&rng);
    int lengths[B] = {6, 3, 5};
    for (int b = 0; b < B; b++) {
        fb->lengths[b] = lengths[b];
        fb->labels[b] = b % 3;
    }
    for (int i = 0; i < B * TT; i++) {
        fb->tgt_in[i] = (i * 5 + 1) % c->vocab_size;
        fb->targets[i] = i % 7 == 3 ? ATTN_IGNORE_INDEX : (i * 3 + 2) % c->vocab_size;
    }
    fb->batch = (attn_batch){.B = B, .T = T, .lengths = fb->lengths, .features = fb->features};
    if (c->arch == ATTN_ARCH_CLASSIFIER) {
        fb->batch.labels = fb->labels;
    } else {
        fb->batch.Tt = TT;
        fb->batch.tgt_in = fb->tgt_in;
        fb->batch.targets = fb->targets;
    }
}

static attn_param tensor(const attn_model *m, const char *name) {
    for (int i = 0; i < attn_model_num_tensors(m); i++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
        if (strcmp(p.name, name) == 0) return p;
    }
    fail_msg("no tensor %s", name);
    return (attn_param){0};
}

static int has_tensor(const attn_model *m, const char *name) {
    for (int i = 0; i < attn_model_num_tensors(m); i++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
        if (strcmp(p.name, name) == 0) return 1;
    }
    return 0;
}

static double loss_at(attn_model *m, const attn_batch *b) {
    float loss;
    assert_int_equal(attn_model_forward(m, b, 0, &loss), ATTN_OK);
    return loss;
}

/* Analytic gradients of the named tensors (up to `count` elements each, spread over the tensor)
 * against central differences (L(x + h) - L(x - h)) / 2h, in double, with h = 1e-2 and one
 * Richardson step (4 D(h/2) - D(h)) / 3, whose error is O(h^4). */
static void check_gradients(const attn_config *c, const char *const *names, int n_names,
                            int count) {
    attn_model *m = make_model(c, 5);
    feature_batch fb;
    make_batch(&fb, c);
    attn_model_zero_grad(m);
    float loss;
    assert_int_equal(attn_model_forward(m, &fb.batch, 1, &loss), ATTN_OK);
    assert_int_equal(attn_model_backward(m, 1.0f), ATTN_OK);
    double worst = 0;
    for (int k = 0; k < n_names; k++) {
        attn_param p = tensor(m, names[k]);
        double gmax = 0;
        for (size_t j = 0; j < p.size; j++)
            gmax = fmax(gmax, fabs(p.grad[j]));
        assert_true(gmax > 1e-3); /* a gradient that is not there would pass trivially */
        size_t step = p.size > (size_t)count ? p.size / count : 1;
        for (size_t j = 0; j < p.size; j += step) {
            float x = p.data[j];
            double d[2];
            for (int r = 0; r < 2; r++) {
                float h = r ? 5e-3f : 1e-2f;
                p.data[j] = x + h;
                double up = loss_at(m, &fb.batch);
                p.data[j] = x - h;
                double down = loss_at(m, &fb.batch);
                p.data[j] = x;
                d[r] = (up - down) / (2.0 * h);
            }
            double fd = (4 * d[1] - d[0]) / 3, g = p.grad[j];
            double err = fabs(fd - g) / (1e-2 * fabs(g) + 1e-3 * gmax);
            if (err > 1)
                fail_msg("%s[%zu]: backward %.7g, finite differences %.7g", names[k], j, g, fd);
            worst = fmax(worst, err);
        }
    }
    print_message("%s %s-LN: worst %.3f of tolerance\n", attn_arch_name(c->arch),
                  attn_norm_name(c->norm), worst);
    attn_model_free(m);
}

static void test_config_and_table(void **state) {
    (void)state;
    attn_config c = feature_config(ATTN_ARCH_CLASSIFIER, ATTN_NORM_PRE, ATTN_POOL_MEAN);
    char *json;
    assert_int_equal(attn_config_to_json(&c, &json), ATTN_OK);
    assert_non_null(strstr(json, "\"n_features\": 5}"));
    attn_config back;
    assert_int_equal(attn_config_from_json(json, &back), ATTN_OK);
    assert_int_equal(back.n_features, NF);
    free(json);
    attn_config tok = attn_config_default(ATTN_ARCH_SEQ2SEQ);
    assert_int_equal(attn_config_to_json(&tok, &json), ATTN_OK);
    assert_null(strstr(json, "n_features")); /* token models write what they always wrote */
    back.n_features = 9;
    assert_int_equal(attn_config_from_json(json, &back), ATTN_OK); /* and read without it */
    assert_int_equal(back.n_features, 0);
    free(json);
    attn_config lm = attn_config_default(ATTN_ARCH_DECODER_LM);
    lm.n_features = 4;
    assert_int_equal(attn_config_validate(&lm), ATTN_ERR_INVALID);
    c.n_features = -1;
    assert_int_equal(attn_config_validate(&c), ATTN_ERR_INVALID);

    c.n_features = NF;
    attn_model *m;
    assert_int_equal(attn_model_create(&c, 1, &m), ATTN_OK);
    attn_param w = tensor(m, "input_proj.weight"), b = tensor(m, "input_proj.bias");
    assert_int_equal(w.shape[0], c.d_model);
    assert_int_equal(w.shape[1], NF);
    assert_int_equal(b.shape[0], c.d_model);
    assert_false(has_tensor(m, "embed.tok.weight")); /* a feature classifier reads no token */
    attn_model_free(m);
    attn_config s2s = feature_config(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_POST, ATTN_POOL_CLS);
    assert_int_equal(attn_model_create(&s2s, 1, &m), ATTN_OK);
    assert_true(has_tensor(m, "embed.tok.weight") && has_tensor(m, "input_proj.weight"));
    attn_model_free(m);
}

static const char *const classifier_names[] = {"input_proj.weight",
                                               "input_proj.bias",
                                               "embed.pos.weight",
                                               "encoder.layers.0.self_attn.in_proj.weight",
                                               "encoder.layers.1.ffn.fc1.weight",
                                               "head.weight"};

static void test_classifier_gradients(void **state) {
    (void)state;
    attn_config c = feature_config(ATTN_ARCH_CLASSIFIER, ATTN_NORM_PRE, ATTN_POOL_MEAN);
    check_gradients(&c, classifier_names, 6, 24);
    c = feature_config(ATTN_ARCH_CLASSIFIER, ATTN_NORM_POST, ATTN_POOL_CLS);
    c.pos = ATTN_POS_SINUSOIDAL;
    const char *const names[] = {"input_proj.weight", "input_proj.bias",
                                 "encoder.layers.0.ln1.weight", "head.bias"};
    check_gradients(&c, names, 4, 24);
}

static void test_seq2seq_gradients(void **state) {
    (void)state;
    attn_config c = feature_config(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_PRE, ATTN_POOL_CLS);
    const char *const names[] = {"input_proj.weight", "input_proj.bias", "embed.pos.weight",
                                 "embed.tok.weight", "decoder.layers.0.cross_attn.in_proj.weight"};
    check_gradients(&c, names, 5, 24);
}

/* A feature seq2seq decodes through its cached source as its full forward computes. */
static void test_seq2seq_decoding(void **state) {
    (void)state;
    attn_config c = feature_config(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_POST, ATTN_POOL_CLS);
    attn_model *m = make_model(&c, 8);
    feature_batch fb;
    make_batch(&fb, &c);
    fb.batch.targets = NULL;
    assert_int_equal(attn_model_forward(m, &fb.batch, 0, NULL), ATTN_OK);
    int rows, V;
    const float *full = attn_model_logits(m, &rows, &V);
    float *want = malloc((size_t)rows * V * sizeof *want);
    memcpy(want, full, (size_t)rows * V * sizeof *want);
    attn_context *ctx;
    assert_int_equal(attn_context_create(m, B, TT, &ctx), ATTN_OK);
    int src[B * T] = {0};
    assert_int_equal(attn_context_set_source(ctx, src, fb.lengths, T), ATTN_ERR_INVALID);
    assert_int_equal(attn_context_set_source_features(ctx, fb.features, fb.lengths, T), ATTN_OK);
    for (int t = 0; t < TT; t++) {
        int step[B];
        for (int b = 0; b < B; b++)
            step[b] = fb.tgt_in[b * TT + t];
        const float *lg;
        assert_int_equal(attn_context_feed(ctx, step, 1, &lg), ATTN_OK);
        for (int b = 0; b < B; b++)
            tu_assert_close(lg + b * V, want + ((size_t)b * TT + t) * V, V, 1e-4, 1e-5,
                            "cached logits of a feature seq2seq");
    }
    attn_context_free(ctx);
    free(want);
    attn_model_free(m);
}

static void test_bad_inputs(void **state) {
    (void)state;
    attn_config c = feature_config(ATTN_ARCH_CLASSIFIER, ATTN_NORM_PRE, ATTN_POOL_MEAN);
    attn_model *m = make_model(&c, 2);
    feature_batch fb;
    make_batch(&fb, &c);
    attn_batch no_features = fb.batch;
    no_features.features = NULL;
    int tokens[B * T] = {0};
    no_features.tokens = tokens;
    assert_int_equal(attn_model_forward(m, &no_features, 1, NULL), ATTN_ERR_INVALID);
    fb.features[7] = NAN;
    assert_int_equal(attn_model_forward(m, &fb.batch, 1, NULL), ATTN_ERR_INVALID);
    fb.features[7] = 0.5f;
    assert_int_equal(attn_model_forward(m, &fb.batch, 1, NULL), ATTN_OK);
    /* attention maps read the features too */
    attn_batch one = fb.batch;
    one.B = 1;
    attn_maps maps;
    assert_int_equal(attn_model_attention_maps(m, &one, ATTN_MAPS_ENCODER_SELF, &maps), ATTN_OK);
    const float *P = attn_maps_head(&maps, 1, 0);
    double sum = 0;
    for (int j = 0; j < T; j++)
        sum += P[j];
    assert_true(fabs(sum - 1) < 1e-5);
    attn_maps_free(&maps);
    attn_model_free(m);
    attn_config tok = attn_config_default(ATTN_ARCH_SEQ2SEQ);
    tok.max_len = 8;
    assert_int_equal(attn_model_create(&tok, 1, &m), ATTN_OK);
    attn_context *ctx;
    assert_int_equal(attn_context_create(m, 1, 4, &ctx), ATTN_OK);
    assert_int_equal(attn_context_set_source_features(ctx, fb.features, NULL, T), ATTN_ERR_INVALID);
    attn_context_free(ctx);
    attn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_and_table),  cmocka_unit_test(test_classifier_gradients),
        cmocka_unit_test(test_seq2seq_gradients), cmocka_unit_test(test_seq2seq_decoding),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
