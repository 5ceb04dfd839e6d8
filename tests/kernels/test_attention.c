/* tests/kernels/test_attention.c: the fused attention (attention.c) against the reference
 * (attention_ref.c); the reference against a double-precision implementation written here, whose
 * backward is checked by central finite differences of L = sum(O * R).
 *
 * Shapes cover query counts that are not a multiple of the 64-query tile, one head, D = 16..80
 * (24 and 40: not a multiple of the vector width), cross-attention both ways, causal masks (with
 * Tq > Tk the first rows see no key), key padding with an empty batch row, and q, k, v with their
 * gradients packed in one buffer with spare columns that must stay untouched. */
#include "testutil.h"
#include "kernels/attention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int B, H, Tq, Tk, D;
    int causal;
    int padded;  /* kv_len = Tk, Tk/2 + 1, 0, Tk, ... over the batch; 0: kv_len NULL */
    int packed;  /* q, k, v in one buffer (rows with PAD spare columns); 0: three (B, T, C) */
    float sharp; /* scale multiplier for very peaked softmaxes; 0 means 1 */
} tcase;

enum { PAD = 3, MAXB = 8 };

/* Where q, k, v live inside one buffer of n floats; dq, dk, dv use the same offsets in a second. */
typedef struct {
    long n, q_off, k_off, v_off, q_bs, q_rs, k_bs, k_rs, v_bs, v_rs;
    long o_n, o_bs, o_rs; /* o and dout: (B, Tq, C [+ PAD]) */
    int kv_len[MAXB];
} layout;

static layout make_layout(const tcase *c) {
    layout L = {0};
    long C = (long)c->H * c->D;
    if (c->packed && c->Tq == c->Tk) { // qkv: (B, T, 3C + PAD)
        L.q_rs = L.k_rs = L.v_rs = 3 * C + PAD;
        L.q_bs = L.k_bs = L.v_bs = c->Tq * L.q_rs;
        L.k_off = C, L.v_off = 2 * C, L.n = c->B * L.q_bs;
    } else if (c->packed) { // q: (B, Tq, C + PAD), kv: (B, Tk, 2C + PAD)
        L.q_rs = C + PAD, L.q_bs = c->Tq * L.q_rs;
        L.k_rs = L.v_rs = 2 * C + PAD, L.k_bs = L.v_bs = c->Tk * L.k_rs;
        L.k_off = c->B * L.q_bs, L.v_off = L.k_off + C, L.n = L.k_off + c->B * L.k_bs;
    } else { // q: (B, Tq, C), k, v: (B, Tk, C)
        L.q_rs = L.k_rs = L.v_rs = C;
        L.q_bs = c->Tq * C, L.k_bs = L.v_bs = c->Tk * C;
        L.k_off = c->B * L.q_bs, L.v_off = L.k_off + c->B * L.k_bs, L.n = L.v_off + c->B * L.v_bs;
    }
    L.o_rs = c->packed ? C + PAD : C, L.o_bs = c->Tq * L.o_rs, L.o_n = c->B * L.o_bs;
    for (int b = 0; b < MAXB; b++)
        L.kv_len[b] = b % 3 == 0 ? c->Tk : b % 3 == 1 ? c->Tk / 2 + 1 : 0;
    return L;
}

static attn_sdpa_args make_args(const tcase *c, const layout *L, const float *buf) {
    return (attn_sdpa_args){
        .B = c->B,
        .H = c->H,
        .Tq = c->Tq,
        .Tk = c->Tk,
        .D = c->D,
        .scale = (c->sharp > 0 ? c->sharp : 1.0f) / sqrtf((float)c->D),
        .causal = c->causal,
        .kv_len = c->padded ? L->kv_len : NULL,
        .q = buf + L->q_off,
        .q_bs = L->q_bs,
        .q_rs = L->q_rs,
        .k = buf + L->k_off,
        .k_bs = L->k_bs,
        .k_rs = L->k_rs,
        .v = buf + L->v_off,
        .v_bs = L->v_bs,
        .v_rs = L->v_rs,
    };
}

