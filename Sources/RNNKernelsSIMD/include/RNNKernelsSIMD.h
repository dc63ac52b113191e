// The SIMD kernels of rnnspec: packed matrix-product kernels and vectorized e^x, sigmoid and tanh, in C so
// that the AVX2 + FMA code comes from function attributes (`target("avx2,fma")`) instead of compiler flags.
// On x86-64 every kernel below uses AVX2 and FMA: call one only after `rnn_simd_supported()` returned 1.
// On arm64 they are NEON (which always has fused multiply-add) and `rnn_simd_supported()` is 1. Elsewhere
// they compile to generic code and `rnn_simd_supported()` is 0 (callers then use their portable loops).
//
// Shapes: A [M, K], B [K, N], C [M, N]. A strided matrix X is (x, rs, cs): element (i, j) at x[i·rs + j·cs];
// C is row-major with leading dimension ldc. Functions ending in _f32 take floats, _f64 doubles.
#ifndef RNN_KERNELS_SIMD_H
#define RNN_KERNELS_SIMD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU can run the kernels: on x86-64 it has AVX2 and FMA (CPUID) and the operating system
/// saves the 256-bit registers (XGETBV); 1 on arm64; 0 elsewhere.
int rnn_simd_supported(void);

// The dispatch probe (Probe.c): count one product run by the packed kernel on an operand's panels (atomically, in
// the operand's counter); read a counter.
void rnn_probe_count(long *counter);
long rnn_probe_read(const long *counter);

/// Rows of a micro-tile of the packed kernels (the unit a multi-threaded product is split in by rows).
#define RNN_SIMD_MR 6
/// Up to this many rows of A, A · Bᵀ may run the dot-product kernel (`rnn_gemm_dot_*`), which packs nothing
/// (the rule: RNNKernels' `simdGemmRunsDot`).
#define RNN_SIMD_DOT_MAX_ROWS 96
/// Columns of C in one tile of the dot-product kernel (the unit it is split in between threads).
#define RNN_SIMD_DOT_COLS 4

/// Columns of one packed panel: 16 floats, 8 doubles (two 256-bit vectors).
ptrdiff_t rnn_panel_width_f32(void);
ptrdiff_t rnn_panel_width_f64(void);

/// C (+ C when `accumulate`) = A · B for A (a, ars, acs) m × k and B (b, brs, bcs) k × n, by packing A and B
/// (B read in place for few rows when row-major) and a 6 × (panel width) register-blocked micro-kernel.
/// rowInit [n] (or NULL): C[i, j] = rowInit[j] + (A · B)[i, j] instead, bit for bit what filling every row of
/// C with rowInit and accumulating gives (a bias added without a pass over C).
void rnn_gemm_blocked_f32(const float *a, ptrdiff_t ars, ptrdiff_t acs, const float *b, ptrdiff_t brs, ptrdiff_t bcs,
                          float *c, ptrdiff_t ldc, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int accumulate,
                          const float *rowInit);
void rnn_gemm_blocked_f64(const double *a, ptrdiff_t ars, ptrdiff_t acs, const double *b, ptrdiff_t brs, ptrdiff_t bcs,
                          double *c, ptrdiff_t ldc, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int accumulate,
                          const double *rowInit);

/// C[i, j] (+)= Σ_p A[i, p] · B[j, p] for A [m, k] (leading dimension lda) and B [n, k] (ldb), both
/// row-major: 2 × 4 tiles of C, each element a vector accumulator over p summed across lanes at the end.
void rnn_gemm_dot_f32(const float *a, const float *b, float *c, ptrdiff_t ldc, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                      ptrdiff_t lda, ptrdiff_t ldb, int accumulate);
void rnn_gemm_dot_f64(const double *a, const double *b, double *c, ptrdiff_t ldc, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                      ptrdiff_t lda, ptrdiff_t ldb, int accumulate);

