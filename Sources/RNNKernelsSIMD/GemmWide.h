// The AVX-512 code paths (GemmWide.c, VectorMathWide.c), internal to RNNKernelsSIMD.
#ifndef RNN_GEMM_WIDE_H
#define RNN_GEMM_WIDE_H

#include <stddef.h>

/// 1 when the kernels may run their AVX-512 paths (the prepacked product's tiles, sigmoid and tanh): the
/// CPU has AVX-512F and the operating system saves the opmask and 512-bit registers (XGETBV), and the calling
/// thread has not turned them off for a test (`rnn_simd_wide_for_testing`).
int rnn_simd_wide(void);
/// The calling thread's `rnn_simd_wide_for_testing` setting (1: turned off), and setting it, so that the
/// fused passes' threads take on their caller's.
int rnn_simd_wide_off(void);
void rnn_simd_set_wide_off(int off);
/// Adds products run by the AVX-512 tiles to the calling thread's count (`rnn_simd_wide_products_for_testing`).
void rnn_simd_count_wide_products(long count);

#if defined(__x86_64__)
/// `rnn_prepacked_blocked_*` by 8 × 2·NR and 8 × NR AVX-512 tiles, for m > 0 a multiple of 8, n > 0, k > 0 and
/// q0 < q1 (the same results, bit for bit).
void rnn_prepacked_blocked_wide_f32(const float *a, ptrdiff_t ars, ptrdiff_t acs, const float *panels, float *c,
                                    ptrdiff_t ldc, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t q0, ptrdiff_t q1,
                                    int accumulate, const float *rowInit);
void rnn_prepacked_blocked_wide_f64(const double *a, ptrdiff_t ars, ptrdiff_t acs, const double *panels, double *c,
                                    ptrdiff_t ldc, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t q0, ptrdiff_t q1,
                                    int accumulate, const double *rowInit);
/// `rnn_vector_apply_f32` and `_f64` for RNN_VECTOR_SIGMOID and RNN_VECTOR_TANH, 16 floats or 8 doubles at a
/// time (the same bits).
void rnn_vector_apply_wide_f32(int function, const float *x, float *y, ptrdiff_t n);
void rnn_vector_apply_wide_f64(int function, const double *x, double *y, ptrdiff_t n);
#endif

#endif
