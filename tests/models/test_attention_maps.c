/* tests/models/test_attention_maps.c: attn_model_attention_maps for the three families.
 *
 * The maps must be probabilities (rows sum to 1, masked keys and the causal upper triangle 0),
 * they must be the ones the model uses (P v with the model's own values equals the attention
 * output of the model's forward, layer by layer), layer 0 must match a from-scratch computation
 * over the public parameters, and computing them must leave the model's last forward alone. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"
#include "models/model_internal.h"

enum { T_SRC = 9, LEN_SRC = 6, T_TGT = 7 };

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
    c.dropout = 0.1f; /* inference must ignore it */
    return c;
}

/* A model whose weights are large enough that attention is far from uniform. */
static attn_model *make_model(attn_arch arch, attn_norm norm) {
    attn_config c = tiny(arch, norm);
    attn_model *m;
    assert_int_equal(attn_model_create(&c, 11, &m), ATTN_OK);
    attn_rng rng;
    attn_rng_init(&rng, 5, 0);
    float *p = attn_model_params(m);
    for (size_t i = 0; i < attn_model_num_params(m); i++)
        p[i] += 0.4f * attn_rng_normal(&rng);
    return m;
}

typedef struct {
    int tokens[T_SRC], lengths[1], tgt_in[T_TGT];
    attn_batch batch;
} one_seq;

static void make_seq(one_seq *s, int vocab) {
    for (int t = 0; t < T_SRC; t++)
        s->tokens[t] = (3 * t + 1) % vocab;
    for (int t = 0; t < T_TGT; t++)
        s->tgt_in[t] = (5 * t + 2) % vocab;
    s->lengths[0] = LEN_SRC;
    s->batch = (attn_batch){.B = 1,
                            .T = T_SRC,
                            .tokens = s->tokens,
                            .lengths = s->lengths,
                            .Tt = T_TGT,
                            .tgt_in = s->tgt_in};
}

/* Which keys query i may see: j < kv_len (0: all) and, if causal, j <= i. */
static int visible(int i, int j, int kv_len, int causal) {
    return (!kv_len || j < kv_len) && (!causal || j <= i);
}

/* Probabilities: in [0, 1], rows summing to 1 over visible keys, exactly 0 elsewhere, and not
 * uniform (so that a map of constants would fail). */
static void check_probabilities(const attn_maps *maps, int kv_len, int causal) {
    double most_peaked = 0;
    for (int l = 0; l < maps->n_layers; l++) {
        for (int h = 0; h < maps->n_heads; h++) {
            const float *P = attn_maps_head(maps, l, h);
            assert_non_null(P);
            for (int i = 0; i < maps->n_queries; i++) {
                double sum = 0, mx = 0;
                int seen = 0;
                for (int j = 0; j < maps->n_keys; j++) {
                    float p = P[i * maps->n_keys + j];
                    assert_true(p >= 0 && p <= 1);
                    if (!visible(i, j, kv_len, causal)) {
                        if (p != 0)
                            fail_msg("layer %d head %d: masked (%d, %d) = %g", l, h, i, j, p);
                        continue;
                    }
                    sum += p, mx = fmax(mx, p), seen++;
                }
                if (fabs(sum - 1) > 1e-5)
                    fail_msg("layer %d head %d row %d sums to %.8f", l, h, i, sum);
                if (seen > 1) most_peaked = fmax(most_peaked, mx - 1.0 / seen);
            }
        }
    }
    if (!(most_peaked > 0.05))
        fail_msg("kind %d: attention is nearly uniform (%g)", maps->kind, most_peaked);
}

/* The model's own forward, layer by layer: its attention output (saved `att`, from the fused
 * kernel) must equal P v, with P from the maps and v the values the model projected. */
