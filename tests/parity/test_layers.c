/* tests/parity/test_layers.c: nn/mha and nn/layer against the PyTorch reference.
 *
 * Each fixture (tests/parity/README.md; made by tests/parity/make_fixtures.py) holds the inputs
 * x (and mem for cross-attention), the key lengths, the weights, the output, an upstream gradient
 * dout and the reference gradients of L = sum(out * dout) with respect to x, mem and every weight.
 * Everything is compared at |got - want| <= 1e-4 |want| + 1e-5 max|want| (max over the tensor). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "attn/config.h"
#include "io/safetensors.h"
#include "nn/layer.h"
#include "nn/mha.h"
#include "testutil.h"

/* ---- comparison with a record of the worst tensor ---- */

typedef struct {
    const char *fixture;
    double worst; /* largest |got - want| / tolerance over everything compared */
    char worst_what[160];
    int failures; /* tensors with an element beyond tolerance */
} report;

static void compare(report *r, const char *what, const float *got, const float *want, long n) {
    double m = 0;
    for (long i = 0; i < n; i++)
        m = fmax(m, fabs((double)want[i]));
    double worst = 0;
    long at = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]) / (1e-4 * fabs((double)want[i]) + 1e-5 * m);
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

/* ---- the fixture ---- */

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

static const cJSON *json_item(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) fail_msg("fixture metadata \"layer\": no \"%s\"", key);
    return v;
}

/* A weight of the layer: its fixture name and where the value and the gradient go. */
typedef struct {
    const char *name;
    float **data, **grad;
} binding;

#define MAX_BINDINGS 24

typedef struct {
    const char *name;
    attn_safetensors *f;
    int kind_mha, cross, causal, key_padding;
    int B, T, S, C, H, F;
    attn_norm norm;
    attn_act act;
    float eps;
    float *x, *mem, *dout, *dx, *dmem;
    int *lengths;
    attn_layer_params p, g;
    binding w[MAX_BINDINGS];
    int n_w;
} fixture;

static void bind(fixture *fx, const char *name, float **data, float **grad) {
    assert_true(fx->n_w < MAX_BINDINGS);
    fx->w[fx->n_w++] = (binding){name, data, grad};
}

static void bind_mha(fixture *fx, const char *in_w, const char *in_b, const char *out_w,
                     const char *out_b, attn_mha_params *p, attn_mha_params *g) {
    bind(fx, in_w, &p->in_w, &g->in_w);
    bind(fx, in_b, &p->in_b, &g->in_b);
    bind(fx, out_w, &p->out_w, &g->out_w);
    bind(fx, out_b, &p->out_b, &g->out_b);
}

/* The weight names of docs/FORMATS.md without the layer prefix. */
static void bind_layer(fixture *fx) {
    attn_layer_params *p = &fx->p, *g = &fx->g;
    if (fx->kind_mha) {
        bind_mha(fx, "in_proj.weight", "in_proj.bias", "out_proj.weight", "out_proj.bias",
                 &p->self_attn, &g->self_attn);
        return;
    }
    bind_mha(fx, "self_attn.in_proj.weight", "self_attn.in_proj.bias", "self_attn.out_proj.weight",
             "self_attn.out_proj.bias", &p->self_attn, &g->self_attn);
    if (fx->cross)
        bind_mha(fx, "cross_attn.in_proj.weight", "cross_attn.in_proj.bias",
                 "cross_attn.out_proj.weight", "cross_attn.out_proj.bias", &p->cross_attn,
                 &g->cross_attn);
    /* by position: ln1 self-attention, then ln2 cross-attention and ln3 FFN, or ln2 FFN */
    attn_ln_params *ln2 = fx->cross ? &p->ln_cross : &p->ln_ffn;
    attn_ln_params *gln2 = fx->cross ? &g->ln_cross : &g->ln_ffn;
    bind(fx, "ln1.weight", &p->ln_self.w, &g->ln_self.w);
    bind(fx, "ln1.bias", &p->ln_self.b, &g->ln_self.b);
    bind(fx, "ln2.weight", &ln2->w, &gln2->w);
    bind(fx, "ln2.bias", &ln2->b, &gln2->b);
    if (fx->cross) {
        bind(fx, "ln3.weight", &p->ln_ffn.w, &g->ln_ffn.w);
        bind(fx, "ln3.bias", &p->ln_ffn.b, &g->ln_ffn.b);
    }
    bind(fx, "ffn.fc1.weight", &p->ffn.fc1_w, &g->ffn.fc1_w);
    bind(fx, "ffn.fc1.bias", &p->ffn.fc1_b, &g->ffn.fc1_b);
    bind(fx, "ffn.fc2.weight", &p->ffn.fc2_w, &g->ffn.fc2_w);
    bind(fx, "ffn.fc2.bias", &p->ffn.fc2_b, &g->ffn.fc2_b);
}

