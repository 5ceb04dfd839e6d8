/* kernels/vmath.h: vector exp, exp2, tanh, erf and log on the vf of kernels/simd.h, so that no
 * element-wise kernel calls scalar libm in its loop. The same code serves every ISA (only the
 * primitives of simd.h differ). Error bounds, measured by tests/kernels/test_vmath.c against
 * double-precision libm over every 61st float (and the edges) on every ISA the machine has:
 *
 *   v_exp   x in [-104, 89]: <= 1 ulp with FMA (avx2, avx512), <= 1.5 ulp without (generic),
 *           denormal results included; x > 88.73: +inf; x < -103.97: 0
 *   v_exp2  x in [-150, 128]: the same bounds (used by the attention tiles)
 *   v_tanh  all x: <= 1.5 ulp          v_erf  all x: <= 1.5 ulp
 *   v_log   x > 0, denormals included: <= 1 ulp; log(0) = -inf, log(x < 0) = NaN, log(inf) = inf
 * (measured: exp 0.92 / 1.20, exp2 0.93 / 1.23, tanh 1.35 / 1.30, erf 1.07 / 1.19, log 0.83 ulp)
 *   NaN in, NaN out; exp(-inf) = 0, exp(inf) = inf, tanh and erf of +-inf are +-1.
 *
 * exp: n = round(x log2 e), r = x - n ln2 (ln2 in two parts, so r is exact to ~1e-10),
 *      e^r by its Taylor polynomial of degree 7 on |r| <= ln2/2 (truncation 5e-9), times 2^n.
 * exp2: n = round(x), f = x - n exactly, 2^f by a degree-7 Taylor polynomial in f ln2.
 * tanh: |x| < 0.625: x + x^3 P(x^2), P of degree 5 fitted (Lawson-weighted least squares, relative
 *      error 2e-10); else sign(x) (1 - 2 / (e^(2|x|) + 1)), which has no cancellation there.
 * erf: |x| < 1: x + x (P(x^2) - 1), P of degree 6 fitted (relative 1.2e-9); 1 <= |x| < 4:
 *      sign(x) (1 - exp(-x^2 + R(s))), R of degree 8 in s = (|x| - 2.5) / 1.5 fitted to
 *      log(erfc(x)) + x^2 (absolute 1.2e-8, i.e. relative in erfc), -x^2 split exactly in two
 *      floats by FMA; |x| >= 4: +-1 (erf(4) = 1 in float).
 * log: x = m 2^e with m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f / (2 + f),
 *      log(1 + f) = f - (f^2/2 - s (f^2/2 + R)), R = sum_k 2 s^2k / (2k + 1) to k = 5 (the atanh
 *      series, truncation 1e-10 relative); then + e ln2 (in two parts).
 * The fits are tests/kernels/fit_vmath.py's (numpy); the coefficients are rounded to float. */
#ifndef ATTN_KERNELS_VMATH_H
#define ATTN_KERNELS_VMATH_H

#include "kernels/simd.h"

#define VM_LOG2E 1.44269504088896341f
#define VM_LN2_HI 0.693145751953125f     /* ln 2 to 16 bits: n ln2_hi is exact for |n| < 2^8 */
#define VM_LN2_LO 1.428606765330187e-06f /* ln 2 - ln2_hi */

/* e^r for |r| <= ln2/2 + a little: 1 + r + r^2/2! + ... + r^7/7! */
SIMD_INLINE vf vm_exp_poly(vf r) {
    vf p = vset1(1.0f / 5040.0f);
    p = vfmadd(p, r, vset1(1.0f / 720.0f));
    p = vfmadd(p, r, vset1(1.0f / 120.0f));
    p = vfmadd(p, r, vset1(1.0f / 24.0f));
    p = vfmadd(p, r, vset1(1.0f / 6.0f));
    p = vfmadd(p, r, vset1(0.5f));
    p = vfmadd(p, r, vset1(1.0f));
    return vfmadd(p, r, vset1(1.0f));
}

