/* tests/kernels/test_ctc.c: CTC loss, gradient and greedy decoding (src/kernels/ctc.c).
 * - by hand: two frames and one label, whose three paths are summed here;
 * - against torch.nn.functional.ctc_loss (tests/kernels/ctc_reference.py, run with
 *   /usr/bin/python3; float64 there on the same float32 inputs): losses to 1e-6 relative (ours
 *   are float32 results of double recursions), infinite exactly where PyTorch's are, gradients
 *   to 1e-6 + 1e-5 relative; skipped (77) without torch;
 * - a central finite-difference check of the gradient with respect to the logits, in double
 *   around our float kernel (h = 1e-2: truncation ~1e-4, float rounding of the loss ~1e-4),
 *   to 1e-3 (we see 1e-4);
 * - accumulation (+=), greedy decoding, and the argument errors. */
#define _POSIX_C_SOURCE 200809L /* popen */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "kernels/ctc.h"

static void test_by_hand(void **state) {
    (void)state;
    /* T = 2, V = 2 (blank 0), target [1]: paths 11, 1_, _1, so p = a1 b1 + a1 b0 + a0 b1. */
    double a1 = 0.3, b1 = 0.6;
    float lp[4] = {(float)log(1 - a1), (float)log(a1), (float)log(1 - b1), (float)log(b1)};
    int target = 1, in_len = 2, tgt_len = 1;
    float loss;
    assert_int_equal(attn_ctc_forward(&loss, lp, &target, &in_len, &tgt_len, 2, 1, 2, 1, 0),
                     ATTN_OK);
    double p = a1 * b1 + a1 * (1 - b1) + (1 - a1) * b1;
    assert_true(fabs(loss + log(p)) < 1e-6);
    /* One frame: p = a1. An empty target over two frames: both blank. */
    in_len = 1;
    assert_int_equal(attn_ctc_forward(&loss, lp, &target, &in_len, &tgt_len, 2, 1, 2, 1, 0),
                     ATTN_OK);
    assert_true(fabs(loss + log(a1)) < 1e-6);
    in_len = 2;
    tgt_len = 0;
    assert_int_equal(attn_ctc_forward(&loss, lp, &target, &in_len, &tgt_len, 2, 1, 2, 1, 0),
                     ATTN_OK);
    assert_true(fabs(loss + log((1 - a1) * (1 - b1))) < 1e-6);
    /* Its gradient: dz[t][k] = p_t(k) - gamma_t(k), gamma = posterior of emitting k at t. */
    float dz[4] = {0};
    tgt_len = 1;
    assert_int_equal(attn_ctc_backward(dz, NULL, lp, &target, &in_len, &tgt_len, 2, 1, 2, 1, 0),
                     ATTN_OK);
    double g0_1 = (a1 * b1 + a1 * (1 - b1)) / p; /* frame 0 emits 1 on paths 11 and 1_ */
    assert_true(fabs(dz[1] - (a1 - g0_1)) < 1e-6);
    assert_true(fabs(dz[0] - ((1 - a1) - (1 - g0_1))) < 1e-6);
}

static cJSON *reference;

static int load_reference(void) {
    const char *src = getenv("ATTN_SOURCE_DIR");
    if (access("/usr/bin/python3", X_OK) != 0) return 77;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/kernels/ctc_reference.py'",
             src ? src : ".");
    char *buf;
    int status = tu_read_command(cmd, &buf);
    if (status == 77) {
        free(buf);
        return 77;
    }
    if (!buf || status != 0) {
        fprintf(stderr, "ctc_reference.py failed (status %d)\n", status);
        free(buf);
        return 1;
    }
    reference = cJSON_Parse(buf);
    free(buf);
    return reference ? 0 : 1;
}

typedef struct {
    int T, B, V, S, blank;
    float *lp, *grad, *weights;
    double *losses;
    int *targets, *in_len, *tgt_len;
} ctc_case;

static int geti(const cJSON *o, const char *k) {
    return (int)cJSON_GetObjectItem(o, k)->valuedouble;
}

static float *floats(const cJSON *o, const char *k, long *n) {
    const cJSON *a = cJSON_GetObjectItem(o, k);
    *n = cJSON_GetArraySize(a);
    float *v = malloc((size_t)*n * sizeof *v);
    long i = 0;
    for (const cJSON *e = a->child; e; e = e->next)
        v[i++] = (float)e->valuedouble;
    return v;
}

