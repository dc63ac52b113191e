// Run-time choices for `gemm`: whether this CPU can run the SIMD kernels of RNNKernelsSIMD (a C target
// whose kernels are compiled for AVX2 + FMA by function attributes on x86-64), how many threads a product
// gets, and the drivers that split a product between threads and call the C kernels.
//
// Shapes: A [M, K], B [K, N], C [M, N], row-major; a transposed argument is laid out [K, M] / [N, K].

import Dispatch
import RNNKernelsSIMD
import RNNPlatform

/// Whether the packed kernels (and the SIMD copy of the vector functions) can run here, asked once of
/// RNNKernelsSIMD (`rnn_simd_supported`: AVX2 and FMA by CPUID, with the 256-bit state saved by the
/// operating system, on x86-64; always on arm64; never elsewhere).
@usableFromInline
package let packedGemmAvailable: Bool = rnn_simd_supported() != 0

/// Online processors, read once.
let onlineProcessors: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

/// Up to this many rows of A, A · Bᵀ may run the dot-product kernel, which packs nothing: for few, long
/// rows, packing B would cost more than it saves (on [m, 384] · [1024, 384]ᵀ the crossover is near 96
/// rows; the whole rule is `simdGemmRunsDot`).
let dotProductMaxRows = Int(RNN_SIMD_DOT_MAX_ROWS)

