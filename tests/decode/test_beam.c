/* tests/decode/test_beam.c: beam search (src/decode/beam.c) against the model's own full forward:
 * greedy equals step-by-step argmax recomputed without a cache; every hypothesis's score is the
 * log probability of its tokens (recomputed) over length^alpha; a beam wide enough to keep every
 * prefix finds the best sequence of an exhaustive search; a sentence's result does not depend on
 * the sentences batched with it. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/decode.h"
#include "attn/model.h"
#include "attn/runtime.h"

#define V 5
#define BOS 2
#define EOS 3

static attn_model *tiny_s2s(uint64_t seed) {
    attn_config cfg = attn_config_default(ATTN_ARCH_SEQ2SEQ);
    cfg.vocab_size = V, cfg.max_len = 12, cfg.d_model = 8, cfg.n_heads = 2, cfg.d_ff = 16;
    cfg.n_layers = 1, cfg.n_dec_layers = 2, cfg.dropout = 0;
    attn_model *m = NULL;
    assert_int_equal(attn_model_create(&cfg, seed, &m), ATTN_OK);
    /* sharper distributions than the 0.02-std initialisation gives */
    float *w = attn_model_params(m);
    for (size_t i = 0; i < attn_model_num_params(m); i++)
        w[i] *= 20.0f;
    return m;
}

/* log p(ids[0..n) | src) from one full forward (no cache). */
static double logp_of(attn_model *m, const int *src, int ns, const int *ids, int n) {
    int tin[16], tgt[16];
    for (int t = 0; t < n; t++) {
        tin[t] = t ? ids[t - 1] : BOS;
        tgt[t] = ids[t];
    }
    attn_batch b = {
        .B = 1, .T = ns, .tokens = src, .lengths = &ns, .Tt = n, .tgt_in = tin, .targets = tgt};
    assert_int_equal(attn_model_forward(m, &b, 0, NULL), ATTN_OK);
    double sum;
    long count;
    assert_int_equal(attn_model_loss(m, &sum, &count), ATTN_OK);
    return -sum;
}

static const int src0[] = {0, 1, 4, 1, EOS}, src1[] = {4, 4, EOS}, src2[] = {1, 0, 0, 4, 1, 1, EOS},
                 src3[] = {0, EOS}, src4[] = {4, 0, 1, 1, EOS};
static const int *const srcs[] = {src0, src1, src2, src3, src4};
static const int lens[] = {5, 3, 7, 2, 5};

static void test_greedy_is_argmax(void **state) {
    (void)state;
    attn_model *m = tiny_s2s(1);
    attn_beam_params p = attn_beam_default_params();
    p.beam = 1, p.bos_id = BOS, p.eos_id = EOS, p.max_len_a = 0, p.max_len_b = 6,
    p.length_penalty = 0;
    attn_hypothesis h[5];
    assert_int_equal(attn_beam_search(m, srcs, lens, 5, &p, h), ATTN_OK);
    for (int i = 0; i < 5; i++) {
        /* step by step: the argmax of the last position of a full forward */
        int ids[16], n = 0;
        for (int t = 0; t < 6; t++) {
            int best = -1;
            double best_lp = -INFINITY;
            for (int v = 0; v < V; v++) {
                ids[n] = v;
                double lp = logp_of(m, srcs[i], lens[i], ids, n + 1);
                if (lp > best_lp) best_lp = lp, best = v;
            }
            ids[n++] = best;
            if (best == EOS) break;
        }
        int want = ids[n - 1] == EOS ? n - 1 : n;
        assert_int_equal(h[i].n, want);
        assert_memory_equal(h[i].ids, ids, (size_t)want * sizeof(int));
    }
    attn_hypotheses_free(h, 5);
    attn_model_free(m);
}

static void test_scores_are_log_probs(void **state) {
    (void)state;
    attn_model *m = tiny_s2s(2);
    attn_beam_params p = attn_beam_default_params();
    p.beam = 4, p.n_best = 4, p.bos_id = BOS, p.eos_id = EOS, p.length_penalty = 0.7f;
    attn_hypothesis h[5 * 4];
    assert_int_equal(attn_beam_search(m, srcs, lens, 5, &p, h), ATTN_OK);
    for (int i = 0; i < 5; i++) {
        for (int j = 0; j < 4; j++) {
            const attn_hypothesis *x = &h[i * 4 + j];
            if (!isfinite(x->score)) continue;
            int ids[16];
            memcpy(ids, x->ids, (size_t)x->n * sizeof(int));
            int limit = (int)(p.max_len_a * lens[i]) + p.max_len_b, n = x->n;
            if (limit > 11) limit = 11;    /* the model's context less BOS */
            if (n < limit) ids[n++] = EOS; /* it ended with EOS (not at the limit) */
            double want = logp_of(m, srcs[i], lens[i], ids, n) / pow(n, p.length_penalty);
            assert_true(fabs(x->score - want) <= 1e-4 * (1 + fabs(want)));
            if (j) assert_true(x->score <= h[i * 4 + j - 1].score);
        }
    }
    attn_hypotheses_free(h, 20);
    attn_model_free(m);
}

