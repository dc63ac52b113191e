// The packed matrix-product kernels, Float and Double (GemmTemplate.h once per type).
#include "RNNKernelsSIMD.h"
#include "SIMDCommon.h"
#include "GemmWide.h"

#ifndef RNN_GEMM_ASM
#if defined(__x86_64__)
#define RNN_GEMM_ASM 1
#else
#define RNN_GEMM_ASM 0
#endif
#endif

RNN_SIMD_BEGIN

RNN_INLINE v8f splat_f32(float x) { return (v8f){x, x, x, x, x, x, x, x}; }
RNN_INLINE v4d splat_f64(double x) { return (v4d){x, x, x, x}; }

#define T float
#define V v8f
#define VU v8f_u
#define W 8
#define KC RNN_SIMD_KC
#define MC 288
#define NC 4096
#define SPLAT splat_f32
#define NAME(f) f##_f32
#define ASM_BCAST "vbroadcastss"
#define ASM_FMA "vfmadd231ps"
#define ASM_ES "4"
#include "GemmTemplate.h"
#undef T
#undef V
#undef VU
#undef W
#undef KC
#undef MC
#undef NC
#undef SPLAT
#undef NAME
#undef ASM_BCAST
#undef ASM_FMA
#undef ASM_ES

#define T double
#define V v4d
#define VU v4d_u
#define W 4
#define KC RNN_SIMD_KC
#define MC 72
#define NC 2048
#define SPLAT splat_f64
#define NAME(f) f##_f64
#define ASM_BCAST "vbroadcastsd"
#define ASM_FMA "vfmadd231pd"
#define ASM_ES "8"
#include "GemmTemplate.h"

RNN_SIMD_END
