/* tests/train/test_trainer.c: the training loop (src/train/trainer.c): accumulation over unequal
 * micro-batches equals one big batch (losses are sums with counts), a resumed run ends with the
 * parameters of an uninterrupted one bit for bit, abort, patience and keep-best. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/data.h"
#include "attn/model.h"
#include "attn/train.h"

static attn_model *tiny_lm(uint64_t seed) {
    attn_config cfg = attn_config_default(ATTN_ARCH_DECODER_LM);
    cfg.vocab_size = 11, cfg.max_len = 8, cfg.d_model = 8, cfg.n_heads = 2, cfg.d_ff = 16;
    cfg.n_layers = 2;
    cfg.dropout = 0; /* micro-batches are seeded apart: with dropout a split is another step */
    attn_model *m = NULL;
    assert_int_equal(attn_model_create(&cfg, seed, &m), ATTN_OK);
    return m;
}

/* ---- a source of fixed batches: the rows [row0, row0 + B) of a (4, 8) table ----------------- */

#define ROWS 4
#define LEN 8
static int tokens[ROWS * LEN], targets[ROWS * LEN];

typedef struct {
    int split; /* micro-batch 0 holds rows [0, split), micro-batch 1 the rest; 0: all at once */
} fixed;

static attn_status fixed_next(void *self, long index, int rank, int n_ranks, attn_batch *out) {
    (void)rank, (void)n_ranks;
    const fixed *f = self;
    int row0 = 0, B = ROWS;
    if (f->split) {
        row0 = index % 2 ? f->split : 0;
        B = index % 2 ? ROWS - f->split : f->split;
    }
    *out = (attn_batch){
        .B = B, .T = LEN, .tokens = tokens + row0 * LEN, .targets = targets + row0 * LEN};
    return ATTN_OK;
}

static void fill_table(void) {
    attn_rng rng;
    attn_rng_init(&rng, 5, 0);
    for (int i = 0; i < ROWS * LEN; i++) {
        tokens[i] = (int)attn_rng_below(&rng, 11);
        targets[i] = (int)attn_rng_below(&rng, 11);
    }
    /* rows 0..2 lose most targets, row 3 none: the micro-batches count 3 and 8 targets, so a mean
     * of their means is not the mean over the step */
    for (int r = 0; r < 3; r++)
        for (int t = 1; t < LEN; t++)
            targets[r * LEN + t] = ATTN_IGNORE_INDEX;
}

static double step_loss;
static void record_loss(const attn_train_progress *p, void *user) {
    (void)user;
    if (p->event == ATTN_TRAIN_STEP) step_loss = p->loss;
}

/* The gradient (summed, before the step's division by the count) of one step on the batches of
 * `f` taken as `accum` micro-batches; the step's loss in step_loss. (The parameters after the
 * AdamW step are no test: its first update is about lr * sign(g), and the sign of a gradient
 * that is zero up to rounding is noise.) */
static float *one_step(fixed *f, int accum) {
    attn_model *m = tiny_lm(3);
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, attn_adamw_default_params(), &opt), ATTN_OK);
    attn_batch_source src = {.next = fixed_next, .self = f};
    attn_train_params p = attn_train_default_params();
    p.steps = 1;
    p.accum = accum;
    p.progress = record_loss;
    attn_train_state st = {0};
    assert_int_equal(attn_train(m, opt, &src, &p, &st, NULL), ATTN_OK);
    assert_int_equal(st.tokens, 3 + LEN);
    size_t n = attn_model_num_params(m);
    float *out = malloc(n * sizeof *out);
    memcpy(out, attn_model_grads(m), n * sizeof *out);
    attn_optimizer_free(opt);
    attn_model_free(m);
    return out;
}

static void test_accumulation_is_one_batch(void **state) {
    (void)state;
    fill_table();
    fixed whole = {0}, split = {3};
    float *a = one_step(&whole, 1);
    double loss_whole = step_loss;
    float *b = one_step(&split, 2);
    assert_true(fabs(step_loss - loss_whole) <= 1e-6 * fabs(loss_whole));
    attn_model *m = tiny_lm(3);
    long n = (long)attn_model_num_params(m);
    tu_assert_close(b, a, n, 1e-5, 1e-6, "accum 2 vs one batch");

    /* The old way, a mean of the micro-batches' means, gives another gradient here: the test can
     * tell the two apart. */
    attn_model_zero_grad(m);
    for (int k = 0; k < 2; k++) {
        attn_batch bt;
        fixed_next(&split, k, 0, 1, &bt);
        assert_int_equal(attn_model_forward(m, &bt, 1, NULL), ATTN_OK);
        assert_int_equal(attn_model_backward(m, 0.5f), ATTN_OK);
    }
    float *mean_of_means = malloc((size_t)n * sizeof(float));
    memcpy(mean_of_means, attn_model_grads(m), (size_t)n * sizeof(float));
    attn_model_zero_grad(m);
    attn_batch bt;
    fixed_next(&whole, 0, 0, 1, &bt);
    assert_int_equal(attn_model_forward(m, &bt, 1, NULL), ATTN_OK);
    double sum;
    long count;
    assert_int_equal(attn_model_loss(m, &sum, &count), ATTN_OK);
    assert_int_equal(count, 3 + LEN);
    assert_int_equal(attn_model_backward(m, 1.0f), ATTN_OK); /* the mean over the step */
    for (long i = 0; i < n; i++)
        a[i] /= (float)count;
    tu_assert_close(attn_model_grads(m), a, n, 1e-5, 1e-7, "one batch: sum / count vs mean");
    long where;
    assert_true(tu_max_rel_err(mean_of_means, attn_model_grads(m), n, 1e-3, &where) > 1e-2);
    free(mean_of_means);
    attn_model_free(m);
    free(a);
    free(b);
}

