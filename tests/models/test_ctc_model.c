/* tests/models/test_ctc_model.c: the ctc family (config arch "ctc": a feature-input encoder, an
 * optional convolutional front end with subsample 4, a linear head "ctc.*", log-softmax, CTC
 * with blank 0). Checked:
 *   - gradients: attn_model_backward_sum(m, 1) of EVERY parameter tensor (up to 10 entries spread
 *     over each, conv weights and biases included) against central finite differences of the
 *     loss sum (attn_model_loss), taken in double around the float model with h = 1e-2 and one
 *     Richardson step; an entry fails when |fd - g| > 1e-2 |g| + 1e-3 max|g of its tensor|. An
 *     entry of the convolutions (before a ReLU, whose kink may lie within h) that fails is tried
 *     again with h = 1e-3 and 3e-3, the plain differences D(h), D(h/2) as well as the Richardson
 *     value, and passes if one of them agrees; an entry of any other (smooth) tensor
 *     once more with h = 4e-2 (a small entry lost in the rounding of the float32 loss).
 *     Pre-LN and post-LN, with subsample 4 (F = 11, K = 3: input_proj reads K F' = 6 != F values,
 *     F' = 2) and without; B = 2 sequences of 15
 *     (padded with zeros) and 19 frames, targets of 2 and 3 labels (one a repeat).
 *   - padding invariance: the loss sums of each sequence alone (B = 1, T its length) add up to the
 *     padded batch's sum (1e-5 relative) and the log-probabilities of the valid positions agree
 *     (1e-5 relative + 1e-5 absolute).
 *   - PyTorch: tests/models/ctc_model_reference.py recomputes the model in float64 from a saved
 *     checkpoint (torch.nn.functional.ctc_loss); loss sum to 1e-4 relative, log-probabilities to
 *     1e-4 relative + 1e-4 absolute (all B x T' rows). Skipped when /usr/bin/python3 has no torch.
 *   - seq2seq over features with a joint CTC head (ctc_weight 0.3, subsample 4, F = 11, K = 3,
 *     pre-LN, 1 encoder + 1 decoder layer, V = 6): sources of 19 and 15 frames (4 and 3 encoder
 *     positions), tgt_in / targets of 4 (one row padded), ctc_targets = the targets without EOS.
 *       - the tensor table: ctc.weight (V, C) and ctc.bias (V) after the decoder's tensors;
 *       - the loss sum (count: the decoder's 6 targets) is 0.7 x the same batch's sum without
 *         ctc_targets (CE only) + 0.3 x the CTC sum of a ctc model given the encoder's tensors
 *         (1e-5 relative);
 *       - gradients of EVERY tensor as above, label smoothing 0 and 0.1 (the finite differences
 *         then of the training loss, which smooths);
 *       - KV-cached decoding (attn_context_set_source_features runs the convolutions): the
 *         logits of each step, tokens fed one at a time, equal the full forward's of the same
 *         tgt_in (1e-4 relative + 1e-4 absolute), B = 2 (padded source) and each source alone
 *         (B = 1); a source of 6 frames is refused (ATTN_ERR_INVALID);
 *       - PyTorch: ctc_model_reference.py computes the decoder (causal self-attention,
 *         cross-attention with the source's key padding, logits tied to embed.tok.weight) and the
 *         CE, CTC and joint sums in float64: each sum to 1e-4 relative, the logits to 1e-4
 *         relative + 1e-4 absolute (skipped as above).
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

/* training 1 (dropout 0 here) only changes the loss by the config's label smoothing */
static double loss_sum_at(attn_model *m, const attn_batch *b, int training) {
    assert_int_equal(attn_model_forward(m, b, training, NULL), ATTN_OK);
    double sum;
    long count;
    assert_int_equal(attn_model_loss(m, &sum, &count), ATTN_OK);
    return sum;
}

static double loss_sum(attn_model *m, const attn_batch *b) { return loss_sum_at(m, b, 0); }

/* Central differences (L(x + h) - L(x - h)) / 2h at h and h/2 (into d), combined by one
 * Richardson step (4 D(h/2) - D(h)) / 3, whose error is O(h^4). */
