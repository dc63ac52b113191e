// Vectorized e^x, sigmoid and tanh over buffers: the gate activations of the cell core.
//
// A transcription of RNNKernels' VectorMathCore.swift (the method and its errors are described there), with
// the same IEEE operations in the same order for every lane's result: a fused multiply-add (`FMA`) exactly
// where the Swift copy calls `addingProduct`, and nowhere else (contraction is off, SIMDCommon.h), so the
// results are bit-identical to that baseline copy; the tests compare the two on every run. Two differences
// of form, not of result: sigmoid and tanh skip the upper clamp and the NaN selection of e^x, which their own
// selections make moot, and tanh runs its two polynomials in one pass (tanh8). As in Swift's SIMD types,
// negation is 0 − x (−(+0) is +0), and lane masks and selections are integer operations on the bits (all
// ones or all zeros per lane).
//
// Shape legend: elementwise; x and y are buffers of n elements.
#include "RNNKernelsSIMD.h"
#include "SIMDCommon.h"
#include "GemmWide.h"

RNN_SIMD_BEGIN

// The small helpers are macros rather than inline functions: debug builds compile C at -O0, where every
// inlined call still stores and reloads its vector arguments through memory; as macros the functions run
// about three times faster there (the optimized code is the same).

// MARK: Float, 8 lanes
// The Float and Double sections are deliberate twins (`duplicates` pairs them): the same method with
// each type's lanes, polynomial degree and constants, as in VectorMathCore.swift.

RNN_INLINE v8f splat8(float x) { return (v8f){x, x, x, x, x, x, x, x}; }
#define bits8(x) ((v8u)(x))
/// mask ? a : b, lane by lane.
#define select8(mask, a, b) ((v8f)((bits8(a) & (mask)) | (bits8(b) & ~(mask))))
/// All ones where the sign bit of x is set.
#define sign_mask8(x) (0 - (bits8(x) >> 31))
/// All ones where |x| > c, for c ≥ 0 (non-negative floats order like their bits); NaN counts as greater.
#define magnitude_above8(x, c) (0 - ((__builtin_bit_cast(uint32_t, (float)(c)) - (bits8(x) & 0x7fffffffu)) >> 31))
#define nan_mask8(x) magnitude_above8(x, __builtin_inff())
#define abs8(x) ((v8f)(bits8(x) & 0x7fffffffu))
#define neg8(x) (0.0f - (x))
/// x clamped to [lo, hi] (lo < 0 < hi) for every x but NaN.
RNN_INLINE v8f clamp8(v8f x, float hi, float lo) {
    v8u negative = sign_mask8(x);
    v8u above = ~negative & magnitude_above8(x, hi), below = negative & magnitude_above8(x, -lo);
    return select8(above, splat8(hi), select8(below, splat8(lo), x));
}

/// exp8's argument reduction of xc in [−104, 89]: returns r = xc − k·ln 2 (ln 2 in two parts, each subtracted
/// by a fused multiply-add), with k = round(xc / ln 2) left in the low bits of *shifted by the shifter trick
/// (adding 1.5·2^23 in a fused multiply-add).
RNN_INLINE v8f exp_reduce8(v8f xc, v8f *shifted) {
    v8f shifter = splat8(12582912.0f);
    *shifted = FMA(xc, splat8(1.44269504f), shifter);
    v8f kf = *shifted - shifter;
    return FMA(kf, splat8(-1.428606765330187e-06f), FMA(kf, splat8(-0.693145751953125f), xc));
}

/// p · 2^k for the k of exp_reduce8, as 2^(k/2) · 2^(k − k/2): each half stays a normal number for k ≥ −252.
RNN_INLINE v8f exp_scale8(v8f p, v8f shifted) {
    v8i k = (v8i)shifted - 0x4B400000;
    v8i k1 = k >> 1, k2 = k - k1;
    v8f s1 = (v8f)((v8u)(k1 + 127) << 23);
    v8f s2 = (v8f)((v8u)(k2 + 127) << 23);
    return p * s1 * s2;
}

