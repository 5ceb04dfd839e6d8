/* kernels/ctc.c: CTC loss by the forward-backward recursions in log space, its gradient, and
 * greedy decoding (kernels/ctc.h).
 *
 * The targets y_1..y_S of a sequence are extended with blanks, l' = (_, y_1, _, y_2, ..., y_S, _),
 * L = 2S + 1 states. With p_t(k) = exp(log_probs[t, k]):
 *   alpha_t(s) = p_t(l'_s) (alpha_{t-1}(s) + alpha_{t-1}(s-1) + [l'_s != _ and l'_s != l'_{s-2}]
 *                alpha_{t-1}(s-2)),  alpha_0 = p_0 at s = 0, 1 only;
 *   beta_t(s)  = p_t(l'_s) (beta_{t+1}(s) + beta_{t+1}(s+1) + [l'_s != _ and l'_s != l'_{s+2}]
 *                beta_{t+1}(s+2)),   beta_{T-1} = p_{T-1} at s = L-1, L-2 only;
 *   p(y | x) = alpha_{T-1}(L-1) + alpha_{T-1}(L-2),
 *   gamma_t(k) = sum_{s: l'_s = k} alpha_t(s) beta_t(s) / (p_t(k) p(y | x)),
 * all of it in logs (alpha, beta hold log values). */
#include "kernels/ctc.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"