static double central(attn_model *m, const attn_batch *b, int training, float *at, float h,
                      double d[2]) {
    float x = *at;
    for (int r = 0; r < 2; r++) {
        float hr = r ? h / 2 : h;
        *at = x + hr;
        double up = loss_sum_at(m, b, training);
        *at = x - hr;
        double down = loss_sum_at(m, b, training);
        *at = x;
        d[r] = (up - down) / (2.0 * (double)hr);
    }
    return (4 * d[1] - d[0]) / 3;
}

/* backward_sum(m, 1) of the last forward (its gradients in m) against central differences of the
 * loss sum of batch b (forward with `training`) for up to `count` entries of every tensor; the
 * number of entries out of tolerance, the worst ratio to the tolerance into *worst and the
 * number of convolution tensors into *n_conv. */
static int compare_gradients(attn_model *m, const attn_batch *b, int training, int count,
                             int *n_conv, double *worst) {
    int n_tensors = attn_model_num_tensors(m), failures = 0;
    *n_conv = 0, *worst = 0;
    for (int k = 0; k < n_tensors; k++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, k, &p), ATTN_OK);
        if (strncmp(p.name, "subsample.", 10) == 0) (*n_conv)++;
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
            double fd = central(m, b, training, p.data + j, 1e-2f, d);
            double err = fabs(fd - g) / (1e-2 * fabs(g) + 1e-3 * gmax + 1e-12);
            if (err > 1) {
                /* convolutions: a ReLU kink within h of the point, once more with h ten times
                 * smaller; elsewhere (smooth) a small entry lost in the float32 loss's rounding
                 * (D(h) and D(h/2) disagree), once more with h four times larger */
                int conv = strncmp(p.name, "subsample.", 10) == 0;
                double small[2], fd2 = central(m, b, training, p.data + j, conv ? 1e-3f : 4e-2f,
                                               small);
                double err2 = fabs(fd2 - g) / (1e-2 * fabs(g) + 1e-3 * gmax + 1e-12);
                print_message("%s[%zu]: h 1e-2 gives %.7g (%.2f of tolerance), h %s %.7g (%.2f)\n",
                              p.name, j, fd, err, conv ? "1e-3" : "4e-2", fd2, err2);
                if (err2 < err) fd = fd2, err = err2, d[0] = small[0], d[1] = small[1];
                /* a kink within h/2 spoils the Richardson step too: the plain differences
                 * D(h), D(h/2) at h = 1e-3 and 3e-3 also count */
                for (int t = 0; conv && err > 1 && t < 2; t++) {
                    double dd[2], r = central(m, b, training, p.data + j, t ? 3e-3f : 1e-3f, dd);
                    double cands[3] = {r, dd[0], dd[1]};
                    for (int q = 0; q < 3; q++) {
                        double e = fabs(cands[q] - g) / (1e-2 * fabs(g) + 1e-3 * gmax + 1e-12);
                        if (e < err) fd = cands[q], err = e, d[0] = dd[0], d[1] = dd[1];
                    }
                }
            }
            if (err > 1) {
                print_error("%s[%zu]: backward %.7g, finite differences %.7g (D(h) %.7g, "
                            "D(h/2) %.7g), tensor max |g| %.4g\n",
                            p.name, j, g, fd, d[0], d[1], gmax);
                failures++;
            }
            *worst = fmax(*worst, err);
        }
    }
    return failures;
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
    int n_conv;
    double worst;
    int failures = compare_gradients(m, &cb.batch, 0, count, &n_conv, &worst);
    print_message("ctc %s-LN subsample %d: %d tensors, worst %.3f of tolerance\n",
                  attn_norm_name(c->norm), c->subsample, attn_model_num_tensors(m), worst);
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

/* ---- seq2seq over features with a joint CTC head (ctc_weight) --------------------------------
 * Sources of 19 and 15 frames (4 and 3 encoder positions), BOS 1, EOS 2; row 1 is padded. */
enum { JV = 6, JTT = 4, JTC = 3 };
static const int joint_len[B] = {19, 15};
static const int joint_tgt_in[B * JTT] = {1, 3, 4, 5, 1, 4, 0, 0};
static const int joint_targets[B * JTT] = {3, 4, 5, 2, 4, 2, ATTN_IGNORE_INDEX, ATTN_IGNORE_INDEX};
static const int joint_ctc[B * JTC] = {3, 4, 5, 4, ATTN_IGNORE_INDEX, ATTN_IGNORE_INDEX};

