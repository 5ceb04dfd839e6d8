/* tests/parity/test_models.c: the three model families against the PyTorch reference.
 *
 * Each fixture (tests/parity/README.md; made by tests/parity/make_fixtures.py) holds a config, a
 * batch, every parameter, and the reference's logits, loss and gradients of one forward/backward,
 * then the losses, gradient norms and parameters of 3 AdamW steps on the same batch. The model is
 * built from the config, the parameters are copied in by name, and everything is compared:
 *     |got - want| <= 1e-4 |want| + 1e-5 max|want| (+ 2e-3 lr for parameters after AdamW)
 * with max over the tensor. The key rows of every in_proj.bias have a mathematically zero gradient
 * (softmax ignores a shift of all scores), so float32 noise sets Adam's direction there; after
 * the steps they are only held to the size of the updates, 2 * steps * lr. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "attn/config.h"
#include "attn/model.h"
#include "attn/train.h"
#include "io/safetensors.h"
#include "testutil.h"

/* ---- comparison with a record of the worst tensor ---- */

typedef struct {
    const char *fixture;
    double worst; /* largest |got - want| / tolerance over everything compared */
    char worst_what[160];
    int failures; /* tensors with an element beyond tolerance */
} report;

/* Compares got[begin, end) with want[begin, end) at |d| <= 1e-4 |w| + atol; prints the worst
 * element of a tensor that fails. */
static void compare_range(report *r, const char *what, const float *got, const float *want,
                          long begin, long end, double atol) {
    double worst = 0;
    long at = begin;
    for (long i = begin; i < end; i++) {
        double d = fabs((double)got[i] - want[i]) / (1e-4 * fabs((double)want[i]) + atol);
        if (!(d <= worst)) { /* NaN counts as the worst */
            worst = isnan(d) ? INFINITY : d;
            at = i;
        }
    }
    if (worst > r->worst) {
        r->worst = worst;
        snprintf(r->worst_what, sizeof r->worst_what, "%s[%ld]", what, at);
    }
    if (worst > 1.0) {
        r->failures++;
        print_message("%s: %s: element %ld: got %.8g, want %.8g (%.3g x tolerance)\n", r->fixture,
                      what, at, got[at], want[at], worst);
    }
}

static double max_abs(const float *x, long n) {
    double m = 0;
    for (long i = 0; i < n; i++)
        m = fmax(m, fabs((double)x[i]));
    return m;
}

static void compare(report *r, const char *what, const float *got, const float *want, long n,
                    double extra_atol) {
    compare_range(r, what, got, want, 0, n, 1e-5 * max_abs(want, n) + extra_atol);
}

/* ---- reading the fixture ---- */

static float *read_f32(const attn_safetensors *f, const char *name, long *n_out) {
    const attn_safetensors_tensor *t = attn_safetensors_find(f, name);
    if (!t) fail_msg("fixture has no tensor \"%s\"", name);
    long n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (long)t->shape[d];
    float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    assert_non_null(x);
    if (attn_safetensors_read_f32(f, name, x, t->ndim, t->shape) != ATTN_OK)
        fail_msg("reading \"%s\": %s", name, attn_last_error());
    if (n_out) *n_out = n;
    return x;
}

static int *read_ints(const attn_safetensors *f, const char *name, long n) {
    int *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    assert_non_null(x);
    if (attn_safetensors_read_int(f, name, x, n) != ATTN_OK)
        fail_msg("reading \"%s\": %s", name, attn_last_error());
    return x;
}

static double json_number(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) fail_msg("fixture metadata: no number \"%s\"", key);
    return v->valuedouble;
}

typedef struct {
    attn_adamw_params params;
    float lr;
    int steps;
} adamw_run;

static adamw_run read_adamw(const attn_safetensors *f) {
    const char *text = attn_safetensors_metadata(f, "adamw");
    assert_non_null(text);
    cJSON *o = cJSON_Parse(text);
    assert_non_null(o);
    adamw_run a = {.params = {.beta1 = (float)json_number(o, "beta1"),
                              .beta2 = (float)json_number(o, "beta2"),
                              .eps = (float)json_number(o, "eps"),
                              .weight_decay = (float)json_number(o, "weight_decay"),
                              .clip_norm = (float)json_number(o, "clip_norm")},
                   .lr = (float)json_number(o, "lr"),
                   .steps = (int)json_number(o, "steps")};
    cJSON_Delete(o);
    return a;
}

