/* tests/models/test_ctc_model.c: the ctc family (config arch "ctc": a feature-input encoder, an
 * optional convolutional front end with subsample 4, a linear head "ctc.*", log-softmax, CTC
 * with blank 0). Checked:
 *   - gradients: attn_model_backward_sum(m, 1) of EVERY parameter tensor (up to 10 entries spread
 *     over each, conv weights and biases included) against central finite differences of the
 *     loss sum (attn_model_loss), taken in double around the float model with h = 1e-2 and one
 *     Richardson step; an entry fails when |fd - g| > 1e-2 |g| + 1e-3 max|g of its tensor|. An
 *     entry of the convolutions (before a ReLU, whose kink may lie within h) that fails is tried
 *     once more with h = 1e-3 and passes if that agrees.
 *     Pre-LN and post-LN, with subsample 4 (F = 11, K = 3: input_proj reads K F' = 6 != F values,
 *     F' = 2) and without; B = 2 sequences of 15
 *     (padded with zeros) and 19 frames, targets of 2 and 3 labels (one a repeat).
 *   - padding invariance: the loss sums of each sequence alone (B = 1, T its length) add up to the
 *     padded batch's sum (1e-5 relative) and the log-probabilities of the valid positions agree
 *     (1e-5 relative + 1e-5 absolute).
 *   - PyTorch: tests/models/ctc_model_reference.py recomputes the model in float64 from a saved
 *     checkpoint (torch.nn.functional.ctc_loss); loss sum to 1e-4 relative, log-probabilities to
 *     1e-4 relative + 1e-4 absolute (all B x T' rows). Skipped when /usr/bin/python3 has no torch.
 *   - errors: configs refused by attn_config_validate (ctc without n_features, subsample 3,
 *     conv_channels without subsample), batches refused by attn_model_forward (6 frames:
 *     ATTN_ERR_INVALID; the blank as a target: ATTN_ERR_INVALID; more labels than positions:
 *     ATTN_ERR_NUMERIC); the config round-trips through JSON; save + load keeps the loss. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/attn.h"

#ifndef CTC_NF /* features and channels: input_proj reads F2 * K != NF values per position */
#define CTC_NF 11
#define CTC_K 3
#endif
enum { NF = CTC_NF, K = CTC_K, F2 = ((NF - 1) / 2 - 1) / 2, V = 5, B = 2, T = 19, TT = 3 };

static const int seq_len[B] = {15, 19};
static const int seq_targets[B * TT] = {2, 4, ATTN_IGNORE_INDEX, 1, 1, 3};

static attn_config ctc_config(attn_norm norm, int subsample) {
    attn_config c = attn_config_default(ATTN_ARCH_CTC);
    c.vocab_size = V;
    c.max_len = 24;
    c.d_model = 8;
    c.n_heads = 2;
    c.d_ff = 12;
    c.n_layers = 2;
    c.n_dec_layers = 0;
    c.n_classes = 0;
    c.norm = norm;
    c.dropout = 0.0f;
    c.n_features = NF;
    c.subsample = subsample;
    c.conv_channels = subsample ? K : 0;
    return c;
}

/* Weights of order one, so that every gradient is well above the noise of a float32 loss. */
static attn_model *make_model(const attn_config *c, uint64_t seed) {
    attn_model *m;
    assert_int_equal(attn_config_validate(c), ATTN_OK);
    assert_int_equal(attn_model_create(c, seed, &m), ATTN_OK);
    attn_rng rng;
    attn_rng_init(&rng, seed, 7);
    for (int i = 0; i < attn_model_num_tensors(m); i++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
        double fan = 1;
        for (int d = 1; d < p.ndim; d++)
            fan *= (double)p.shape[d];
        float scale = p.ndim >= 2 ? (float)(1.0 / sqrt(fan)) : 0.1f;
        for (size_t j = 0; j < p.size; j++)
            p.data[j] += scale * attn_rng_normal(&rng);
    }
    return m;
}

typedef struct {
    float features[B * T * NF];
    int lengths[B], targets[B * TT];
    attn_batch batch;
} ctc_batch;

