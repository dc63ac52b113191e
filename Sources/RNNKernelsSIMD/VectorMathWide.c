// Sigmoid and tanh over float buffers with AVX-512F, 16 lanes at a time: VectorMath.c's sigmoid8 and tanh8
// with the same IEEE operations on every lane, for CPUs where `rnn_simd_wide()` is 1 (`rnn_vector_apply_f32`
// calls these there). Three differences of form, none of result:
// - p · 2^k is one `vscalefps` (the exact product, rounded once) instead of two multiplications by normal
//   powers of two, the first exact and the second rounding once: the same value. In both functions
//   k ≥ −150, so each half of k is at least −75 and p · 2^(k/2) is a normal number.
// - lane masks are AVX-512 mask registers from comparisons (unordered for NaN, greater for |x| > c on
//   non-negative values, the sign bit by a bit test) where VectorMath.c computes them with integer arithmetic
//   on the bits; the lanes they select are the same.
// - sigmoid divides once, select(sign, e, 1) / d, where VectorMath.c selects between e / d and 1 / d: the
//   same division on every lane.
// `gemm-bench vector-math-all` compares these with the baseline copy on all 2^32 floats in CI; VectorMathTests
// compares a sample on every run.
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

#pragma clang attribute pop

#endif
