// The AVX-512 tiles of the prepacked product (GemmWideTemplate.h once per type), for CPUs with AVX-512F whose
// operating system saves the 512-bit state (`rnn_simd_wide_tiles`); GemmTemplate.h's
// `rnn_prepacked_blocked_*` calls them there for row counts that are a multiple of 8.
#include "RNNKernelsSIMD.h"
#include "SIMDCommon.h"
#include "GemmWide.h"

#if defined(__x86_64__)

#pragma clang attribute push (__attribute__((target("avx512f,avx2,fma"))), apply_to = function)

typedef float v16f __attribute__((vector_size(64)));
typedef double v8d __attribute__((vector_size(64)));
typedef float v16f_u __attribute__((vector_size(64), aligned(4), may_alias));
typedef double v8d_u __attribute__((vector_size(64), aligned(8), may_alias));

#define NR_BYTES "64"

#define T float
#define ZV v16f
#define ZVU v16f_u
#define NR 16
#define KC RNN_SIMD_KC
#define MC 288
#define NAME(f) f##_f32
#define ASM_BCAST "vbroadcastss"
#define ASM_FMA "vfmadd231ps"
#define ASM_ES "4"
#include "GemmWideTemplate.h"
#undef T
#undef ZV
#undef ZVU
#undef NR
#undef KC
#undef MC
#undef NAME
#undef ASM_BCAST
#undef ASM_FMA
#undef ASM_ES

#define T double
#define ZV v8d
#define ZVU v8d_u
#define NR 8
#define KC RNN_SIMD_KC
#define MC 72
#define NAME(f) f##_f64
#define ASM_BCAST "vbroadcastsd"
#define ASM_FMA "vfmadd231pd"
#define ASM_ES "8"
#include "GemmWideTemplate.h"

#pragma clang attribute pop

#endif