static attn_config joint_config(float label_smoothing) {
    attn_config c = attn_config_default(ATTN_ARCH_SEQ2SEQ);
    c.vocab_size = JV;
    c.max_len = 24;
    c.d_model = 8;
    c.n_heads = 2;
    c.d_ff = 12;
    c.n_layers = 1;
    c.n_dec_layers = 1;
    c.norm = ATTN_NORM_PRE;
    c.dropout = 0.0f;
    c.label_smoothing = label_smoothing;
    c.n_features = NF;
    c.subsample = 4;
    c.conv_channels = K;
    c.ctc_weight = 0.3f;
    return c;
}

typedef struct {
    float features[B * T * NF];
    int lengths[B], tgt_in[B * JTT], targets[B * JTT], ctc_targets[B * JTC];
    attn_batch batch;
} joint_batch;

static void make_joint_batch(joint_batch *jb) {
    attn_rng rng;
    attn_rng_init(&rng, 13, 1);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int f = 0; f < NF; f++)
                jb->features[((size_t)b * T + t) * NF + f] =
                    t < joint_len[b] ? attn_rng_normal(&rng) : 0.0f;
    memcpy(jb->lengths, joint_len, sizeof jb->lengths);
    memcpy(jb->tgt_in, joint_tgt_in, sizeof jb->tgt_in);
    memcpy(jb->targets, joint_targets, sizeof jb->targets);
    memcpy(jb->ctc_targets, joint_ctc, sizeof jb->ctc_targets);
    jb->batch = (attn_batch){.B = B,
                             .T = T,
                             .lengths = jb->lengths,
                             .Tt = JTT,
                             .tgt_in = jb->tgt_in,
                             .targets = jb->targets,
                             .features = jb->features,
                             .Tc = JTC,
                             .ctc_targets = jb->ctc_targets};
}

/* The CTC loss sum of m's encoder + CTC head alone: a ctc model with m's encoder-side tensors
 * (copied by name) over the same frames, ctc_targets as its targets. */
static double encoder_ctc_sum(const attn_model *m, const joint_batch *jb) {
    attn_config c = *attn_model_config(m);
    c.arch = ATTN_ARCH_CTC;
    c.n_dec_layers = 0;
    c.ctc_weight = 0.0f;
    c.label_smoothing = 0.0f;
    attn_model *e;
    assert_int_equal(attn_config_validate(&c), ATTN_OK);
    assert_int_equal(attn_model_create(&c, 1, &e), ATTN_OK);
    for (int i = 0; i < attn_model_num_tensors(e); i++) {
        attn_param q;
        assert_int_equal(attn_model_tensor(e, i, &q), ATTN_OK);
        int found = 0;
        for (int k = 0; k < attn_model_num_tensors(m) && !found; k++) {
            attn_param p;
            assert_int_equal(attn_model_tensor(m, k, &p), ATTN_OK);
            if (strcmp(p.name, q.name) != 0) continue;
            assert_int_equal(p.size, q.size);
            memcpy(q.data, p.data, q.size * sizeof *q.data);
            found = 1;
        }
        if (!found) fail_msg("ctc model tensor %s is not in the seq2seq model", q.name);
    }
    attn_batch eb = {.B = B,
                     .T = T,
                     .lengths = jb->lengths,
                     .Tt = JTC,
                     .targets = jb->ctc_targets,
                     .features = jb->features};
    double sum = loss_sum(e, &eb);
    attn_model_free(e);
    return sum;
}