/// e^x for x in [−104, 89] (not NaN): the body of exp8. sigmoid8 calls it directly on −|x| clamped from
/// below by `max` (which is clamp8 there) and selects NaN lanes itself, skipping exp8's upper clamp and NaN
/// selection: 28% less time per element, the same bits (compared with the exp8 form on all 2^32 floats when
/// this was written; VectorMathTests compares with the baseline copy on every run).
RNN_INLINE v8f exp_clamped8(v8f xc) {
    v8f shifted, r = exp_reduce8(xc, &shifted);
    v8f p = splat8(1.0f / 5040.0f);
    p = FMA(p, r, splat8(1.0f / 720.0f));
    p = FMA(p, r, splat8(1.0f / 120.0f));
    p = FMA(p, r, splat8(1.0f / 24.0f));
    p = FMA(p, r, splat8(1.0f / 6.0f));
    p = FMA(p, r, splat8(0.5f));
    p = FMA(p, r, splat8(1.0f));
    p = FMA(p, r, splat8(1.0f));
    return exp_scale8(p, shifted);
}

RNN_INLINE v8f exp8(v8f x) {
    return select8(nan_mask8(x), x, exp_clamped8(clamp8(x, 89.0f, -104.0f)));    // NaN in, NaN out
}

RNN_INLINE v8f sigmoid8(v8f x) {
    v8f e = exp_clamped8(__builtin_elementwise_max(neg8(abs8(x)), splat8(-104.0f)));
    v8f d = 1.0f + e;
    return select8(nan_mask8(x), x, select8(sign_mask8(x), e / d, 1.0f / d));
}

/// tanh|x| = −m / (2 + m) with m = e^(−2|x|) − 1: for 2|x| ≤ ln 2 / 2 by the Taylor polynomial of e^y − 1
/// without its constant term, (p·y)·y + y with p of degree 6 in y = −2|x| (no cancellation), else as
/// exp_clamped8(max(y, −104)) − 1. Both polynomials run in one pass, each lane on its own variable v (y or exp's r):
/// they share their coefficients from 1/7! on, and e^x's lanes start from 0 where e^y − 1's have 1/8!
/// (0·r + 1/7! is exactly 1/7!), so every lane gets its own polynomial's operations, bit for bit, for about
/// two thirds of the time of evaluating both (VectorMathTests compares with the baseline on every run).
RNN_INLINE v8f tanh8(v8f x) {
    v8f a = abs8(x), y = -2.0f * a;
    v8u large = magnitude_above8(a, 0.1732868f);
    v8f shifted, r = exp_reduce8(__builtin_elementwise_max(y, splat8(-104.0f)), &shifted);
    v8f v = select8(large, r, y);
    v8f p = select8(large, splat8(0.0f), splat8(1.0f / 40320.0f));
    p = FMA(p, v, splat8(1.0f / 5040.0f));
    p = FMA(p, v, splat8(1.0f / 720.0f));
    p = FMA(p, v, splat8(1.0f / 120.0f));
    p = FMA(p, v, splat8(1.0f / 24.0f));
    p = FMA(p, v, splat8(1.0f / 6.0f));
    p = FMA(p, v, splat8(0.5f));
    v8f e = exp_scale8(FMA(FMA(p, v, splat8(1.0f)), v, splat8(1.0f)), shifted);
    v8f m = select8(large, e - 1.0f, FMA(p * v, v, v));
    v8f t = neg8(m) / (2.0f + m);
    return select8(nan_mask8(x), x, select8(sign_mask8(x), neg8(t), t));
}

RNN_INLINE v8f apply8(int f, v8f x) {
    switch (f) {
    case RNN_VECTOR_EXP: return exp8(x);
    case RNN_VECTOR_SIGMOID: return sigmoid8(x);
    default: return tanh8(x);
    }
}

