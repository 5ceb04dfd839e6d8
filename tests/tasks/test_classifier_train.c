/* tests/tasks/test_classifier_train.c: attn_classifier_train (src/tasks/classifier_train.c) stopped
 * by the abort callback at several moments (before any evaluation, mid-epoch, at an epoch's end)
 * and resumed from its state ends with the kept parameters, checkpoint, state and dev figures of
 * the uninterrupted run, bit for bit; a resume with other settings is refused; and a model whose
 * logits are not finite is refused by attn_classifier_classify / attn_classifier_predict
 * (src/tasks/classifier.c) instead of answering class 0. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/attn.h"

static char dir[64];
static char vocab[128];
static attn_tsv train, dev;

/* A toy corpus: three classes with disjoint words, 2 to 5 words a text. */
static void make_tsv(const char *name, int n, unsigned seed, attn_tsv *out) {
    static const char *words[3][4] = {{"cat", "dog", "cow", "duck"},
                                      {"red", "blue", "green", "black"},
                                      {"one", "two", "three", "four"}};
    static const char *labels[3] = {"animal", "colour", "number"};
    char *buf = malloc((size_t)n * 64);
    assert_non_null(buf);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        int k = i % 3, w = 2 + (int)((seed + (unsigned)i * 7u) % 4u);
        len += (size_t)sprintf(buf + len, "%s\t", labels[k]);
        for (int j = 0; j < w; j++)
            len += (size_t)sprintf(buf + len, "%s%s", j ? " " : "",
                                   words[k][(seed + (unsigned)(i * 5 + j * 3)) % 4u]);
        buf[len++] = '\n';
    }
    assert_int_equal(attn_tsv_parse(buf, len, name, out), ATTN_OK);
    free(buf);
}

static attn_classifier_params params(const char *out, const char *state) {
    attn_classifier_params p = attn_classifier_default_params();
    attn_config *m = &p.model;
    m->max_len = 12, m->n_layers = 1, m->d_model = 16, m->n_heads = 2, m->d_ff = 32;
    m->dropout = 0.1f;
    p.tokenizer = vocab;
    p.batch = 4, p.bucket = 2, p.token_dropout = 0.1f;
    p.train.epochs = 4, p.train.patience = 2, p.train.seed = 7;
    p.train.schedule.lr = 3e-3f;
    p.train.save_path = out;
    p.state_path = state;
    return p;
}

typedef struct {
    long polls, stop_at;
} stopper;

static int stop_after(void *user) {
    stopper *s = user;
    return ++s->polls > s->stop_at;
}

static void path_in(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", dir, name);
}

/* The parameters of two checkpoints are the same bits. */
static void assert_same_params(const char *a_path, const char *b_path) {
    attn_model *a = NULL, *b = NULL;
    assert_int_equal(attn_model_load(a_path, &a), ATTN_OK);
    assert_int_equal(attn_model_load(b_path, &b), ATTN_OK);
    size_t n = attn_model_num_params(a);
    assert_int_equal(n, attn_model_num_params(b));
    if (memcmp(attn_model_params(a), attn_model_params(b), n * sizeof(float)) != 0)
        fail_msg("%s and %s hold different parameters", a_path, b_path);
    attn_model_free(a);
    attn_model_free(b);
}

static void assert_same_state(const char *a_path, const char *b_path) {
    attn_model *a = NULL, *b = NULL;
    attn_train_state sa, sb;
    assert_int_equal(attn_checkpoint_load(a_path, &a, NULL, &sa), ATTN_OK);
    assert_int_equal(attn_checkpoint_load(b_path, &b, NULL, &sb), ATTN_OK);
    assert_int_equal(sa.step, sb.step);
    assert_int_equal(sa.best_step, sb.best_step);
    assert_true(sa.best_metric == sb.best_metric);
    assert_int_equal(sa.seed, sb.seed);
    attn_model_free(a);
    attn_model_free(b);
    assert_same_params(a_path, b_path);
}

