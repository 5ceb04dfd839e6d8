/* kernels/table_simd.c: this ISA's table of kernels (kernels/kernel_table.h), attn_kernels_<isa>.
 */
#include "kernels/simd_decls.h"

#define SIMD_STR2(x) #x
#define SIMD_STR(x) SIMD_STR2(x)

const attn_kernel_table SIMD_FN(attn_kernels) = {
    .name = SIMD_STR(ATTN_SIMD_ISA),
    .sdpa_forward = SIMD_FN(attn_sdpa_forward),
    .sdpa_backward = SIMD_FN(attn_sdpa_backward),
    .act_forward = SIMD_FN(attn_activation_forward),
    .act_backward = SIMD_FN(attn_activation_backward),
    .bias_act_forward = SIMD_FN(attn_bias_act_forward),
    .softmax_forward = SIMD_FN(attn_softmax_forward),
    .softmax_backward = SIMD_FN(attn_softmax_backward),
    .ce_forward = SIMD_FN(attn_crossentropy_forward),
    .ce_backward = SIMD_FN(attn_crossentropy_backward),
    .layernorm_forward = SIMD_FN(attn_layernorm_forward),
    .layernorm_backward = SIMD_FN(attn_layernorm_backward),
    .gemv = SIMD_FN(attn_gemv_small),
#if VW >= 8
    .gemv_max_m = 16,
#else
    .gemv_max_m = 4,
#endif
    .vexp = SIMD_FN(attn_vexp),
    .vexp2 = SIMD_FN(attn_vexp2),
    .vtanh = SIMD_FN(attn_vtanh),
    .verf = SIMD_FN(attn_verf),
    .vlog = SIMD_FN(attn_vlog),
};
