/* tests/kernels/test_embedding.c: token + position embedding forward against a double reference
 * (scale, pos0, repeated tokens); backward (accumulated into dwte, dwpe) against central finite
 * differences of L = sum(out * R); the sinusoidal table against its formula. */
#include "testutil.h"
#include "kernels/embedding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int B, T, C, V, P, pos0;
    double scale;
    int *tokens;
    double *wte, *wpe, *R;
} emb_ctx;

/* out[b, t, c] of the reference */
static double ref_out(const emb_ctx *k, long row, int c) {
    int t = (int)(row % k->T);
    return k->scale * k->wte[(long)k->tokens[row] * k->C + c] +
           k->wpe[(long)(k->pos0 + t) * k->C + c];
}

/* The part of L = sum(out * R) that lives in channel c (a parameter of column c touches no other).
 */
static double channel_objective(const emb_ctx *k, int c) {
    double L = 0;
    for (long r = 0; r < (long)k->B * k->T; r++)
        L += ref_out(k, r, c) * k->R[r * k->C + c];
    return L;
}

/* want[i] = init[i] + dL/dtable[i] by central differences (h = 1e-6); table: (rows, C). */
static double *plus_fd(const emb_ctx *k, double *table, int rows, const float *init) {
    const double h = 1e-6;
    long n = (long)rows * k->C;
    double *want = malloc(n * sizeof *want);
    for (long i = 0; i < n; i++) {
        int c = (int)(i % k->C);
        double v0 = table[i];
        table[i] = v0 + h;
        double lp = channel_objective(k, c);
        table[i] = v0 - h;
        double lm = channel_objective(k, c);
        table[i] = v0;
        want[i] = init[i] + (lp - lm) / (2 * h);
    }
    return want;
}

static float *copy_of(const float *x, long n) {
    float *y = malloc((n > 0 ? n : 1) * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

static void check_embedding(int B, int T, int C, int V, int pos0, float scale, unsigned seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    int P = pos0 + T + 3;
    long rows = (long)B * T, n = rows * C;
    int *tokens = malloc(rows * sizeof *tokens);
    for (long r = 0; r < rows; r++)
        tokens[r] = (int)attn_rng_below(&rng, V); /* repeats */
    float *wte = tu_randn(&rng, (long)V * C, 1), *wpe = tu_randn(&rng, (long)P * C, 1);
    float *R = tu_randn(&rng, n, 1), *out = tu_randn(&rng, n, 1);
    emb_ctx k = {B,
                 T,
                 C,
                 V,
                 P,
                 pos0,
                 scale,
                 tokens,
                 tu_to_double(wte, (long)V * C),
                 tu_to_double(wpe, (long)P * C),
                 tu_to_double(R, n)};
    double *want = malloc(n * sizeof *want);
    for (long i = 0; i < n; i++)
        want[i] = ref_out(&k, i / C, (int)(i % C));
    attn_embedding_forward(out, tokens, wte, wpe, B, T, C, pos0, scale);
    tu_assert_close_d(out, want, n, 1e-6, 1e-6, "embedding forward");

    float *i_dwte = tu_randn(&rng, (long)V * C, 1), *i_dwpe = tu_randn(&rng, (long)P * C, 1);
    float *dwte = copy_of(i_dwte, (long)V * C), *dwpe = copy_of(i_dwpe, (long)P * C);
    attn_embedding_backward(dwte, dwpe, R, tokens, B, T, C, pos0, scale);
    double *want_te = plus_fd(&k, k.wte, V, i_dwte), *want_pe = plus_fd(&k, k.wpe, P, i_dwpe);
    tu_assert_close_d(dwte, want_te, (long)V * C, 1e-4, 1e-4, "embedding dwte");
    tu_assert_close_d(dwpe, want_pe, (long)P * C, 1e-4, 1e-4, "embedding dwpe");

    float *dwte2 = copy_of(i_dwte, (long)V * C); /* dwpe may be NULL (fixed positions) */
    attn_embedding_backward(dwte2, NULL, R, tokens, B, T, C, pos0, scale);
    tu_assert_close(dwte2, dwte, (long)V * C, 0, 0, "embedding dwte without dwpe");

    free(tokens), free(wte), free(wpe), free(R), free(out), free(k.wte), free(k.wpe), free(k.R);
    free(want), free(i_dwte), free(i_dwpe), free(dwte), free(dwpe), free(want_te), free(want_pe);
    free(dwte2);
}

static void test_shapes(void **state) {
    (void)state;
    check_embedding(1, 1, 1, 1, 0, 1.0f, 1);
    check_embedding(2, 3, 5, 4, 0, 1.0f, 2);
    check_embedding(3, 7, 33, 11, 5, 2.5f, 3);
    check_embedding(1, 9, 16, 2, 1, sqrtf(16.0f), 4);
}

/* B * T * C above the threading threshold, few distinct tokens: many rows hit one dwte row. */
static void test_threaded_repeats(void **state) {
    (void)state;
    check_embedding(4, 64, 130, 5, 2, 1.5f, 10);
    check_embedding(8, 32, 200, 1, 0, 1.0f, 11); /* a single token everywhere */
}

static void check_sinusoidal(int P, int C) {
    attn_rng rng;
    attn_rng_init(&rng, 5, 0);
    float *table = tu_randn(&rng, (long)P * C, 1); /* every entry must be overwritten */
    double *want = malloc((long)P * C * sizeof *want);
    for (int p = 0; p < P; p++) {
        for (int i = 0; 2 * i < C; i++) {
            double angle = p / pow(10000.0, 2.0 * i / C);
            want[(long)p * C + 2 * i] = sin(angle);
            if (2 * i + 1 < C) want[(long)p * C + 2 * i + 1] = cos(angle);
        }
    }
    attn_sinusoidal_table(table, P, C);
    tu_assert_close_d(table, want, (long)P * C, 0, 1e-6, "sinusoidal table");
    free(table), free(want);
}

static void test_sinusoidal(void **state) {
    (void)state;
    check_sinusoidal(1, 1);
    check_sinusoidal(50, 7); /* odd C: the last column is a sin */
    check_sinusoidal(128, 256);
    float t[2 * 4];
    attn_sinusoidal_table(t, 2, 4); /* row 0: sin 0, cos 0; row 1: sin(1), cos(1), sin(0.01)... */
    float want[8] = {0, 1, 0, 1, sinf(1.0f), cosf(1.0f), sinf(0.01f), cosf(0.01f)};
    tu_assert_close(t, want, 8, 1e-6, 1e-7, "sinusoidal known values");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_threaded_repeats),
        cmocka_unit_test(test_sinusoidal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
