/* kernels/crossentropy_simd.c: softmax cross-entropy with ignore-index and label smoothing
 * (PyTorch).
 *
 * With q = (1 - e) onehot(y) + e / V and lse = logsumexp(x), the row loss is
 *     -sum_k q_k (x_k - lse) = (1 - e) (lse - x_y) + e (lse - mean_k x_k),
 * computed in double from a max-shifted lse, so huge logits give neither inf nor NaN.
 * Its gradient is softmax(x) - q = exp(x - lse) - q.
 * Targets must be ignore_index or in [0, V) (the caller validates data). exp and log are the
 * vector math of kernels/vmath.h; this file is compiled once per ISA (kernels/simd.h). */
#include "kernels/simd_decls.h"
#include "kernels/vmath.h"

/* Below this many logits, a call stays on one thread. */
#define CE_PAR_MIN (1L << 14)

// x: (V); logsumexp(x) = max + log(sum exp(x - max))
static float row_logsumexp(const float *x, int V) {
    float max = vm_array_max(x, V);
    return max + vm_log1(vm_array_exp_sum(x, V, max));
}

// x: (V); the loss of one counted row with target y
static double row_loss(const float *x, float lse, int y, int V, float smoothing) {
    double loss = (1.0 - smoothing) * ((double)lse - x[y]);
    if (smoothing > 0.0f) {
        double sum = 0.0;
#pragma omp simd reduction(+ : sum)
        for (int k = 0; k < V; k++)
            sum += x[k];
        loss += smoothing * ((double)lse - sum / V);
    }
    return loss;
}

// lse: (N), logits: (N, V), targets: (N); returns the sum of row losses, *count = counted rows
double SIMD_FN(attn_crossentropy_forward)(float *lse, const float *logits, const int *targets,
                                          int N, int V, int ignore_index, float smoothing,
                                          long *count) {
    double total = 0.0;
    long counted = 0;
#pragma omp parallel for schedule(static) reduction(+ : total, counted) if ((long)N * V > CE_PAR_MIN)
    for (int n = 0; n < N; n++) {
        const float *x = logits + (long)n * V;
        lse[n] = row_logsumexp(x, V);
        if (targets[n] == ignore_index) continue;
        total += row_loss(x, lse[n], targets[n], V, smoothing);
        counted++;
    }
    *count = counted;
    return total;
}

// dlogits, logits: (V), may alias; dlogits = scale * (softmax(x) - q)
static void row_grad(float *d, const float *x, float lse, int y, int V, float smoothing,
                     float scale) {
    vf sh = vset1(lse), sc = vset1(scale), sub = vset1(smoothing / V);
    int k = 0;
    for (; k + VW <= V; k += VW)
        vstore(d + k, vmul(sc, vsub(v_exp(vsub(vload(x + k), sh)), sub)));
    if (k < V) vstore_n(d + k, vmul(sc, vsub(v_exp(vsub(vload_n(x + k, V - k), sh)), sub)), V - k);
    d[y] -= scale * (1.0f - smoothing);
}

// dlogits, logits: (N, V), lse, targets: (N)
void SIMD_FN(attn_crossentropy_backward)(float *dlogits, const float *logits, const float *lse,
                                         const int *targets, int N, int V, int ignore_index,
                                         float smoothing, float scale) {
#pragma omp parallel for schedule(static) if ((long)N * V > CE_PAR_MIN)
    for (int n = 0; n < N; n++) {
        float *d = dlogits + (long)n * V;
        if (targets[n] == ignore_index) {
#pragma omp simd
            for (int k = 0; k < V; k++)
                d[k] = 0.0f;
            continue;
        }
        row_grad(d, logits + (long)n * V, lse[n], targets[n], V, smoothing, scale);
    }
}