/* ---- resume, abort ---------------------------------------------------------------------------*/

static int ids[4000];

static attn_train_params lm_params(long steps, const char *path) {
    attn_train_params p = attn_train_default_params();
    p.steps = steps;
    p.accum = 2;
    p.schedule = (attn_schedule){.kind = ATTN_SCHEDULE_COSINE, .lr = 3e-3f, .warmup = 2};
    p.seed = 9;
    p.save_path = path;
    p.save_optimizer = 1;
    return p;
}

static int stop_after;
static int abort_at(void *user) {
    (void)user;
    return stop_after-- <= 0;
}

static void test_resume_is_exact(void **state) {
    (void)state;
    for (int i = 0; i < 4000; i++)
        ids[i] = (i * 7 + i / 13) % 11;
    char dir[] = "/tmp/attn_test_trainer_XXXXXX", a[64], b[64];
    assert_non_null(mkdtemp(dir));
    snprintf(a, sizeof a, "%s/a.safetensors", dir);
    snprintf(b, sizeof b, "%s/b.safetensors", dir);
    attn_batch_source *src;
    assert_int_equal(attn_lm_windows_source(ids, 4000, 3, LEN, 9, &src), ATTN_OK);

    /* uninterrupted: 6 steps */
    attn_model *m = tiny_lm(4);
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, attn_adamw_default_params(), &opt), ATTN_OK);
    attn_train_params p = lm_params(6, a);
    attn_train_state st = {0};
    attn_train_result res;
    assert_int_equal(attn_train(m, opt, src, &p, &st, &res), ATTN_OK);
    assert_int_equal(st.step, 6);
    assert_int_equal(res.steps_run, 6);
    assert_true(res.saved);

    /* aborted after 2 steps (the checkpoint is written), resumed to 6 */
    attn_model *m2 = tiny_lm(4);
    attn_optimizer *opt2;
    assert_int_equal(attn_optimizer_create(m2, attn_adamw_default_params(), &opt2), ATTN_OK);
    attn_train_params p2 = lm_params(6, b);
    p2.abort = abort_at;
    stop_after = 2;
    attn_train_state st2 = {0};
    assert_int_equal(attn_train(m2, opt2, src, &p2, &st2, &res), ATTN_ERR_ABORTED);
    assert_int_equal(st2.step, 2);
    attn_optimizer_free(opt2);
    attn_model_free(m2);
    assert_int_equal(attn_checkpoint_load(b, &m2, &opt2, &st2), ATTN_OK);
    assert_int_equal(st2.step, 2);
    p2.abort = NULL;
    assert_int_equal(attn_train(m2, opt2, src, &p2, &st2, &res), ATTN_OK);
    assert_int_equal(res.steps_run, 4);
    size_t n = attn_model_num_params(m);
    assert_memory_equal(attn_model_params(m), attn_model_params(m2), n * sizeof(float));

    attn_optimizer_free(opt2);
    attn_model_free(m2);
    attn_optimizer_free(opt);
    attn_model_free(m);
    attn_batch_source_free(src);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

/* ---- evaluation: keep-best and patience -------------------------------------------------------*/

static const double scripted[] = {3.0, 2.0, 2.5, 2.4, 1.0};
static int n_evals;
static float first_param_at[8];

static attn_status scripted_eval(attn_model *m, const attn_train_progress *p, double *metrics,
                                 void *user) {
    (void)p, (void)user;
    first_param_at[n_evals] = attn_model_params(m)[0];
    metrics[0] = scripted[n_evals++];
    return ATTN_OK;
}

static int n_stops;
static void count_stops(const attn_train_progress *p, void *user) {
    (void)user;
    if (p->event == ATTN_TRAIN_STOP) n_stops++;
}

static void test_patience_and_keep_best(void **state) {
    (void)state;
    attn_batch_source *src;
    assert_int_equal(attn_lm_windows_source(ids, 4000, 2, LEN, 1, &src), ATTN_OK);
    attn_model *m = tiny_lm(5);
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, attn_adamw_default_params(), &opt), ATTN_OK);
    attn_train_params p = attn_train_default_params();
    p.steps = 20;
    p.eval_every = 2;
    p.patience = 2; /* 3.0, 2.0 (best), 2.5, 2.4: stop after the 4th evaluation, at step 8 */
    p.keep_best = 1;
    p.on_eval = scripted_eval;
    p.progress = count_stops;
    attn_train_state st = {0};
    attn_train_result res;
    n_evals = n_stops = 0;
    assert_int_equal(attn_train(m, opt, src, &p, &st, &res), ATTN_OK);
    assert_int_equal(n_evals, 4);
    assert_int_equal(n_stops, 1);
    assert_true(res.stopped_early);
    assert_int_equal(st.step, 8);
    assert_int_equal(st.best_step, 4);
    assert_true(st.best_metric == 2.0);
    /* the parameters of step 4 are back */
    assert_true(attn_model_params(m)[0] == first_param_at[1]);
    attn_optimizer_free(opt);
    attn_model_free(m);
    attn_batch_source_free(src);
}