static void check_joint_gradients(float label_smoothing) {
    attn_config c = joint_config(label_smoothing);
    attn_model *m = make_model(&c, 21);
    joint_batch jb;
    make_joint_batch(&jb);
    /* the tensor table: the CTC head after the decoder's tensors */
    int n_tensors = attn_model_num_tensors(m), at_w = -1, at_b = -1, last_dec = -1;
    for (int k = 0; k < n_tensors; k++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, k, &p), ATTN_OK);
        if (strncmp(p.name, "decoder.", 8) == 0) last_dec = k;
        if (strcmp(p.name, "ctc.weight") == 0) {
            at_w = k;
            assert_int_equal(p.shape[0], JV);
            assert_int_equal(p.shape[1], 8);
        }
        if (strcmp(p.name, "ctc.bias") == 0) at_b = k, assert_int_equal(p.shape[0], JV);
    }
    assert_true(last_dec >= 0 && at_w > last_dec && at_b > last_dec);
    assert_int_equal(attn_model_encoder_length(m, 19), 4);
    assert_int_equal(attn_model_encoder_length(m, 15), 3);

    /* the joint sum: (1 - lambda) CE + lambda CTC, counted per decoder target */
    double joint = loss_sum(m, &jb.batch), ce_sum, joint2;
    long count;
    assert_int_equal(attn_model_loss(m, &joint2, &count), ATTN_OK);
    assert_int_equal(count, 6);
    attn_batch no_ctc = jb.batch;
    no_ctc.ctc_targets = NULL, no_ctc.Tc = 0;
    ce_sum = loss_sum(m, &no_ctc);
    assert_int_equal(attn_model_loss(m, &joint2, &count), ATTN_OK);
    assert_int_equal(count, 6);
    double ctc_sum = encoder_ctc_sum(m, &jb), want = 0.7 * ce_sum + 0.3 * ctc_sum;
    print_message("joint (smoothing %.1f): sum %.9g, CE %.9g, encoder CTC %.9g, 0.7 CE + 0.3 CTC "
                  "%.9g\n",
                  (double)label_smoothing, joint, ce_sum, ctc_sum, want);
    assert_true(isfinite(joint) && isfinite(ce_sum) && ctc_sum > 0 && isfinite(ctc_sum));
    if (fabs(joint - want) > 1e-5 * fabs(want))
        fail_msg("joint loss sum %.9g, (1 - 0.3) CE %.9g + 0.3 CTC %.9g = %.9g", joint, ce_sum,
                 ctc_sum, want);

    /* gradients of the training loss (label smoothing included) */
    attn_model_zero_grad(m);
    double sum;
    assert_int_equal(attn_model_forward(m, &jb.batch, 1, NULL), ATTN_OK);
    assert_int_equal(attn_model_loss(m, &sum, &count), ATTN_OK);
    assert_int_equal(count, 6);
    assert_int_equal(attn_model_backward_sum(m, 1.0f), ATTN_OK);
    int n_conv;
    double worst;
    int failures = compare_gradients(m, &jb.batch, 1, 10, &n_conv, &worst);
    print_message("seq2seq + ctc 0.3, smoothing %.1f: %d tensors, worst %.3f of tolerance\n",
                  (double)label_smoothing, n_tensors, worst);
    assert_int_equal(n_conv, 4);
    attn_model_free(m);
    if (failures) fail_msg("%d gradient entries outside tolerance", failures);
}

static void test_joint_gradients(void **state) {
    (void)state;
    check_joint_gradients(0.0f);
    check_joint_gradients(0.1f);
}

/* KV-cached decoding over the subsampled encoder, one token at a time, against the full forward's
 * logits of the same tgt_in: the batch of two (padded source), then each source alone (B = 1,
 * T its length). */
static void check_decoding(attn_model *m, const float *features, const int *lengths, int nb, int Tf,
                           const int *tgt_in) {
    attn_batch fb = {.B = nb, .T = Tf, .lengths = lengths, .Tt = JTT, .tgt_in = tgt_in,
                     .features = features};
    assert_int_equal(attn_model_forward(m, &fb, 0, NULL), ATTN_OK);
    int rows, cols;
    const float *lg = attn_model_logits(m, &rows, &cols);
    assert_int_equal(rows, nb * JTT);
    assert_int_equal(cols, JV);
    float *want = malloc((size_t)rows * cols * sizeof *want);
    memcpy(want, lg, (size_t)rows * cols * sizeof *want);
    attn_context *ctx;
    assert_int_equal(attn_context_create(m, nb, JTT, &ctx), ATTN_OK);
    assert_int_equal(attn_context_set_source_features(ctx, features, lengths, Tf), ATTN_OK);
    float got[B * JV], ref[B * JV];
    for (int t = 0; t < JTT; t++) {
        int tok[B];
        for (int b = 0; b < nb; b++)
            tok[b] = tgt_in[b * JTT + t];
        const float *out;
        assert_int_equal(attn_context_feed(ctx, tok, 1, &out), ATTN_OK);
        for (int b = 0; b < nb; b++) {
            memcpy(got + b * JV, out + b * JV, JV * sizeof *got);
            memcpy(ref + b * JV, want + ((size_t)b * JTT + t) * JV, JV * sizeof *ref);
        }
        tu_assert_close(got, ref, (long)nb * JV, 1e-4, 1e-4,
                        "cached decoding step vs the full forward's logits");
    }
    assert_int_equal(attn_context_length(ctx), JTT);
    attn_context_free(ctx);
    free(want);
}

