/* tests/train/test_optimizer.c: the AdamW optimizer over a model (src/train/optimizer.c): decay
 * only on tensors with two or more dimensions, global-norm clipping, non-finite gradients,
 * argument checks. Gradients are filled directly, so no forward pass is needed. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/model.h"
#include "attn/train.h"
#include "train/adamw.h"
#include "train/optimizer_internal.h"

static attn_model *tiny_model(attn_arch arch, uint64_t seed) {
    attn_config cfg = attn_config_default(arch);
    cfg.vocab_size = 13, cfg.max_len = 8, cfg.d_model = 8, cfg.n_heads = 2, cfg.d_ff = 16;
    cfg.n_layers = 1;
    if (arch == ATTN_ARCH_SEQ2SEQ) cfg.n_dec_layers = 1;
    attn_model *m = NULL;
    assert_int_equal(attn_model_create(&cfg, seed, &m), ATTN_OK);
    return m;
}

/* Fills every gradient with N(0, std²). */
static void fill_grads(attn_model *m, attn_rng *rng, float std) {
    for (int i = 0; i < attn_model_num_tensors(m); i++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
        attn_rng_fill_normal(rng, p.grad, (long)p.size, std);
    }
}

static float *copy_of(const float *x, size_t n) {
    float *y = malloc(n * sizeof *y);
    assert_non_null(y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

static void test_defaults_and_steps(void **state) {
    (void)state;
    attn_adamw_params d = attn_adamw_default_params();
    assert_true(d.beta1 == 0.9f && d.beta2 == 0.999f && d.eps == 1e-8f);
    assert_true(d.weight_decay == 0.01f && d.clip_norm == 1.0f);
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 1);
    attn_optimizer *opt = NULL;
    assert_int_equal(attn_optimizer_create(m, d, &opt), ATTN_OK);
    assert_int_equal(attn_optimizer_steps(opt), 0);
    assert_true(attn_optimizer_params(opt).beta2 == 0.999f);
    attn_rng rng;
    attn_rng_init(&rng, 2, 0);
    for (int s = 1; s <= 3; s++) {
        fill_grads(m, &rng, 0.1f);
        float norm = -1;
        assert_int_equal(attn_optimizer_step(opt, m, 1e-3f, &norm), ATTN_OK);
        assert_true(norm > 0);
        assert_int_equal(attn_optimizer_steps(opt), s);
    }
    assert_int_equal(attn_optimizer_step(opt, m, 1e-3f, NULL), ATTN_OK);
    attn_optimizer_free(opt);
    attn_optimizer_free(NULL);
    attn_model_free(m);
}

/* With zero gradients only the decoupled decay moves parameters: tensors with ndim >= 2 are
 * multiplied by (1 - lr·wd), biases and LayerNorm parameters stay exactly as they were. */
static void test_decay_only_on_matrices(void **state) {
    (void)state;
    attn_model *m = tiny_model(ATTN_ARCH_CLASSIFIER, 3);
    attn_model_zero_grad(m);
    size_t n = attn_model_num_params(m);
    float *before = copy_of(attn_model_params(m), n);
    attn_adamw_params hp = attn_adamw_default_params();
    hp.weight_decay = 0.5f;
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, hp, &opt), ATTN_OK);
    assert_int_equal(attn_optimizer_step(opt, m, 0.1f, NULL), ATTN_OK);
    int n_decayed = 0, n_kept = 0;
    for (int i = 0; i < attn_model_num_tensors(m); i++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
        const float *old = before + (p.data - attn_model_params(m));
        for (size_t j = 0; j < p.size; j++) {
            float want = p.ndim >= 2 ? old[j] * (float)(1.0 - 0.1f * 0.5f) : old[j];
            if (!(fabsf(p.data[j] - want) <= 1e-7f * fabsf(want)))
                fail_msg("%s[%zu] (ndim %d): %g, want %g", p.name, j, p.ndim, p.data[j], want);
        }
        n_decayed += p.ndim >= 2;
        n_kept += p.ndim < 2;
    }
    assert_true(n_decayed > 0 && n_kept > 0);
    attn_optimizer_free(opt);
    free(before);
    attn_model_free(m);
}

/* Clipping: ‖g‖ above clip_norm scales every gradient by clip/(‖g‖ + 1e-6); the step then equals
 * attn_adamw_update on the scaled gradients, tensor by tensor. The reported norm is the one before
 * clipping, and the model's gradients are not changed. */