/// Elements of the panels `rnn_pack_panels_*` writes for a [k, n] operand.
ptrdiff_t rnn_panel_elements_f32(ptrdiff_t k, ptrdiff_t n);
ptrdiff_t rnn_panel_elements_f64(ptrdiff_t k, ptrdiff_t n);

/// Packs B ([k, n], or [n, k] when `transposed`) into panels at dst: depth block [p0, p0 + kcur) (kc = 256,
/// the last shorter) starts at p0 · nPad (nPad = n rounded up to the panel width) and holds the ⌈n / width⌉
/// panels of kcur × width elements, panel q holding for each p B[p0 + p, q·width ..< (q+1)·width] (zero past n).
void rnn_pack_panels_f32(const float *b, ptrdiff_t k, ptrdiff_t n, int transposed, float *dst);
void rnn_pack_panels_f64(const double *b, ptrdiff_t k, ptrdiff_t n, int transposed, double *dst);

/// C[:, panels q0 ..< q1] (+)= A · B for A (a, ars, acs) m × k and B [k, n] in panels (`rnn_pack_panels_*`).
/// rowInit [n] (or NULL): add the product to rowInit[j] instead, as `rnn_gemm_blocked_*`.
void rnn_prepacked_blocked_f32(const float *a, ptrdiff_t ars, ptrdiff_t acs, const float *panels, float *c, ptrdiff_t ldc,
                               ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t q0, ptrdiff_t q1, int accumulate,
                               const float *rowInit);
void rnn_prepacked_blocked_f64(const double *a, ptrdiff_t ars, ptrdiff_t acs, const double *panels, double *c, ptrdiff_t ldc,
                               ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t q0, ptrdiff_t q1, int accumulate,
                               const double *rowInit);

/// The elementwise functions of `rnn_vector_apply_*`.
enum { RNN_VECTOR_EXP = 0, RNN_VECTOR_SIGMOID = 1, RNN_VECTOR_TANH = 2 };

/// y = f(x) elementwise over n elements (8 floats or 4 doubles at a time); x and y may be the same buffer.
/// The same IEEE operations in the same order as RNNKernels' VectorMathCore.swift (no fused multiply-add),
/// so the results are bit-identical to it.
void rnn_vector_apply_f32(int function, const float *x, float *y, ptrdiff_t n);
void rnn_vector_apply_f64(int function, const double *x, double *y, ptrdiff_t n);

/// The cell of `rnn_sequence_forward_*`: an LSTM, or a GRU with the reset applied after the product.
enum { RNN_SEQUENCE_LSTM = 0, RNN_SEQUENCE_GRU = 1 };
/// At most this many parts (threads) in `rnn_sequence_forward_*`.
#define RNN_SEQUENCE_MAX_PARTS 8

