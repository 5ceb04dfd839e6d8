/* kernels/softmax.h: numerically stable softmax over the last axis.
 * x, y: (rows, cols). y = exp(x - max) / sum. y may alias x.
 * backward: dx += y * (dy - sum(dy * y)) over each row. */
#ifndef ATTN_KERNELS_SOFTMAX_H
#define ATTN_KERNELS_SOFTMAX_H

void attn_softmax_forward(float *y, const float *x, int rows, int cols);
void attn_softmax_backward(float *dx, const float *y, const float *dy, int rows, int cols);
/* y = x - logsumexp(x) over each row (log-probabilities; CTC's input); y may alias x. Plain C,
 * the sums in double: it runs once per output frame, never in an inner loop. */
void attn_log_softmax_forward(float *y, const float *x, int rows, int cols);
/* Reference forward, in double; y may not alias x. */
void attn_softmax_forward_ref(float *y, const float *x, int rows, int cols);

#endif