/// Threads for the packed kernels on an [m, k] · [k, n] product; 0 means the plain loop.
///
/// A · Bᵀ with few, long rows (the recurrent products of a batch) runs the dot-product kernel, which packs
/// nothing (`simdGemmRunsDot`). Otherwise the plain loop wins below 16³
/// multiply-adds and with fewer than 4 rows or columns (packing B costs as much as such a product).
/// The second thread pays from a few million multiply-adds.
@usableFromInline
func gemmPackedThreads(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> Int {
    guard packedGemmAvailable else { return 0 }
    let work = m * n * k
    let dot = simdGemmRunsDot(m: m, k: k, transposeA: transposeA, transposeB: transposeB)
    if !dot && (work < 16 * 16 * 16 || m < 4 || n < 4) { return 0 }
    return work >= 4_000_000 ? min(2, onlineProcessors) : 1
}

/// The C kernels of RNNKernelsSIMD for one scalar type (Float: `_f32`, Double: `_f64`). Float and Double are
/// deliberate twins: each names its own C functions.
protocol SIMDKernelScalar: KernelScalar {
    /// Columns of a packed panel (two 256-bit vectors).
    static var panelWidth: Int { get }
    /// C (+)= A · B, A (a, ars, acs) m × k, B (b, brs, bcs) k × n, C row-major with leading dimension ldc;
    /// C = rowInit + A · B (every row) when `rowInit` is given.
    static func blocked(
        _ a: UnsafePointer<Self>, _ ars: Int, _ acs: Int, _ b: UnsafePointer<Self>, _ brs: Int, _ bcs: Int,
        _ c: UnsafeMutablePointer<Self>, _ ldc: Int, m: Int, n: Int, k: Int, accumulate: Bool,
        rowInit: UnsafePointer<Self>?)
    /// C (+)= A · Bᵀ for A [m, k] and B [n, k] row-major (leading dimensions lda, ldb): the dot-product kernel.
    static func dot(
        _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>, _ ldc: Int,
        m: Int, n: Int, k: Int, lda: Int, ldb: Int, accumulate: Bool)
    /// C[:, panels q] (+)= A · B for q in `panels`, A (a, ars, acs) m × k, B [k, n] in panels.
    static func prepackedBlocked(
        _ a: UnsafePointer<Self>, _ ars: Int, _ acs: Int, _ b: UnsafePointer<Self>,
        _ c: UnsafeMutablePointer<Self>, _ ldc: Int, m: Int, n: Int, k: Int, panels: Range<Int>,
        accumulate: Bool)
}

/// Pointers handed to the threads of one product (each thread writes its own part of C).
struct ProductPointers<S>: @unchecked Sendable {
    let a: UnsafePointer<S>
    let b: UnsafePointer<S>
    let c: UnsafeMutablePointer<S>
    var rowInit: UnsafePointer<S>? = nil
}

/// `chunk` elements of `length` per part for `parts` parts, rounded up to whole `unit`s.
func partChunk(_ length: Int, parts: Int, unit: Int) -> Int { ((length + parts - 1) / parts + unit - 1) / unit * unit }

/// Whether `simdGemm` runs A · Bᵀ by the dot-product kernel (else by the packed blocked kernel): up to
/// `dotProductMaxRows` rows of at least one vector, and for 4 rows or more, rows at least 4·m long.
///
/// The dot-product kernel ends every element of C with a horizontal sum, where the blocked kernel pays
/// for packing B once per element of B; the inner loops cost the same per multiply-add. Measured on
/// [m, k] · [n, k]ᵀ, n = 64, 256 and 1024, one thread: the blocked kernel is faster below k ≈ 4·m (at
/// [64, 8] · [64, 8]ᵀ, the notebooks' input projection, by 3.7×) and the dot-product kernel above it (by
/// up to 1.15× at m = 32, up to 10× at one row). Below 4 rows the blocked kernel does not run at all.
func simdGemmRunsDot(m: Int, k: Int, transposeA: Bool, transposeB: Bool) -> Bool {
    transposeB && !transposeA && m <= dotProductMaxRows && k >= 8 && (m < 4 || k >= 4 * m)
}

/// Whether `gemm` runs this product by the packed blocked kernel (`rnn_gemm_blocked_*`), whose sums the
/// packed kernel on prepacked panels repeats for two rows or more.
@usableFromInline
func gemmRunsBlockedKernel(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> Bool {
    gemmPackedThreads(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB) > 0
        && !simdGemmRunsDot(m: m, k: k, transposeA: transposeA, transposeB: transposeB)
}

/// C = op(A) · op(B) (+ C when `accumulate`) on `threads` threads: the dot-product kernel for A · Bᵀ where
/// `simdGemmRunsDot` says so (C split by columns), else the packed kernel with C split by columns when
/// there are enough, else by rows, in whole tiles. Call only where `packedGemmAvailable`.
///
/// `rowInit` [n]: C = rowInit + op(A) · op(B) in every row instead, bit for bit C filled with the row and
/// then accumulated into (the blocked kernel starts from the row; the dot-product kernel fills C first).
func simdGemm<S: SIMDKernelScalar>(
    _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>,
    m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, threads: Int,
    rowInit: UnsafePointer<S>? = nil
) {
    if m == 0 || n == 0 { return }
    if let row = rowInit, k == 0 || simdGemmRunsDot(m: m, k: k, transposeA: transposeA, transposeB: transposeB) {
        for i in 0..<m { (c + i * n).update(from: row, count: n) }
        return simdGemm(
            a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, accumulate: true,
            threads: threads)
    }
    let accumulate = accumulate && rowInit == nil
    if k == 0 {
        if !accumulate { c.update(repeating: 0, count: m * n) }
        return
    }
    let ptr = ProductPointers(a: a, b: b, c: c, rowInit: rowInit)
    if simdGemmRunsDot(m: m, k: k, transposeA: transposeA, transposeB: transposeB) {
        let cols = Int(RNN_SIMD_DOT_COLS)
        let parts = n >= 2 * cols * max(1, threads) ? max(1, threads) : 1
        if parts == 1 {
            S.dot(a, b, c, n, m: m, n: n, k: k, lda: k, ldb: k, accumulate: accumulate)
            return
        }
        let chunk = partChunk(n, parts: parts, unit: cols)
        DispatchQueue.concurrentPerform(iterations: parts) { t in
            let start = t * chunk, end = min(n, start + chunk)
            if start < end {
                S.dot(
                    ptr.a, ptr.b + start * k, ptr.c + start, n, m: m, n: end - start, k: k, lda: k, ldb: k,
                    accumulate: accumulate)
            }
        }
        return
    }
    let (ars, acs) = transposeA ? (1, m) : (k, 1)
    let (brs, bcs) = transposeB ? (1, k) : (n, 1)
    let parts = max(1, threads)
    if parts == 1 {
        S.blocked(a, ars, acs, b, brs, bcs, c, n, m: m, n: n, k: k, accumulate: accumulate, rowInit: rowInit)
        return
    }
    // Split the longer side in whole tiles.
    let mr = Int(RNN_SIMD_MR)
    let byColumns = n >= m || m < parts * mr
    let chunk = partChunk(byColumns ? n : m, parts: parts, unit: byColumns ? S.panelWidth : mr)
    DispatchQueue.concurrentPerform(iterations: parts) { t in
        let start = t * chunk, end = min(byColumns ? n : m, start + chunk)
        if start >= end { return }
        if byColumns {
            S.blocked(
                ptr.a, ars, acs, ptr.b + start * bcs, brs, bcs, ptr.c + start, n, m: m, n: end - start, k: k,
                accumulate: accumulate, rowInit: ptr.rowInit.map { $0 + start })
        } else {
            S.blocked(
                ptr.a + start * ars, ars, acs, ptr.b, brs, bcs, ptr.c + start * n, n, m: end - start, n: n, k: k,
                accumulate: accumulate, rowInit: ptr.rowInit)
        }
    }
}

/// C = op(A) · B (+ C when `accumulate`) with B in panels, on `threads` threads: the panels split between
/// the threads (by rows of A, in whole tiles, when there are fewer panels than threads). Call only where
/// `packedGemmAvailable`.
func simdPrepackedGemm<S: SIMDKernelScalar>(
    _ a: UnsafePointer<S>, _ panels: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>,
    m: Int, n: Int, k: Int, transposeA: Bool, accumulate: Bool, threads: Int
) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        if !accumulate { c.update(repeating: 0, count: m * n) }
        return
    }
    let count = (n + S.panelWidth - 1) / S.panelWidth
    let (ars, acs) = transposeA ? (1, m) : (k, 1)
    let parts = max(1, threads)
    if parts == 1 {
        S.prepackedBlocked(a, ars, acs, panels, c, n, m: m, n: n, k: k, panels: 0..<count, accumulate: accumulate)
        return
    }
    let mr = Int(RNN_SIMD_MR)
    let byColumns = count >= parts || m < parts * mr
    let length = byColumns ? count : m
    let chunk = partChunk(length, parts: parts, unit: byColumns ? 1 : mr)
    let ptr = ProductPointers(a: a, b: panels, c: c)
    DispatchQueue.concurrentPerform(iterations: parts) { t in
        let start = t * chunk, end = min(length, start + chunk)
        if start >= end { return }
        if byColumns {
            S.prepackedBlocked(
                ptr.a, ars, acs, ptr.b, ptr.c, n, m: m, n: n, k: k, panels: start..<end, accumulate: accumulate)
        } else {
            S.prepackedBlocked(
                ptr.a + start * ars, ars, acs, ptr.b, ptr.c + start * n, n, m: end - start, n: n, k: k,
                panels: 0..<count, accumulate: accumulate)
        }
    }
}