/// The arguments of `rnn_sequence_forward_f32` (the f64 twin below is the same with doubles).
///
/// Shapes: B batch, H hidden, G gates (4 LSTM, 3 GRU), T steps.
/// - kind: `RNN_SEQUENCE_LSTM` | `RNN_SEQUENCE_GRU`. blocks: the storage block of each gate, LSTM i, f, g, o;
///   GRU z, r, n. updateSideCandidate (GRU): h = (1 − z) h_prev + z n when 1, z h_prev + (1 − z) n when 0.
/// - reverse: steps run t = T−1 … 0. processingOrder: output k of processing goes to row k (else to row t).
/// - parts (1 ... `RNN_SEQUENCE_MAX_PARTS`), bounds [parts + 1]: part p computes the hidden units
///   bounds[p] ..< bounds[p+1] on its own thread (part 0 on the caller's); panels[p]: its rows of R, k for every
///   gate block, packed by `rnn_pack_panels_*` as the [H, G·w] operand (w its number of units, transposed R rows).
///   The parts meet at a spinning barrier once per step, since every unit of h_t reads all of h_{t-1}.
/// - splitRows: the parts split the batch instead: part p runs the rows bounds[p] ..< bounds[p+1] (at least
///   two each, so that the products run the tile kernels, whose sums do not depend on the rows around them)
///   through every step, every hidden unit, on panels[0] and inputPanels[0] (R and W whole). The rows of a
///   batch never meet, so the parts never wait for each other.
/// - projected [T, B, G·H]: the input part of every gate in time order (x Wᵀ + b_W, + b_R for the LSTM); or,
///   when inputs is not NULL, computed per step instead: inputs [T, B, I] (inputSize I), inputPanels[p] the
///   rows of W of part p packed as panels[p] are, inputBias [G·H] the bias the projection starts from. Each
///   step then adds its product to the bias exactly as `rnn_gemm_blocked_*` with rowInit does over all
///   steps (one micro-kernel, the same order), so both give the same bits when batch > 1.
/// - recurrentBias [G·H] (GRU): b_R, added to the product per gate.
/// - hA [B, H]: h_0 on entry, h after the last step on return; hB [B, H]: scratch. c [B, H] (LSTM): c_0 on
///   entry, the last c on return. out [T, B, H]: every step's h.
/// - What a backward pass reads, each NULL when not wanted, a buffer per processing step k: gatesOut[k]
///   [B, G·H] every gate after its activation in storage order; cellsOut[k] [B, H] (LSTM) c after the step;
///   resetOut[k] [B, H] (GRU) R_n h_prev + b_Rn.
typedef struct {
    int kind, reverse, processingOrder, updateSideCandidate, splitRows;
    ptrdiff_t steps, batch, hidden, parts;
    const ptrdiff_t *blocks;
    const ptrdiff_t *bounds;
    const float *const *panels;
    const float *projected;
    const float *inputs;
    ptrdiff_t inputSize;
    const float *const *inputPanels;
    const float *inputBias;
    const float *recurrentBias;
    float *hA, *hB, *c, *out;
    float *const *gatesOut, *const *cellsOut, *const *resetOut;
} rnn_sequence_args_f32;

typedef struct {
    int kind, reverse, processingOrder, updateSideCandidate, splitRows;
    ptrdiff_t steps, batch, hidden, parts;
    const ptrdiff_t *blocks;
    const ptrdiff_t *bounds;
    const double *const *panels;
    const double *projected;
    const double *inputs;
    ptrdiff_t inputSize;
    const double *const *inputPanels;
    const double *inputBias;
    const double *recurrentBias;
    double *hA, *hB, *c, *out;
    double *const *gatesOut, *const *cellsOut, *const *resetOut;
} rnn_sequence_args_f64;

/// An LSTM or GRU layer forward over a whole sequence, and its step caches when asked: per step h_prev Rᵀ on
/// the packed panels (`rnn_prepacked_blocked_*`) and every gate fused after it, the parts on their own threads
/// (split by hidden unit, meeting at a spinning barrier once per step, or by batch row, never meeting).
/// Bit-identical to the step-by-step product and gate operations it fuses. Returns 1, or 0 without having
/// run when a thread could not be created for parts that meet at the barrier (split by batch row, a part
/// whose thread cannot be created runs on the caller's thread instead).
int rnn_sequence_forward_f32(const rnn_sequence_args_f32 *args);
int rnn_sequence_forward_f64(const rnn_sequence_args_f64 *args);