void rnn_vector_apply_f32(int function, const float *x, float *y, ptrdiff_t n) {
#if defined(__x86_64__)
    // Sigmoid and tanh 16 lanes at a time where the CPU has AVX-512 (VectorMathWide.c; the same bits).
    if (function != RNN_VECTOR_EXP && rnn_simd_wide()) {
        rnn_vector_apply_wide_f32(function, x, y, n);
        return;
    }
#endif
    ptrdiff_t i = 0;
    // One loop per function, so that the choice is not made per vector.
    switch (function) {
    case RNN_VECTOR_EXP: for (; i + 8 <= n; i += 8) *(v8f_u *)(y + i) = exp8(*(const v8f_u *)(x + i)); break;
    case RNN_VECTOR_SIGMOID: for (; i + 8 <= n; i += 8) *(v8f_u *)(y + i) = sigmoid8(*(const v8f_u *)(x + i)); break;
    default: for (; i + 8 <= n; i += 8) *(v8f_u *)(y + i) = tanh8(*(const v8f_u *)(x + i)); break;
    }
    if (i < n) {
        v8f v = {0};
        for (ptrdiff_t j = 0; j < n - i; j++) v[j] = x[i + j];
        v8f r = apply8(function, v);
        for (ptrdiff_t j = 0; j < n - i; j++) y[i + j] = r[j];
    }
}

// MARK: Double, 4 lanes
// The twin of the Float section above (deliberate): 4 lanes, a longer polynomial, Double's constants.

RNN_INLINE v4d splat4(double x) { return (v4d){x, x, x, x}; }
#define bits4(x) ((v4u)(x))
#define select4(mask, a, b) ((v4d)((bits4(a) & (mask)) | (bits4(b) & ~(mask))))
#define sign_mask4(x) (0 - (bits4(x) >> 63))
#define magnitude_above4(x, c) (0 - ((__builtin_bit_cast(uint64_t, (double)(c)) - (bits4(x) & 0x7fffffffffffffffull)) >> 63))
#define nan_mask4(x) magnitude_above4(x, __builtin_inf())
#define abs4(x) ((v4d)(bits4(x) & 0x7fffffffffffffffull))
#define neg4(x) (0.0 - (x))
RNN_INLINE v4d clamp4(v4d x, double hi, double lo) {
    v4u negative = sign_mask4(x);
    v4u above = ~negative & magnitude_above4(x, hi), below = negative & magnitude_above4(x, -lo);
    return select4(above, splat4(hi), select4(below, splat4(lo), x));
}

/// exp4's argument reduction (as exp_reduce8): r = xc − k·ln 2, k in the low bits of *shifted (+ 1.5 · 2^52).
RNN_INLINE v4d exp_reduce4(v4d xc, v4d *shifted) {
    v4d shifter = splat4(6755399441055744.0);    // 1.5 · 2^52
    *shifted = FMA(xc, splat4(1.4426950408889634), shifter);
    v4d kf = *shifted - shifter;
    return FMA(kf, splat4(-1.9082149292705877e-10), FMA(kf, splat4(-0.69314718036912381649), xc));
}

/// p · 2^k for the k of exp_reduce4, in two halves (as exp_scale8).
RNN_INLINE v4d exp_scale4(v4d p, v4d shifted) {
    // The low bits of `shifted` hold k + 2^51; halving by a logical shift and subtracting 2^50 is floor(k / 2).
    v4u biased = bits4(shifted) & 0x000fffffffffffffull;    // k + 2^51
    v4u k1 = (biased >> 1) - (1ull << 50);
    v4u k2 = (biased - (1ull << 51)) - k1;
    v4d s1 = (v4d)((k1 + 1023) << 52);
    v4d s2 = (v4d)((k2 + 1023) << 52);
    return p * s1 * s2;
}

/// e^x for x in [−746, 710] (not NaN): the body of exp4, as exp_clamped8.
RNN_INLINE v4d exp_clamped4(v4d xc) {
    v4d shifted, r = exp_reduce4(xc, &shifted);
    v4d p = splat4(1.0 / 6227020800.0);
    p = FMA(p, r, splat4(1.0 / 479001600.0));
    p = FMA(p, r, splat4(1.0 / 39916800.0));
    p = FMA(p, r, splat4(1.0 / 3628800.0));
    p = FMA(p, r, splat4(1.0 / 362880.0));
    p = FMA(p, r, splat4(1.0 / 40320.0));
    p = FMA(p, r, splat4(1.0 / 5040.0));
    p = FMA(p, r, splat4(1.0 / 720.0));
    p = FMA(p, r, splat4(1.0 / 120.0));
    p = FMA(p, r, splat4(1.0 / 24.0));
    p = FMA(p, r, splat4(1.0 / 6.0));
    p = FMA(p, r, splat4(0.5));
    p = FMA(p, r, splat4(1.0));
    p = FMA(p, r, splat4(1.0));
    return exp_scale4(p, shifted);
}