/* ---- double-precision implementation on contiguous (B, T, H, D) arrays ---------------------- */

typedef struct {
    const attn_sdpa_args *a; /* shape and masks; its float pointers are not used */
    double *q, *k, *v, *R;   /* (B, Tq, C), (B, Tk, C) x 2, (B, Tq, C) */
} dbl_ctx;

/* Keys query i of batch row b sees: 0 .. n-1. */
static int dbl_keys(const attn_sdpa_args *a, int b, int i) {
    int n = a->kv_len ? a->kv_len[b] : a->Tk;
    if (n > a->Tk) n = a->Tk;
    if (a->causal && i + a->Tk - a->Tq + 1 < n) n = i + a->Tk - a->Tq + 1;
    return n < 0 ? 0 : n;
}

/* p: (Tk) probabilities of query i of head (b, h); returns the number of visible keys. */
static int dbl_probs(const dbl_ctx *x, int b, int h, int i, double *p, double *lse) {
    const attn_sdpa_args *a = x->a;
    const int D = a->D, C = a->H * D, n = dbl_keys(a, b, i);
    const double *q = x->q + ((long)b * a->Tq + i) * C + h * D;
    double max = -INFINITY, sum = 0;
    for (int j = 0; j < n; j++) {
        const double *k = x->k + ((long)b * a->Tk + j) * C + h * D;
        p[j] = 0;
        for (int d = 0; d < D; d++)
            p[j] += q[d] * k[d] * (double)a->scale;
        max = fmax(max, p[j]);
    }
    for (int j = 0; j < n; j++)
        sum += p[j] = exp(p[j] - max);
    for (int j = 0; j < n; j++)
        p[j] /= sum;
    if (lse) *lse = n ? max + log(sum) : -INFINITY;
    return n;
}

// o: (B, Tq, C), lse: (B, H, Tq) or NULL
static void dbl_forward(const dbl_ctx *x, double *o, double *lse) {
    const attn_sdpa_args *a = x->a;
    const int D = a->D, C = a->H * D;
    double *p = malloc((a->Tk + 1) * sizeof *p);
    for (int b = 0; b < a->B; b++)
        for (int h = 0; h < a->H; h++)
            for (int i = 0; i < a->Tq; i++) {
                double *orow = o + ((long)b * a->Tq + i) * C + h * D;
                int n = dbl_probs(x, b, h, i, p, lse ? lse + ((long)b * a->H + h) * a->Tq + i : 0);
                for (int d = 0; d < D; d++) {
                    orow[d] = 0;
                    for (int j = 0; j < n; j++)
                        orow[d] += p[j] * x->v[((long)b * a->Tk + j) * C + h * D + d];
                }
            }
    free(p);
}

/* dq: (B, Tq, C), dk, dv: (B, Tk, C), zeroed by the caller; dout = x->R. */
static void dbl_backward(const dbl_ctx *x, double *dq, double *dk, double *dv) {
    const attn_sdpa_args *a = x->a;
    const int D = a->D, C = a->H * D;
    double *p = malloc((a->Tk + 1) * sizeof *p), *dp = malloc((a->Tk + 1) * sizeof *dp);
    for (int b = 0; b < a->B; b++)
        for (int h = 0; h < a->H; h++)
            for (int i = 0; i < a->Tq; i++) {
                int n = dbl_probs(x, b, h, i, p, NULL);
                long qi = ((long)b * a->Tq + i) * C + h * D;
                double delta = 0;
                for (int j = 0; j < n; j++) {
                    dp[j] = 0;
                    for (int d = 0; d < D; d++)
                        dp[j] += x->R[qi + d] * x->v[((long)b * a->Tk + j) * C + h * D + d];
                    delta += p[j] * dp[j];
                }
                for (int j = 0; j < n; j++) {
                    long kj = ((long)b * a->Tk + j) * C + h * D;
                    double ds = p[j] * (dp[j] - delta) * a->scale;
                    for (int d = 0; d < D; d++) {
                        dq[qi + d] += ds * x->k[kj + d];
                        dk[kj + d] += ds * x->q[qi + d];
                        dv[kj + d] += p[j] * x->R[qi + d];
                    }
                }
            }
    free(p), free(dp);
}

