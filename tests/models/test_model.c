/* tests/models/test_model.c: the three families through the public API: loss at initialisation,
 * gradients against central finite differences, bad input, save/load. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/attn.h"

static attn_config tiny(attn_arch arch, attn_norm norm) {
    attn_config c = attn_config_default(arch);
    c.vocab_size = 13;
    c.max_len = 12;
    c.d_model = 16;
    c.n_heads = 2;
    c.d_ff = 24;
    c.n_layers = 2;
    c.n_dec_layers = arch == ATTN_ARCH_SEQ2SEQ ? 2 : 0;
    c.n_classes = arch == ATTN_ARCH_CLASSIFIER ? 3 : 0;
    c.norm = norm;
    c.dropout = 0;
    return c;
}

typedef struct {
    int tokens[3 * 9], lengths[3], tgt_in[3 * 7], targets[3 * 9], labels[3];
    attn_batch batch;
} batch_store;

static void make_batch(batch_store *s, const attn_config *c, attn_rng *rng) {
    int B = 3, T = 9, Tt = 7;
    for (int i = 0; i < B * T; i++)
        s->tokens[i] = (int)attn_rng_below(rng, (uint32_t)c->vocab_size);
    for (int i = 0; i < B * Tt; i++)
        s->tgt_in[i] = (int)attn_rng_below(rng, (uint32_t)c->vocab_size);
    int Tdec = c->arch == ATTN_ARCH_SEQ2SEQ ? Tt : T;
    for (int i = 0; i < B * Tdec; i++)
        s->targets[i] =
            i % 5 == 4 ? ATTN_IGNORE_INDEX : (int)attn_rng_below(rng, (uint32_t)c->vocab_size);
    for (int b = 0; b < B; b++)
        s->labels[b] = b % (c->n_classes ? c->n_classes : 1);
    s->lengths[0] = T, s->lengths[1] = 5, s->lengths[2] = 1;
    s->batch = (attn_batch){.B = B,
                            .T = T,
                            .tokens = s->tokens,
                            .lengths = s->lengths,
                            .Tt = Tt,
                            .tgt_in = s->tgt_in,
                            .targets = s->targets,
                            .labels = s->labels};
}

static double loss_at(attn_model *m, const attn_batch *b) {
    float loss;
    assert_int_equal(attn_model_forward(m, b, 0, &loss), ATTN_OK);
    return loss;
}

/* A model of config c (seeded by seed) with weights larger than the default 0.02, so that every
 * path matters, and a batch for it; rng is left for the caller's further draws. */
static attn_model *perturbed_model(const attn_config *c, uint64_t seed, attn_rng *rng,
                                   batch_store *bs) {
    attn_model *m;
    assert_int_equal(attn_model_create(c, seed, &m), ATTN_OK);
    float *p = attn_model_params(m);
    for (size_t i = 0; i < attn_model_num_params(m); i++)
        p[i] += 0.3f * attn_rng_normal(rng);
    make_batch(bs, c, rng);
    return m;
}

/* Central differences on a sample of every tensor's entries against the analytic gradient. */
static void check_gradients(attn_arch arch, attn_norm norm, attn_pos pos) {
    attn_config c = tiny(arch, norm);
    c.pos = pos;
    attn_rng rng;
    attn_rng_init(&rng, 3, 0);
    batch_store bs;
    attn_model *m = perturbed_model(&c, 7, &rng, &bs);
    float loss;
    attn_model_zero_grad(m);
    assert_int_equal(attn_model_forward(m, &bs.batch, 1, &loss), ATTN_OK);
    assert_int_equal(attn_model_backward(m, 1.0f), ATTN_OK);
    const float h = 2e-3f;
    int checked = 0;
    for (int t = 0; t < attn_model_num_tensors(m); t++) {
        attn_param prm;
        assert_int_equal(attn_model_tensor(m, t, &prm), ATTN_OK);
        for (int k = 0; k < 3; k++) {
            size_t j = attn_rng_below(&rng, (uint32_t)prm.size);
            float saved = prm.data[j];
            prm.data[j] = saved + h;
            double up = loss_at(m, &bs.batch);
            prm.data[j] = saved - h;
            double down = loss_at(m, &bs.batch);
            prm.data[j] = saved;
            double numeric = (up - down) / (2.0 * h);
            double analytic = prm.grad[j];
            /* the loss is a float (~2.5, resolution ~3e-7), so the quotient carries ~1e-4 of
             * rounding noise: hence the absolute term */
            if (fabs(numeric - analytic) > 3e-2 * fabs(numeric) + 3e-4)
                fail_msg("%s %s: d/d %s[%zu]: analytic %.6g numeric %.6g", attn_arch_name(arch),
                         attn_norm_name(norm), prm.name, j, analytic, numeric);
            checked++;
        }
    }
    assert_true(checked > 20);
    attn_model_free(m);
}

