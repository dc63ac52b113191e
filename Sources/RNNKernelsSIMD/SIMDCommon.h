// Vector types and the target attribute shared by the kernel files (not part of the module's interface).
//
// The kernels are written with clang's vector extensions (256-bit vectors: 8 floats, 4 doubles) and
// `__builtin_elementwise_fma`, so the same source is AVX2 + FMA on x86-64 and NEON on arm64. On x86-64 every
// function of a file that includes this header after its system headers is compiled for AVX2 + FMA
// (`RNN_SIMD_BEGIN` / `RNN_SIMD_END` around the kernels): no compiler flag is needed, and nothing in those
// files may run before `rnn_simd_supported()` has returned 1.
//
// Floating-point contraction is off: `a * b + c` stays a rounded product and a rounded sum, as in Swift,
// and fused multiply-adds happen only where `FMA` is written.
#ifndef RNN_SIMD_COMMON_H
#define RNN_SIMD_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma clang fp contract(off)

#if defined(__x86_64__)
#define RNN_SIMD_BEGIN _Pragma("clang attribute push (__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#define RNN_SIMD_END _Pragma("clang attribute pop")
#else
#define RNN_SIMD_BEGIN
#define RNN_SIMD_END
#endif

/// Helpers are inlined even at -O0 (debug builds), where a call per vector operation would dominate.
#define RNN_INLINE static inline __attribute__((always_inline))

typedef float v8f __attribute__((vector_size(32)));
typedef double v4d __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef uint64_t v4u __attribute__((vector_size(32)));
/// The same vectors at element alignment, for loads and stores at any element address.
typedef float v8f_u __attribute__((vector_size(32), aligned(4), may_alias));
typedef double v4d_u __attribute__((vector_size(32), aligned(8), may_alias));

#define FMA(a, b, c) __builtin_elementwise_fma(a, b, c)

/// The depth block of the packed products (KC in Gemm.c and GemmWide.c, both types): a product whose depth
/// exceeds it sums its blocks into C one after another.
#define RNN_SIMD_KC 256

RNN_INLINE ptrdiff_t rnn_min(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }
RNN_INLINE ptrdiff_t rnn_max(ptrdiff_t a, ptrdiff_t b) { return a > b ? a : b; }

/// Memory aligned to a cache line, for packed panels and scratch tiles (free with `free`).
RNN_INLINE void *rnn_aligned_alloc(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes < 64 ? 64 : bytes) != 0) abort();
    return p;
}

#endif