RNN_INLINE v4d exp4(v4d x) {
    return select4(nan_mask4(x), x, exp_clamped4(clamp4(x, 710.0, -746.0)));
}

RNN_INLINE v4d sigmoid4(v4d x) {
    v4d e = exp_clamped4(__builtin_elementwise_max(neg4(abs4(x)), splat4(-746.0)));
    v4d d = 1.0 + e;
    return select4(nan_mask4(x), x, select4(sign_mask4(x), e / d, 1.0 / d));
}

/// As tanh8: e^y − 1's polynomial has degree 14 here and leads e^x's by three coefficients (1/16!, 1/15!,
/// 1/14!), which e^x's lanes take as 0 (0·r + 0 is +0, and +0·r + 1/13! is exactly 1/13!).
RNN_INLINE v4d tanh4(v4d x) {
    v4d a = abs4(x), y = -2.0 * a;
    v4u large = magnitude_above4(a, 0.1732867951399863);
    v4d shifted, r = exp_reduce4(__builtin_elementwise_max(y, splat4(-746.0)), &shifted);
    v4d v = select4(large, r, y);
    v4d p = select4(large, splat4(0.0), splat4(1.0 / 20922789888000.0));
    p = FMA(p, v, select4(large, splat4(0.0), splat4(1.0 / 1307674368000.0)));
    p = FMA(p, v, select4(large, splat4(0.0), splat4(1.0 / 87178291200.0)));
    p = FMA(p, v, splat4(1.0 / 6227020800.0));
    p = FMA(p, v, splat4(1.0 / 479001600.0));
    p = FMA(p, v, splat4(1.0 / 39916800.0));
    p = FMA(p, v, splat4(1.0 / 3628800.0));
    p = FMA(p, v, splat4(1.0 / 362880.0));
    p = FMA(p, v, splat4(1.0 / 40320.0));
    p = FMA(p, v, splat4(1.0 / 5040.0));
    p = FMA(p, v, splat4(1.0 / 720.0));
    p = FMA(p, v, splat4(1.0 / 120.0));
    p = FMA(p, v, splat4(1.0 / 24.0));
    p = FMA(p, v, splat4(1.0 / 6.0));
    p = FMA(p, v, splat4(0.5));
    v4d e = exp_scale4(FMA(FMA(p, v, splat4(1.0)), v, splat4(1.0)), shifted);
    v4d m = select4(large, e - 1.0, FMA(p * v, v, v));
    v4d t = neg4(m) / (2.0 + m);
    return select4(nan_mask4(x), x, select4(sign_mask4(x), neg4(t), t));
}

RNN_INLINE v4d apply4(int f, v4d x) {
    switch (f) {
    case RNN_VECTOR_EXP: return exp4(x);
    case RNN_VECTOR_SIGMOID: return sigmoid4(x);
    default: return tanh4(x);
    }
}

void rnn_vector_apply_f64(int function, const double *x, double *y, ptrdiff_t n) {
#if defined(__x86_64__)
    if (function != RNN_VECTOR_EXP && rnn_simd_wide()) {
        rnn_vector_apply_wide_f64(function, x, y, n);
        return;
    }
#endif
    ptrdiff_t i = 0;
    switch (function) {
    case RNN_VECTOR_EXP: for (; i + 4 <= n; i += 4) *(v4d_u *)(y + i) = exp4(*(const v4d_u *)(x + i)); break;
    case RNN_VECTOR_SIGMOID: for (; i + 4 <= n; i += 4) *(v4d_u *)(y + i) = sigmoid4(*(const v4d_u *)(x + i)); break;
    default: for (; i + 4 <= n; i += 4) *(v4d_u *)(y + i) = tanh4(*(const v4d_u *)(x + i)); break;
    }
    if (i < n) {
        v4d v = {0};
        for (ptrdiff_t j = 0; j < n - i; j++) v[j] = x[i + j];
        v4d r = apply4(function, v);
        for (ptrdiff_t j = 0; j < n - i; j++) y[i + j] = r[j];
    }
}

RNN_SIMD_END