/* ---- moving between strided float views and contiguous double arrays ----------------------- */

// returns (B, T, C) doubles of the view x[b * bs + t * rs + c]
static double *gather(const float *x, long bs, long rs, int B, int T, int C) {
    double *y = malloc(((long)B * T * C + 1) * sizeof *y);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++)
                y[((long)b * T + t) * C + c] = x[b * bs + t * rs + c];
    return y;
}

// x[b * bs + t * rs + c] = y (B, T, C), or += with `add`
static void scatter(double *x, long bs, long rs, const double *y, int B, int T, int C, int add) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++)
                x[b * bs + t * rs + c] =
                    y[((long)b * T + t) * C + c] + (add ? x[b * bs + t * rs + c] : 0);
}

/* The double context of a float buffer laid out by L; free with dbl_free. */
static dbl_ctx dbl_from(const attn_sdpa_args *a, const float *dout, long o_bs, long o_rs) {
    int C = a->H * a->D;
    return (dbl_ctx){
        .a = a,
        .q = gather(a->q, a->q_bs, a->q_rs, a->B, a->Tq, C),
        .k = gather(a->k, a->k_bs, a->k_rs, a->B, a->Tk, C),
        .v = gather(a->v, a->v_bs, a->v_rs, a->B, a->Tk, C),
        .R = dout ? gather(dout, o_bs, o_rs, a->B, a->Tq, C) : NULL,
    };
}

static void dbl_free(dbl_ctx *x) {
    free(x->q), free(x->k), free(x->v), free(x->R);
}

/* |got - want| <= atol + rtol |want|, where -inf must match -inf exactly. */
static void assert_lse(const float *got, const double *want, long n, const char *what) {
    for (long i = 0; i < n; i++) {
        if (want[i] == -INFINITY || got[i] == -INFINITY) {
            if (got[i] != want[i]) fail_msg("%s[%ld]: got %g, want %g", what, i, got[i], want[i]);
        } else {
            tu_assert_close_d(got + i, want + i, 1, 1e-5, 1e-5, what);
        }
    }
}

/* Every row of `what` (a view of T rows of C floats) for which hidden(b, t) holds equals `was`. */
static void assert_rows_untouched(const float *got, const float *was, long bs, long rs, int B,
                                  int T, int C, const attn_sdpa_args *a, int keys,
                                  const char *what) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int hidden = keys ? t >= dbl_keys(a, b, a->Tq - 1) : dbl_keys(a, b, t) == 0;
            for (int c = 0; hidden && c < C; c++)
                if (got[b * bs + t * rs + c] != was[b * bs + t * rs + c])
                    fail_msg("%s: row (%d, %d) of a hidden %s changed: %g -> %g", what, b, t,
                             keys ? "key" : "query", was[b * bs + t * rs + c],
                             got[b * bs + t * rs + c]);
        }
}

/* The fused kernel rounds the scores to float, whose absolute error grows with their size; the
 * reference computes them in double. The tolerances below are ~8x the largest errors seen. */
static double fused_tolerance(const tcase *c) {
    return c->sharp > 1 ? c->sharp : 1.0;
}