static int *ints(const cJSON *o, const char *k) {
    const cJSON *a = cJSON_GetObjectItem(o, k);
    int *v = malloc((size_t)(cJSON_GetArraySize(a) + 1) * sizeof *v);
    long i = 0;
    for (const cJSON *e = a->child; e; e = e->next)
        v[i++] = (int)e->valuedouble;
    return v;
}

static ctc_case get_case(int c) {
    const cJSON *o = cJSON_GetArrayItem(cJSON_GetObjectItem(reference, "cases"), c);
    ctc_case k = {0};
    k.T = geti(o, "T"), k.B = geti(o, "B"), k.V = geti(o, "V"), k.S = geti(o, "S");
    k.blank = geti(o, "blank");
    long n;
    k.lp = floats(o, "log_probs", &n);
    assert_int_equal(n, (long)k.T * k.B * k.V);
    k.grad = floats(o, "grad", &n);
    k.weights = floats(o, "weights", &n);
    const cJSON *l = cJSON_GetObjectItem(o, "losses");
    k.losses = malloc((size_t)k.B * sizeof *k.losses);
    int i = 0;
    for (const cJSON *e = l->child; e; e = e->next, i++)
        k.losses[i] =
            cJSON_IsNumber(e) ? e->valuedouble : INFINITY; /* JSON writes inf as Infinity */
    k.targets = ints(o, "targets");
    k.in_len = ints(o, "input_lengths");
    k.tgt_len = ints(o, "target_lengths");
    return k;
}

static void free_case(ctc_case *k) {
    free(k->lp), free(k->grad), free(k->weights), free(k->losses);
    free(k->targets), free(k->in_len), free(k->tgt_len);
}

static void test_against_torch(void **state) {
    (void)state;
    if (!reference) skip();
    int n_cases = cJSON_GetArraySize(cJSON_GetObjectItem(reference, "cases"));
    assert_int_equal(n_cases, 5);
    int infinite = 0;
    double worst_loss = 0, worst_grad = 0;
    for (int c = 0; c < n_cases; c++) {
        ctc_case k = get_case(c);
        float *loss = malloc((size_t)k.B * sizeof *loss);
        assert_int_equal(attn_ctc_forward(loss, k.lp, k.targets, k.in_len, k.tgt_len, k.T, k.B, k.V,
                                          k.S, k.blank),
                         ATTN_OK);
        for (int b = 0; b < k.B; b++) {
            if (isinf(k.losses[b])) {
                assert_true(isinf(loss[b]) && loss[b] > 0);
                infinite++;
            } else if (worst_loss =
                           fmax(worst_loss, fabs(loss[b] - k.losses[b]) / fabs(k.losses[b])),
                       fabs(loss[b] - k.losses[b]) > 1e-6 * fabs(k.losses[b]) + 1e-6) {
                fail_msg("case %d sequence %d: loss %.9g, PyTorch %.9g", c, b, loss[b],
                         k.losses[b]);
            }
        }
        long N = (long)k.T * k.B * k.V;
        float *dz = tu_zeros(N);
        assert_int_equal(attn_ctc_backward(dz, k.weights, k.lp, k.targets, k.in_len, k.tgt_len, k.T,
                                           k.B, k.V, k.S, k.blank),
                         ATTN_OK);
        tu_assert_close(dz, k.grad, N, 1e-5, 1e-6, "ctc gradient vs PyTorch");
        for (long i = 0; i < N; i++)
            worst_grad = fmax(worst_grad, fabs(dz[i] - k.grad[i]));
        /* Backward accumulates. */
        assert_int_equal(attn_ctc_backward(dz, k.weights, k.lp, k.targets, k.in_len, k.tgt_len, k.T,
                                           k.B, k.V, k.S, k.blank),
                         ATTN_OK);
        for (long i = 0; i < N; i++)
            k.grad[i] *= 2;
        tu_assert_close(dz, k.grad, N, 1e-5, 2e-6, "ctc gradient accumulated");
        free(dz);
        free(loss);
        free_case(&k);
    }
    assert_int_equal(infinite, 1);
    printf("%d cases: losses within %.2g (relative) of PyTorch's, gradients within %.2g\n", n_cases,
           worst_loss, worst_grad);
}

