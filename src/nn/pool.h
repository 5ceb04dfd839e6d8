/* nn/pool.h: sequence pooling for the classifier.
 * h: (B, T, C), lengths: (B) or NULL (all T), pooled: (B, C).
 * cls: pooled[b] = h[b, 0]; mean: pooled[b] = mean over t < lengths[b] of h[b, t].
 * Backward accumulates into dh. */
#ifndef ATTN_NN_POOL_H
#define ATTN_NN_POOL_H

#include "attn/config.h"

void attn_pool_forward(attn_pool kind, float *pooled, const float *h, const int *lengths, int B,
                       int T, int C);
void attn_pool_backward(attn_pool kind, float *dh, const float *dpooled, const int *lengths, int B,
                        int T, int C);

#endif