/* Frames past a sequence's length are zeros. */
static void make_batch(ctc_batch *cb) {
    attn_rng rng;
    attn_rng_init(&rng, 3, 1);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int f = 0; f < NF; f++)
                cb->features[((size_t)b * T + t) * NF + f] =
                    t < seq_len[b] ? attn_rng_normal(&rng) : 0.0f;
    memcpy(cb->lengths, seq_len, sizeof cb->lengths);
    memcpy(cb->targets, seq_targets, sizeof cb->targets);
    cb->batch = (attn_batch){.B = B,
                             .T = T,
                             .lengths = cb->lengths,
                             .Tt = TT,
                             .targets = cb->targets,
                             .features = cb->features};
}

/* Sequence b alone: B = 1, T = its length. */
static attn_batch single(const ctc_batch *cb, int b) {
    return (attn_batch){.B = 1,
                        .T = seq_len[b],
                        .lengths = &seq_len[b],
                        .Tt = TT,
                        .targets = cb->targets + b * TT,
                        .features = cb->features + (size_t)b * T * NF};
}

static double loss_sum(attn_model *m, const attn_batch *b) {
    assert_int_equal(attn_model_forward(m, b, 0, NULL), ATTN_OK);
    double sum;
    long count;
    assert_int_equal(attn_model_loss(m, &sum, &count), ATTN_OK);
    return sum;
}

/* Central differences (L(x + h) - L(x - h)) / 2h at h and h/2 (into d), combined by one
 * Richardson step (4 D(h/2) - D(h)) / 3, whose error is O(h^4). */
static double central(attn_model *m, const attn_batch *b, float *at, float h, double d[2]) {
    float x = *at;
    for (int r = 0; r < 2; r++) {
        float hr = r ? h / 2 : h;
        *at = x + hr;
        double up = loss_sum(m, b);
        *at = x - hr;
        double down = loss_sum(m, b);
        *at = x;
        d[r] = (up - down) / (2.0 * (double)hr);
    }
    return (4 * d[1] - d[0]) / 3;
}

static void check_gradients(const attn_config *c, int count) {
    attn_model *m = make_model(c, 5);
    ctc_batch cb;
    make_batch(&cb);
    attn_model_zero_grad(m);
    assert_int_equal(attn_model_forward(m, &cb.batch, 1, NULL), ATTN_OK);
    double sum;
    long n_labels;
    assert_int_equal(attn_model_loss(m, &sum, &n_labels), ATTN_OK);
    assert_int_equal(n_labels, 5);
    assert_true(isfinite(sum) && sum > 0);
    assert_int_equal(attn_model_backward_sum(m, 1.0f), ATTN_OK);
    int n_tensors = attn_model_num_tensors(m), n_conv = 0, failures = 0;
    double worst = 0;
    for (int k = 0; k < n_tensors; k++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, k, &p), ATTN_OK);
        if (strncmp(p.name, "subsample.", 10) == 0) n_conv++;
        double gmax = 0;
        for (size_t j = 0; j < p.size; j++)
            gmax = fmax(gmax, fabs(p.grad[j]));
        if (!(gmax > 1e-4)) { /* a gradient that is not there would pass trivially */
            print_error("%s: largest |gradient| %.3g\n", p.name, gmax);
            failures++;
        }
        size_t step = p.size > (size_t)count ? p.size / count : 1;
        for (size_t j = 0; j < p.size; j += step) {
            double d[2], g = p.grad[j];
            double fd = central(m, &cb.batch, p.data + j, 1e-2f, d);
            double err = fabs(fd - g) / (1e-2 * fabs(g) + 1e-3 * gmax + 1e-12);
            if (err > 1 && strncmp(p.name, "subsample.", 10) == 0) {
                /* a ReLU kink within h of the point: once more with h ten times smaller */
                double small[2], fd2 = central(m, &cb.batch, p.data + j, 1e-3f, small);
                double err2 = fabs(fd2 - g) / (1e-2 * fabs(g) + 1e-3 * gmax + 1e-12);
                print_message("%s[%zu]: h 1e-2 gives %.7g (%.2f of tolerance), h 1e-3 %.7g (%.2f)\n",
                              p.name, j, fd, err, fd2, err2);
                if (err2 < err) fd = fd2, err = err2, d[0] = small[0], d[1] = small[1];
            }
            if (err > 1) {
                print_error("%s[%zu]: backward %.7g, finite differences %.7g (D(h) %.7g, "
                            "D(h/2) %.7g), tensor max |g| %.4g\n",
                            p.name, j, g, fd, d[0], d[1], gmax);
                failures++;
            }
            worst = fmax(worst, err);
        }
    }
    print_message("ctc %s-LN subsample %d: %d tensors, worst %.3f of tolerance\n",
                  attn_norm_name(c->norm), c->subsample, n_tensors, worst);
    assert_int_equal(n_conv, c->subsample ? 4 : 0);
    attn_model_free(m);
    if (failures) fail_msg("%d gradient entries outside tolerance", failures);
}