static void test_joint_decoding(void **state) {
    (void)state;
    attn_config c = joint_config(0.0f);
    attn_model *m = make_model(&c, 23);
    joint_batch jb;
    make_joint_batch(&jb);
    check_decoding(m, jb.features, jb.lengths, B, T, jb.tgt_in);
    for (int b = 0; b < B; b++)
        check_decoding(m, jb.features + (size_t)b * T * NF, &joint_len[b], 1, joint_len[b],
                       jb.tgt_in + b * JTT);
    /* 6 frames leave the convolutions nothing */
    attn_context *ctx;
    assert_int_equal(attn_context_create(m, 1, JTT, &ctx), ATTN_OK);
    int six = 6;
    assert_int_equal(attn_context_set_source_features(ctx, jb.features, &six, 6), ATTN_ERR_INVALID);
    attn_context_free(ctx);
    attn_model_free(m);
}

/* The joint model against tests/models/ctc_model_reference.py (torch float64): the CE, CTC and
 * joint sums to 1e-4 relative, the decoder's logits to 1e-4 relative + 1e-4 absolute. */
static void test_torch_joint(void **state) {
    (void)state;
    const char *src = getenv("ATTN_SOURCE_DIR");
    if (!src || access("/usr/bin/python3", X_OK) != 0) {
        print_message("no ATTN_SOURCE_DIR or /usr/bin/python3: skipped\n");
        skip();
    }
    attn_config c = joint_config(0.0f);
    attn_model *m = make_model(&c, 25);
    joint_batch jb;
    make_joint_batch(&jb);
    attn_batch no_ctc = jb.batch;
    no_ctc.ctc_targets = NULL, no_ctc.Tc = 0;
    double ce_sum = loss_sum(m, &no_ctc), ctc_sum = encoder_ctc_sum(m, &jb);
    double sum = loss_sum(m, &jb.batch);
    int rows, cols;
    const float *lg = attn_model_logits(m, &rows, &cols);
    assert_int_equal(rows, B * JTT);
    assert_int_equal(cols, JV);
    const char *model_path = temp_path("model"), *batch_path = temp_path("batch");
    assert_int_equal(attn_model_save(m, model_path), ATTN_OK);
    FILE *f = fopen(batch_path, "w");
    assert_non_null(f);
    fprintf(f, "%d %d %d %d %d\n", B, T, NF, JTT, JTC);
    for (int b = 0; b < B; b++)
        fprintf(f, "%d\n", jb.lengths[b]);
    for (int i = 0; i < B * JTT; i++)
        fprintf(f, "%d\n", jb.tgt_in[i]);
    for (int i = 0; i < B * JTT; i++)
        fprintf(f, "%d\n", jb.targets[i]);
    for (int i = 0; i < B * JTC; i++)
        fprintf(f, "%d\n", jb.ctc_targets[i]);
    for (int i = 0; i < B * T * NF; i++)
        fprintf(f, "%.9g\n", (double)jb.features[i]);
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
    long n = 3 + (long)rows * cols;
    double *want = malloc((size_t)n * sizeof *want);
    char *at = out, *end;
    for (long i = 0; i < n; i++) {
        want[i] = strtod(at, &end);
        if (end == at) fail_msg("reference output ends after %ld of %ld numbers", i, n);
        at = end;
    }
    print_message("joint: CE %.9g (torch %.9g), CTC %.9g (torch %.9g), sum %.9g (torch %.9g)\n",
                  ce_sum, want[0], ctc_sum, want[1], sum, want[2]);
    const double got[3] = {ce_sum, ctc_sum, sum};
    const char *what[3] = {"CE sum", "CTC sum", "joint sum"};
    for (int i = 0; i < 3; i++)
        if (fabs(got[i] - want[i]) > 1e-4 * fabs(want[i]))
            fail_msg("%s %.9g, torch float64 %.9g", what[i], got[i], want[i]);
    tu_assert_close_d(lg, want + 3, (long)rows * cols, 1e-4, 1e-4,
                      "decoder logits vs torch float64");
    free(want);
    free(out);
    attn_model_free(m);
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
        cmocka_unit_test(test_joint_gradients),    cmocka_unit_test(test_joint_decoding),
        cmocka_unit_test(test_torch_joint),        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