static void check_clipped_step(float grad_std, float clip) {
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 4);
    attn_rng rng;
    attn_rng_init(&rng, 5, 0);
    size_t n = attn_model_num_params(m);
    attn_adamw_params hp = attn_adamw_default_params();
    hp.clip_norm = clip, hp.weight_decay = 0.1f;
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, hp, &opt), ATTN_OK);
    float *ref_p = copy_of(attn_model_params(m), n);
    float *ref_m = tu_zeros((long)n), *ref_v = tu_zeros((long)n);
    for (int t = 1; t <= 3; t++) {
        fill_grads(m, &rng, grad_std);
        float *grads = copy_of(attn_model_grads(m), n);
        double sq = 0;
        for (size_t j = 0; j < n; j++)
            sq += (double)grads[j] * grads[j];
        double norm = sqrt(sq), coef = clip > 0 ? clip / (norm + 1e-6) : 1.0;
        float scale = coef < 1 ? (float)coef : 1.0f;
        float *scaled = copy_of(grads, n);
        for (size_t j = 0; j < n; j++)
            scaled[j] *= scale;
        for (int i = 0; i < attn_model_num_tensors(m); i++) {
            attn_param p;
            assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
            size_t off = (size_t)(p.data - attn_model_params(m));
            attn_adamw_update(ref_p + off, scaled + off, ref_m + off, ref_v + off, (long)p.size,
                              1e-2f, hp.beta1, hp.beta2, hp.eps, p.ndim >= 2 ? 0.1f : 0.0f, t);
        }
        float got_norm = 0;
        assert_int_equal(attn_optimizer_step(opt, m, 1e-2f, &got_norm), ATTN_OK);
        assert_true(fabs(got_norm - norm) <= 1e-6 * norm);
        assert_memory_equal(attn_model_grads(m), grads, n * sizeof *grads);
        tu_assert_close(attn_model_params(m), ref_p, (long)n, 1e-6, 1e-7, "clipped step");
        free(grads), free(scaled);
    }
    attn_optimizer_free(opt);
    free(ref_p), free(ref_m), free(ref_v);
    attn_model_free(m);
}

static void test_clipping(void **state) {
    (void)state;
    check_clipped_step(1.0f, 1.0f);   /* norm ~ sqrt(#params) >> 1: clipped */
    check_clipped_step(1e-4f, 1.0f);  /* norm < 1: untouched */
    check_clipped_step(1.0f, 0.0f);   /* clipping off */
    check_clipped_step(0.05f, 0.25f); /* around the threshold */
}

/* Sum of squares of every first moment (the internal accessor of train/optimizer_internal.h). */
static double moment_sq_norm(const attn_optimizer *opt, int which) {
    double sq = 0;
    for (int i = 0; i < attn_optimizer_num_tensors(opt); i++) {
        float *mo, *vo;
        size_t size;
        assert_int_equal(attn_optimizer_moments(opt, i, &mo, &vo, &size), ATTN_OK);
        const float *x = which == 0 ? mo : vo;
        for (size_t j = 0; j < size; j++)
            sq += (double)x[j] * x[j];
    }
    return sq;
}

/* After one step the first moment is (1-β1)·scale·g, so ‖m‖/(1-β1) is the clipped norm
 * clip·‖g‖/(‖g‖ + 1e-6): checks the scale itself, independently of the reference above. */
static void test_clip_scale_in_moments(void **state) {
    (void)state;
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 6);
    attn_rng rng;
    attn_rng_init(&rng, 7, 0);
    fill_grads(m, &rng, 1.0f);
    size_t n = attn_model_num_params(m);
    double sq = 0;
    for (size_t j = 0; j < n; j++)
        sq += (double)attn_model_grads(m)[j] * attn_model_grads(m)[j];
    attn_adamw_params hp = attn_adamw_default_params();
    hp.clip_norm = 0.5f;
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, hp, &opt), ATTN_OK);
    assert_int_equal(attn_optimizer_num_tensors(opt), attn_model_num_tensors(m));
    assert_int_equal(attn_optimizer_step(opt, m, 1e-3f, NULL), ATTN_OK);
    double clipped = sqrt(moment_sq_norm(opt, 0)) / (1.0 - 0.9f);
    double want = 0.5 * sqrt(sq) / (sqrt(sq) + 1e-6);
    if (!(fabs(clipped - want) <= 1e-5 * want))
        fail_msg("clipped norm %.9g, want %.9g", clipped, want);
    attn_optimizer_free(opt);
    attn_model_free(m);
}