static void test_gradients_subsample(void **state) {
    (void)state;
    attn_config c = ctc_config(ATTN_NORM_PRE, 4);
    check_gradients(&c, 10);
    c = ctc_config(ATTN_NORM_POST, 4);
    c.pos = ATTN_POS_SINUSOIDAL;
    check_gradients(&c, 10);
}

static void test_gradients_plain(void **state) {
    (void)state;
    attn_config c = ctc_config(ATTN_NORM_PRE, 0);
    check_gradients(&c, 10);
    c = ctc_config(ATTN_NORM_POST, 0);
    check_gradients(&c, 10);
}

static void test_table_and_shapes(void **state) {
    (void)state;
    attn_config c = ctc_config(ATTN_NORM_PRE, 4);
    attn_model *m = make_model(&c, 1);
    const char *const names[] = {"subsample.conv1.weight", "subsample.conv1.bias",
                                 "subsample.conv2.weight", "subsample.conv2.bias",
                                 "input_proj.weight",      "input_proj.bias",
                                 "ctc.weight",             "ctc.bias"};
    const int64_t shapes[][4] = {{K, 1, 3, 3}, {K}, {K, K, 3, 3}, {K}, {8, F2 * K}, {8}, {V, 8}, {V}};
    int found = 0;
    for (int i = 0; i < attn_model_num_tensors(m); i++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
        assert_null(strstr(p.name, "embed.tok")); /* reads no token */
        for (int k = 0; k < 8; k++)
            if (strcmp(p.name, names[k]) == 0) {
                found++;
                for (int d = 0; d < 4; d++)
                    assert_int_equal(p.shape[d], shapes[k][d]);
            }
    }
    assert_int_equal(found, 8);
    assert_int_equal(attn_model_encoder_length(m, 19), 4);
    assert_int_equal(attn_model_encoder_length(m, 15), 3);
    assert_int_equal(attn_model_encoder_length(m, 7), 1);
    assert_int_equal(attn_model_encoder_length(m, 6), 0);
    ctc_batch cb;
    make_batch(&cb);
    assert_int_equal(attn_model_forward(m, &cb.batch, 0, NULL), ATTN_OK);
    int rows, cols;
    const float *lp = attn_model_logits(m, &rows, &cols);
    assert_int_equal(rows, B * 4);
    assert_int_equal(cols, V);
    for (int r = 0; r < rows; r++) { /* log-probabilities */
        double s = 0;
        for (int v = 0; v < V; v++)
            s += exp(lp[r * V + v]);
        assert_true(fabs(s - 1) < 1e-5);
    }
    attn_model_free(m);
}

static void check_padding(const attn_config *c) {
    attn_model *m = make_model(c, 9);
    ctc_batch cb;
    make_batch(&cb);
    double batch_sum = loss_sum(m, &cb.batch);
    int rows, cols, Tb = attn_model_encoder_length(m, T);
    const float *lp = attn_model_logits(m, &rows, &cols);
    assert_int_equal(rows, B * Tb);
    float *batch_lp = malloc((size_t)rows * cols * sizeof *batch_lp);
    memcpy(batch_lp, lp, (size_t)rows * cols * sizeof *batch_lp);
    double parts = 0;
    for (int b = 0; b < B; b++) {
        attn_batch one = single(&cb, b);
        double part = loss_sum(m, &one);
        int rows1, cols1, Tb1 = attn_model_encoder_length(m, seq_len[b]);
        const float *lp1 = attn_model_logits(m, &rows1, &cols1);
        assert_int_equal(rows1, Tb1);
        tu_assert_close(lp1, batch_lp + (size_t)b * Tb * V, (long)Tb1 * V, 1e-5, 1e-5,
                        "log-probs of a sequence alone vs in the padded batch");
        parts += part;
    }
    if (fabs(parts - batch_sum) > 1e-5 * fabs(batch_sum))
        fail_msg("subsample %d: sequences alone sum to %.9g, the batch to %.9g", c->subsample,
                 parts, batch_sum);
    free(batch_lp);
    attn_model_free(m);
}

