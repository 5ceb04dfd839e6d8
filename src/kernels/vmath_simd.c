/* kernels/vmath_simd.c: the vector math of kernels/vmath.h over arrays, out[i] = f(x[i]), for the
 * tests that hold it to double-precision libm and for benchmarks. One thread; out may alias x. */
#include "kernels/simd_decls.h"
#include "kernels/vmath.h"

#define VMATH_ARRAY(name, f)                                                                       \
    void SIMD_FN(name)(float *out, const float *x, long n) {                                       \
        long i = 0;                                                                                \
        for (; i + VW <= n; i += VW)                                                               \
            vstore(out + i, f(vload(x + i)));                                                      \
        if (i < n) vstore_n(out + i, f(vload_n(x + i, (int)(n - i))), (int)(n - i));               \
    }

VMATH_ARRAY(attn_vexp, v_exp)
VMATH_ARRAY(attn_vexp2, v_exp2)
VMATH_ARRAY(attn_vtanh, v_tanh)
VMATH_ARRAY(attn_verf, v_erf)
VMATH_ARRAY(attn_vlog, v_log)
