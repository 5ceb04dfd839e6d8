/* train/adamw.c: the AdamW update and the squared gradient norm over raw float arrays. */
#include "train/adamw.h"

#include <math.h>

#include "core/threads.h"

/* Below this many elements a parallel region costs more than the loop it splits. */
#define ADAMW_PARALLEL_MIN 32768L
/* Most partial sums attn_grad_sq_norm keeps (on the stack); more threads than this are not used. */
#define NORM_MAX_PARTS 256

/* θ = θ(1 - lr·wd); m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²; θ -= lr/bc1 · m / (√v/√bc2 + ε).
 * The scalars are computed in double and rounded to float once, as PyTorch does with its Python
 * floats; the per-element arithmetic is float, as in PyTorch's CPU kernels. No errors. */
void attn_adamw_update_scaled(float *param, const float *grad, float grad_scale, float *m, float *v,
                              long n, float lr, float beta1, float beta2, float eps,
                              float weight_decay, long t) {
    if (n <= 0) return;
    if (t < 1) t = 1;
    const float decay = (float)(1.0 - (double)lr * weight_decay);
    const float b1 = beta1, one_minus_b1 = (float)(1.0 - beta1);
    const float b2 = beta2, one_minus_b2 = (float)(1.0 - beta2);
    const double bias1 = 1.0 - pow(beta1, (double)t);
    const double bias2 = 1.0 - pow(beta2, (double)t);
    const float neg_step = (float)(-(double)lr / bias1);
    const float bias2_sqrt = (float)sqrt(bias2);
    const int threads = attn_get_num_threads();

#pragma omp parallel for simd schedule(static) num_threads(threads) if (n >= ADAMW_PARALLEL_MIN)
    for (long i = 0; i < n; i++) {
        float g = grad[i] * grad_scale;
        float mi = m[i] * b1 + one_minus_b1 * g;
        float vi = v[i] * b2 + one_minus_b2 * (g * g);
        float denom = sqrtf(vi) / bias2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        param[i] = param[i] * decay + neg_step * (mi / denom);
    }
}

/* attn_adamw_update_scaled with grad_scale 1 (multiplying by 1.0f is exact). No errors. */
void attn_adamw_update(float *param, const float *grad, float *m, float *v, long n, float lr,
                       float beta1, float beta2, float eps, float weight_decay, long t) {
    attn_adamw_update_scaled(param, grad, 1.0f, m, v, n, lr, beta1, beta2, eps, weight_decay, t);
}

/* Σ g² of g[lo, hi) in double; the simd reduction lets the compiler vectorise it. */
static double sq_sum_range(const float *g, long lo, long hi) {
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (long i = lo; i < hi; i++)
        acc += (double)g[i] * g[i];
    return acc;
}

/* Each thread sums one contiguous slice into its own slot; the slots are added in order, so the
 * result does not depend on which thread finishes first. No errors, no allocation. */
double attn_grad_sq_norm(const float *g, long n) {
    if (n <= 0) return 0.0;
    int parts = attn_get_num_threads();
    if (parts > NORM_MAX_PARTS) parts = NORM_MAX_PARTS;
    if (n < ADAMW_PARALLEL_MIN || parts <= 1) return sq_sum_range(g, 0, n);

    double partial[NORM_MAX_PARTS];
#pragma omp parallel for schedule(static, 1) num_threads(parts)
    for (int p = 0; p < parts; p++) {
        long chunk = n / parts, extra = n % parts;
        long lo = p * chunk + (p < extra ? p : extra);
        long hi = lo + chunk + (p < extra ? 1 : 0);
        partial[p] = sq_sum_range(g, lo, hi);
    }
    double total = 0.0;
    for (int p = 0; p < parts; p++)
        total += partial[p];
    return total;
}