/* Fused forward against the reference; the reference (o, probs) against double; lse. */
static void check_forward(const tcase *c, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 1);
    layout L = make_layout(c);
    const int C = c->H * c->D;
    const long nlse = (long)c->B * c->H * c->Tq, nprobs = nlse * c->Tk;
    const double tol = fused_tolerance(c);
    float *buf = tu_randn(&rng, L.n, 1.0f);
    attn_sdpa_args a = make_args(c, &L, buf);
    float *o_fused = tu_randn(&rng, L.o_n, 1.0f), *o_ref = malloc((L.o_n + 1) * sizeof *o_ref);
    float *lse = tu_randn(&rng, nlse, 1.0f), *probs = malloc((nprobs + 1) * sizeof *probs);
    memcpy(o_ref, o_fused, L.o_n * sizeof *o_ref); /* the spare columns must survive both */
    double *want = tu_to_double(o_fused, L.o_n);

    attn_sdpa_forward(&a, o_fused, L.o_bs, L.o_rs, lse);
    attn_sdpa_probs(&a, o_ref, L.o_bs, L.o_rs, probs);

    dbl_ctx x = dbl_from(&a, NULL, 0, 0);
    double *o_d = malloc(((long)c->B * c->Tq * C + 1) * sizeof *o_d);
    double *lse_d = malloc((nlse + 1) * sizeof *lse_d);
    dbl_forward(&x, o_d, lse_d);
    scatter(want, L.o_bs, L.o_rs, o_d, c->B, c->Tq, C, 0);
    tu_assert_close_d(o_ref, want, L.o_n, 1e-5, 1e-6, "reference o vs double");
    tu_assert_close(o_fused, o_ref, L.o_n, 3e-5 * tol, 3e-6 * tol, "fused o vs reference");
    assert_lse(lse, lse_d, nlse, "fused lse vs double");

    for (long r = 0; r < nlse; r++) { /* probability rows sum to 1, or are all 0 with no key */
        int b = (int)(r / ((long)c->H * c->Tq)), i = (int)(r % c->Tq), n = dbl_keys(&a, b, i);
        double sum = 0;
        for (int j = 0; j < c->Tk; j++) {
            float p = probs[r * c->Tk + j];
            if (!(p >= 0 && p <= 1) || (j >= n && p != 0))
                fail_msg("probs[%ld, %d] = %g with %d visible keys", r, j, p, n);
            sum += p;
        }
        if (fabs(sum - (n ? 1.0 : 0.0)) > 1e-5) fail_msg("probs row %ld sums to %.8f", r, sum);
        for (int d = 0; !n && d < c->D; d++) { /* keyless rows: exactly 0 */
            long at = b * L.o_bs + i * L.o_rs + (long)(r / c->Tq % c->H) * c->D + d;
            if (o_fused[at] != 0.0f) fail_msg("keyless row %ld: o = %g", r, o_fused[at]);
        }
    }
    dbl_free(&x);
    free(buf), free(o_fused), free(o_ref), free(lse), free(probs), free(want), free(o_d),
        free(lse_d);
}

/* Fused backward against the reference backward, the reference against double; gradients are
 * accumulated onto nonzero values, and hidden rows and spare columns must be left untouched. */