SIMD_INLINE vf v_exp(vf x) {
    x = vmin(vset1(89.0f), vmax(vset1(-104.0f), x)); /* NaN passes through both */
    vf n = vround(vmul(x, vset1(VM_LOG2E)));
    vf r = vfnmadd(n, vset1(VM_LN2_HI), x);
    r = vfnmadd(n, vset1(VM_LN2_LO), r);
    return vldexp(vm_exp_poly(r), n);
}

SIMD_INLINE vf v_exp2(vf x) {
    x = vmin(vset1(129.0f), vmax(vset1(-151.0f), x));
    vf n = vround(x);
    vf r = vmul(vsub(x, n), vset1(0.69314718055994531f));
    return vldexp(vm_exp_poly(r), n);
}

SIMD_INLINE vf v_tanh(vf x) {
    vf a = vabs(x), sign = vand(x, vset1(-0.0f));
    vf x2 = vmul(x, x);
    vf p = vset1(2.142348610636158e-03f);
    p = vfmadd(p, x2, vset1(-8.17673907774737e-03f));
    p = vfmadd(p, x2, vset1(2.1700449363526202e-02f));
    p = vfmadd(p, x2, vset1(-5.394672200616283e-02f));
    p = vfmadd(p, x2, vset1(1.333320577437937e-01f));
    p = vfmadd(p, x2, vset1(-3.3333330802067523e-01f));
    vf small = vor(vfmadd(vmul(p, x2), x, x), sign); /* the sign keeps tanh(-0) = -0 */
    vf e = v_exp(vadd(a, a));
    vf big = vsub(vset1(1.0f), vdiv(vset1(2.0f), vadd(e, vset1(1.0f))));
    return vsel(vlt(a, vset1(0.625f)), small, vor(big, sign));
}

SIMD_INLINE vf v_erf(vf x) {
    vf a = vabs(x), sign = vand(x, vset1(-0.0f));
    vf x2 = vmul(x, x);
    vf p = vset1(7.854122538090164e-05f);
    p = vfmadd(p, x2, vset1(-8.010280457425041e-04f));
    p = vfmadd(p, x2, vset1(5.188338831190748e-03f));
    p = vfmadd(p, x2, vset1(-2.6853818835048882e-02f));
    p = vfmadd(p, x2, vset1(1.1283585357494264e-01f));
    p = vfmadd(p, x2, vset1(-3.7612625851525533e-01f));
    p = vfmadd(p, x2, vset1(1.283791657369542e-01f)); /* P - 1: x + x (P - 1) rounds once */
    vf small = vfmadd(x, p, x);
    vf ac = vmin(a, vset1(4.0f)), s = vmul(vsub(ac, vset1(2.5f)), vset1(1.0f / 1.5f));
    vf q = vset1(4.1001862542237066e-05f);
    q = vfmadd(q, s, vset1(-2.2727228240807662e-04f));
    q = vfmadd(q, s, vset1(8.822594905117779e-04f));
    q = vfmadd(q, s, vset1(-3.190689476569036e-03f));
    q = vfmadd(q, s, vset1(1.096072545588258e-02f));
    q = vfmadd(q, s, vset1(-3.6647394888817846e-02f));
    q = vfmadd(q, s, vset1(1.2623938115850633e-01f));
    q = vfmadd(q, s, vset1(-5.290210327599216e-01f));
    q = vfmadd(q, s, vset1(-1.5568152789818543f));
    /* erfc(a) = exp(-a^2 + R): -a^2 = t + lo exactly (lo by FMA; 0 in the generic build) */
    vf t = vmul(vsub(vzero(), ac), ac), lo = vfmadd(vsub(vzero(), ac), ac, vsub(vzero(), t));
    q = vadd(t, vadd(q, lo));
    vf big = vsub(vset1(1.0f), v_exp(q));
    big = vsel(vlt(a, vset1(4.0f)), big, vset1(1.0f));
    /* a NaN fails a < 1 and a < 4: pass it through explicitly */
    big = vsel(veq(a, a), vor(big, sign), x);
    return vsel(vlt(a, vset1(1.0f)), small, big);
}

