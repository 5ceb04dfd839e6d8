/* tests/models/test_config.c: defaults, validation and enum names (src/models/config.c). */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "attn/config.h"

static void assert_error_mentions(const char *needle) {
    if (!strstr(attn_last_error(), needle))
        fail_msg("error \"%s\" does not mention \"%s\"", attn_last_error(), needle);
}

static void test_defaults(void **state) {
    for (int a = 0; a < 3; a++) {
        attn_config c = attn_config_default((attn_arch)a);
        assert_int_equal(c.arch, a);
        assert_int_equal(c.vocab_size, 256);
        assert_int_equal(c.max_len, 256);
        assert_int_equal(c.d_model, 128);
        assert_int_equal(c.n_heads, 4);
        assert_int_equal(c.d_ff, 512);
        assert_int_equal(c.n_layers, 2);
        assert_int_equal(c.n_dec_layers, a == ATTN_ARCH_SEQ2SEQ ? 2 : 0);
        assert_int_equal(c.n_classes, a == ATTN_ARCH_CLASSIFIER ? 2 : 0);
        assert_int_equal(c.norm, ATTN_NORM_PRE);
        assert_int_equal(c.pos, ATTN_POS_LEARNED);
        assert_int_equal(c.act, ATTN_ACT_GELU_TANH);
        assert_int_equal(c.pool, ATTN_POOL_CLS);
        assert_true(c.dropout == 0.1f);
        assert_true(c.ln_eps == 1e-5f);
        assert_int_equal(c.scale_embeddings, 0);
        assert_int_equal(c.pad_id, 0);
        assert_int_equal(attn_config_validate(&c), ATTN_OK);
    }
}

/* One broken field per case: validate must fail with ATTN_ERR_INVALID naming the field. */
typedef struct {
    const char *what; /* the word the message must contain */
    attn_arch arch;   /* the default it starts from */
    void (*breaks)(attn_config *c);
} bad_case;

#define BREAK(fname, stmt)                                                                         \
    static void fname(attn_config *c) {                                                            \
        stmt;                                                                                      \
    }
BREAK(vocab_zero, c->vocab_size = 0)
BREAK(vocab_negative, c->vocab_size = -5)
BREAK(vocab_huge, c->vocab_size = (1 << 24) + 1)
BREAK(max_len_zero, c->max_len = 0)
BREAK(max_len_huge, c->max_len = (1 << 20) + 1)
BREAK(d_model_zero, c->d_model = 0)
BREAK(d_model_huge, c->d_model = 65536 * 2)
BREAK(heads_zero, c->n_heads = 0)
BREAK(heads_not_dividing, c->n_heads = 3)
BREAK(heads_more_than_width, (c->d_model = 4, c->n_heads = 8))
BREAK(d_ff_zero, c->d_ff = 0)
BREAK(d_ff_huge, c->d_ff = (1 << 20) + 1)
BREAK(layers_zero, c->n_layers = 0)
BREAK(layers_huge, c->n_layers = 1025)
BREAK(dec_layers_zero_seq2seq, c->n_dec_layers = 0)
BREAK(dec_layers_huge_seq2seq, c->n_dec_layers = 1025)
BREAK(dec_layers_for_lm, c->n_dec_layers = 2)
BREAK(classes_one, c->n_classes = 1)
BREAK(classes_huge, c->n_classes = (1 << 24) + 1)
BREAK(classes_for_lm, c->n_classes = 3)
BREAK(arch_bad, c->arch = (attn_arch)4)
BREAK(norm_bad, c->norm = (attn_norm)-1)
BREAK(pos_bad, c->pos = (attn_pos)2)
BREAK(act_bad, c->act = (attn_act)3)
BREAK(pool_bad, c->pool = (attn_pool)2)
BREAK(dropout_negative, c->dropout = -0.1f)
BREAK(dropout_one, c->dropout = 1.0f)
BREAK(dropout_nan, c->dropout = NAN)
BREAK(ln_eps_zero, c->ln_eps = 0.0f)
BREAK(ln_eps_negative, c->ln_eps = -1e-5f)
BREAK(ln_eps_inf, c->ln_eps = INFINITY)
BREAK(ln_eps_nan, c->ln_eps = NAN)
BREAK(pad_negative, c->pad_id = -1)
BREAK(pad_vocab, c->pad_id = 256)