static void read_meta(fixture *fx) {
    const char *text = attn_safetensors_metadata(fx->f, "layer");
    assert_non_null(text);
    cJSON *o = cJSON_Parse(text);
    assert_non_null(o);
    fx->kind_mha = strcmp(json_item(o, "kind")->valuestring, "mha") == 0;
    fx->C = json_item(o, "d_model")->valueint;
    fx->H = json_item(o, "n_heads")->valueint;
    fx->F = json_item(o, "d_ff")->valueint;
    fx->eps = (float)json_item(o, "ln_eps")->valuedouble;
    fx->causal = cJSON_IsTrue(json_item(o, "causal"));
    fx->cross = cJSON_IsTrue(json_item(o, "cross"));
    fx->key_padding = cJSON_IsTrue(json_item(o, "key_padding"));
    assert_int_equal(attn_norm_parse(json_item(o, "norm")->valuestring, &fx->norm), ATTN_OK);
    assert_int_equal(attn_act_parse(json_item(o, "act")->valuestring, &fx->act), ATTN_OK);
    cJSON_Delete(o);
}

static void open_fixture(fixture *fx, const char *name) {
    memset(fx, 0, sizeof *fx);
    fx->name = name;
    char file[256];
    snprintf(file, sizeof file, "%s.safetensors", name);
    if (attn_safetensors_open(tu_fixture_path(file), ATTN_SAFETENSORS_DEFAULT, &fx->f) != ATTN_OK)
        fail_msg("%s: %s", tu_fixture_path(file), attn_last_error());
    read_meta(fx);
    const attn_safetensors_tensor *x = attn_safetensors_find(fx->f, "x");
    assert_non_null(x);
    fx->B = (int)x->shape[0];
    fx->T = (int)x->shape[1];
    assert_int_equal(x->shape[2], fx->C);
    fx->x = read_f32(fx->f, "x", NULL);
    fx->dout = read_f32(fx->f, "dout", NULL);
    fx->dx = tu_zeros((long)fx->B * fx->T * fx->C);
    if (fx->cross) {
        fx->S = (int)attn_safetensors_find(fx->f, "mem")->shape[1];
        fx->mem = read_f32(fx->f, "mem", NULL);
        fx->dmem = tu_zeros((long)fx->B * fx->S * fx->C);
    }
    fx->lengths = malloc((size_t)fx->B * sizeof(int));
    assert_non_null(fx->lengths);
    assert_int_equal(attn_safetensors_read_int(fx->f, "lengths", fx->lengths, fx->B), ATTN_OK);
    bind_layer(fx);
    for (int i = 0; i < fx->n_w; i++) {
        long n;
        *fx->w[i].data = read_f32(fx->f, fx->w[i].name, &n);
        *fx->w[i].grad = tu_zeros(n);
    }
}

/* Compares out, grad.x, grad.mem and every weight gradient; frees everything. */
static void check_and_close(fixture *fx, const float *out) {
    report r = {.fixture = fx->name};
    long n, nx = (long)fx->B * fx->T * fx->C;
    float *want = read_f32(fx->f, "out", &n);
    assert_int_equal(n, nx);
    compare(&r, "out", out, want, n);
    free(want);
    want = read_f32(fx->f, "grad.x", NULL);
    compare(&r, "grad.x", fx->dx, want, nx);
    free(want);
    if (fx->cross) {
        want = read_f32(fx->f, "grad.mem", &n);
        compare(&r, "grad.mem", fx->dmem, want, n);
        free(want);
    }
    char name[128];
    for (int i = 0; i < fx->n_w; i++) {
        snprintf(name, sizeof name, "grad.%s", fx->w[i].name);
        want = read_f32(fx->f, name, &n);
        compare(&r, name, *fx->w[i].grad, want, n);
        free(want);
        free(*fx->w[i].data);
        free(*fx->w[i].grad);
    }
    print_message("%-20s %.3f of tolerance (worst %s)\n", fx->name, r.worst, r.worst_what);
    free(fx->x);
    free(fx->mem);
    free(fx->dout);
    free(fx->dx);
    free(fx->dmem);
    free(fx->lengths);
    attn_safetensors_close(fx->f);
    if (r.failures) fail_msg("%s: %d tensors beyond tolerance (see above)", fx->name, r.failures);
}