/* sum_b w_b loss_b at logits z (double), through log_softmax in double, then our float kernel. */
static double objective(const double *z, const ctc_case *k, float *lp) {
    for (long r = 0; r < (long)k->T * k->B; r++) {
        const double *x = z + r * k->V;
        double m = x[0], s = 0;
        for (int v = 1; v < k->V; v++)
            m = fmax(m, x[v]);
        for (int v = 0; v < k->V; v++)
            s += exp(x[v] - m);
        for (int v = 0; v < k->V; v++)
            lp[r * k->V + v] = (float)(x[v] - m - log(s));
    }
    float loss[16];
    assert_int_equal(attn_ctc_forward(loss, lp, k->targets, k->in_len, k->tgt_len, k->T, k->B, k->V,
                                      k->S, k->blank),
                     ATTN_OK);
    double f = 0;
    for (int b = 0; b < k->B; b++)
        f += (double)k->weights[b] * loss[b];
    return f;
}

static void test_finite_differences(void **state) {
    (void)state;
    if (!reference) skip();
    for (int c = 0; c < 3; c++) { /* the cases with finite losses only */
        ctc_case k = get_case(c);
        long N = (long)k.T * k.B * k.V;
        double *z = malloc((size_t)N * sizeof *z);
        for (long i = 0; i < N; i++)
            z[i] = k.lp[i]; /* log_softmax(lp) = lp */
        float *lp = malloc((size_t)N * sizeof *lp), *dz = tu_zeros(N);
        assert_int_equal(attn_ctc_backward(dz, k.weights, k.lp, k.targets, k.in_len, k.tgt_len, k.T,
                                           k.B, k.V, k.S, k.blank),
                         ATTN_OK);
        double h = 1e-2, worst = 0;
        for (long i = 0; i < N; i++) {
            double zi = z[i];
            z[i] = zi + h;
            double fp = objective(z, &k, lp);
            z[i] = zi - h;
            double fm = objective(z, &k, lp);
            z[i] = zi;
            worst = fmax(worst, fabs((fp - fm) / (2 * h) - dz[i]));
        }
        printf("case %d: %ld central differences within %.2g of the gradient\n", c, N, worst);
        if (worst > 1e-3) fail_msg("case %d: finite differences off by %.3g", c, worst);
        free(z), free(lp), free(dz);
        free_case(&k);
    }
}

static void test_greedy(void **state) {
    (void)state;
    /* Frames' argmax: _ 1 1 _ 1 2 2 _ for sequence 0 -> 1 1 2; sequence 1 stops after 3 frames,
     * a tie (frame 0: classes 1 and 2 equal) goes to the lower index -> 1 2. */
    enum { T = 8, B = 2, V = 3 };
    int best[B][T] = {{0, 1, 1, 0, 1, 2, 2, 0}, {1, 0, 2, 2, 1, 1, 1, 1}};
    float lp[T][B][V];
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++)
            for (int v = 0; v < V; v++)
                lp[t][b][v] = v == best[b][t] ? -0.1f : -3.0f;
    lp[0][1][2] = -0.1f;
    int out[B * T], len[B], in_len[B] = {8, 3};
    assert_int_equal(attn_ctc_greedy_decode(out, len, &lp[0][0][0], in_len, T, B, V, 0), ATTN_OK);
    assert_int_equal(len[0], 3);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 2);
    assert_int_equal(len[1], 2);
    assert_int_equal(out[T + 0], 1);
    assert_int_equal(out[T + 1], 2);
    in_len[1] = 9;
    assert_int_equal(attn_ctc_greedy_decode(out, len, &lp[0][0][0], in_len, T, B, V, 0),
                     ATTN_ERR_INVALID);
}