static void test_padding_invariance(void **state) {
    (void)state;
    attn_config c = ctc_config(ATTN_NORM_PRE, 4);
    check_padding(&c);
    c = ctc_config(ATTN_NORM_POST, 0);
    check_padding(&c);
}

/* A temporary file name (the file exists, empty); static buffer. */
static const char *temp_path(const char *tag) {
    static char path[2][256];
    static int which;
    char *p = path[which ^= 1];
    snprintf(p, 256, "/tmp/attn_ctc_%s_XXXXXX", tag);
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    close(fd);
    return p;
}

static void check_torch(const attn_config *c) {
    const char *src = getenv("ATTN_SOURCE_DIR");
    if (!src || access("/usr/bin/python3", X_OK) != 0) {
        print_message("no ATTN_SOURCE_DIR or /usr/bin/python3: skipped\n");
        skip();
    }
    attn_model *m = make_model(c, 11);
    ctc_batch cb;
    make_batch(&cb);
    double sum = loss_sum(m, &cb.batch);
    int rows, cols;
    const float *lp = attn_model_logits(m, &rows, &cols);
    const char *model_path = temp_path("model"), *batch_path = temp_path("batch");
    assert_int_equal(attn_model_save(m, model_path), ATTN_OK);
    FILE *f = fopen(batch_path, "w");
    assert_non_null(f);
    fprintf(f, "%d %d %d %d\n", B, T, NF, TT);
    for (int b = 0; b < B; b++)
        fprintf(f, "%d\n", cb.lengths[b]);
    for (int i = 0; i < B * TT; i++)
        fprintf(f, "%d\n", cb.targets[i]);
    for (int i = 0; i < B * T * NF; i++)
        fprintf(f, "%.9g\n", (double)cb.features[i]);
    fclose(f);
    char cmd[1024], *out = NULL;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/models/ctc_model_reference.py %s %s", src,
             model_path, batch_path);
    int rc = tu_read_command(cmd, &out);
    remove(model_path);
    remove(batch_path);
    if (rc == 77) {
        free(out);
        attn_model_free(m);
        print_message("/usr/bin/python3 has no torch: skipped\n");
        skip();
    }
    assert_int_equal(rc, 0);
    assert_non_null(out);
    long n = B + (long)rows * cols;
    double *want = malloc((size_t)n * sizeof *want);
    char *at = out, *end;
    for (long i = 0; i < n; i++) {
        want[i] = strtod(at, &end);
        if (end == at) fail_msg("reference output ends after %ld of %ld numbers", i, n);
        at = end;
    }
    double want_sum = 0;
    for (int b = 0; b < B; b++)
        want_sum += want[b];
    print_message("ctc %s-LN subsample %d: loss sum %.9g, torch %.9g\n", attn_norm_name(c->norm),
                  c->subsample, sum, want_sum);
    if (fabs(sum - want_sum) > 1e-4 * fabs(want_sum))
        fail_msg("loss sum %.9g, torch float64 %.9g", sum, want_sum);
    tu_assert_close_d(lp, want + B, (long)rows * cols, 1e-4, 1e-4, "log-probs vs torch float64");
    free(want);
    free(out);
    attn_model_free(m);
}

static void test_torch_subsample(void **state) {
    (void)state;
    attn_config c = ctc_config(ATTN_NORM_PRE, 4);
    c.pos = ATTN_POS_SINUSOIDAL;
    check_torch(&c);
}