/* ---- the moving average of the weights ------------------------------------------------------*/

static attn_model *ema_model;
static double *ema_want; /* the average as it should be, in double */
static float ema_d;

static void follow_ema(const attn_train_progress *p, void *user) {
    (void)user;
    if (p->event != ATTN_TRAIN_STEP) return; /* the raw weights of the step just taken */
    const float *w = attn_model_params(ema_model);
    double warm = (1.0 + (double)p->step) / (10.0 + (double)p->step); /* TensorFlow's warm-up */
    double d = warm < ema_d ? warm : ema_d;
    for (size_t i = 0; i < attn_model_num_params(ema_model); i++)
        ema_want[i] = d * ema_want[i] + (1.0 - d) * w[i];
}

static void test_ema(void **state) {
    (void)state;
    attn_batch_source *src;
    assert_int_equal(attn_lm_windows_source(ids, 4000, 2, LEN, 1, &src), ATTN_OK);
    ema_model = tiny_lm(6);
    size_t n = attn_model_num_params(ema_model);
    ema_want = malloc(n * sizeof *ema_want);
    for (size_t i = 0; i < n; i++)
        ema_want[i] = attn_model_params(ema_model)[i];
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(ema_model, attn_adamw_default_params(), &opt), ATTN_OK);
    attn_train_params p = attn_train_default_params();
    p.steps = 12; /* (1 + t) / (10 + t) reaches 0.5 at step 8: both regimes */
    p.ema_decay = ema_d = 0.5f;
    p.progress = follow_ema;
    attn_train_state st = {0};
    assert_int_equal(attn_train(ema_model, opt, src, &p, &st, NULL), ATTN_OK);
    float *got = attn_model_params(ema_model), *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++)
        want[i] = (float)ema_want[i];
    tu_assert_close(got, want, (long)n, 1e-5, 1e-7, "the model holds the average at the end");
    p.ema_decay = 1.0f;
    assert_int_equal(attn_train(ema_model, opt, src, &p, &st, NULL), ATTN_ERR_INVALID);
    free(want);
    free(ema_want);
    attn_optimizer_free(opt);
    attn_model_free(ema_model);
    attn_batch_source_free(src);
}

static void test_bad_params(void **state) {
    (void)state;
    attn_batch_source *src;
    assert_int_equal(attn_lm_windows_source(ids, 4000, 2, LEN, 1, &src), ATTN_OK);
    attn_model *m = tiny_lm(5);
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, attn_adamw_default_params(), &opt), ATTN_OK);
    attn_train_state st = {0};
    attn_train_params p = attn_train_default_params();
    p.accum = 0;
    assert_int_equal(attn_train(m, opt, src, &p, &st, NULL), ATTN_ERR_INVALID);
    p = attn_train_default_params(); /* epochs over an endless stream */
    assert_int_equal(attn_train(m, opt, src, &p, &st, NULL), ATTN_ERR_INVALID);
    attn_batch_source *small;
    assert_int_equal(attn_lm_windows_source(ids, 8, 2, LEN, 1, &small), ATTN_ERR_INVALID);
    assert_null(small);
    attn_batch_source_free(src);
    attn_optimizer_free(opt);
    attn_model_free(m);
}

/* A save_path that cannot be written fails before the first step, not after the run. */
static void test_unwritable_save_path_fails_first(void **state) {
    (void)state;
    char dir[] = "/tmp/attn_test_trainer_XXXXXX";
    assert_non_null(mkdtemp(dir));
    attn_batch_source *src;
    assert_int_equal(attn_lm_windows_source(ids, 4000, 3, LEN, 9, &src), ATTN_OK);
    attn_model *m = tiny_lm(4);
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, attn_adamw_default_params(), &opt), ATTN_OK);
    attn_train_params p = lm_params(1000000, dir); /* a directory: a million steps never start */
    attn_train_state st = {0};
    attn_train_result res;
    assert_int_equal(attn_train(m, opt, src, &p, &st, &res), ATTN_ERR_IO);
    assert_non_null(strstr(attn_last_error(), "it is a directory"));
    assert_int_equal(st.step, 0);
    attn_batch_source_free(src);
    attn_optimizer_free(opt);
    attn_model_free(m);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accumulation_is_one_batch),
        cmocka_unit_test(test_resume_is_exact),
        cmocka_unit_test(test_unwritable_save_path_fails_first),
        cmocka_unit_test(test_patience_and_keep_best),
        cmocka_unit_test(test_ema),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