static void check_against_forward(attn_model *m, const attn_batch *b, const attn_maps *maps) {
    assert_int_equal(attn_model_forward(m, b, 0, NULL), ATTN_OK);
    const attn_stack *st = maps->kind == ATTN_MAPS_ENCODER_SELF ? &m->enc : &m->dec;
    int cross = maps->kind == ATTN_MAPS_DECODER_CROSS;
    int C = m->cfg.d_model, H = m->cfg.n_heads, D = C / H, Tq = maps->n_queries, Tk = maps->n_keys;
    assert_int_equal(st->n_layers, maps->n_layers);
    float *want = tu_zeros((long)Tq * C);
    for (int l = 0; l < maps->n_layers; l++) {
        const attn_sublayer_acts *sa = cross ? &st->acts[l].cross : &st->acts[l].self;
        const float *v = cross ? sa->qkv + (size_t)Tq * C + C : sa->qkv + 2 * C;
        long v_rs = cross ? 2 * C : 3 * C;
        for (int h = 0; h < H; h++) {
            const float *P = attn_maps_head(maps, l, h);
            for (int i = 0; i < Tq; i++)
                for (int d = 0; d < D; d++) {
                    double o = 0;
                    for (int j = 0; j < Tk; j++)
                        o += (double)P[i * Tk + j] * v[j * v_rs + h * D + d];
                    want[i * C + h * D + d] = (float)o;
                }
        }
        tu_assert_close(sa->att, want, (long)Tq * C, 1e-4, 2e-5, "P v against the model's att");
    }
    free(want);
}

static const float *tensor(const attn_model *m, const char *name) {
    for (int i = 0; i < attn_model_num_tensors(m); i++) {
        attn_param p;
        assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
        if (strcmp(p.name, name) == 0) return p.data;
    }
    fail_msg("no tensor %s", name);
    return NULL;
}

/* Layer 0 from the public parameters alone, in double: x = tok + pos, LN1 if pre-LN,
 * q, k = x Wq^T + bq, x Wk^T + bk, P = softmax(q k^T / sqrt(D) + mask). */
static void check_layer0(const attn_model *m, const int *ids, int T, int kv_len, int causal,
                         const char *prefix, const attn_maps *maps) {
    const attn_config *c = attn_model_config(m);
    int C = c->d_model, H = c->n_heads, D = C / H;
    char name[128];
    const float *tok = tensor(m, "embed.tok.weight"), *pos = tensor(m, "embed.pos.weight");
    snprintf(name, sizeof name, "%s.self_attn.in_proj.weight", prefix);
    const float *W = tensor(m, name);
    snprintf(name, sizeof name, "%s.self_attn.in_proj.bias", prefix);
    const float *bias = tensor(m, name);
    snprintf(name, sizeof name, "%s.ln1.weight", prefix);
    const float *g = tensor(m, name);
    snprintf(name, sizeof name, "%s.ln1.bias", prefix);
    const float *beta = tensor(m, name);
    double *x = calloc((size_t)T * C, sizeof *x), *q = calloc((size_t)T * C, sizeof *q),
           *k = calloc((size_t)T * C, sizeof *k);
    for (int t = 0; t < T; t++) {
        double mean = 0, var = 0, *xt = x + t * C;
        for (int i = 0; i < C; i++)
            mean += xt[i] = (double)tok[ids[t] * C + i] + pos[t * C + i];
        mean /= C;
        for (int i = 0; i < C; i++)
            var += (xt[i] - mean) * (xt[i] - mean);
        var /= C;
        for (int i = 0; c->norm == ATTN_NORM_PRE && i < C; i++)
            xt[i] = (xt[i] - mean) / sqrt(var + c->ln_eps) * g[i] + beta[i];
        for (int o = 0; o < C; o++) {
            double sq = bias[o], sk = bias[C + o];
            for (int i = 0; i < C; i++)
                sq += W[o * C + i] * xt[i], sk += W[(C + o) * C + i] * xt[i];
            q[t * C + o] = sq, k[t * C + o] = sk;
        }
    }
    for (int h = 0; h < H; h++) {
        const float *P = attn_maps_head(maps, 0, h);
        for (int i = 0; i < T; i++) {
            double s[T_SRC], mx = -INFINITY, sum = 0;
            for (int j = 0; j < T; j++) {
                s[j] = -INFINITY;
                if (!visible(i, j, kv_len, causal)) continue;
                s[j] = 0;
                for (int d = 0; d < D; d++)
                    s[j] += q[i * C + h * D + d] * k[j * C + h * D + d];
                s[j] /= sqrt((double)D);
                mx = fmax(mx, s[j]);
            }
            for (int j = 0; j < T; j++)
                sum += s[j] = isinf(s[j]) ? 0 : exp(s[j] - mx);
            for (int j = 0; j < T; j++)
                if (fabs(P[i * T + j] - s[j] / sum) > 2e-5)
                    fail_msg("%s head %d (%d, %d): map %g, from scratch %g", prefix, h, i, j,
                             P[i * T + j], s[j] / sum);
        }
    }
    free(x), free(q), free(k);
}