static void test_validate_failures(void **state) {
    const bad_case cases[] = {
        {"vocab_size", ATTN_ARCH_DECODER_LM, vocab_zero},
        {"vocab_size", ATTN_ARCH_DECODER_LM, vocab_negative},
        {"vocab_size", ATTN_ARCH_DECODER_LM, vocab_huge},
        {"max_len", ATTN_ARCH_DECODER_LM, max_len_zero},
        {"max_len", ATTN_ARCH_DECODER_LM, max_len_huge},
        {"d_model", ATTN_ARCH_DECODER_LM, d_model_zero},
        {"d_model", ATTN_ARCH_DECODER_LM, d_model_huge},
        {"n_heads", ATTN_ARCH_DECODER_LM, heads_zero},
        {"divisible by n_heads", ATTN_ARCH_DECODER_LM, heads_not_dividing},
        {"n_heads", ATTN_ARCH_DECODER_LM, heads_more_than_width},
        {"d_ff", ATTN_ARCH_DECODER_LM, d_ff_zero},
        {"d_ff", ATTN_ARCH_DECODER_LM, d_ff_huge},
        {"n_layers", ATTN_ARCH_CLASSIFIER, layers_zero},
        {"n_layers", ATTN_ARCH_CLASSIFIER, layers_huge},
        {"n_dec_layers", ATTN_ARCH_SEQ2SEQ, dec_layers_zero_seq2seq},
        {"n_dec_layers", ATTN_ARCH_SEQ2SEQ, dec_layers_huge_seq2seq},
        {"n_dec_layers", ATTN_ARCH_DECODER_LM, dec_layers_for_lm},
        {"n_classes", ATTN_ARCH_CLASSIFIER, classes_one},
        {"n_classes", ATTN_ARCH_CLASSIFIER, classes_huge},
        {"n_classes", ATTN_ARCH_SEQ2SEQ, classes_for_lm},
        {"arch", ATTN_ARCH_DECODER_LM, arch_bad},
        {"norm", ATTN_ARCH_DECODER_LM, norm_bad},
        {"pos", ATTN_ARCH_DECODER_LM, pos_bad},
        {"act", ATTN_ARCH_DECODER_LM, act_bad},
        {"pool", ATTN_ARCH_CLASSIFIER, pool_bad},
        {"dropout", ATTN_ARCH_DECODER_LM, dropout_negative},
        {"dropout", ATTN_ARCH_DECODER_LM, dropout_one},
        {"dropout", ATTN_ARCH_DECODER_LM, dropout_nan},
        {"ln_eps", ATTN_ARCH_DECODER_LM, ln_eps_zero},
        {"ln_eps", ATTN_ARCH_DECODER_LM, ln_eps_negative},
        {"ln_eps", ATTN_ARCH_DECODER_LM, ln_eps_inf},
        {"ln_eps", ATTN_ARCH_DECODER_LM, ln_eps_nan},
        {"pad_id", ATTN_ARCH_DECODER_LM, pad_negative},
        {"pad_id", ATTN_ARCH_DECODER_LM, pad_vocab},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        attn_config c = attn_config_default(cases[i].arch);
        cases[i].breaks(&c);
        attn_status s = attn_config_validate(&c);
        if (s != ATTN_ERR_INVALID)
            fail_msg("case %zu (%s): expected ATTN_ERR_INVALID, got %d", i, cases[i].what, s);
        assert_error_mentions(cases[i].what);
    }
    assert_int_equal(attn_config_validate(NULL), ATTN_ERR_INVALID);
}