static void test_errors(void **state) {
    (void)state;
    float lp[2 * 3] = {0}, loss;
    int target[2] = {1, 0}, in_len = 2, tgt_len = 2;
    assert_int_equal(attn_ctc_forward(&loss, lp, target, &in_len, &tgt_len, 2, 1, 3, 2, 0),
                     ATTN_ERR_INVALID); /* a blank among the labels */
    assert_non_null(strstr(attn_last_error(), "sequence 0"));
    target[1] = 3;
    assert_int_equal(attn_ctc_forward(&loss, lp, target, &in_len, &tgt_len, 2, 1, 3, 2, 0),
                     ATTN_ERR_INVALID); /* past V */
    target[1] = 2;
    tgt_len = 3;
    assert_int_equal(attn_ctc_forward(&loss, lp, target, &in_len, &tgt_len, 2, 1, 3, 2, 0),
                     ATTN_ERR_INVALID); /* longer than S */
    tgt_len = 2;
    assert_int_equal(attn_ctc_forward(&loss, lp, target, &in_len, &tgt_len, 2, 1, 3, 2, 3),
                     ATTN_ERR_INVALID); /* blank past V */
    in_len = 3;
    assert_int_equal(attn_ctc_forward(&loss, lp, target, &in_len, &tgt_len, 2, 1, 3, 2, 0),
                     ATTN_ERR_INVALID); /* more frames than T */
    in_len = 0; /* no frames: an empty target has probability 1, any other 0 */
    assert_int_equal(attn_ctc_forward(&loss, lp, target, &in_len, &tgt_len, 2, 1, 3, 2, 0),
                     ATTN_OK);
    assert_true(isinf(loss));
    tgt_len = 0;
    assert_int_equal(attn_ctc_forward(&loss, lp, target, &in_len, &tgt_len, 2, 1, 3, 2, 0),
                     ATTN_OK);
    assert_true(loss == 0);
}

/* Prefix beam search against brute force: every one of the V^T frame labellings of a small
 * problem enumerated, collapsed and summed per labelling. With a beam as large as the number of
 * labellings the search is exact: the same n-best list, scores to 1e-5, and each score is
 * -attn_ctc_forward's loss of its labelling. */
enum { BT = 6, BV = 3, BB = 2, MAXL = 1 + 2 + 4 + 8 + 16 + 32 + 64 };

typedef struct {
    int len, lab[BT];
    double p;
} labelling;

static int by_p(const void *a, const void *b) {
    double x = ((const labelling *)a)->p, y = ((const labelling *)b)->p;
    return x < y ? 1 : x > y ? -1 : 0;
}

static float lp[BT][BB][BV]; /* sequence 1 of the batch is searched (stride B * V) */
static labelling all[MAXL];    /* its labellings, most probable first */

/* Random log-probabilities, and every labelling with its probability by brute force. */
static int enumerate(int blank) {
    attn_rng rng;
    attn_rng_init(&rng, 21, 0);
    for (int t = 0; t < BT; t++)
        for (int b = 0; b < BB; b++) {
            double z[BV], m = -1e30, sum = 0;
            for (int v = 0; v < BV; v++)
                m = fmax(m, z[v] = 1.5 * attn_rng_normal(&rng));
            for (int v = 0; v < BV; v++)
                sum += exp(z[v] - m);
            for (int v = 0; v < BV; v++)
                lp[t][b][v] = (float)(z[v] - m - log(sum));
        }
    memset(all, 0, sizeof all);
    int n_all = 0, path[BT];
    for (long code = 0; code < 729; code++) { /* 3^6 frame labellings */
        long c = code;
        double logp = 0;
        for (int t = 0; t < BT; t++, c /= BV)
            path[t] = (int)(c % BV), logp += lp[t][1][path[t]];
        labelling l = {0};
        for (int t = 0; t < BT; t++)
            if (path[t] != blank && (t == 0 || path[t] != path[t - 1])) l.lab[l.len++] = path[t];
        int i = 0;
        while (i < n_all && (all[i].len != l.len || memcmp(all[i].lab, l.lab, sizeof l.lab) != 0))
            i++;
        if (i == n_all) all[n_all++] = l;
        all[i].p += exp(logp);
    }
    qsort(all, (size_t)n_all, sizeof *all, by_p);
    return n_all;
}

