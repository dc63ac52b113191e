// Sigmoid and tanh over float and double buffers with AVX-512F, 16 floats or 8 doubles at a time: VectorMath.c's
// sigmoid8 and tanh8 (sigmoid4 and tanh4) with the same IEEE operations on every lane, for CPUs where
// `rnn_simd_wide()` is 1 (`rnn_vector_apply_f32` and `_f64` call these there). Three differences of form,
// none of result:
// - p · 2^k is one `vscalefps` (the exact product, rounded once) instead of two multiplications by normal
//   powers of two, the first exact and the second rounding once: the same value. In both float functions
//   k ≥ −150, so each half of k is at least −75 and p · 2^(k/2) is a normal number (doubles: below).
// - lane masks are AVX-512 mask registers from comparisons (unordered for NaN, greater for |x| > c on
//   non-negative values, the sign bit by a bit test) where VectorMath.c computes them with integer arithmetic
//   on the bits; the lanes they select are the same.
// - sigmoid divides once, select(sign, e, 1) / d, where VectorMath.c selects between e / d and 1 / d: the
//   same division on every lane.
// `gemm-bench vector-math-all` compares the float functions with the baseline copy on all 2^32 floats in CI;
// VectorMathTests compares a sample of both types on every run.
//
// Shape legend: elementwise; x and y are buffers of n elements.
#include "RNNKernelsSIMD.h"
#include "SIMDCommon.h"
#include "GemmWide.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push (__attribute__((target("avx512f,avx2,fma"))), apply_to = function)

#define SPLAT16(x) _mm512_set1_ps(x)

/// e^xc for xc in [−104, 0] (as VectorMath.c's exp_clamped8 there), returning p and the integral kf with
/// e^xc = p · 2^kf; r = xc − kf·ln 2 in *r for tanh's shared pass.
RNN_INLINE __m512 exp_reduce16(__m512 xc, __m512 *kf) {
    __m512 shifter = SPLAT16(12582912.0f);
    __m512 shifted = _mm512_fmadd_ps(xc, SPLAT16(1.44269504f), shifter);
    *kf = _mm512_sub_ps(shifted, shifter);
    return _mm512_fmadd_ps(*kf, SPLAT16(-1.428606765330187e-06f), _mm512_fmadd_ps(*kf, SPLAT16(-0.693145751953125f), xc));
}

RNN_INLINE __m512 sigmoid16(__m512 x) {
    __m512 a = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
    __m512 xc = _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), SPLAT16(-104.0f));
    __m512 kf, r = exp_reduce16(xc, &kf);
    __m512 p = SPLAT16(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, SPLAT16(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, SPLAT16(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, SPLAT16(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, SPLAT16(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, SPLAT16(0.5f));
    p = _mm512_fmadd_ps(p, r, SPLAT16(1.0f));
    p = _mm512_fmadd_ps(p, r, SPLAT16(1.0f));
    __m512 e = _mm512_scalef_ps(p, kf);
    __m512 d = _mm512_add_ps(SPLAT16(1.0f), e);
    __mmask16 negative = _mm512_test_epi32_mask(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u));
    __m512 q = _mm512_div_ps(_mm512_mask_blend_ps(negative, SPLAT16(1.0f), e), d);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), q, x);
}

RNN_INLINE __m512 tanh16(__m512 x) {
    __m512 a = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
    __m512 y = _mm512_mul_ps(SPLAT16(-2.0f), a);
    __mmask16 large = _mm512_cmp_ps_mask(a, SPLAT16(0.1732868f), _CMP_NLE_UQ);
    __m512 kf, r = exp_reduce16(_mm512_max_ps(y, SPLAT16(-104.0f)), &kf);
    __m512 v = _mm512_mask_blend_ps(large, y, r);
    __m512 p = _mm512_mask_blend_ps(large, SPLAT16(1.0f / 40320.0f), _mm512_setzero_ps());
    p = _mm512_fmadd_ps(p, v, SPLAT16(1.0f / 5040.0f));
    p = _mm512_fmadd_ps(p, v, SPLAT16(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, v, SPLAT16(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, v, SPLAT16(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, v, SPLAT16(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, v, SPLAT16(0.5f));
    __m512 e = _mm512_scalef_ps(_mm512_fmadd_ps(_mm512_fmadd_ps(p, v, SPLAT16(1.0f)), v, SPLAT16(1.0f)), kf);
    __m512 m = _mm512_mask_blend_ps(large, _mm512_fmadd_ps(_mm512_mul_ps(p, v), v, v), _mm512_sub_ps(e, SPLAT16(1.0f)));
    __m512 t = _mm512_div_ps(_mm512_sub_ps(_mm512_setzero_ps(), m), _mm512_add_ps(SPLAT16(2.0f), m));
    __mmask16 negative = _mm512_test_epi32_mask(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u));
    t = _mm512_mask_blend_ps(negative, t, _mm512_sub_ps(_mm512_setzero_ps(), t));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), t, x);
}

void rnn_vector_apply_wide_f32(int function, const float *x, float *y, ptrdiff_t n) {
    ptrdiff_t i = 0;
    if (function == RNN_VECTOR_SIGMOID) {
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, sigmoid16(_mm512_loadu_ps(x + i)));
    } else {
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, tanh16(_mm512_loadu_ps(x + i)));
    }
    if (i < n) {
        // The last n − i < 16 elements in the low lanes of a masked load and store.
        __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(tail, x + i);
        _mm512_mask_storeu_ps(y + i, tail, function == RNN_VECTOR_SIGMOID ? sigmoid16(v) : tanh16(v));
    }
}

