/* tests/train/test_adamw.c: the array-level AdamW update and gradient norm (src/train/adamw.c)
 * against a double-precision re-implementation of docs/FORMATS.md and against numbers produced by
 * torch.optim.AdamW. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

#include "attn/runtime.h"
#include "train/adamw.h"

/* docs/FORMATS.md, in double: θ -= lr·λ·θ; m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²;
 * θ -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε). */
static void ref_adamw(double *p, const double *g, double *m, double *v, long n, double lr,
                      double b1, double b2, double eps, double wd, long t) {
    for (long i = 0; i < n; i++) {
        p[i] -= lr * wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        double mhat = m[i] / (1 - pow(b1, (double)t)), vhat = v[i] / (1 - pow(b2, (double)t));
        p[i] -= lr * mhat / (sqrt(vhat) + eps);
    }
}

/* Runs `steps` updates of n elements (fresh random gradients each step) through both
 * implementations with the given hyper-parameters and compares parameters and moments after
 * every step (so bias correction is checked at t = 1..steps). */
static void check_against_reference(long n, int steps, float lr, float b1, float b2, float eps,
                                    float wd, float grad_scale) {
    attn_rng rng;
    attn_rng_init(&rng, 1234, (uint64_t)n);
    float *p = tu_randn(&rng, n, 1.0f), *m = tu_zeros(n), *v = tu_zeros(n);
    double *pd = tu_to_double(p, n), *md = calloc((size_t)n, sizeof *md),
           *vd = calloc((size_t)n, sizeof *vd), *gd = malloc((size_t)n * sizeof *gd);
    assert_non_null(md);
    assert_non_null(vd);
    assert_non_null(gd);
    for (int t = 1; t <= steps; t++) {
        float *g = tu_randn(&rng, n, 0.5f);
        for (long i = 0; i < n; i++)
            gd[i] = (double)(g[i] * grad_scale);
        if (grad_scale == 1.0f)
            attn_adamw_update(p, g, m, v, n, lr, b1, b2, eps, wd, t);
        else
            attn_adamw_update_scaled(p, g, grad_scale, m, v, n, lr, b1, b2, eps, wd, t);
        ref_adamw(pd, gd, md, vd, n, lr, b1, b2, eps, wd, t);
        /* Parameters move by about lr per step: their error is float rounding of values ~1. */
        tu_assert_close_d(p, pd, n, 1e-6, 1e-6, "adamw param");
        tu_assert_close_d(m, md, n, 1e-5, 1e-7, "adamw m");
        tu_assert_close_d(v, vd, n, 1e-5, 1e-9, "adamw v");
        free(g);
    }
    free(p), free(m), free(v), free(pd), free(md), free(vd), free(gd);
}

static void test_matches_reference_small(void **state) {
    (void)state;
    check_against_reference(37, 5, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 1.0f);
    check_against_reference(37, 5, 3e-3f, 0.8f, 0.95f, 1e-6f, 0.0f, 1.0f); /* no decay */
}

/* Large enough to take the threaded path (>= 32768 elements). */
static void test_matches_reference_threaded(void **state) {
    (void)state;
    check_against_reference(100003, 3, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f);
}

static void test_scaled_gradient(void **state) {
    (void)state;
    check_against_reference(101, 4, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.05f, 0.37f);
}

/* Weight decay alone: with a zero gradient m and v stay zero, the Adam term is 0/(0+ε) = 0 and
 * the parameter is multiplied by exactly (1 - lr·wd) each step. */
static void test_decay_only(void **state) {
    (void)state;
    float p[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0}, m[3] = {0}, v[3] = {0};
    for (int t = 1; t <= 3; t++)
        attn_adamw_update(p, g, m, v, 3, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f, t);
    double f = pow(1.0 - 0.1 * 0.5, 3);
    double want[3] = {1.0 * f, -2.0 * f, 0.5 * f};
    tu_assert_close_d(p, want, 3, 1e-6, 0, "decay only");
}

/* The first step of Adam moves every parameter by about lr·sign(g) (m̂/√v̂ = g/|g|). */
static void test_first_step_is_sign(void **state) {
    (void)state;
    float p[4] = {0, 0, 0, 0}, g[4] = {3.0f, -0.001f, 1e-3f, -50.0f}, m[4] = {0}, v[4] = {0};
    attn_adamw_update(p, g, m, v, 4, 0.01f, 0.9f, 0.999f, 1e-8f, 0.0f, 1);
    float want[4] = {-0.01f, 0.01f, -0.01f, 0.01f};
    tu_assert_close(p, want, 4, 1e-4, 0, "first step");
}

/* Five AdamW steps on a (2, 3) tensor with weight decay, in the C API's float arithmetic. */
static void run_torch_case(float *p, float *m, float *v) {
    const float init[6] = {0.5f, -1.25f, 2.0f, 0.0f, 3.5f, -0.75f};
    const float base[6] = {0.1f, -0.2f, 0.3f, -0.4f, 0.5f, 0.05f};
    for (int i = 0; i < 6; i++)
        p[i] = init[i], m[i] = 0, v[i] = 0;
    for (int t = 1; t <= 5; t++) {
        float g[6];
        for (int i = 0; i < 6; i++)
            g[i] = base[i] * (float)t - 0.25f * (float)(t % 2);
        attn_adamw_update(p, g, m, v, 6, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, t);
    }
}