static void test_resume_matches_straight_run(void **state) {
    (void)state;
    char out[128], st[128];
    path_in(out, sizeof out, "straight.safetensors");
    path_in(st, sizeof st, "straight.resume.safetensors");
    attn_classifier_params p = params(out, st);
    attn_classifier *c = NULL;
    attn_classifier_result whole;
    assert_int_equal(attn_classifier_train(&train, &dev, NULL, &p, &c, &whole), ATTN_OK);
    long steps = whole.train.steps_run;
    assert_true(steps > 10);
    attn_classifier *straight = c;
    size_t n = attn_model_num_params(attn_classifier_model(straight));

    /* 1: before the first evaluation; 4: mid-epoch 1; steps / 2; the last step but one */
    long stops[] = {1, 4, steps / 2, steps - 1};
    for (int k = 0; k < 4; k++) {
        char rout[128], rst[128];
        snprintf(rout, sizeof rout, "%s/r%d.safetensors", dir, k);
        snprintf(rst, sizeof rst, "%s/r%d.resume.safetensors", dir, k);
        attn_classifier_params q = params(rout, rst);
        stopper stop = {0, stops[k]};
        q.train.abort = stop_after;
        q.train.user = &stop;
        attn_classifier_result part, rest;
        assert_int_equal(attn_classifier_train(&train, &dev, NULL, &q, &c, &part),
                         ATTN_ERR_ABORTED);
        attn_classifier_free(c);
        assert_int_equal(part.train.steps_run, stops[k]);
        q.resume = 1;
        q.train.abort = NULL;
        assert_int_equal(attn_classifier_train(&train, &dev, NULL, &q, &c, &rest), ATTN_OK);
        assert_int_equal(rest.train.steps_run, steps - stops[k]);
        assert_int_equal(rest.best_epoch, whole.best_epoch);
        assert_true(rest.best_f1 == whole.best_f1);
        assert_true(rest.best_accuracy == whole.best_accuracy);
        assert_int_equal(rest.train.stopped_early, whole.train.stopped_early);
        /* the classifier returned holds the kept parameters too */
        if (memcmp(attn_model_params(attn_classifier_model(c)),
                   attn_model_params(attn_classifier_model(straight)), n * sizeof(float)) != 0)
            fail_msg("stopped after %ld steps: the resumed classifier's parameters differ",
                     stops[k]);
        attn_classifier_free(c);
        assert_same_params(out, rout);
        assert_same_state(st, rst);
    }
    attn_classifier_free(straight);
}

static void test_resume_refuses_other_settings(void **state) {
    (void)state;
    char out[128], st[128];
    path_in(out, sizeof out, "other.safetensors");
    path_in(st, sizeof st, "other.resume.safetensors");
    attn_classifier_params p = params(out, st);
    stopper stop = {0, 3};
    p.train.abort = stop_after;
    p.train.user = &stop;
    attn_classifier *c = NULL;
    assert_int_equal(attn_classifier_train(&train, &dev, NULL, &p, &c, NULL), ATTN_ERR_ABORTED);
    attn_classifier_free(c);
    p.train.abort = NULL;
    p.resume = 1;
    p.batch = 8;
    assert_int_equal(attn_classifier_train(&train, &dev, NULL, &p, &c, NULL), ATTN_ERR_INVALID);
    assert_null(c);
    assert_non_null(strstr(attn_last_error(), "batch=4 but this one batch=8"));
    p.batch = 4;
    assert_int_equal(attn_classifier_train(&train, NULL, NULL, &p, &c, NULL), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "dev=1 but this one dev=0"));
    p.state_path = NULL;
    assert_int_equal(attn_classifier_train(&train, &dev, NULL, &p, &c, NULL), ATTN_ERR_INVALID);
    char missing[128];
    path_in(missing, sizeof missing, "missing.resume.safetensors");
    p.state_path = missing;
    assert_int_equal(attn_classifier_train(&train, &dev, NULL, &p, &c, NULL), ATTN_ERR_IO);
    assert_non_null(strstr(attn_last_error(), "missing.resume.safetensors"));
}