static void check_backward(const tcase *c, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 2);
    layout L = make_layout(c);
    const int C = c->H * c->D;
    const long nlse = (long)c->B * c->H * c->Tq;
    const double tol = fused_tolerance(c);
    float *buf = tu_randn(&rng, L.n, 1.0f), *dout = tu_randn(&rng, L.o_n, 1.0f);
    attn_sdpa_args a = make_args(c, &L, buf);
    float *o = tu_zeros(L.o_n), *lse = tu_zeros(nlse), *delta = tu_zeros(nlse);
    float *g_init = tu_randn(&rng, L.n, 1.0f), *g_fused = malloc(L.n * sizeof *g_fused);
    float *g_ref = malloc(L.n * sizeof *g_ref);
    memcpy(g_fused, g_init, L.n * sizeof *g_fused);
    memcpy(g_ref, g_init, L.n * sizeof *g_ref);

    attn_sdpa_forward(&a, o, L.o_bs, L.o_rs, lse);
    attn_sdpa_backward(&a, o, L.o_bs, L.o_rs, lse, dout, g_fused + L.q_off, g_fused + L.k_off,
                       g_fused + L.v_off, delta);
    attn_sdpa_backward_ref(&a, dout, L.o_bs, L.o_rs, g_ref + L.q_off, g_ref + L.k_off,
                           g_ref + L.v_off);

    dbl_ctx x = dbl_from(&a, dout, L.o_bs, L.o_rs);
    long nq = (long)c->B * c->Tq * C, nk = (long)c->B * c->Tk * C;
    double *dq = calloc(nq + 1, sizeof *dq), *dk = calloc(nk + 1, sizeof *dk);
    double *dv = calloc(nk + 1, sizeof *dv), *want = tu_to_double(g_init, L.n);
    dbl_backward(&x, dq, dk, dv);
    scatter(want + L.q_off, L.q_bs, L.q_rs, dq, c->B, c->Tq, C, 1);
    scatter(want + L.k_off, L.k_bs, L.k_rs, dk, c->B, c->Tk, C, 1);
    scatter(want + L.v_off, L.v_bs, L.v_rs, dv, c->B, c->Tk, C, 1);
    tu_assert_close_d(g_ref, want, L.n, 1e-5, 1e-6, "reference gradients vs double");
    tu_assert_close(g_fused, g_ref, L.n, 1e-4 * tol, 1e-5 * tol, "fused gradients vs reference");

    assert_rows_untouched(g_fused + L.q_off, g_init + L.q_off, L.q_bs, L.q_rs, c->B, c->Tq, C, &a,
                          0, "dq");
    assert_rows_untouched(g_fused + L.k_off, g_init + L.k_off, L.k_bs, L.k_rs, c->B, c->Tk, C, &a,
                          1, "dk");
    assert_rows_untouched(g_fused + L.v_off, g_init + L.v_off, L.v_bs, L.v_rs, c->B, c->Tk, C, &a,
                          1, "dv");
    dbl_free(&x);
    free(buf), free(dout), free(o), free(lse), free(delta), free(g_init), free(g_fused);
    free(g_ref), free(dq), free(dk), free(dv), free(want);
}

static const tcase shapes[] = {
    /* B  H   Tq   Tk   D  causal padded packed sharp */
    {2, 2, 65, 65, 64, 0, 0, 1, 0},
    {2, 2, 130, 130, 64, 1, 0, 1, 0},
    {1, 1, 1, 77, 16, 1, 0, 0, 0}, /* one new query against a cache: sees every key */
    {1, 1, 7, 7, 16, 1, 0, 0, 0},
    {2, 3, 7, 200, 80, 0, 1, 1, 0},   /* cross-attention with key padding */
    {3, 2, 130, 130, 24, 1, 1, 1, 0}, /* batch row 2 has kv_len 0 */
    {1, 2, 130, 65, 40, 1, 0, 1, 0},  /* Tq > Tk: the first 65 queries see no key */
    {2, 1, 64, 64, 80, 1, 1, 0, 0},
    {4, 1, 65, 129, 40, 0, 1, 1, 0},
    {1, 1, 70, 70, 136, 1, 0, 1, 0},  /* D > 128: the backward's tiles come from the heap */
    {1, 2, 300, 300, 64, 1, 1, 0, 0}, /* several tiles each way (skipped under sanitizers) */
};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

static void test_forward(void **state) {
    (void)state;
    for (int s = 0; s < NSHAPES - tu_sanitized(); s++)
        check_forward(&shapes[s], 100 + s);
}

static void test_backward(void **state) {
    (void)state;
    for (int s = 0; s < NSHAPES - tu_sanitized(); s++)
        check_backward(&shapes[s], 200 + s);
}

/* Scores of hundreds: the running max changes by large steps and most probabilities underflow. */
static void test_sharp_softmax(void **state) {
    (void)state;
    tcase c = {2, 2, 150, 150, 64, 1, 1, 1, 40.0f};
    check_forward(&c, 300);
    check_backward(&c, 301);
}