extension VectorFunction {
    /// The function's code in RNNKernelsSIMD (`RNN_VECTOR_*`).
    var simdCode: Int32 {
        switch self {
        case .exp: Int32(RNN_VECTOR_EXP)
        case .sigmoid: Int32(RNN_VECTOR_SIGMOID)
        case .tanh: Int32(RNN_VECTOR_TANH)
        }
    }
}

// The packed kernels per scalar type: the `KernelScalar` requirements that reach RNNKernelsSIMD. Float and
// Double are deliberate twins: each names its own C functions.

extension Float: SIMDKernelScalar {
    static var panelWidth: Int { rnn_panel_width_f32() }

    static func blocked(
        _ a: UnsafePointer<Float>, _ ars: Int, _ acs: Int, _ b: UnsafePointer<Float>, _ brs: Int, _ bcs: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, m: Int, n: Int, k: Int, accumulate: Bool,
        rowInit: UnsafePointer<Float>?
    ) {
        rnn_gemm_blocked_f32(a, ars, acs, b, brs, bcs, c, ldc, m, n, k, accumulate ? 1 : 0, rowInit)
    }

    static func dot(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
        m: Int, n: Int, k: Int, lda: Int, ldb: Int, accumulate: Bool
    ) {
        rnn_gemm_dot_f32(a, b, c, ldc, m, n, k, lda, ldb, accumulate ? 1 : 0)
    }

    static func prepackedBlocked(
        _ a: UnsafePointer<Float>, _ ars: Int, _ acs: Int, _ b: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, m: Int, n: Int, k: Int, panels: Range<Int>,
        accumulate: Bool
    ) {
        rnn_prepacked_blocked_f32(
            a, ars, acs, b, c, ldc, m, n, k, panels.lowerBound, panels.upperBound, accumulate ? 1 : 0, nil)
    }

