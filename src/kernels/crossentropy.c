/* kernels/crossentropy.c: softmax cross-entropy (kernels/crossentropy.h). The entry points run
 * this ISA's vector kernels (kernels/crossentropy_simd.c). */
#include "kernels/crossentropy.h"

#include "kernels/isa.h"

// lse: (N), logits: (N, V), targets: (N); returns the sum of row losses, *count = counted rows
double attn_crossentropy_forward(float *lse, const float *logits, const int *targets, int N, int V,
                                 int ignore_index, float smoothing, long *count) {
    return attn_kernels()->ce_forward(lse, logits, targets, N, V, ignore_index, smoothing, count);
}

// dlogits, logits: (N, V), lse, targets: (N)
void attn_crossentropy_backward(float *dlogits, const float *logits, const float *lse,
                                const int *targets, int N, int V, int ignore_index, float smoothing,
                                float scale) {
    attn_kernels()->ce_backward(dlogits, logits, lse, targets, N, V, ignore_index, smoothing,
                                scale);
}