/* Everything about one kind of one model. */
static void check_kind(attn_arch arch, attn_norm norm, attn_maps_kind kind) {
    attn_model *m = make_model(arch, norm);
    one_seq s;
    make_seq(&s, 13);
    /* a forward first: its logits must survive the maps */
    assert_int_equal(attn_model_forward(m, &s.batch, 0, NULL), ATTN_OK);
    int rows, cols;
    const float *logits = attn_model_logits(m, &rows, &cols);
    float *before = malloc((size_t)rows * cols * sizeof *before);
    memcpy(before, logits, (size_t)rows * cols * sizeof *before);

    attn_maps maps;
    assert_int_equal(attn_model_attention_maps(m, &s.batch, kind, &maps), ATTN_OK);
    assert_memory_equal(attn_model_logits(m, NULL, NULL), before,
                        (size_t)rows * cols * sizeof(float));
    free(before);

    int is_s2s = arch == ATTN_ARCH_SEQ2SEQ;
    int Tq = kind == ATTN_MAPS_ENCODER_SELF || !is_s2s ? T_SRC : T_TGT;
    int Tk = kind == ATTN_MAPS_DECODER_SELF ? Tq : T_SRC;
    assert_int_equal(maps.kind, kind);
    assert_int_equal(maps.n_layers, 2);
    assert_int_equal(maps.n_heads, 2);
    assert_int_equal(maps.n_queries, Tq);
    assert_int_equal(maps.n_keys, Tk);
    int causal = kind == ATTN_MAPS_DECODER_SELF;
    int kv_len = kind == ATTN_MAPS_DECODER_SELF && is_s2s ? 0 : LEN_SRC;
    check_probabilities(&maps, kv_len, causal);
    if (kind != ATTN_MAPS_DECODER_CROSS)
        check_layer0(
            m, kind == ATTN_MAPS_DECODER_SELF && is_s2s ? s.tgt_in : s.tokens, Tq, kv_len, causal,
            kind == ATTN_MAPS_ENCODER_SELF ? "encoder.layers.0" : "decoder.layers.0", &maps);
    check_against_forward(m, &s.batch, &maps);

    /* the same again: deterministic */
    attn_maps again;
    assert_int_equal(attn_model_attention_maps(m, &s.batch, kind, &again), ATTN_OK);
    assert_memory_equal(again.probs, maps.probs, (size_t)2 * 2 * Tq * Tk * sizeof(float));
    attn_maps_free(&again);
    attn_maps_free(&maps);
    attn_maps_free(&maps); /* zeroed: harmless */
    assert_null(maps.probs);
    attn_model_free(m);
}

static void test_classifier(void **state) {
    (void)state;
    check_kind(ATTN_ARCH_CLASSIFIER, ATTN_NORM_PRE, ATTN_MAPS_ENCODER_SELF);
    check_kind(ATTN_ARCH_CLASSIFIER, ATTN_NORM_POST, ATTN_MAPS_ENCODER_SELF);
}