static void test_torch_plain(void **state) {
    (void)state;
    attn_config c = ctc_config(ATTN_NORM_POST, 0);
    check_torch(&c);
}

static void test_errors(void **state) {
    (void)state;
    attn_config c = ctc_config(ATTN_NORM_PRE, 4);
    c.n_features = 0;
    c.subsample = 0, c.conv_channels = 0;
    assert_int_equal(attn_config_validate(&c), ATTN_ERR_INVALID); /* ctc reads features */
    c = ctc_config(ATTN_NORM_PRE, 4);
    c.subsample = 3;
    assert_int_equal(attn_config_validate(&c), ATTN_ERR_INVALID);
    c = ctc_config(ATTN_NORM_PRE, 0);
    c.conv_channels = K;
    assert_int_equal(attn_config_validate(&c), ATTN_ERR_INVALID);

    /* JSON round trip */
    c = ctc_config(ATTN_NORM_POST, 4);
    char *json;
    assert_int_equal(attn_config_to_json(&c, &json), ATTN_OK);
    attn_config back;
    assert_int_equal(attn_config_from_json(json, &back), ATTN_OK);
    free(json);
    assert_int_equal(back.arch, ATTN_ARCH_CTC);
    assert_int_equal(back.subsample, 4);
    assert_int_equal(back.conv_channels, K);
    assert_int_equal(back.n_features, NF);
    assert_int_equal(back.vocab_size, V);
    assert_int_equal(back.norm, ATTN_NORM_POST);

    attn_model *m = make_model(&c, 4);
    ctc_batch cb;
    make_batch(&cb);
    /* 6 frames: too few for the convolutions */
    int six = 6;
    attn_batch short_b = {.B = 1, .T = 6, .lengths = &six, .Tt = TT, .targets = cb.targets,
                          .features = cb.features};
    assert_int_equal(attn_model_forward(m, &short_b, 0, NULL), ATTN_ERR_INVALID);
    short_b.lengths = NULL;
    assert_int_equal(attn_model_forward(m, &short_b, 0, NULL), ATTN_ERR_INVALID);
    /* the blank as a target */
    cb.targets[1] = 0;
    assert_int_equal(attn_model_forward(m, &cb.batch, 1, NULL), ATTN_ERR_INVALID);
    cb.targets[1] = V; /* out of range */
    assert_int_equal(attn_model_forward(m, &cb.batch, 1, NULL), ATTN_ERR_INVALID);
    /* infeasible: 3 repeats need 5 positions, sequence 0 has 3 */
    cb.targets[0] = cb.targets[1] = cb.targets[2] = 2;
    assert_int_equal(attn_model_forward(m, &cb.batch, 1, NULL), ATTN_ERR_NUMERIC);
    assert_int_equal(attn_model_backward_sum(m, 1.0f), ATTN_ERR_INVALID); /* nothing to undo */
    make_batch(&cb);
    float loss;
    assert_int_equal(attn_model_forward(m, &cb.batch, 0, &loss), ATTN_OK);
    double sum = loss_sum(m, &cb.batch);
    assert_true(fabs(loss - sum / 5) <= 1e-5 * fabs(sum / 5)); /* mean per label */

    /* save + load */
    const char *path = temp_path("save");
    assert_int_equal(attn_model_save(m, path), ATTN_OK);
    attn_model *m2;
    assert_int_equal(attn_model_load(path, &m2), ATTN_OK);
    remove(path);
    const attn_config *c2 = attn_model_config(m2);
    assert_int_equal(c2->arch, ATTN_ARCH_CTC);
    assert_int_equal(c2->subsample, 4);
    assert_int_equal(c2->conv_channels, K);
    double sum2 = loss_sum(m2, &cb.batch);
    if (sum2 != sum) fail_msg("loaded model's loss sum %.9g, saved model's %.9g", sum2, sum);
    attn_model_free(m2);
    attn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_and_shapes),   cmocka_unit_test(test_gradients_subsample),
        cmocka_unit_test(test_gradients_plain),    cmocka_unit_test(test_padding_invariance),
        cmocka_unit_test(test_torch_subsample),    cmocka_unit_test(test_torch_plain),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