static void test_grad_classifier(void **state) {
    (void)state;
    check_gradients(ATTN_ARCH_CLASSIFIER, ATTN_NORM_PRE, ATTN_POS_LEARNED);
    check_gradients(ATTN_ARCH_CLASSIFIER, ATTN_NORM_POST, ATTN_POS_SINUSOIDAL);
}
static void test_grad_lm(void **state) {
    (void)state;
    check_gradients(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE, ATTN_POS_LEARNED);
    check_gradients(ATTN_ARCH_DECODER_LM, ATTN_NORM_POST, ATTN_POS_LEARNED);
}
static void test_grad_seq2seq(void **state) {
    (void)state;
    check_gradients(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_PRE, ATTN_POS_SINUSOIDAL);
    check_gradients(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_POST, ATTN_POS_LEARNED);
}

/* At initialisation (weights ~0.02) the prediction is near uniform: loss ~ log(classes). */
static void test_initial_loss(void **state) {
    (void)state;
    attn_arch archs[] = {ATTN_ARCH_CLASSIFIER, ATTN_ARCH_DECODER_LM, ATTN_ARCH_SEQ2SEQ};
    for (int i = 0; i < 3; i++) {
        attn_config c = tiny(archs[i], ATTN_NORM_PRE);
        attn_model *m;
        assert_int_equal(attn_model_create(&c, 1, &m), ATTN_OK);
        attn_rng rng;
        attn_rng_init(&rng, 5, 0);
        batch_store bs;
        make_batch(&bs, &c, &rng);
        double loss = loss_at(m, &bs.batch);
        double want = log(archs[i] == ATTN_ARCH_CLASSIFIER ? c.n_classes : c.vocab_size);
        assert_true(fabs(loss - want) < 0.05 * want);
        int rows, cols;
        assert_non_null(attn_model_logits(m, &rows, &cols));
        assert_int_equal(cols, archs[i] == ATTN_ARCH_CLASSIFIER ? c.n_classes : c.vocab_size);
        assert_int_equal(rows, archs[i] == ATTN_ARCH_CLASSIFIER ? 3
                               : archs[i] == ATTN_ARCH_SEQ2SEQ  ? 21
                                                                : 27);
        attn_model_free(m);
    }
}

static void test_bad_input(void **state) {
    (void)state;
    attn_config c = tiny(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE);
    attn_model *m;
    assert_int_equal(attn_model_create(&c, 1, &m), ATTN_OK);
    attn_rng rng;
    attn_rng_init(&rng, 5, 0);
    batch_store bs;
    make_batch(&bs, &c, &rng);
    float loss;
    assert_int_equal(attn_model_backward(m, 1), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "backward"));
    bs.tokens[4] = 99;
    assert_int_equal(attn_model_forward(m, &bs.batch, 1, &loss), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "tokens[4] = 99"));
    bs.tokens[4] = 1;
    bs.lengths[1] = 0;
    assert_int_equal(attn_model_forward(m, &bs.batch, 1, &loss), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "lengths[1]"));
    bs.lengths[1] = 5;
    bs.targets[0] = 13;
    assert_int_equal(attn_model_forward(m, &bs.batch, 1, &loss), ATTN_ERR_INVALID);
    bs.targets[0] = 1;
    bs.batch.T = 13; /* > max_len */
    assert_int_equal(attn_model_forward(m, &bs.batch, 1, &loss), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "max_len"));
    bs.batch.T = 9;
    attn_model_params(m)[0] = NAN; /* poisons token 0's embedding */
    bs.tokens[0] = 0;
    assert_int_equal(attn_model_forward(m, &bs.batch, 1, &loss), ATTN_ERR_NUMERIC);
    assert_int_equal(attn_model_backward(m, 1), ATTN_ERR_INVALID);
    attn_model_free(m);

    attn_config bad = c;
    bad.n_heads = 3;
    assert_int_equal(attn_model_create(&bad, 1, &m), ATTN_ERR_INVALID);
    assert_null(m);
}

static void test_save_load(void **state) {
    (void)state;
    attn_config c = tiny(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_POST);
    attn_model *m, *back;
    assert_int_equal(attn_model_create(&c, 11, &m), ATTN_OK);
    char path[64];
    snprintf(path, sizeof path, "/tmp/attn_test_model_%d.safetensors", (int)getpid());
    assert_int_equal(attn_model_save(m, path), ATTN_OK);
    assert_int_equal(attn_model_load(path, &back), ATTN_OK);
    assert_int_equal(attn_model_num_params(back), attn_model_num_params(m));
    assert_memory_equal(attn_model_params(back), attn_model_params(m),
                        attn_model_num_params(m) * sizeof(float));
    assert_int_equal(attn_model_config(back)->norm, ATTN_NORM_POST);
    attn_model_free(back);
    /* truncated file: an error, never a crash */
    FILE *f = fopen(path, "r+");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 200), 0);
    fclose(f);
    assert_int_not_equal(attn_model_load(path, &back), ATTN_OK);
    assert_null(back);
    assert_int_not_equal(attn_model_load("/nonexistent/x.safetensors", &back), ATTN_OK);
    assert_non_null(strstr(attn_last_error(), "/nonexistent/x.safetensors"));
    /* a checkpoint of another family is refused by name */
    attn_config lc = tiny(ATTN_ARCH_CLASSIFIER, ATTN_NORM_PRE);
    attn_model *cls;
    assert_int_equal(attn_model_create(&lc, 1, &cls), ATTN_OK);
    assert_int_equal(attn_model_save(cls, path), ATTN_OK);
    assert_int_equal(attn_model_load(path, &back),
                     ATTN_OK); /* self-describing: loads as classifier */
    assert_int_equal(attn_model_config(back)->arch, ATTN_ARCH_CLASSIFIER);
    attn_model_free(back);
    attn_model_free(cls);
    unlink(path);
    attn_model_free(m);
}