/* A NaN or Inf gradient: ATTN_ERR_NUMERIC, nothing changes, the norm is still reported. */
static void test_non_finite_gradient(void **state) {
    (void)state;
    const float bad[2] = {NAN, INFINITY};
    for (int b = 0; b < 2; b++) {
        attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 8);
        attn_rng rng;
        attn_rng_init(&rng, 9, 0);
        attn_optimizer *opt;
        assert_int_equal(attn_optimizer_create(m, attn_adamw_default_params(), &opt), ATTN_OK);
        fill_grads(m, &rng, 0.1f);
        assert_int_equal(attn_optimizer_step(opt, m, 1e-3f, NULL), ATTN_OK);
        size_t n = attn_model_num_params(m);
        float *before = copy_of(attn_model_params(m), n);
        double m_sq = moment_sq_norm(opt, 0), v_sq = moment_sq_norm(opt, 1);
        fill_grads(m, &rng, 0.1f);
        attn_model_grads(m)[n / 2] = bad[b];
        float norm = 0;
        assert_int_equal(attn_optimizer_step(opt, m, 1e-3f, &norm), ATTN_ERR_NUMERIC);
        assert_false(isfinite(norm));
        assert_non_null(strstr(attn_last_error(), "gradient norm"));
        assert_int_equal(attn_optimizer_steps(opt), 1);
        assert_memory_equal(attn_model_params(m), before, n * sizeof *before);
        assert_true(moment_sq_norm(opt, 0) == m_sq && moment_sq_norm(opt, 1) == v_sq);
        free(before);
        attn_optimizer_free(opt);
        attn_model_free(m);
    }
}

static void test_invalid(void **state) {
    (void)state;
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 10);
    attn_optimizer *opt = (attn_optimizer *)m; /* reset to NULL on failure */
    attn_adamw_params hp = attn_adamw_default_params();
    hp.beta1 = 1.0f;
    assert_int_equal(attn_optimizer_create(m, hp, &opt), ATTN_ERR_INVALID);
    assert_null(opt);
    assert_non_null(strstr(attn_last_error(), "beta1"));
    hp = attn_adamw_default_params(), hp.beta2 = -0.1f;
    assert_int_equal(attn_optimizer_create(m, hp, &opt), ATTN_ERR_INVALID);
    hp = attn_adamw_default_params(), hp.eps = NAN;
    assert_int_equal(attn_optimizer_create(m, hp, &opt), ATTN_ERR_INVALID);
    hp = attn_adamw_default_params(), hp.weight_decay = -1;
    assert_int_equal(attn_optimizer_create(m, hp, &opt), ATTN_ERR_INVALID);
    hp = attn_adamw_default_params(), hp.clip_norm = INFINITY;
    assert_int_equal(attn_optimizer_create(m, hp, &opt), ATTN_ERR_INVALID);
    assert_int_equal(attn_optimizer_create(NULL, attn_adamw_default_params(), &opt),
                     ATTN_ERR_INVALID);

    assert_int_equal(attn_optimizer_create(m, attn_adamw_default_params(), &opt), ATTN_OK);
    attn_model_zero_grad(m);
    assert_int_equal(attn_optimizer_step(opt, m, -1e-3f, NULL), ATTN_ERR_INVALID);
    assert_int_equal(attn_optimizer_step(opt, m, NAN, NULL), ATTN_ERR_INVALID);
    /* an optimizer made for another model */
    attn_model *other = tiny_model(ATTN_ARCH_CLASSIFIER, 11);
    attn_model_zero_grad(other);
    assert_int_equal(attn_optimizer_step(opt, other, 1e-3f, NULL), ATTN_ERR_SHAPE);
    assert_int_equal(attn_optimizer_steps(opt), 0);
    attn_optimizer_free(opt);
    attn_model_free(other);
    attn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_steps),
        cmocka_unit_test(test_decay_only_on_matrices),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_clip_scale_in_moments),
        cmocka_unit_test(test_non_finite_gradient),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