static void test_prefix_beam_search(void **state) {
    (void)state;
    int blank = 1; /* not 0, to catch an assumption */
    int n_all = enumerate(blank);
    int out[MAXL * BT], lens[MAXL];
    float scores[MAXL];
    int n_best = 12;
    assert_int_equal(attn_ctc_prefix_beam_search(out, lens, scores, &lp[0][1][0], BB * BV, BT, BV,
                                                 blank, n_all, n_best),
                     ATTN_OK);
    for (int j = 0; j < n_best; j++) {
        assert_int_equal(lens[j], all[j].len);
        assert_memory_equal(out + j * BT, all[j].lab, (size_t)lens[j] * sizeof(int));
        assert_true(fabs(scores[j] - log(all[j].p)) < 1e-5);
        /* The same number from the loss: sequence 1 alone, as a batch of one with stride. */
        float one[BT * BV], loss;
        for (int t = 0; t < BT; t++)
            memcpy(one + t * BV, lp[t][1], sizeof one[0] * BV);
        int in_len = BT, tgt_len = lens[j];
        int *tg = lens[j] ? out + j * BT : all[0].lab;
        assert_int_equal(attn_ctc_forward(&loss, one, tg, &in_len, &tgt_len, BT, 1, BV,
                                          lens[j] ? lens[j] : 1, blank),
                         ATTN_OK);
        assert_true(fabs(scores[j] + loss) < 1e-5);
    }
    /* A narrow beam still returns its best, no better than the exact best. */
    assert_int_equal(
        attn_ctc_prefix_beam_search(out, lens, scores, &lp[0][1][0], BB * BV, BT, BV, blank, 2, 2),
        ATTN_OK);
    assert_true(scores[0] <= log(all[0].p) + 1e-6 && scores[1] <= scores[0]);
    assert_int_equal(
        attn_ctc_prefix_beam_search(out, lens, scores, &lp[0][1][0], BB * BV, BT, BV, blank, 2, 3),
        ATTN_ERR_INVALID); /* n_best > beam */
}

/* With an automaton the search returns the best labellings it accepts: those of the brute-force
 * list that it accepts, in order, with the same scores (a beam as large as the list is exact).
 * The language: no two 0s in a row, and a labelling ends in 2 (or is empty). */
static void test_prefix_beam_search_dfa(void **state) {
    (void)state;
    int blank = 1, n_all = enumerate(blank);
    static const int next[3 * BV] = {1, -1, 2, /* start */ -1, -1, 2, /* after 0 */ 1, -1, 2};
    static const unsigned char accept[3] = {1, 0, 1};
    attn_ctc_dfa dfa = {3, next, accept};
    labelling allowed[MAXL];
    int n_allowed = 0;
    for (int i = 0; i < n_all; i++) {
        int st = 0;
        for (int k = 0; k < all[i].len && st >= 0; k++)
            st = next[st * BV + all[i].lab[k]];
        if (st >= 0 && accept[st]) allowed[n_allowed++] = all[i];
    }
    assert_true(n_allowed >= 6 && n_allowed < n_all);
    int out[MAXL * BT], lens[MAXL], n_best = 6;
    float scores[MAXL];
    assert_int_equal(attn_ctc_prefix_beam_search_dfa(out, lens, scores, &lp[0][1][0], BB * BV, BT,
                                                     BV, blank, n_all, n_best, &dfa),
                     ATTN_OK);
    for (int j = 0; j < n_best; j++) {
        assert_int_equal(lens[j], allowed[j].len);
        assert_memory_equal(out + j * BT, allowed[j].lab, (size_t)lens[j] * sizeof(int));
        assert_true(fabs(scores[j] - log(allowed[j].p)) < 1e-5);
    }
    /* NULL is the plain search; a move on the blank or past the states is refused */
    assert_int_equal(attn_ctc_prefix_beam_search_dfa(out, lens, scores, &lp[0][1][0], BB * BV, BT,
                                                     BV, blank, n_all, 1, NULL),
                     ATTN_OK);
    assert_true(lens[0] == all[0].len && fabs(scores[0] - log(all[0].p)) < 1e-5);
    int bad[3 * BV] = {1, 0, 2, -1, -1, 2, 1, -1, 2};
    attn_ctc_dfa on_blank = {3, bad, accept};
    assert_int_equal(attn_ctc_prefix_beam_search_dfa(out, lens, scores, &lp[0][1][0], BB * BV, BT,
                                                     BV, blank, 4, 1, &on_blank),
                     ATTN_ERR_INVALID);
    bad[1] = -1, bad[0] = 3;
    assert_int_equal(attn_ctc_prefix_beam_search_dfa(out, lens, scores, &lp[0][1][0], BB * BV, BT,
                                                     BV, blank, 4, 1, &on_blank),
                     ATTN_ERR_INVALID);
}