/* Produced once with /usr/bin/python3 (Debian torch 1.13), the hyper-parameters rounded to the
 * float32 values the C API receives, so everything should agree to float rounding:
 *
 *   import torch
 *   f32 = lambda x: float(torch.tensor(x, dtype=torch.float32))
 *   p = torch.nn.Parameter(torch.tensor([[0.5, -1.25, 2.0], [0.0, 3.5, -0.75]]))
 *   opt = torch.optim.AdamW([p], lr=f32(1e-2), betas=(f32(0.9), f32(0.999)), eps=f32(1e-8),
 *                           weight_decay=f32(0.1))
 *   for t in range(1, 6):
 *       g = torch.tensor([[0.1, -0.2, 0.3], [-0.4, 0.5, 0.05]]) * t - 0.25 * (t % 2)
 *       p.grad = g
 *       opt.step()
 *   st = opt.state[p]
 *   print([f"{x:.9e}" for x in p.detach().flatten().tolist()])
 *   print([f"{x:.9e}" for x in st['exp_avg'].flatten().tolist()])
 *   print([f"{x:.9e}" for x in st['exp_avg_sq'].flatten().tolist()])
 */
static void test_matches_torch(void **state) {
    (void)state;
    float p[6], m[6], v[6];
    run_torch_case(p, m, v);
    const float want_p[6] = {4.896234870e-01f, -1.194667578e+00f, 1.944944143e+00f,
                             4.913119972e-02f, 3.435702801e+00f,  -7.306951284e-01f};
    const float want_m[6] = {6.978851557e-02f,  -3.245345354e-01f, 3.326705694e-01f,
                             -5.874166489e-01f, 5.955526233e-01f,  4.068001639e-03f};
    const float want_v[6] = {2.871215693e-04f, 3.284085309e-03f, 3.784077941e-03f,
                             1.077699289e-02f, 1.167698018e-02f, 9.974899876e-05f};
    tu_assert_close(p, want_p, 6, 2e-7, 1e-8, "torch param");
    tu_assert_close(m, want_m, 6, 5e-7, 1e-10, "torch exp_avg");
    tu_assert_close(v, want_v, 6, 5e-7, 1e-12, "torch exp_avg_sq");
}

/* The same run in torch with the exact Python hyper-parameters (lr=1e-2, betas=(0.9, 0.999),
 * eps=1e-8, weight_decay=0.1, otherwise the script above). 0.999f is 0.999 + 1.3e-8, so 1 - β2
 * and with it v differ by 1.3e-5 relative; bias correction cancels it in the update, and the
 * parameters still agree to float rounding. */
static void test_matches_torch_double_hyperparams(void **state) {
    (void)state;
    float p[6], m[6], v[6];
    run_torch_case(p, m, v);
    const float want_p[6] = {4.896234870e-01f, -1.194667578e+00f, 1.944944143e+00f,
                             4.913119972e-02f, 3.435702801e+00f,  -7.306951284e-01f};
    const float want_m[6] = {6.978850067e-02f,  -3.245345056e-01f, 3.326705098e-01f,
                             -5.874165297e-01f, 5.955525041e-01f,  4.067999776e-03f};
    const float want_v[6] = {2.871252946e-04f, 3.284127684e-03f, 3.784126835e-03f,
                             1.077713259e-02f, 1.167713106e-02f, 9.975028661e-05f};
    tu_assert_close(p, want_p, 6, 2e-7, 1e-8, "torch param");
    tu_assert_close(m, want_m, 6, 1e-6, 1e-10, "torch exp_avg");
    tu_assert_close(v, want_v, 6, 2e-5, 1e-12, "torch exp_avg_sq");
}

/* Σg² in double against a plain double loop, serial and threaded sizes and thread counts. */
static void test_grad_sq_norm(void **state) {
    (void)state;
    const long sizes[] = {0, 1, 7, 1000, 32767, 32768, 250001};
    attn_rng rng;
    attn_rng_init(&rng, 7, 0);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        long n = sizes[s];
        float *g = tu_randn(&rng, n, 3.0f);
        double want = 0;
        for (long i = 0; i < n; i++)
            want += (double)g[i] * g[i];
        for (int threads = 1; threads <= 3; threads++) {
            attn_set_num_threads(threads);
            double got = attn_grad_sq_norm(g, n);
            if (!(fabs(got - want) <= 1e-12 * want))
                fail_msg("n=%ld threads=%d: got %.17g want %.17g", n, threads, got, want);
        }
        free(g);
    }
    attn_set_num_threads(0);
}

/* Double accumulation: 2^24 + many ones is exact, where a float sum would stop growing. */
static void test_grad_sq_norm_double_accumulation(void **state) {
    (void)state;
    long n = 100001;
    float *g = tu_zeros(n);
    g[0] = 4096.0f; /* 4096² = 2^24 */
    for (long i = 1; i < n; i++)
        g[i] = 1.0f;
    assert_true(attn_grad_sq_norm(g, n) == 16777216.0 + (double)(n - 1));
    g[n / 2] = NAN;
    assert_true(isnan(attn_grad_sq_norm(g, n)));
    g[n / 2] = INFINITY;
    assert_true(isinf(attn_grad_sq_norm(g, n)));
    free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_reference_small),
        cmocka_unit_test(test_matches_reference_threaded),
        cmocka_unit_test(test_scaled_gradient),
        cmocka_unit_test(test_decay_only),
        cmocka_unit_test(test_first_step_is_sign),
        cmocka_unit_test(test_matches_torch),
        cmocka_unit_test(test_matches_torch_double_hyperparams),
        cmocka_unit_test(test_grad_sq_norm),
        cmocka_unit_test(test_grad_sq_norm_double_accumulation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