/* NaN weights give NaN logits: an error naming the line, not the label of class 0. */
static void test_non_finite_logits_are_refused(void **state) {
    (void)state;
    attn_classifier_params p = params(NULL, NULL);
    p.train.epochs = 1;
    attn_classifier *c = NULL;
    assert_int_equal(attn_classifier_train(&train, &dev, NULL, &p, &c, NULL), ATTN_OK);
    attn_model *m = attn_classifier_model(c);
    int label = -5;
    float probs[3] = {-1, -1, -1};
    assert_int_equal(attn_classifier_classify(c, "cat dog", 7, &label, probs), ATTN_OK);
    float *w = attn_model_params(m);
    float kept = w[attn_model_num_params(m) - 1];
    for (int k = 0; k < 2; k++) {
        w[attn_model_num_params(m) - 1] = k == 0 ? NAN : INFINITY; /* the head's last bias */
        label = -5, probs[0] = -1;
        assert_int_equal(attn_classifier_classify(c, "cat dog", 7, &label, probs),
                         ATTN_ERR_NUMERIC);
        assert_non_null(strstr(attn_last_error(), k == 0 ? "is NaN" : "is +inf"));
        assert_int_equal(label, -5);
        assert_true(probs[0] == -1);
        attn_cls_data d;
        int *pred = NULL;
        float *pr = NULL;
        assert_int_equal(attn_classifier_predict(&c, 1, &dev, 1, 0, 8, &d, &pred, &pr),
                         ATTN_ERR_NUMERIC);
        assert_null(pred);
        assert_non_null(strstr(attn_last_error(), "dev.tsv: line "));
        attn_cls_report rep;
        assert_int_equal(attn_classifier_evaluate(&c, 1, &dev, 0, 8, &rep, NULL), ATTN_ERR_NUMERIC);
    }
    w[attn_model_num_params(m) - 1] = kept;
    assert_int_equal(attn_classifier_classify(c, "cat dog", 7, &label, probs), ATTN_OK);
    attn_classifier_free(c);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/attn_cls_resume_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(vocab, sizeof vocab, "%s/vocab.txt", dir);
    FILE *f = fopen(vocab, "w");
    if (!f) return -1;
    fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ncat\ndog\ncow\nduck\nred\nblue\ngreen\nblack\none\n"
          "two\nthree\nfour\n",
          f);
    fclose(f);
    make_tsv("train.tsv", 60, 1, &train);
    make_tsv("dev.tsv", 15, 2, &dev);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    attn_tsv_free(&train);
    attn_tsv_free(&dev);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The k-fold summary: numpy's mean and std (ddof 0) of the folds' figures, as text and JSON. */
static void test_folds_format(void **state) {
    (void)state;
    attn_fold_result f[3] = {
        {.n_train = 8, .n_test = 4, .epochs = 2, .accuracy = 0.5, .macro_f1 = 0.25},
        {.n_train = 8, .n_test = 4, .epochs = 3, .accuracy = 0.75, .macro_f1 = 0.5},
        {.n_train = 8, .n_test = 4, .epochs = 1, .accuracy = 1.0, .macro_f1 = 0.75}};
    char *text = NULL;
    assert_int_equal(attn_folds_format(f, 3, 0, &text), ATTN_OK);
    /* mean 0.75, std sqrt(((0.25)^2 * 2) / 3) = 0.2041; macro-F1 0.5 and the same std */
    assert_string_equal(text, "accuracy mean 0.7500  std 0.2041\nmacro_f1 mean 0.5000  std 0.2041");
    free(text);
    assert_int_equal(attn_folds_format(f, 3, 1, &text), ATTN_OK);
    assert_true(
        strncmp(
            text, "{\"k\":3,\"folds\":[{\"fold\":1,\"n_train\":8,\"n_test\":4,\"epochs\":2,",
            strlen("{\"k\":3,\"folds\":[{\"fold\":1,\"n_train\":8,\"n_test\":4,\"epochs\":2,")) ==
        0);
    assert_non_null(strstr(text, "\"accuracy\":{\"mean\":0.75,\"std\":0.2041241452319"));
    free(text);
    assert_int_equal(attn_folds_format(f, 0, 0, &text), ATTN_ERR_INVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_matches_straight_run),
        cmocka_unit_test(test_resume_refuses_other_settings),
        cmocka_unit_test(test_non_finite_logits_are_refused),
        cmocka_unit_test(test_folds_format),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