/* Boundary values that must still pass. */
static void test_validate_accepts_limits(void **state) {
    attn_config c = attn_config_default(ATTN_ARCH_CLASSIFIER);
    c.vocab_size = 1;
    c.pad_id = 0;
    c.max_len = 1;
    c.d_model = 1;
    c.n_heads = 1;
    c.d_ff = 1;
    c.n_layers = 1024;
    c.dropout = 0.0f;
    c.n_classes = 2;
    assert_int_equal(attn_config_validate(&c), ATTN_OK);
    c = attn_config_default(ATTN_ARCH_SEQ2SEQ);
    c.vocab_size = 1 << 24;
    c.pad_id = (1 << 24) - 1;
    c.n_dec_layers = 1;
    c.dropout = 0.99f;
    c.scale_embeddings = 1;
    c.norm = ATTN_NORM_POST;
    c.pos = ATTN_POS_SINUSOIDAL;
    c.act = ATTN_ACT_RELU;
    c.pool = ATTN_POOL_MEAN;
    assert_int_equal(attn_config_validate(&c), ATTN_OK);
}

static void test_names_and_parse(void **state) {
    const char *arch[] = {"classifier", "decoder_lm", "seq2seq"};
    const char *norm[] = {"pre", "post"};
    const char *pos[] = {"learned", "sinusoidal"};
    const char *act[] = {"gelu_tanh", "gelu_erf", "relu"};
    const char *pool[] = {"cls", "mean"};
    for (int i = 0; i < 3; i++) {
        attn_arch v;
        assert_string_equal(attn_arch_name((attn_arch)i), arch[i]);
        assert_int_equal(attn_arch_parse(arch[i], &v), ATTN_OK);
        assert_int_equal(v, i);
        attn_act a;
        assert_string_equal(attn_act_name((attn_act)i), act[i]);
        assert_int_equal(attn_act_parse(act[i], &a), ATTN_OK);
        assert_int_equal(a, i);
    }
    for (int i = 0; i < 2; i++) {
        attn_norm n;
        attn_pos p;
        attn_pool q;
        assert_string_equal(attn_norm_name((attn_norm)i), norm[i]);
        assert_int_equal(attn_norm_parse(norm[i], &n), ATTN_OK);
        assert_int_equal(n, i);
        assert_string_equal(attn_pos_name((attn_pos)i), pos[i]);
        assert_int_equal(attn_pos_parse(pos[i], &p), ATTN_OK);
        assert_int_equal(p, i);
        assert_string_equal(attn_pool_name((attn_pool)i), pool[i]);
        assert_int_equal(attn_pool_parse(pool[i], &q), ATTN_OK);
        assert_int_equal(q, i);
    }
    assert_string_equal(attn_arch_name((attn_arch)9), "unknown");
    assert_string_equal(attn_pool_name((attn_pool)-1), "unknown");
}

static void test_parse_unknown(void **state) {
    attn_arch a = ATTN_ARCH_SEQ2SEQ;
    assert_int_equal(attn_arch_parse("gpt", &a), ATTN_ERR_INVALID);
    assert_error_mentions("\"gpt\"");
    assert_error_mentions("decoder_lm"); /* the message lists the choices */
    assert_int_equal(a, ATTN_ARCH_SEQ2SEQ);
    attn_norm n;
    assert_int_equal(attn_norm_parse("Pre", &n), ATTN_ERR_INVALID); /* case-sensitive */
    attn_pos p;
    assert_int_equal(attn_pos_parse("", &p), ATTN_ERR_INVALID);
    attn_act ac;
    assert_int_equal(attn_act_parse("gelu", &ac), ATTN_ERR_INVALID);
    assert_error_mentions("gelu_tanh, gelu_erf, relu");
    attn_pool q;
    assert_int_equal(attn_pool_parse(NULL, &q), ATTN_ERR_INVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_validate_failures),
        cmocka_unit_test(test_validate_accepts_limits),
        cmocka_unit_test(test_names_and_parse),
        cmocka_unit_test(test_parse_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