    public static func packedGemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, threads: Int
    ) {
        simdGemm(
            a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, accumulate: accumulate,
            threads: threads)
    }

    public static func packedGemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        addingRow row: UnsafePointer<Float>,
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, threads: Int
    ) {
        simdGemm(
            a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, accumulate: false,
            threads: threads, rowInit: row)
    }

    public static func packedPanelElements(k: Int, n: Int) -> Int { rnn_panel_elements_f32(k, n) }

    public static func packPanels(
        _ b: UnsafePointer<Float>, k: Int, n: Int, transposed: Bool, into dst: UnsafeMutablePointer<Float>
    ) {
        rnn_pack_panels_f32(b, k, n, transposed ? 1 : 0, dst)
    }

    public static func prepackedGemm(
        _ a: UnsafePointer<Float>, _ panels: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeA: Bool, accumulate: Bool, threads: Int
    ) {
        simdPrepackedGemm(
            a, panels, c, m: m, n: n, k: k, transposeA: transposeA, accumulate: accumulate, threads: threads)
    }

    public static func vectorApply(
        _ f: VectorFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int,
        simd: Bool
    ) {
        if simd { rnn_vector_apply_f32(f.simdCode, x, y, n) } else { vectorMathApply(f, x, y, n) }
    }
}

extension Double: SIMDKernelScalar {
    static var panelWidth: Int { rnn_panel_width_f64() }

    static func blocked(
        _ a: UnsafePointer<Double>, _ ars: Int, _ acs: Int, _ b: UnsafePointer<Double>, _ brs: Int, _ bcs: Int,
        _ c: UnsafeMutablePointer<Double>, _ ldc: Int, m: Int, n: Int, k: Int, accumulate: Bool,
        rowInit: UnsafePointer<Double>?
    ) {
        rnn_gemm_blocked_f64(a, ars, acs, b, brs, bcs, c, ldc, m, n, k, accumulate ? 1 : 0, rowInit)
    }

    static func dot(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>, _ ldc: Int,
        m: Int, n: Int, k: Int, lda: Int, ldb: Int, accumulate: Bool
    ) {
        rnn_gemm_dot_f64(a, b, c, ldc, m, n, k, lda, ldb, accumulate ? 1 : 0)
    }

    static func prepackedBlocked(
        _ a: UnsafePointer<Double>, _ ars: Int, _ acs: Int, _ b: UnsafePointer<Double>,
        _ c: UnsafeMutablePointer<Double>, _ ldc: Int, m: Int, n: Int, k: Int, panels: Range<Int>,
        accumulate: Bool
    ) {
        rnn_prepacked_blocked_f64(
            a, ars, acs, b, c, ldc, m, n, k, panels.lowerBound, panels.upperBound, accumulate ? 1 : 0, nil)
    }

    public static func packedGemm(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, threads: Int
    ) {
        simdGemm(
            a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, accumulate: accumulate,
            threads: threads)
    }

    public static func packedGemm(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        addingRow row: UnsafePointer<Double>,
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, threads: Int
    ) {
        simdGemm(
            a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, accumulate: false,
            threads: threads, rowInit: row)
    }

    public static func packedPanelElements(k: Int, n: Int) -> Int { rnn_panel_elements_f64(k, n) }

    public static func packPanels(
        _ b: UnsafePointer<Double>, k: Int, n: Int, transposed: Bool, into dst: UnsafeMutablePointer<Double>
    ) {
        rnn_pack_panels_f64(b, k, n, transposed ? 1 : 0, dst)
    }

    public static func prepackedGemm(
        _ a: UnsafePointer<Double>, _ panels: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        m: Int, n: Int, k: Int, transposeA: Bool, accumulate: Bool, threads: Int
    ) {
        simdPrepackedGemm(
            a, panels, c, m: m, n: n, k: k, transposeA: transposeA, accumulate: accumulate, threads: threads)
    }

    public static func vectorApply(
        _ f: VectorFunction, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count n: Int,
        simd: Bool
    ) {
        if simd { rnn_vector_apply_f64(f.simdCode, x, y, n) } else { vectorMathApply(f, x, y, n) }
    }
}
