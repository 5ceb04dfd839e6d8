/* kernels/simd.h: the vector type the NAME_simd.c kernels are written in, for the ISA the including
 * file is compiled for. CMake compiles every src/kernels/NAME_simd.c once per ISA, each time with
 * its own flags and ATTN_SIMD_ISA set (docs/ARCHITECTURE.md, "Kernels per ISA"):
 *
 *   ATTN_SIMD_ISA  flags                                         vf          VW   SIMD_FN(x)
 *   generic        none (x86-64 baseline: SSE2; any other CPU)   4 x float    4   x_generic
 *   avx2           -mavx2 -mfma -mf16c                           __m256       8   x_avx2
 *   avx512         + -mavx512f -mavx512bw -mavx512dq -mavx512vl  __m512      16   x_avx512
 *
 * The generic vectors are GCC/Clang vector extensions, which the compiler lowers to whatever the
 * baseline target has; the other two are intrinsics. Every operation has the same meaning in all
 * three, including the corner cases the vector math relies on:
 *   vmax(a, b) = a > b ? a : b and vmin(a, b) = a < b ? a : b lane by lane, so a NaN in b passes
 *   through (as x86's maxps/minps); vround rounds to nearest even (|x| < 2^22 in the generic
 *   version); vsel(m, a, b) = m ? a : b; vldexp(x, n) = x 2^n for integral n in [-150, 128].
 * Partial loads read n < VW floats and zero the other lanes; partial stores write only n floats. */
#ifndef ATTN_KERNELS_SIMD_H
#define ATTN_KERNELS_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if !defined(ATTN_SIMD_ISA)
#error "kernels/simd.h is for src/kernels/NAME_simd.c, which CMake compiles once per ISA"
#endif

#define SIMD_CAT2(a, b) a##_##b
#define SIMD_CAT(a, b) SIMD_CAT2(a, b)
/* This ISA's name of a kernel: SIMD_FN(attn_sdpa_forward) -> attn_sdpa_forward_avx2 */
#define SIMD_FN(name) SIMD_CAT(name, ATTN_SIMD_ISA)

#define SIMD_INLINE static inline __attribute__((always_inline))

/* The primitives stay one line each, a table to read down: */
// clang-format off

#if defined(__AVX512F__) && defined(__AVX512DQ__)
/* ---------------------------------------------------------------------------------------------- */
#include <immintrin.h>
#define VW 16
typedef __m512 vf;
typedef __m512i vi;
typedef __mmask16 vm;