/// The arguments of `rnn_sequence_backward_f32` (the f64 twin below is the same with doubles): n steps of
/// backpropagation through time of a run the fused forward pass kept (`gatesOut`, `cellsOut`, `resetOut`), in
/// reverse processing order, j = 0 … n−1 being processing step k − j.
///
/// Shapes: B batch, H hidden (= the state size), G gates (4 LSTM, 3 GRU).
/// - kind, blocks, updateSideCandidate: as `rnn_sequence_args_f32`.
/// - parts (1 ... `RNN_SEQUENCE_MAX_PARTS`), bounds [parts + 1]: part p runs the batch rows
///   bounds[p] ..< bounds[p+1] through every step on its own thread (part 0 on the caller's). The rows never
///   meet; each part's product dh_prev = dR · R has its rows (1 row: the 1-row kernel), as the backward
///   step of RNNKernels runs it on the same ranges (which have 2 rows or more when there are several).
/// - panels: R, [G·H, H], packed by `rnn_pack_panels_*` as the right operand of dR · R.
/// - gates[j] [B, G·H]: step j's gates after their activations, storage order. states[j] [B, H]: the LSTM's
///   c after the step, the GRU's reset input R_n h_prev + b_Rn. cPrev (LSTM; NULL for the GRU): cPrev[j]
///   [B, H], c before the step. hPrev[j] [B, H] (read by the GRU): h before the step. dy[j] [B, H] or NULL:
///   the gradient of step j's output.
/// - dh [B, H], dc [B, H] (LSTM): on entry dL/dh and dL/dc after step 0 from the steps after it; on return
///   the same before step n−1 (dL/dh_prev, dL/dc_prev).
/// - da [n, B, G·H]: every step's gradient of the gate pre-activations; dRecurrent [n, B, G·H] (GRU): the
///   same with the n block times r, what R's gradient multiplies h_prev by.
/// The operations are those of RNNKernels' `lstmBackwardStep` and `gruBackwardStepResetAfter` for sigmoid
/// gates and tanh candidate and output, in the same order, so the results are bit-identical to them.
typedef struct {
    int kind, updateSideCandidate;
    ptrdiff_t steps, batch, hidden, parts;
    const ptrdiff_t *blocks;
    const ptrdiff_t *bounds;
    const float *panels;
    const float *const *gates, *const *states, *const *cPrev, *const *hPrev, *const *dy;
    float *dh, *dc, *da, *dRecurrent;
} rnn_sequence_backward_args_f32;

typedef struct {
    int kind, updateSideCandidate;
    ptrdiff_t steps, batch, hidden, parts;
    const ptrdiff_t *blocks;
    const ptrdiff_t *bounds;
    const double *panels;
    const double *const *gates, *const *states, *const *cPrev, *const *hPrev, *const *dy;
    double *dh, *dc, *da, *dRecurrent;
} rnn_sequence_backward_args_f64;

/// Backpropagation through n steps of an LSTM or GRU layer (see `rnn_sequence_backward_args_f32`), the
/// batch's rows split between threads that never meet.
void rnn_sequence_backward_f32(const rnn_sequence_backward_args_f32 *args);
void rnn_sequence_backward_f64(const rnn_sequence_backward_args_f64 *args);

/// For tests: makes the calling thread's next thread creations in the fused passes fail after `after` of
/// them succeed (0: every one fails; −1: none fails, the default), as when the process is out of threads.
/// Returns how many creations were made to fail since the call before, so that a test can tell the failure
/// reached the pass.
int rnn_simd_fail_thread_creation_for_testing(int after);

/// For tests: 0 turns the AVX-512 paths off on the calling thread, and on the threads of the fused passes it
/// starts (`rnn_prepacked_blocked_*` then runs its AVX2 tiles, `rnn_vector_apply_*` its 256-bit sigmoid
/// and tanh); 1 turns them back on. Returns 1 when this CPU runs them at all, so that a test comparing the two
/// knows whether it compared anything. Both paths compute the same bits.
int rnn_simd_wide_for_testing(int enabled);

/// For tests: how many products the AVX-512 tiles of `rnn_prepacked_blocked_*` ran on the calling thread and
/// on the threads of the fused passes it ran (added when they finish), so that a test can tell which tiles a
/// pass ran, whatever other threads do meanwhile.
long rnn_simd_wide_products_for_testing(void);

#ifdef __cplusplus
}
#endif

#endif