SIMD_INLINE vf v_log(vf x) {
    /* denormals: scale by 2^23 into the normal range first */
    vm tiny = vlt(x, vset1(1.17549435e-38f));
    vf xs = vsel(tiny, vmul(x, vset1(8388608.0f)), x);
    vf eadj = vsel(tiny, vset1(-23.0f), vzero());
    vi bits = vbits(xs);
    vf e = vadd(vcvt_f(vi_sub(vi_sra(bits, 23), vi_set1(127))), eadj);
    vf m = vfrom_bits(vi_or(vi_and(bits, vi_set1(0x007fffff)), vi_set1(0x3f800000))); /* [1, 2) */
    vm high = vlt(vset1(1.41421356f), m);
    m = vsel(high, vmul(m, vset1(0.5f)), m);
    e = vsel(high, vadd(e, vset1(1.0f)), e);
    vf f = vsub(m, vset1(1.0f));
    vf s = vdiv(f, vadd(f, vset1(2.0f)));
    vf s2 = vmul(s, s);
    vf R = vset1(2.0f / 11.0f);
    R = vfmadd(R, s2, vset1(2.0f / 9.0f));
    R = vfmadd(R, s2, vset1(2.0f / 7.0f));
    R = vfmadd(R, s2, vset1(2.0f / 5.0f));
    R = vfmadd(R, s2, vset1(2.0f / 3.0f));
    R = vmul(R, s2);
    vf hfsq = vmul(vmul(f, f), vset1(0.5f));
    vf log1pf = vsub(f, vfnmadd(s, vadd(hfsq, R), hfsq));
    vf y = vfmadd(e, vset1(VM_LN2_HI), vfmadd(e, vset1(VM_LN2_LO), log1pf));
    /* edges: x = 0 -> -inf, x < 0 -> NaN, x = inf -> inf, NaN -> NaN */
    y = vsel(vlt(x, vset1(INFINITY)), y, x);
    y = vsel(vlt(x, vzero()), vset1(NAN), y);
    return vsel(veq(x, vzero()), vset1(-INFINITY), y);
}

/* One float through the vector math, for the odd scalar (a row's log-sum-exp, a rescale factor)
 * so that no kernel mixes libm's results with these. */
SIMD_INLINE float vm_exp1(float x) {
    float y;
    vstore_n(&y, v_exp(vset1(x)), 1);
    return y;
}
SIMD_INLINE float vm_log1(float x) {
    float y;
    vstore_n(&y, v_log(vset1(x)), 1);
    return y;
}

/* max_k x[k] over n floats (-inf for n == 0). */
SIMD_INLINE float vm_array_max(const float *x, int n) {
    vf m = vset1(-INFINITY);
    int k = 0;
    for (; k + VW <= n; k += VW)
        m = vmax(vload(x + k), m);
    float r = vhmax(m);
    for (; k < n; k++)
        r = x[k] > r ? x[k] : r;
    return r;
}

/* sum_k exp(x[k] - shift) */
SIMD_INLINE float vm_array_exp_sum(const float *x, int n, float shift) {
    vf acc = vzero(), sh = vset1(shift);
    int k = 0;
    for (; k + VW <= n; k += VW)
        acc = vadd(acc, v_exp(vsub(vload(x + k), sh)));
    if (k < n) /* lanes past the end add 0, not exp(0 - shift) */
        acc = vadd(acc, vsel(vprefix(n - k), v_exp(vsub(vload_n(x + k, n - k), sh)), vzero()));
    return vsum(acc);
}

#endif