SIMD_INLINE vf vload(const float *p) { return _mm512_loadu_ps(p); }
SIMD_INLINE void vstore(float *p, vf x) { _mm512_storeu_ps(p, x); }
SIMD_INLINE vf vload_n(const float *p, int n) {
    return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
}
SIMD_INLINE void vstore_n(float *p, vf x, int n) {
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), x);
}
SIMD_INLINE vm vprefix(int n) { return (__mmask16)((1u << n) - 1); } /* lanes < n */
SIMD_INLINE vf vset1(float x) { return _mm512_set1_ps(x); }
SIMD_INLINE vf vzero(void) { return _mm512_setzero_ps(); }
SIMD_INLINE vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
SIMD_INLINE vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
SIMD_INLINE vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
SIMD_INLINE vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
SIMD_INLINE vf vsqrt(vf a) { return _mm512_sqrt_ps(a); }
SIMD_INLINE vf vfmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }   /* a b + c */
SIMD_INLINE vf vfnmadd(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); } /* c - a b */
SIMD_INLINE vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
SIMD_INLINE vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }
SIMD_INLINE vf vabs(vf a) { return _mm512_abs_ps(a); }
SIMD_INLINE vf vand(vf a, vf b) { return _mm512_and_ps(a, b); }
SIMD_INLINE vf vor(vf a, vf b) { return _mm512_or_ps(a, b); }
SIMD_INLINE vf vxor(vf a, vf b) { return _mm512_xor_ps(a, b); }
SIMD_INLINE vf vround(vf a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
SIMD_INLINE vm vlt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
SIMD_INLINE vm vle(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
SIMD_INLINE vm veq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
SIMD_INLINE vf vsel(vm m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); }
SIMD_INLINE vi vcvt(vf a) { return _mm512_cvtps_epi32(a); } /* a integral */
SIMD_INLINE vf vcvt_f(vi a) { return _mm512_cvtepi32_ps(a); }
SIMD_INLINE vi vbits(vf a) { return _mm512_castps_si512(a); }
SIMD_INLINE vf vfrom_bits(vi a) { return _mm512_castsi512_ps(a); }
SIMD_INLINE vi vi_set1(int32_t x) { return _mm512_set1_epi32(x); }
SIMD_INLINE vi vi_add(vi a, vi b) { return _mm512_add_epi32(a, b); }
SIMD_INLINE vi vi_sub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
SIMD_INLINE vi vi_and(vi a, vi b) { return _mm512_and_si512(a, b); }
SIMD_INLINE vi vi_or(vi a, vi b) { return _mm512_or_si512(a, b); }
#define vi_sll(a, k) _mm512_slli_epi32((a), (k))
#define vi_sra(a, k) _mm512_srai_epi32((a), (k))
SIMD_INLINE float vsum(vf a) { return _mm512_reduce_add_ps(a); }
SIMD_INLINE float vhmax(vf a) { return _mm512_reduce_max_ps(a); }
/* x 2^n, n integral: vscalefps handles every range (denormal results, overflow to inf). */
SIMD_INLINE vf vldexp(vf x, vf n) { return _mm512_scalef_ps(x, n); }

#elif defined(__AVX2__) && defined(__FMA__)
/* ---------------------------------------------------------------------------------------------- */
#include <immintrin.h>
#define VW 8
typedef __m256 vf;
typedef __m256i vi;
typedef __m256 vm;

SIMD_INLINE vi simd_prefix_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
SIMD_INLINE vf vload(const float *p) { return _mm256_loadu_ps(p); }
SIMD_INLINE void vstore(float *p, vf x) { _mm256_storeu_ps(p, x); }
SIMD_INLINE vf vload_n(const float *p, int n) { return _mm256_maskload_ps(p, simd_prefix_mask(n)); }
SIMD_INLINE void vstore_n(float *p, vf x, int n) { _mm256_maskstore_ps(p, simd_prefix_mask(n), x); }
SIMD_INLINE vm vprefix(int n) { return _mm256_castsi256_ps(simd_prefix_mask(n)); }
SIMD_INLINE vf vset1(float x) { return _mm256_set1_ps(x); }
SIMD_INLINE vf vzero(void) { return _mm256_setzero_ps(); }
SIMD_INLINE vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
SIMD_INLINE vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
SIMD_INLINE vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
SIMD_INLINE vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
SIMD_INLINE vf vsqrt(vf a) { return _mm256_sqrt_ps(a); }
SIMD_INLINE vf vfmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
SIMD_INLINE vf vfnmadd(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
SIMD_INLINE vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
SIMD_INLINE vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }
SIMD_INLINE vf vabs(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
SIMD_INLINE vf vand(vf a, vf b) { return _mm256_and_ps(a, b); }
SIMD_INLINE vf vor(vf a, vf b) { return _mm256_or_ps(a, b); }
SIMD_INLINE vf vxor(vf a, vf b) { return _mm256_xor_ps(a, b); }
#define SIMD_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
SIMD_INLINE vf vround(vf a) { return _mm256_round_ps(a, SIMD_NEAREST); }
SIMD_INLINE vm vlt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
SIMD_INLINE vm vle(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
SIMD_INLINE vm veq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
SIMD_INLINE vf vsel(vm m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }
SIMD_INLINE vi vcvt(vf a) { return _mm256_cvtps_epi32(a); }
SIMD_INLINE vf vcvt_f(vi a) { return _mm256_cvtepi32_ps(a); }
SIMD_INLINE vi vbits(vf a) { return _mm256_castps_si256(a); }
SIMD_INLINE vf vfrom_bits(vi a) { return _mm256_castsi256_ps(a); }
SIMD_INLINE vi vi_set1(int32_t x) { return _mm256_set1_epi32(x); }
SIMD_INLINE vi vi_add(vi a, vi b) { return _mm256_add_epi32(a, b); }
SIMD_INLINE vi vi_sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
SIMD_INLINE vi vi_and(vi a, vi b) { return _mm256_and_si256(a, b); }
SIMD_INLINE vi vi_or(vi a, vi b) { return _mm256_or_si256(a, b); }
#define vi_sll(a, k) _mm256_slli_epi32((a), (k))
#define vi_sra(a, k) _mm256_srai_epi32((a), (k))
SIMD_INLINE float vsum(vf a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
SIMD_INLINE float vhmax(vf a) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}
#define SIMD_LDEXP_BY_BITS 1

#else
/* ---------------------------------------------------------------------------------------------- */
#define VW 4
typedef float vf __attribute__((vector_size(16)));
typedef int32_t vi __attribute__((vector_size(16)));
typedef vi vm;

SIMD_INLINE vf vload(const float *p) { vf x; memcpy(&x, p, sizeof x); return x; }
SIMD_INLINE void vstore(float *p, vf x) { memcpy(p, &x, sizeof x); }
SIMD_INLINE vf vload_n(const float *p, int n) {
    vf x = {0};
    memcpy(&x, p, (size_t)n * sizeof(float));
    return x;
}
SIMD_INLINE void vstore_n(float *p, vf x, int n) { memcpy(p, &x, (size_t)n * sizeof(float)); }
SIMD_INLINE vm vprefix(int n) { return (vi){0, 1, 2, 3} < n; }
SIMD_INLINE vf vset1(float x) { return (vf){x, x, x, x}; }
SIMD_INLINE vf vzero(void) { return (vf){0}; }
SIMD_INLINE vf vadd(vf a, vf b) { return a + b; }
SIMD_INLINE vf vsub(vf a, vf b) { return a - b; }
SIMD_INLINE vf vmul(vf a, vf b) { return a * b; }
SIMD_INLINE vf vdiv(vf a, vf b) { return a / b; }
SIMD_INLINE vf vsqrt(vf a) {
    for (int i = 0; i < VW; i++) a[i] = sqrtf(a[i]);
    return a;
}
SIMD_INLINE vf vfmadd(vf a, vf b, vf c) { return a * b + c; }
SIMD_INLINE vf vfnmadd(vf a, vf b, vf c) { return c - a * b; }
SIMD_INLINE vi vbits(vf a) { vi r; memcpy(&r, &a, sizeof r); return r; }
SIMD_INLINE vf vfrom_bits(vi a) { vf r; memcpy(&r, &a, sizeof r); return r; }
SIMD_INLINE vf vsel(vm m, vf a, vf b) { return vfrom_bits((m & vbits(a)) | (~m & vbits(b))); }
SIMD_INLINE vm vlt(vf a, vf b) { return a < b; }
SIMD_INLINE vm vle(vf a, vf b) { return a <= b; }
SIMD_INLINE vm veq(vf a, vf b) { return a == b; }
SIMD_INLINE vf vmax(vf a, vf b) { return vsel(a > b, a, b); }
SIMD_INLINE vf vmin(vf a, vf b) { return vsel(a < b, a, b); }
SIMD_INLINE vf vand(vf a, vf b) { return vfrom_bits(vbits(a) & vbits(b)); }
SIMD_INLINE vf vor(vf a, vf b) { return vfrom_bits(vbits(a) | vbits(b)); }
SIMD_INLINE vf vxor(vf a, vf b) { return vfrom_bits(vbits(a) ^ vbits(b)); }
SIMD_INLINE vf vabs(vf a) { return vfrom_bits(vbits(a) & 0x7fffffff); }
/* Adding and subtracting 1.5 2^23 leaves x rounded to an integer (nearest even), |x| < 2^22. */
SIMD_INLINE vf vround(vf a) {
    const vf magic = vset1(12582912.0f);
    return (a + magic) - magic;
}
/* NaN lanes become 0 first: converting a NaN is undefined in C. */
SIMD_INLINE vi vcvt(vf a) { return __builtin_convertvector(vsel(a == a, a, vzero()), vi); }
SIMD_INLINE vf vcvt_f(vi a) { return __builtin_convertvector(a, vf); }
SIMD_INLINE vi vi_set1(int32_t x) { return (vi){x, x, x, x}; }
SIMD_INLINE vi vi_add(vi a, vi b) { return a + b; }
SIMD_INLINE vi vi_sub(vi a, vi b) { return a - b; }
SIMD_INLINE vi vi_and(vi a, vi b) { return a & b; }
SIMD_INLINE vi vi_or(vi a, vi b) { return a | b; }
#define vi_sll(a, k) ((vi)((a) << (k)))
#define vi_sra(a, k) ((vi)((a) >> (k)))
SIMD_INLINE float vsum(vf a) { return (a[0] + a[2]) + (a[1] + a[3]); }
SIMD_INLINE float vhmax(vf a) {
    float m = a[0];
    for (int i = 1; i < VW; i++) m = a[i] > m ? a[i] : m;
    return m;
}
#define SIMD_LDEXP_BY_BITS 1
#endif

// clang-format on

#ifdef SIMD_LDEXP_BY_BITS
/* x 2^n for integral n in [-150, 128], as two factors 2^(n/2) and 2^(n - n/2) that are both normal
 * floats, so that a denormal result is rounded once and 2^128 overflows to inf. */
SIMD_INLINE vf vldexp(vf x, vf n) {
    vi k = vcvt(n), k1 = vi_sra(k, 1), k2 = vi_sub(k, k1);
    vf s1 = vfrom_bits(vi_sll(vi_add(k1, vi_set1(127)), 23));
    vf s2 = vfrom_bits(vi_sll(vi_add(k2, vi_set1(127)), 23));
    return vmul(vmul(x, s1), s2);
}
#endif

#endif