/* Every query of every row hidden (Tk = 0, or kv_len 0 everywhere): zeros, -inf, no NaN. */
static void test_all_masked(void **state) {
    (void)state;
    tcase none = {2, 2, 70, 0, 16, 0, 0, 0, 0};
    check_forward(&none, 400);
    check_backward(&none, 401);
    tcase empty = {1, 3, 9, 33, 40, 1, 0, 0, 0};
    layout L = make_layout(&empty);
    attn_rng rng;
    attn_rng_init(&rng, 402, 0);
    float *buf = tu_randn(&rng, L.n, 1.0f), *o = tu_randn(&rng, L.o_n, 1.0f);
    float *lse = tu_zeros(27), *delta = tu_zeros(27), *g = tu_zeros(L.n);
    attn_sdpa_args a = make_args(&empty, &L, buf);
    int zero = 0;
    a.kv_len = &zero;
    attn_sdpa_forward(&a, o, L.o_bs, L.o_rs, lse);
    attn_sdpa_backward(&a, o, L.o_bs, L.o_rs, lse, buf, g + L.q_off, g + L.k_off, g + L.v_off,
                       delta);
    for (int i = 0; i < 27; i++)
        assert_true(lse[i] == -INFINITY);
    for (long i = 0; i < L.o_n; i++)
        assert_true(o[i] == 0.0f);
    for (long i = 0; i < L.n; i++)
        assert_true(g[i] == 0.0f);
    free(buf), free(o), free(lse), free(delta), free(g);
}

/* ---- the double backward against central finite differences --------------------------------- */

static double objective(const dbl_ctx *x) { /* L = sum(O * R) */
    const attn_sdpa_args *a = x->a;
    long n = (long)a->B * a->Tq * a->H * a->D;
    double *o = malloc((n + 1) * sizeof *o), L = 0;
    dbl_forward(x, o, NULL);
    for (long i = 0; i < n; i++)
        L += o[i] * x->R[i];
    free(o);
    return L;
}

static void check_fd(double *x, const double *grad, long n, const dbl_ctx *ctx, const char *what) {
    const double h = 1e-6;
    for (long i = 0; i < n; i++) {
        double x0 = x[i];
        x[i] = x0 + h;
        double lp = objective(ctx);
        x[i] = x0 - h;
        double lm = objective(ctx);
        x[i] = x0;
        double fd = (lp - lm) / (2 * h);
        if (!(fabs(fd - grad[i]) <= 1e-7 + 1e-6 * fabs(fd)))
            fail_msg("%s[%ld]: backward %.10g, finite differences %.10g", what, i, grad[i], fd);
    }
}

static void test_finite_differences(void **state) {
    (void)state;
    static const tcase small[] = {
        {2, 2, 5, 7, 4, 1, 1, 0, 0}, /* cross, causal, padded (batch row 1: kv_len 4) */
        {1, 2, 6, 3, 5, 1, 0, 0, 0}, /* Tq > Tk: three keyless queries */
        {3, 1, 4, 4, 3, 0, 1, 0, 0}, /* batch row 2: kv_len 0 */
    };
    for (int s = 0; s < 3; s++) {
        const tcase *c = &small[s];
        layout L = make_layout(c);
        attn_rng rng;
        attn_rng_init(&rng, 500 + s, 0);
        float *buf = tu_randn(&rng, L.n, 1.0f), *R = tu_randn(&rng, L.o_n, 1.0f);
        attn_sdpa_args a = make_args(c, &L, buf);
        dbl_ctx x = dbl_from(&a, R, L.o_bs, L.o_rs);
        long nq = (long)c->B * c->Tq * c->H * c->D, nk = (long)c->B * c->Tk * c->H * c->D;
        double *dq = calloc(nq, sizeof *dq), *dk = calloc(nk, sizeof *dk);
        double *dv = calloc(nk, sizeof *dv);
        dbl_backward(&x, dq, dk, dv);
        check_fd(x.q, dq, nq, &x, "dq");
        check_fd(x.k, dk, nk, &x, "dk");
        check_fd(x.v, dv, nk, &x, "dv");
        dbl_free(&x);
        free(buf), free(R), free(dq), free(dk), free(dv);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward),
        cmocka_unit_test(test_backward),
        cmocka_unit_test(test_sharp_softmax),
        cmocka_unit_test(test_all_masked),
        cmocka_unit_test(test_finite_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