static attn_config read_config(const attn_safetensors *f) {
    const char *json = attn_safetensors_metadata(f, "config");
    assert_non_null(json);
    attn_config cfg;
    if (attn_config_from_json(json, &cfg) != ATTN_OK)
        fail_msg("config %s: %s", json, attn_last_error());
    const char *loss = attn_safetensors_metadata(f, "loss");
    assert_non_null(loss);
    cJSON *o = cJSON_Parse(loss);
    assert_non_null(o);
    cfg.label_smoothing = (float)json_number(o, "label_smoothing");
    cJSON_Delete(o);
    return cfg;
}

/* The batch arrays, owned here. */
typedef struct {
    attn_batch b;
    int *tokens, *lengths, *tgt_in, *targets, *labels;
    float *features;
} batch_data;

static void read_batch(const attn_safetensors *f, const attn_config *cfg, batch_data *d) {
    memset(d, 0, sizeof *d);
    /* the encoder's input: token ids, or feature vectors (B, T, n_features) */
    const attn_safetensors_tensor *tok =
        attn_safetensors_find(f, cfg->n_features ? "batch.features" : "batch.tokens");
    assert_non_null(tok);
    assert_int_equal(tok->ndim, cfg->n_features ? 3 : 2);
    int B = (int)tok->shape[0], T = (int)tok->shape[1];
    d->b.B = B;
    d->b.T = T;
    if (cfg->n_features) {
        assert_int_equal(tok->shape[2], cfg->n_features);
        d->b.features = d->features = read_f32(f, "batch.features", NULL);
    } else {
        d->b.tokens = d->tokens = read_ints(f, "batch.tokens", (long)B * T);
    }
    d->b.lengths = d->lengths = read_ints(f, "batch.lengths", B);
    if (cfg->arch == ATTN_ARCH_CLASSIFIER) {
        d->b.labels = d->labels = read_ints(f, "batch.labels", B);
    } else if (cfg->arch == ATTN_ARCH_DECODER_LM) {
        d->b.targets = d->targets = read_ints(f, "batch.targets", (long)B * T);
    } else {
        const attn_safetensors_tensor *tin = attn_safetensors_find(f, "batch.tgt_in");
        assert_non_null(tin);
        d->b.Tt = (int)tin->shape[1];
        d->b.tgt_in = d->tgt_in = read_ints(f, "batch.tgt_in", (long)B * d->b.Tt);
        d->b.targets = d->targets = read_ints(f, "batch.targets", (long)B * d->b.Tt);
    }
}

static void free_batch(batch_data *d) {
    free(d->tokens);
    free(d->lengths);
    free(d->tgt_in);
    free(d->targets);
    free(d->labels);
    free(d->features);
}

/* ---- the test ---- */

static int ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* Copies every parameter of m from the fixture (by name, shape checked) and checks that the
 * fixture has no parameter the model lacks (it has one "grad.NAME" per parameter). */
static void load_params(const attn_safetensors *f, attn_model *m) {
    int n = attn_model_num_tensors(m), in_fixture = 0;
    for (int i = 0; i < n; i++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
        if (attn_safetensors_read_f32(f, p.name, p.data, p.ndim, p.shape) != ATTN_OK)
            fail_msg("parameter %s: %s", p.name, attn_last_error());
    }
    for (int i = 0; i < attn_safetensors_count(f); i++)
        in_fixture += strncmp(attn_safetensors_at(f, i)->name, "grad.", 5) == 0;
    if (in_fixture != n)
        fail_msg("the model has %d parameter tensors, the reference %d", n, in_fixture);
}

static void check_logits_loss(report *r, const attn_safetensors *f, const attn_model *m,
                              float loss) {
    long n;
    float *want = read_f32(f, "out.logits", &n);
    int rows, cols;
    const float *got = attn_model_logits(m, &rows, &cols);
    assert_int_equal((long)rows * cols, n);
    compare(r, "out.logits", got, want, n, 0);
    free(want);
    want = read_f32(f, "out.loss", NULL);
    compare(r, "out.loss", &loss, want, 1, 0);
    free(want);
}

