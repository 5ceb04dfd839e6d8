/* kernels/dropout.h: inverted dropout with a seeded generator.
 * Each of the n elements is kept with probability 1 - p and scaled by 1 / (1 - p), else zeroed.
 * mask (n bytes) records which were kept. out may alias inp. p == 0 copies and sets mask to 1.
 * The same (rng state, n, p) always gives the same mask, whatever the thread count.
 * backward: dinp += dout * mask / (1 - p). */
#ifndef ATTN_KERNELS_DROPOUT_H
#define ATTN_KERNELS_DROPOUT_H

#include <stdint.h>
#include "core/rng.h"

void attn_dropout_forward(float *out, uint8_t *mask, const float *inp, long n, float p,
                          attn_rng *rng);
void attn_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, long n, float p);

#endif