/* Best score over every sequence of up to L tokens: those ending in EOS, and those of length L. */
static double exhaustive(attn_model *m, const int *src, int ns, int L, double alpha, int *ids,
                         int n, int *best_ids, int *best_n) {
    double best = -INFINITY;
    for (int v = 0; v < V; v++) {
        ids[n] = v;
        double sc = -INFINITY;
        if (v == EOS || n + 1 == L) {
            sc = logp_of(m, src, ns, ids, n + 1) / pow(n + 1, alpha);
            if (sc > best) {
                best = sc;
                *best_n = n + 1;
                memcpy(best_ids, ids, (size_t)(n + 1) * sizeof(int));
            }
        } else {
            int sub_ids[16], sub_n = 0;
            sc = exhaustive(m, src, ns, L, alpha, ids, n + 1, sub_ids, &sub_n);
            if (sc > best) {
                best = sc;
                *best_n = sub_n;
                memcpy(best_ids, sub_ids, (size_t)sub_n * sizeof(int));
            }
        }
    }
    return best;
}

static void test_wide_beam_is_exhaustive(void **state) {
    (void)state;
    attn_model *m = tiny_s2s(3);
    attn_beam_params p = attn_beam_default_params();
    p.beam = V * V, p.bos_id = BOS, p.eos_id = EOS, p.max_len_a = 0, p.max_len_b = 3;
    p.length_penalty = 1.0f, p.batch = 2;
    attn_hypothesis h[5];
    assert_int_equal(attn_beam_search(m, srcs, lens, 5, &p, h), ATTN_OK);
    for (int i = 0; i < 5; i++) {
        int ids[16], best_ids[16], best_n = 0;
        double best = exhaustive(m, srcs[i], lens[i], 3, 1.0, ids, 0, best_ids, &best_n);
        assert_true(fabs(h[i].score - best) <= 1e-4 * (1 + fabs(best)));
        int n = best_ids[best_n - 1] == EOS ? best_n - 1 : best_n;
        assert_int_equal(h[i].n, n);
        assert_memory_equal(h[i].ids, best_ids, (size_t)n * sizeof(int));
    }
    attn_hypotheses_free(h, 5);
    attn_model_free(m);
}

static void test_batch_does_not_change_a_sentence(void **state) {
    (void)state;
    attn_model *m = tiny_s2s(4);
    attn_beam_params p = attn_beam_default_params();
    p.beam = 3, p.n_best = 2, p.bos_id = BOS, p.eos_id = EOS;
    attn_hypothesis all[10], one[2];
    p.batch = 5;
    assert_int_equal(attn_beam_search(m, srcs, lens, 5, &p, all), ATTN_OK);
    p.batch = 1;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(attn_beam_search(m, srcs + i, lens + i, 1, &p, one), ATTN_OK);
        for (int j = 0; j < 2; j++) {
            assert_int_equal(one[j].n, all[i * 2 + j].n);
            assert_memory_equal(one[j].ids, all[i * 2 + j].ids, (size_t)one[j].n * sizeof(int));
            assert_true(fabsf(one[j].score - all[i * 2 + j].score) <= 1e-5f);
        }
        attn_hypotheses_free(one, 2);
    }
    attn_hypotheses_free(all, 10);
    attn_model_free(m);
}

/* The thread count changes nothing either. */
static void test_threads_do_not_change_a_sentence(void **state) {
    (void)state;
    attn_model *m = tiny_s2s(6);
    attn_beam_params p = attn_beam_default_params();
    p.beam = 4, p.n_best = 2, p.bos_id = BOS, p.eos_id = EOS;
    attn_hypothesis one[10], two[10];
    int saved = attn_get_num_threads();
    assert_int_equal(attn_set_num_threads(1), ATTN_OK);
    assert_int_equal(attn_beam_search(m, srcs, lens, 5, &p, one), ATTN_OK);
    assert_int_equal(attn_set_num_threads(2), ATTN_OK);
    assert_int_equal(attn_beam_search(m, srcs, lens, 5, &p, two), ATTN_OK);
    assert_int_equal(attn_set_num_threads(saved), ATTN_OK);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(one[i].n, two[i].n);
        assert_memory_equal(one[i].ids, two[i].ids, (size_t)one[i].n * sizeof(int));
        assert_true(fabsf(one[i].score - two[i].score) <= 1e-5f);
    }
    attn_hypotheses_free(one, 10);
    attn_hypotheses_free(two, 10);
    attn_model_free(m);
}

static void test_bad_input(void **state) {
    (void)state;
    attn_model *m = tiny_s2s(5);
    attn_beam_params p = attn_beam_default_params();
    p.bos_id = BOS, p.eos_id = EOS;
    attn_hypothesis h[5];
    p.n_best = p.beam + 1;
    assert_int_equal(attn_beam_search(m, srcs, lens, 5, &p, h), ATTN_ERR_INVALID);
    p = attn_beam_default_params();
    p.eos_id = V;
    assert_int_equal(attn_beam_search(m, srcs, lens, 5, &p, h), ATTN_ERR_INVALID);
    p = attn_beam_default_params();
    p.bos_id = BOS, p.eos_id = EOS;
    int too_long = 13;
    assert_int_equal(attn_beam_search(m, srcs, &too_long, 1, &p, h), ATTN_ERR_INVALID);
    attn_config cfg = attn_config_default(ATTN_ARCH_DECODER_LM);
    cfg.vocab_size = V, cfg.max_len = 8, cfg.d_model = 8, cfg.n_heads = 2, cfg.d_ff = 8;
    attn_model *lm;
    assert_int_equal(attn_model_create(&cfg, 1, &lm), ATTN_OK);
    assert_int_equal(attn_beam_search(lm, srcs, lens, 5, &p, h), ATTN_ERR_INVALID);
    attn_model_free(lm);
    attn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_is_argmax),
        cmocka_unit_test(test_scores_are_log_probs),
        cmocka_unit_test(test_wide_beam_is_exhaustive),
        cmocka_unit_test(test_batch_does_not_change_a_sentence),
        cmocka_unit_test(test_threads_do_not_change_a_sentence),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