/* With a language model the search returns the labellings by the fused score: log p_ctc + w log
 * p_lm + bonus * length, p_lm a bigram over the labels 0 and 2 (and the end) given here; the
 * brute-force list re-ranked by that score, in order, scores to 1e-5 (a beam as large as the
 * list is exact). Weight and bonus 0 give the plain search. */
static const double bigram[3][3] = {{0.2, 0.5, 0.3}, {0.1, 0.6, 0.3}, {0.5, 0.2, 0.3}};

static int bigram_row(const int *labels, int n) { /* 0: the start, 1: after a 0, 2: after a 2 */
    return n == 0 ? 0 : labels[n - 1] == 0 ? 1 : 2;
}

static void bigram_next(void *user, const int *labels, int n, float *out) {
    (void)user;
    const double *p = bigram[bigram_row(labels, n)];
    out[0] = (float)log(p[0]), out[1] = NAN, out[2] = (float)log(p[1]), out[BV] = (float)log(p[2]);
}

static double fused(const labelling *l, double w, double bonus) {
    double lm = 0;
    for (int k = 0; k <= l->len; k++) /* each label, then the end */
        lm += log(bigram[bigram_row(l->lab, k)][k < l->len ? (l->lab[k] == 0 ? 0 : 1) : 2]);
    return log(l->p) + w * lm + bonus * l->len;
}

static double rank_w, rank_bonus;
static int by_fused(const void *a, const void *b) {
    double x = fused(a, rank_w, rank_bonus), y = fused(b, rank_w, rank_bonus);
    return x < y ? 1 : x > y ? -1 : 0;
}

static void test_prefix_beam_search_lm(void **state) {
    (void)state;
    int blank = 1, n_all = enumerate(blank);
    int out[MAXL * BT], lens[MAXL], n_best = 10;
    float scores[MAXL];
    attn_ctc_lm lm = {bigram_next, NULL, 0.8f, 0.3f};
    labelling ranked[MAXL];
    memcpy(ranked, all, sizeof all);
    rank_w = lm.weight, rank_bonus = lm.bonus;
    qsort(ranked, (size_t)n_all, sizeof *ranked, by_fused);
    assert_int_equal(attn_ctc_prefix_beam_search_lm(out, lens, scores, &lp[0][1][0], BB * BV, BT,
                                                    BV, blank, n_all, n_best, NULL, &lm),
                     ATTN_OK);
    int moved = 0;
    for (int j = 0; j < n_best; j++) {
        assert_int_equal(lens[j], ranked[j].len);
        assert_memory_equal(out + j * BT, ranked[j].lab, (size_t)lens[j] * sizeof(int));
        assert_true(fabs(scores[j] - fused(&ranked[j], lm.weight, lm.bonus)) < 1e-5);
        moved |= ranked[j].len != all[j].len || memcmp(ranked[j].lab, all[j].lab, sizeof all[j].lab);
    }
    assert_true(moved); /* the model changed the order: the test sees it */
    /* weight and bonus 0: the plain search's list and scores */
    attn_ctc_lm none = {bigram_next, NULL, 0, 0};
    assert_int_equal(attn_ctc_prefix_beam_search_lm(out, lens, scores, &lp[0][1][0], BB * BV, BT,
                                                    BV, blank, n_all, n_best, NULL, &none),
                     ATTN_OK);
    for (int j = 0; j < n_best; j++) {
        assert_int_equal(lens[j], all[j].len);
        assert_true(fabs(scores[j] - log(all[j].p)) < 1e-5);
    }
    none.weight = INFINITY;
    assert_int_equal(attn_ctc_prefix_beam_search_lm(out, lens, scores, &lp[0][1][0], BB * BV, BT,
                                                    BV, blank, 4, 1, NULL, &none),
                     ATTN_ERR_INVALID);
    none = (attn_ctc_lm){NULL, NULL, 1, 0};
    assert_int_equal(attn_ctc_prefix_beam_search_lm(out, lens, scores, &lp[0][1][0], BB * BV, BT,
                                                    BV, blank, 4, 1, NULL, &none),
                     ATTN_ERR_INVALID);
}

int main(void) {
    int rc = load_reference();
    if (rc == 1) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_against_torch),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_greedy),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_prefix_beam_search),
        cmocka_unit_test(test_prefix_beam_search_dfa),
        cmocka_unit_test(test_prefix_beam_search_lm),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    cJSON_Delete(reference);
    return failed;
}