static double lse(double a, double b) {
    if (a == -INFINITY) return b;
    if (b == -INFINITY) return a;
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

static attn_status check(const float *log_probs, const int *targets, const int *input_lengths,
                         const int *target_lengths, int T, int B, int V, int S, int blank) {
    if (!log_probs || !input_lengths || T < 1 || B < 1 || V < 1 || S < 0 || (S > 0 && !targets) ||
        (!target_lengths && targets))
        return attn_error(ATTN_ERR_INVALID, "ctc: bad arguments (T %d, B %d, V %d, S %d)", T, B, V,
                          S);
    if (blank < 0 || blank >= V)
        return attn_error(ATTN_ERR_INVALID, "ctc: blank %d outside [0, %d)", blank, V);
    for (int b = 0; b < B; b++) {
        if (input_lengths[b] < 0 || input_lengths[b] > T)
            return attn_error(ATTN_ERR_INVALID, "ctc: sequence %d: input length %d outside [0, %d]",
                              b, input_lengths[b], T);
        int n = target_lengths ? target_lengths[b] : 0;
        if (n < 0 || n > S)
            return attn_error(ATTN_ERR_INVALID,
                              "ctc: sequence %d: target length %d outside [0, %d]", b, n, S);
        for (int i = 0; i < n; i++) {
            int y = targets[(long)b * S + i];
            if (y < 0 || y >= V || y == blank)
                return attn_error(ATTN_ERR_INVALID,
                                  "ctc: sequence %d: label %d at %d is out of [0, %d) or blank", b,
                                  y, i, V);
        }
    }
    return ATTN_OK;
}

/* One sequence: n labels y, Tb frames of lp (stride B * V between frames). Fills alpha (and beta
 * when not NULL), (Tb, 2n + 1) each, and returns log p(y | x) (-INFINITY when impossible). */
static double sequence(double *alpha, double *beta, const float *lp, long stride, const int *y,
                       int n, int Tb, int blank) {
    int L = 2 * n + 1;
#define LABEL(s) ((s) % 2 ? y[(s) / 2] : blank)
    int needed = n; /* frames: one per label, one more between equal neighbours */
    for (int i = 1; i < n; i++)
        needed += y[i] == y[i - 1];
    if (Tb < needed || Tb == 0) return Tb == 0 && n == 0 ? 0.0 : -INFINITY;
    for (int s = 0; s < L; s++)
        alpha[s] = s < 2 ? lp[LABEL(s)] : -INFINITY;
    for (int t = 1; t < Tb; t++) {
        const double *prev = alpha + (long)(t - 1) * L;
        double *cur = alpha + (long)t * L;
        const float *p = lp + t * stride;
        for (int s = 0; s < L; s++) {
            double a = prev[s];
            if (s >= 1) a = lse(a, prev[s - 1]);
            if (s >= 2 && s % 2 && LABEL(s) != LABEL(s - 2)) a = lse(a, prev[s - 2]);
            cur[s] = a == -INFINITY ? -INFINITY : a + p[LABEL(s)];
        }
    }
    const double *last = alpha + (long)(Tb - 1) * L;
    double logp = L >= 2 ? lse(last[L - 1], last[L - 2]) : last[L - 1];
    if (!beta) return logp;
    double *bl = beta + (long)(Tb - 1) * L;
    const float *pl = lp + (Tb - 1) * stride;
    for (int s = 0; s < L; s++)
        bl[s] = s >= L - 2 ? pl[LABEL(s)] : -INFINITY;
    for (int t = Tb - 2; t >= 0; t--) {
        const double *next = beta + (long)(t + 1) * L;
        double *cur = beta + (long)t * L;
        const float *p = lp + t * stride;
        for (int s = 0; s < L; s++) {
            double a = next[s];
            if (s + 1 < L) a = lse(a, next[s + 1]);
            if (s + 2 < L && s % 2 && LABEL(s) != LABEL(s + 2)) a = lse(a, next[s + 2]);
            cur[s] = a == -INFINITY ? -INFINITY : a + p[LABEL(s)];
        }
    }
#undef LABEL
    return logp;
}

/* alpha and beta for the longest sequence of the batch. */
static double *workspace(int T, int S, int both) {
    return malloc((size_t)(both ? 2 : 1) * (size_t)T * (size_t)(2 * S + 1) * sizeof(double));
}

attn_status attn_ctc_forward(float *losses, const float *log_probs, const int *targets,
                             const int *input_lengths, const int *target_lengths, int T, int B,
                             int V, int S, int blank) {
    if (!losses) return attn_error(ATTN_ERR_INVALID, "ctc_forward: NULL losses");
    ATTN_TRY(check(log_probs, targets, input_lengths, target_lengths, T, B, V, S, blank));
    double *alpha = workspace(T, S, 0);
    if (!alpha) return attn_error(ATTN_ERR_NOMEM, "ctc: alpha of %d x %d", T, 2 * S + 1);
    for (int b = 0; b < B; b++) {
        int n = target_lengths ? target_lengths[b] : 0;
        double logp = sequence(alpha, NULL, log_probs + (long)b * V, (long)B * V,
                               targets ? targets + (long)b * S : NULL, n, input_lengths[b], blank);
        losses[b] = (float)-logp;
    }
    free(alpha);
    return ATTN_OK;
}

attn_status attn_ctc_backward(float *dlogits, const float *dloss, const float *log_probs,
                              const int *targets, const int *input_lengths,
                              const int *target_lengths, int T, int B, int V, int S, int blank) {
    if (!dlogits) return attn_error(ATTN_ERR_INVALID, "ctc_backward: NULL dlogits");
    ATTN_TRY(check(log_probs, targets, input_lengths, target_lengths, T, B, V, S, blank));
    double *alpha = workspace(T, S, 1);
    if (!alpha) return attn_error(ATTN_ERR_NOMEM, "ctc: alpha and beta of %d x %d", T, 2 * S + 1);
    double *beta = alpha + (long)T * (2 * S + 1);
    long stride = (long)B * V;
    for (int b = 0; b < B; b++) {
        int n = target_lengths ? target_lengths[b] : 0, Tb = input_lengths[b], L = 2 * n + 1;
        const int *y = targets ? targets + (long)b * S : NULL;
        const float *lp = log_probs + (long)b * V;
        double logp = sequence(alpha, beta, lp, stride, y, n, Tb, blank);
        if (logp == -INFINITY || Tb == 0) continue; /* impossible (or empty): no gradient */
        double w = dloss ? dloss[b] : 1.0;
        for (int t = 0; t < Tb; t++) {
            const float *p = lp + t * stride;
            float *dz = dlogits + t * stride + (long)b * V;
            const double *a = alpha + (long)t * L, *be = beta + (long)t * L;
            for (int k = 0; k < V; k++)
                dz[k] += (float)(w * exp((double)p[k]));
            for (int s = 0; s < L; s++) { /* - gamma: alpha beta / (p_t(k) p(y|x)) */
                if (a[s] == -INFINITY || be[s] == -INFINITY) continue;
                int k = s % 2 ? y[s / 2] : blank;
                dz[k] -= (float)(w * exp(a[s] + be[s] - p[k] - logp));
            }
        }
    }
    free(alpha);
    return ATTN_OK;
}

attn_status attn_ctc_greedy_decode(int *out, int *out_lengths, const float *log_probs,
                                   const int *input_lengths, int T, int B, int V, int blank) {
    if (!out || !out_lengths) return attn_error(ATTN_ERR_INVALID, "ctc_greedy_decode: NULL out");
    ATTN_TRY(check(log_probs, NULL, input_lengths, NULL, T, B, V, 0, blank));
    for (int b = 0; b < B; b++) {
        int n = 0, previous = -1;
        for (int t = 0; t < input_lengths[b]; t++) {
            const float *p = log_probs + ((long)t * B + b) * V;
            int best = 0;
            for (int k = 1; k < V; k++)
                if (p[k] > p[best]) best = k;
            if (best != blank && best != previous) out[(long)b * T + n++] = best;
            previous = best;
        }
        out_lengths[b] = n;
    }
    return ATTN_OK;
}