static void test_decoder_lm(void **state) {
    (void)state;
    check_kind(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE, ATTN_MAPS_DECODER_SELF);
    check_kind(ATTN_ARCH_DECODER_LM, ATTN_NORM_POST, ATTN_MAPS_DECODER_SELF);
}

static void test_seq2seq(void **state) {
    (void)state;
    for (int norm = 0; norm < 2; norm++) {
        check_kind(ATTN_ARCH_SEQ2SEQ, (attn_norm)norm, ATTN_MAPS_ENCODER_SELF);
        check_kind(ATTN_ARCH_SEQ2SEQ, (attn_norm)norm, ATTN_MAPS_DECODER_SELF);
        check_kind(ATTN_ARCH_SEQ2SEQ, (attn_norm)norm, ATTN_MAPS_DECODER_CROSS);
    }
}

/* Without lengths every key is visible; a length of 1 leaves one key, which gets all. */
static void test_lengths(void **state) {
    (void)state;
    attn_model *m = make_model(ATTN_ARCH_CLASSIFIER, ATTN_NORM_PRE);
    one_seq s;
    make_seq(&s, 13);
    attn_maps maps;
    s.batch.lengths = NULL;
    assert_int_equal(attn_model_attention_maps(m, &s.batch, ATTN_MAPS_ENCODER_SELF, &maps),
                     ATTN_OK);
    check_probabilities(&maps, 0, 0);
    attn_maps_free(&maps);
    s.batch.lengths = s.lengths, s.lengths[0] = 1;
    assert_int_equal(attn_model_attention_maps(m, &s.batch, ATTN_MAPS_ENCODER_SELF, &maps),
                     ATTN_OK);
    for (int r = 0; r < 2 * 2 * T_SRC; r++)
        for (int j = 0; j < T_SRC; j++)
            assert_true(maps.probs[r * T_SRC + j] == (j == 0 ? 1.0f : 0.0f));
    attn_maps_free(&maps);
    attn_model_free(m);
}

static void expect_invalid(const attn_model *m, const attn_batch *b, attn_maps_kind kind) {
    attn_maps maps = {.n_layers = 7, .probs = (float *)&maps};
    assert_int_equal(attn_model_attention_maps(m, b, kind, &maps), ATTN_ERR_INVALID);
    assert_null(maps.probs);
    assert_int_equal(maps.n_layers, 0);
    assert_true(strlen(attn_last_error()) > 0);
}

