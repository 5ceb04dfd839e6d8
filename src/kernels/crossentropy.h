/* kernels/crossentropy.h: softmax cross-entropy over V classes with ignore-index and label
 * smoothing, PyTorch semantics.
 * logits: (N, V), targets: (N); a row whose target == ignore_index contributes nothing.
 * With smoothing e the target distribution is q = (1 - e) one_hot(y) + e / V, and the row loss is
 * -sum_k q_k log softmax(logits)_k.
 * forward writes lse[n] = logsumexp(logits[n, :]) (saved for backward), returns the SUM of row
 * losses, and stores the number of counted rows in *count.
 * backward WRITES (not accumulates) dlogits = scale * (softmax(logits) - q) for counted rows and 0
 * for ignored rows; dlogits may alias logits. Use scale = 1 / count for a mean loss. */
#ifndef ATTN_KERNELS_CROSSENTROPY_H
#define ATTN_KERNELS_CROSSENTROPY_H

double attn_crossentropy_forward(float *lse, const float *logits, const int *targets, int N,
                                 int V, int ignore_index, float smoothing, long *count);
void attn_crossentropy_backward(float *dlogits, const float *logits, const float *lse,
                                const int *targets, int N, int V, int ignore_index,
                                float smoothing, float scale);

#endif