// MARK: Double, 8 lanes
// The twin of the Float section above (deliberate), from VectorMath.c's sigmoid4 and tanh4: a longer
// polynomial and Double's constants. Here k ≥ −1076, so each half of k is at least −538 and p · 2^(k/2) is
// still a normal number.

#define SPLAT8D(x) _mm512_set1_pd(x)

RNN_INLINE __m512d exp_reduce8d(__m512d xc, __m512d *kf) {
    __m512d shifter = SPLAT8D(6755399441055744.0);    // 1.5 · 2^52
    __m512d shifted = _mm512_fmadd_pd(xc, SPLAT8D(1.4426950408889634), shifter);
    *kf = _mm512_sub_pd(shifted, shifter);
    return _mm512_fmadd_pd(*kf, SPLAT8D(-1.9082149292705877e-10), _mm512_fmadd_pd(*kf, SPLAT8D(-0.69314718036912381649), xc));
}

/// The common tail of e^r's polynomial from 1/12! on, after p = 1/13! or tanh's longer start.
RNN_INLINE __m512d exp_poly_tail8d(__m512d p, __m512d v) {
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 479001600.0));
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 39916800.0));
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 3628800.0));
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 362880.0));
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 40320.0));
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 5040.0));
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 720.0));
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 120.0));
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 24.0));
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 6.0));
    return _mm512_fmadd_pd(p, v, SPLAT8D(0.5));
}

RNN_INLINE __m512d abs8d(__m512d x) {
    return _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(x), _mm512_set1_epi64(0x7fffffffffffffffll)));
}

RNN_INLINE __mmask8 negative8d(__m512d x) {
    return _mm512_test_epi64_mask(_mm512_castpd_si512(x), _mm512_set1_epi64((long long)0x8000000000000000ull));
}

RNN_INLINE __m512d sigmoid8d(__m512d x) {
    __m512d xc = _mm512_max_pd(_mm512_sub_pd(_mm512_setzero_pd(), abs8d(x)), SPLAT8D(-746.0));
    __m512d kf, r = exp_reduce8d(xc, &kf);
    __m512d p = exp_poly_tail8d(SPLAT8D(1.0 / 6227020800.0), r);
    p = _mm512_fmadd_pd(p, r, SPLAT8D(1.0));
    p = _mm512_fmadd_pd(p, r, SPLAT8D(1.0));
    __m512d e = _mm512_scalef_pd(p, kf);
    __m512d d = _mm512_add_pd(SPLAT8D(1.0), e);
    __m512d q = _mm512_div_pd(_mm512_mask_blend_pd(negative8d(x), SPLAT8D(1.0), e), d);
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), q, x);
}

RNN_INLINE __m512d tanh8d(__m512d x) {
    __m512d a = abs8d(x), y = _mm512_mul_pd(SPLAT8D(-2.0), a);
    __mmask8 large = _mm512_cmp_pd_mask(a, SPLAT8D(0.1732867951399863), _CMP_NLE_UQ);
    __m512d kf, r = exp_reduce8d(_mm512_max_pd(y, SPLAT8D(-746.0)), &kf);
    __m512d v = _mm512_mask_blend_pd(large, y, r), zero = _mm512_setzero_pd();
    __m512d p = _mm512_mask_blend_pd(large, SPLAT8D(1.0 / 20922789888000.0), zero);
    p = _mm512_fmadd_pd(p, v, _mm512_mask_blend_pd(large, SPLAT8D(1.0 / 1307674368000.0), zero));
    p = _mm512_fmadd_pd(p, v, _mm512_mask_blend_pd(large, SPLAT8D(1.0 / 87178291200.0), zero));
    p = _mm512_fmadd_pd(p, v, SPLAT8D(1.0 / 6227020800.0));
    p = exp_poly_tail8d(p, v);
    __m512d e = _mm512_scalef_pd(_mm512_fmadd_pd(_mm512_fmadd_pd(p, v, SPLAT8D(1.0)), v, SPLAT8D(1.0)), kf);
    __m512d m = _mm512_mask_blend_pd(large, _mm512_fmadd_pd(_mm512_mul_pd(p, v), v, v), _mm512_sub_pd(e, SPLAT8D(1.0)));
    __m512d t = _mm512_div_pd(_mm512_sub_pd(zero, m), _mm512_add_pd(SPLAT8D(2.0), m));
    t = _mm512_mask_blend_pd(negative8d(x), t, _mm512_sub_pd(zero, t));
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), t, x);
}

void rnn_vector_apply_wide_f64(int function, const double *x, double *y, ptrdiff_t n) {
    ptrdiff_t i = 0;
    if (function == RNN_VECTOR_SIGMOID) {
        for (; i + 8 <= n; i += 8) _mm512_storeu_pd(y + i, sigmoid8d(_mm512_loadu_pd(x + i)));
    } else {
        for (; i + 8 <= n; i += 8) _mm512_storeu_pd(y + i, tanh8d(_mm512_loadu_pd(x + i)));
    }
    if (i < n) {
        __mmask8 tail = (__mmask8)((1u << (n - i)) - 1);
        __m512d v = _mm512_maskz_loadu_pd(tail, x + i);
        _mm512_mask_storeu_pd(y + i, tail, function == RNN_VECTOR_SIGMOID ? sigmoid8d(v) : tanh8d(v));
    }
}

#pragma clang attribute pop

#endif