static void test_bad_input(void **state) {
    (void)state;
    attn_model *cls = make_model(ATTN_ARCH_CLASSIFIER, ATTN_NORM_PRE);
    attn_model *lm = make_model(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE);
    attn_model *s2s = make_model(ATTN_ARCH_SEQ2SEQ, ATTN_NORM_PRE);
    one_seq s;
    make_seq(&s, 13);
    attn_maps maps;
    assert_int_equal(attn_model_attention_maps(NULL, &s.batch, 0, &maps), ATTN_ERR_INVALID);
    assert_int_equal(attn_model_attention_maps(cls, NULL, 0, &maps), ATTN_ERR_INVALID);
    assert_int_equal(attn_model_attention_maps(cls, &s.batch, 0, NULL), ATTN_ERR_INVALID);
    /* kinds the family lacks, and no kind at all */
    expect_invalid(cls, &s.batch, ATTN_MAPS_DECODER_SELF);
    expect_invalid(cls, &s.batch, ATTN_MAPS_DECODER_CROSS);
    expect_invalid(lm, &s.batch, ATTN_MAPS_ENCODER_SELF);
    expect_invalid(lm, &s.batch, ATTN_MAPS_DECODER_CROSS);
    expect_invalid(s2s, &s.batch, (attn_maps_kind)7);
    expect_invalid(s2s, &s.batch, (attn_maps_kind)-1);
    /* batches the model would refuse, and batches of more than one sequence */
    attn_batch b = s.batch;
    b.B = 2;
    expect_invalid(cls, &b, ATTN_MAPS_ENCODER_SELF);
    b = s.batch, b.T = 13; /* > max_len */
    expect_invalid(lm, &b, ATTN_MAPS_DECODER_SELF);
    b = s.batch, b.T = 0;
    expect_invalid(lm, &b, ATTN_MAPS_DECODER_SELF);
    b = s.batch, b.tokens = NULL;
    expect_invalid(lm, &b, ATTN_MAPS_DECODER_SELF);
    s.tokens[3] = 13;
    expect_invalid(cls, &s.batch, ATTN_MAPS_ENCODER_SELF);
    s.tokens[3] = -1;
    expect_invalid(lm, &s.batch, ATTN_MAPS_DECODER_SELF);
    s.tokens[3] = 0, s.lengths[0] = 0;
    expect_invalid(cls, &s.batch, ATTN_MAPS_ENCODER_SELF);
    s.lengths[0] = T_SRC + 1;
    expect_invalid(cls, &s.batch, ATTN_MAPS_ENCODER_SELF);
    s.lengths[0] = LEN_SRC;
    b = s.batch, b.tgt_in = NULL;
    expect_invalid(s2s, &b, ATTN_MAPS_DECODER_CROSS);
    b = s.batch, b.Tt = 0;
    expect_invalid(s2s, &b, ATTN_MAPS_ENCODER_SELF);
    s.tgt_in[2] = 99;
    expect_invalid(s2s, &s.batch, ATTN_MAPS_DECODER_SELF);
    attn_model_free(cls);
    attn_model_free(lm);
    attn_model_free(s2s);
}

static void test_helpers(void **state) {
    (void)state;
    assert_int_equal(attn_maps_default_kind(ATTN_ARCH_CLASSIFIER), ATTN_MAPS_ENCODER_SELF);
    assert_int_equal(attn_maps_default_kind(ATTN_ARCH_DECODER_LM), ATTN_MAPS_DECODER_SELF);
    assert_int_equal(attn_maps_default_kind(ATTN_ARCH_SEQ2SEQ), ATTN_MAPS_DECODER_CROSS);
    for (int k = 0; k < 3; k++) {
        attn_maps_kind back;
        assert_int_equal(attn_maps_kind_parse(attn_maps_kind_name((attn_maps_kind)k), &back),
                         ATTN_OK);
        assert_int_equal(back, k);
    }
    assert_string_equal(attn_maps_kind_name(ATTN_MAPS_DECODER_CROSS), "decoder_cross");
    assert_string_equal(attn_maps_kind_name((attn_maps_kind)9), "?");
    attn_maps_kind kind;
    assert_int_equal(attn_maps_kind_parse("cross", &kind), ATTN_ERR_INVALID);
    assert_int_equal(attn_maps_kind_parse(NULL, &kind), ATTN_ERR_INVALID);

    float probs[2 * 3 * 4 * 5];
    attn_maps maps = {.n_layers = 2, .n_heads = 3, .n_queries = 4, .n_keys = 5, .probs = probs};
    assert_ptr_equal(attn_maps_head(&maps, 0, 0), probs);
    assert_ptr_equal(attn_maps_head(&maps, 1, 2), probs + (1 * 3 + 2) * 20);
    assert_null(attn_maps_head(&maps, 2, 0));
    assert_null(attn_maps_head(&maps, 0, 3));
    assert_null(attn_maps_head(&maps, -1, 0));
    assert_null(attn_maps_head(NULL, 0, 0));
    attn_maps_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classifier), cmocka_unit_test(test_decoder_lm),
        cmocka_unit_test(test_seq2seq),    cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_bad_input),  cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