static void check_params(report *r, const attn_safetensors *f, attn_model *m, const char *prefix,
                         double extra_atol, double key_atol) {
    char name[256];
    for (int i = 0; i < attn_model_num_tensors(m); i++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
        snprintf(name, sizeof name, "%s%s", prefix, p.name);
        long n;
        float *want = read_f32(f, name, &n);
        assert_int_equal(n, (long)p.size);
        const float *got = strcmp(prefix, "grad.") == 0 ? p.grad : p.data;
        double atol = 1e-5 * max_abs(want, n) + extra_atol;
        if (key_atol > 0 && ends_with(p.name, "in_proj.bias")) {
            long C = n / 3;
            compare_range(r, name, got, want, 0, C, atol);
            compare_range(r, name, got, want, C, 2 * C, key_atol);
            compare_range(r, name, got, want, 2 * C, n, atol);
        } else {
            compare_range(r, name, got, want, 0, n, atol);
        }
        free(want);
    }
}

static void run_fixture(void **state) {
    const char *fixture = *state;
    char file[256];
    snprintf(file, sizeof file, "%s.safetensors", fixture);
    attn_safetensors *f = NULL;
    if (attn_safetensors_open(tu_fixture_path(file), ATTN_SAFETENSORS_DEFAULT, &f) != ATTN_OK)
        fail_msg("%s: %s", tu_fixture_path(file), attn_last_error());

    attn_config cfg = read_config(f);
    adamw_run hp = read_adamw(f);
    attn_model *m = NULL;
    if (attn_model_create(&cfg, 1, &m) != ATTN_OK) fail_msg("model: %s", attn_last_error());
    load_params(f, m);
    batch_data bd;
    read_batch(f, &cfg, &bd);

    report r = {.fixture = fixture};
    float loss = 0;
    attn_model_zero_grad(m);
    if (attn_model_forward(m, &bd.b, 1, &loss) != ATTN_OK)
        fail_msg("forward: %s", attn_last_error());
    check_logits_loss(&r, f, m, loss); /* before backward, which may reuse the logits' memory */
    assert_int_equal(attn_model_backward(m, 1.0f), ATTN_OK);
    check_params(&r, f, m, "grad.", 0, 0);
    report first = r;

    /* hp.steps AdamW updates on the same batch */
    attn_optimizer *opt = NULL;
    assert_int_equal(attn_optimizer_create(m, hp.params, &opt), ATTN_OK);
    float *want_losses = read_f32(f, "step.losses", NULL);
    float *want_norms = read_f32(f, "step.grad_norms", NULL);
    float *losses = tu_zeros(hp.steps), *norms = tu_zeros(hp.steps);
    for (int s = 0; s < hp.steps; s++) {
        attn_model_zero_grad(m);
        if (attn_model_forward(m, &bd.b, 1, &losses[s]) != ATTN_OK)
            fail_msg("forward at step %d: %s", s, attn_last_error());
        assert_int_equal(attn_model_backward(m, 1.0f), ATTN_OK);
        assert_int_equal(attn_optimizer_step(opt, m, hp.lr, &norms[s]), ATTN_OK);
    }
    r.worst = 0;
    compare(&r, "step.losses", losses, want_losses, hp.steps, 0);
    compare(&r, "step.grad_norms", norms, want_norms, hp.steps, 0);
    check_params(&r, f, m, "after.", 2e-3 * hp.lr, 2.0 * hp.steps * hp.lr);

    print_message("%-20s forward/backward %.3f of tolerance (worst %s); "
                  "%d AdamW steps %.3f (worst %s)\n",
                  fixture, first.worst, first.worst_what, hp.steps, r.worst, r.worst_what);
    free(want_losses);
    free(want_norms);
    free(losses);
    free(norms);
    attn_optimizer_free(opt);
    free_batch(&bd);
    attn_model_free(m);
    attn_safetensors_close(f);
    if (r.failures) fail_msg("%s: %d tensors beyond tolerance (see above)", fixture, r.failures);
}

#define FIXTURE(name)                                                                              \
    { name, run_fixture, NULL, NULL, (void *)(name) }

int main(void) {
    const struct CMUnitTest tests[] = {
        FIXTURE("classifier_cls_post"),
        FIXTURE("classifier_mean_pre"),
        FIXTURE("decoder_lm_pre"),
        FIXTURE("decoder_lm_post"),
        FIXTURE("seq2seq_pre"),
        FIXTURE("seq2seq_post"),
        FIXTURE("classifier_features_pre"),
        FIXTURE("seq2seq_features_post"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
