/* kernels/attention.c: the fused attention's entry points (kernels/attention.h), which run this
 * ISA's variant of kernels/attention_simd.c; the reference is kernels/attention_ref.c. */
#include "kernels/attention.h"

#include "kernels/isa.h"

attn_status attn_sdpa_forward(const attn_sdpa_args *a, float *o, long o_bs, long o_rs, float *lse) {
    return attn_kernels()->sdpa_forward(a, o, o_bs, o_rs, lse);
}

attn_status attn_sdpa_backward(const attn_sdpa_args *a, const float *o, long o_bs, long o_rs,
                               const float *lse, const float *dout, float *dq, float *dk, float *dv,
                               float *delta) {
    return attn_kernels()->sdpa_backward(a, o, o_bs, o_rs, lse, dout, dq, dk, dv, delta);
}