/* ---- the tests ---- */

static void run_mha(void **state) {
    fixture fx;
    open_fixture(&fx, *state);
    attn_mha_shape s = {.B = fx.B,
                        .Tq = fx.T,
                        .Tk = fx.cross ? fx.S : fx.T,
                        .C = fx.C,
                        .H = fx.H,
                        .causal = fx.causal,
                        .cross = fx.cross};
    const int *kv_len = fx.key_padding ? fx.lengths : NULL;
    long nx = (long)fx.B * fx.T * fx.C;
    float *out = tu_zeros(nx), *att = tu_zeros(nx);
    float *qkv = tu_zeros((long)attn_mha_qkv_floats(&s, fx.cross));
    float *lse = tu_zeros((long)fx.B * fx.H * fx.T);
    float *scratch = tu_zeros((long)attn_mha_scratch_floats(&s, fx.cross));
    attn_mha_forward(&s, &fx.p.self_attn, out, qkv, att, lse, fx.x, fx.mem, kv_len, NULL, NULL);
    attn_mha_backward(&s, &fx.p.self_attn, &fx.g.self_attn, fx.dout, qkv, att, lse, fx.x, fx.mem,
                      kv_len, fx.dx, fx.dmem, scratch);
    free(att);
    free(qkv);
    free(lse);
    free(scratch);
    check_and_close(&fx, out);
    free(out);
}

static void run_layer(void **state) {
    fixture fx;
    open_fixture(&fx, *state);
    attn_layer_shape s = {.B = fx.B,
                          .T = fx.T,
                          .Tk = fx.S,
                          .C = fx.C,
                          .H = fx.H,
                          .F = fx.F,
                          .cross = fx.cross,
                          .norm = fx.norm,
                          .act = fx.act,
                          .dropout = 0.0f,
                          .eps = fx.eps};
    /* encoder: the lengths mask x's keys; decoder: causal self-attention, the lengths are mem's */
    const int *x_len = !fx.causal && fx.key_padding ? fx.lengths : NULL;
    const int *mem_len = fx.cross && fx.key_padding ? fx.lengths : NULL;
    float *acts = tu_zeros((long)attn_layer_acts_floats(&s, 1));
    float *scratch = tu_zeros((long)attn_layer_scratch_floats(&s));
    attn_layer_acts a;
    attn_layer_acts_bind(&a, &s, 1, acts);
    attn_layer_run run = {.training = 1};
    if (fx.causal) { /* a decoder layer */
        attn_decoder_layer_forward(&s, &fx.p, &a, fx.x, x_len, fx.mem, mem_len, &run);
        attn_decoder_layer_backward(&s, &fx.p, &fx.g, &a, fx.x, x_len, fx.mem, mem_len, fx.dout,
                                    fx.dx, fx.dmem, scratch);
    } else {
        attn_encoder_layer_forward(&s, &fx.p, &a, fx.x, x_len, &run);
        attn_encoder_layer_backward(&s, &fx.p, &fx.g, &a, fx.x, x_len, fx.dout, fx.dx, scratch);
    }
    free(scratch);
    check_and_close(&fx, a.out);
    free(acts);
}

#define MHA(name)                                                                                  \
    { name, run_mha, NULL, NULL, (void *)(name) }
#define LAYER(name)                                                                                \
    { name, run_layer, NULL, NULL, (void *)(name) }

int main(void) {
    const struct CMUnitTest tests[] = {
        MHA("mha_self"),
        MHA("mha_cross"),
        MHA("mha_causal"),
        LAYER("encoder_layer_post"),
        LAYER("encoder_layer_pre"),
        LAYER("decoder_layer_post"),
        LAYER("decoder_layer_pre"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
