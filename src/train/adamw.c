/* train/adamw.c: the AdamW update and the squared gradient norm over raw float arrays. */
#include "train/adamw.h"

#include <math.h>

#include "core/threads.h"

/* Below this many elements a parallel region costs more than the loop it splits. */
#define ADAMW_PARALLEL_MIN 32768L
/* Most partial sums attn_grad_sq_norm keeps (on the stack); more threads than this are not used. */
#define NORM_MAX_PARTS 256

/* The per-step scalars of the update, computed in double and rounded to float once, as PyTorch
 * does with its Python floats. */
typedef struct {
    float b1, one_minus_b1, b2, one_minus_b2, neg_step, bias2_sqrt, eps, lr;
} adamw_consts;

static adamw_consts adamw_constants(float lr, float beta1, float beta2, float eps, long t) {
    if (t < 1) t = 1;
    const double bias1 = 1.0 - pow(beta1, (double)t), bias2 = 1.0 - pow(beta2, (double)t);
    adamw_consts c = {.b1 = beta1,
                      .one_minus_b1 = (float)(1.0 - beta1),
                      .b2 = beta2,
                      .one_minus_b2 = (float)(1.0 - beta2),
                      .neg_step = (float)(-(double)lr / bias1),
                      .bias2_sqrt = (float)sqrt(bias2),
                      .eps = eps,
                      .lr = lr};
    return c;
}

/* θ = θ(1 - lr·wd); m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²; θ -= lr/bc1 · m / (√v/√bc2 + ε)
 * over [lo, hi), per element in float as PyTorch's CPU kernel. */
static inline void adamw_range(float *param, const float *grad, float grad_scale, float *m,
                               float *v, long lo, long hi, const adamw_consts *c,
                               float weight_decay) {
    const float decay = (float)(1.0 - (double)c->lr * weight_decay);
    const float b1 = c->b1, one_minus_b1 = c->one_minus_b1, b2 = c->b2;
    const float one_minus_b2 = c->one_minus_b2, neg_step = c->neg_step;
    const float bias2_sqrt = c->bias2_sqrt, eps = c->eps;
#pragma omp simd
    for (long i = lo; i < hi; i++) {
        float g = grad[i] * grad_scale;
        float mi = m[i] * b1 + one_minus_b1 * g;
        float vi = v[i] * b2 + one_minus_b2 * (g * g);
        float denom = sqrtf(vi) / bias2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        param[i] = param[i] * decay + neg_step * (mi / denom);
    }
}

/* No errors. */
void attn_adamw_update_scaled(float *param, const float *grad, float grad_scale, float *m, float *v,
                              long n, float lr, float beta1, float beta2, float eps,
                              float weight_decay, long t) {
    if (n <= 0) return;
    const adamw_consts c = adamw_constants(lr, beta1, beta2, eps, t);
    const long chunk = 16384, chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)                                                          \
    num_threads(attn_get_num_threads()) if (n >= ADAMW_PARALLEL_MIN)
    for (long k = 0; k < chunks; k++)
        adamw_range(param, grad, grad_scale, m, v, k * chunk, k + 1 < chunks ? (k + 1) * chunk : n,
                    &c, weight_decay);
}

/* Every chunk in one parallel region: the whole arena in one pass. No errors. */
void attn_adamw_update_chunks(float *param, const float *grad, float grad_scale, float *m, float *v,
                              const attn_adamw_chunk *chunks, int n_chunks, float lr, float beta1,
                              float beta2, float eps, long t) {
    const adamw_consts c = adamw_constants(lr, beta1, beta2, eps, t);
#pragma omp parallel for schedule(static) num_threads(attn_get_num_threads()) if (n_chunks > 1)
    for (int k = 0; k < n_chunks; k++)
        adamw_range(param, grad, grad_scale, m, v, chunks[k].offset, chunks[k].offset + chunks[k].n,
                    &c, chunks[k].weight_decay);
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

/* Σ g² of each chunk into partial[k], then their sum in chunk order: the result depends only on
 * the data and the chunks, not on the threads. No errors. */
double attn_grad_sq_norm_chunks(const float *g, const attn_adamw_chunk *chunks, int n_chunks,
                                double *partial) {
#pragma omp parallel for schedule(static) num_threads(attn_get_num_threads()) if (n_chunks > 1)
    for (int k = 0; k < n_chunks; k++)
        partial[k] = sq_sum_range(g, chunks[k].offset, chunks[k].offset + chunks[k].n);
    double total = 0.0;
    for (int k = 0; k < n_chunks; k++)
        total += partial[k];
    return total;
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