/* Label smoothing e belongs to the training loss: a training forward (no dropout) gives
 * (1 - e) NLL + e mean_j(-log p_j) over the non-ignored rows, an evaluation forward the plain NLL;
 * both recomputed here in double from the logits. */
/* Every parameter's shape: ndim in [1, ATTN_PARAM_MAX_DIMS], dims past ndim zero, product equal to
 * its size, the tensors back to back in the arena. */
static void test_param_table_shapes(void **state) {
    attn_arch archs[] = {ATTN_ARCH_CLASSIFIER, ATTN_ARCH_DECODER_LM, ATTN_ARCH_SEQ2SEQ};
    for (int a = 0; a < 3; a++) {
        attn_config c = tiny(archs[a], ATTN_NORM_PRE);
        attn_model *m;
        assert_int_equal(attn_model_create(&c, 1, &m), ATTN_OK);
        float *next = attn_model_params(m);
        for (int i = 0; i < attn_model_num_tensors(m); i++) {
            attn_param p;
            assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
            assert_true(p.ndim >= 1 && p.ndim <= ATTN_PARAM_MAX_DIMS);
            size_t n = 1;
            for (int d = 0; d < ATTN_PARAM_MAX_DIMS; d++) {
                if (d < p.ndim)
                    n *= (size_t)p.shape[d];
                else
                    assert_int_equal(p.shape[d], 0);
            }
            assert_int_equal(n, p.size);
            assert_ptr_equal(p.data, next);
            next += p.size;
        }
        assert_ptr_equal(next, attn_model_params(m) + attn_model_num_params(m));
        attn_model_free(m);
    }
}

static void test_label_smoothing_eval(void **state) {
    (void)state;
    const attn_arch archs[] = {ATTN_ARCH_CLASSIFIER, ATTN_ARCH_DECODER_LM};
    for (int a = 0; a < 2; a++) {
        attn_config c = tiny(archs[a], ATTN_NORM_PRE);
        c.label_smoothing = 0.2f;
        attn_rng rng;
        attn_rng_init(&rng, 11, 0);
        batch_store bs;
        attn_model *m = perturbed_model(&c, 5, &rng, &bs);
        float train_loss, eval_loss;
        assert_int_equal(attn_model_forward(m, &bs.batch, 0, &eval_loss), ATTN_OK);
        int rows, cols;
        const float *z = attn_model_logits(m, &rows, &cols);
        const int *tgt = archs[a] == ATTN_ARCH_CLASSIFIER ? bs.labels : bs.targets;
        double nll = 0, uniform = 0;
        int n = 0;
        for (int r = 0; r < rows; r++) {
            if (tgt[r] == ATTN_IGNORE_INDEX) continue;
            double top = z[(size_t)r * cols], sum = 0, mean_logp = 0;
            for (int j = 1; j < cols; j++)
                if (z[(size_t)r * cols + j] > top) top = z[(size_t)r * cols + j];
            for (int j = 0; j < cols; j++)
                sum += exp(z[(size_t)r * cols + j] - top);
            double lse = top + log(sum);
            for (int j = 0; j < cols; j++)
                mean_logp += (z[(size_t)r * cols + j] - lse) / cols;
            nll += lse - z[(size_t)r * cols + tgt[r]];
            uniform -= mean_logp;
            n++;
        }
        nll /= n, uniform /= n;
        assert_float_equal(eval_loss, nll, 1e-5 * fabs(nll) + 1e-6);
        assert_int_equal(attn_model_forward(m, &bs.batch, 1, &train_loss), ATTN_OK);
        double want = 0.8 * nll + 0.2 * uniform;
        assert_float_equal(train_loss, want, 1e-5 * fabs(want) + 1e-6);
        assert_true(fabs(train_loss - eval_loss) > 1e-3);
        attn_model_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_loss),
        cmocka_unit_test(test_grad_classifier),
        cmocka_unit_test(test_grad_lm),
        cmocka_unit_test(test_grad_seq2seq),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_label_smoothing_eval),
        cmocka_unit_test(test_param_table_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
