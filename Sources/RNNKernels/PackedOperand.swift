// A right-hand matrix packed once for many products: the recurrent weights R of a sequence, used at every
// step by h_{t-1} · Rᵀ (forward) and dA_t · R (backward) with the same R.
//
// Shapes: A [M, K], B [K, N], C [M, N]; B given as [K, N], or [N, K] when transposed.
//
// The panels are the packed kernel's layout (RNNKernelsSIMD/GemmTemplate.h, `rnn_pack_panels_*`); on CPUs without the
// packed kernels the operand keeps B as given and the product is the plain loop, as `gemm`'s there.

import RNNKernelsSIMD

/// B packed once into the matrix-product micro-kernel's panel layout, for many products with different A.
///
///     C = A · B   with B [K, N] fixed and A [M, K] changing
///
/// - `k`, `n`: the logical shape of B, [K, N], whichever layout it was packed from.
///
/// Made by `packOperand(_:k:n:transposed:)`, used by `gemm(_:_:into:m:transposeA:accumulate:)`. Packing
/// copies B once into fresh memory (about the time of four products with 32 rows of A); every product then reads the panels contiguously, with neither the
/// packing `gemm` would repeat nor the strided [N, K] reads of its dot-product kernel. Where the CPU lacks the packed kernels (x86-64 without AVX2/FMA) the operand
/// holds B as given instead, and products are the plain loop. Small operands keep B as given as well, so
/// that products too small for the packed kernel run the same plain loop as `gemm`.
public struct PackedOperand<T: KernelScalar>: Sendable {
    /// Rows of B: the depth of each product.
    public let k: Int
    /// Columns of B: the columns of each product.
    public let n: Int
    /// B in panels; nil where the packed kernels are unavailable (or in tests of the fallback).
    @usableFromInline let panels: PanelBuffer<T>?
    /// B as given (empty when only the panels are kept).
    @usableFromInline let plain: [T]
    /// Whether `plain` is laid out [N, K].
    @usableFromInline let transposed: Bool

    @inlinable
    init(k: Int, n: Int, panels: PanelBuffer<T>?, plain: [T], transposed: Bool) {
        self.k = k; self.n = n; self.panels = panels; self.plain = plain; self.transposed = transposed
    }

    /// Whether the product runs on packed panels (false: the plain loop on B as given).
    public var isPacked: Bool { panels != nil }
}

/// Memory for panels, aligned to a cache line; immutable once filled.
@usableFromInline
final class PanelBuffer<T>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<T>
    @usableFromInline let count: Int
    /// How many products the packed kernel has run on these panels (`gemm` with the operand, `gemmRows`):
    /// what tests read to know a step took the packed path, counted per operand so that products on
    /// other operands, on other threads, do not count.
    @usableFromInline let products: UnsafeMutablePointer<CLong>

    @inlinable
    init(count: Int) {
        self.count = count
        base = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
            .bindMemory(to: T.self, capacity: max(1, count))
        products = .allocate(capacity: 1)
        products.initialize(to: 0)
    }

    deinit {
        base.deallocate()
        products.deallocate()
    }
}

/// Operands up to this many elements also keep B as given, for products small enough that `gemm` runs
/// the plain loop (a 16 × 64 operand is 4 KB).
@usableFromInline
let packedOperandPlainLimit = 64 * 64

/// Packs B for repeated products `gemm(a, packed, into: &c, m:)`.
///
///     PackedOperand(B)   with B [K, N], or stored [N, K] when `transposed`
///
/// - Parameters:
///   - b: B, row-major: [k, n], or [n, k] when `transposed` (so `packOperand(r, k: h, n: 4 * h,
///     transposed: true)` packs Rᵀ for h · Rᵀ from R [4H, H]).
///   - k: rows of B.
///   - n: columns of B.
///   - transposed: `b` holds Bᵀ.
@inlinable
public func packOperand<T: KernelScalar>(_ b: [T], k: Int, n: Int, transposed: Bool) -> PackedOperand<T> {
    packOperand(b, k: k, n: n, transposed: transposed, panels: packedGemmAvailable)
}

/// `packOperand` with the choice of panels made by the caller (tests pin the fallback with false).
@inlinable
func packOperand<T: KernelScalar>(_ b: [T], k: Int, n: Int, transposed: Bool, panels: Bool) -> PackedOperand<T> {
    precondition(k >= 0 && n >= 0 && b.count == k * n, "packOperand: \(b.count) elements for [\(k), \(n)]")
    guard panels && packedGemmAvailable && k > 0 && n > 0 else {
        return PackedOperand(k: k, n: n, panels: nil, plain: b, transposed: transposed)
    }
    let buffer = PanelBuffer<T>(count: T.packedPanelElements(k: k, n: n))
    b.withUnsafeBufferPointer { pb in
        T.packPanels(pb.baseAddress!, k: k, n: n, transposed: transposed, into: buffer.base)
    }
    return PackedOperand(
        k: k, n: n, panels: buffer, plain: k * n <= packedOperandPlainLimit ? b : [],
        transposed: transposed)
}

/// C = A · B (+ C when `accumulate`), with A [M, K] row-major and B packed by `packOperand`.
///
///     C[i, j] = Σ_p A[i, p] · B[p, j]   (+ C[i, j])
///
/// Arguments:
///   - a: A, [m, b.k], or [b.k, m] when `transposeA`.
///   - c: C, [m, b.n].
///   - transposeA: read A as its transpose: the argument is then laid out [K, M].
///
/// Results are those of `gemm` on the same matrices up to rounding. The packed kernel (fused multiply-adds,
/// depth blocks of 256; a 1-row kernel when m = 1) runs on the panels, split by panels between two threads
/// from 4·10⁶ multiply-adds. The plain loop runs on CPUs without the packed kernels (the same loop
/// as `gemm` there), and for products of more than one row that `gemm` would run as a plain loop (when
/// the operand is small enough to keep B as given). NaN and infinity propagate as in `gemm`.
@inlinable
public func gemm<T: KernelScalar>(
    _ a: [T], _ b: PackedOperand<T>, into c: inout [T], m: Int,
    transposeA: Bool = false, accumulate: Bool = false
) {
    gemm(a, b, into: &c, m: m, transposeA: transposeA, accumulate: accumulate, threads: nil)
}

/// The product with a packed operand; `threads` pins the packed kernel's thread count (tests), nil chooses.
@inlinable
func gemm<T: KernelScalar>(
    _ a: [T], _ b: PackedOperand<T>, into c: inout [T], m: Int,
    transposeA: Bool, accumulate: Bool, threads pinned: Int?
) {
    let n = b.n, k = b.k
    precondition(a.count == m * k && c.count == m * n, "gemm: shape mismatch with the packed operand")
    guard let panels = b.panels else {
        gemm(
            a, b.plain, into: &c, m: m, n: n, k: k, transposeA: transposeA, transposeB: b.transposed,
            accumulate: accumulate, path: .simple)
        return
    }
    if m == 0 || n == 0 { return }
    if k == 0 {
        if !accumulate { for i in 0..<(m * n) { c[i] = 0 } }
        return
    }
    var threads = pinned ?? prepackedThreads(m: m, n: n, k: k)
    // A single row takes the panels' 1-row kernel (faster than the plain loop at every size measured);
    // other products that `gemm` would run as a plain loop run it here too.
    if pinned == nil && m > 1 && !b.plain.isEmpty
        && gemmPackedThreads(m: m, n: n, k: k, transposeA: transposeA, transposeB: b.transposed) == 0
    {
        threads = 0
    }
    if threads == 0 && !b.plain.isEmpty {
        gemm(
            a, b.plain, into: &c, m: m, n: n, k: k, transposeA: transposeA, transposeB: b.transposed,
            accumulate: accumulate, path: .simple)
        return
    }
    rnn_probe_count(panels.products)
    a.withUnsafeBufferPointer { pa in
        c.withUnsafeMutableBufferPointer { pc in
            T.prepackedGemm(
                pa.baseAddress!, panels.base, pc.baseAddress!,
                m: m, n: n, k: k, transposeA: transposeA, accumulate: accumulate, threads: max(1, threads))
        }
    }
}

/// Threads for a product with packed panels: two from 4·10⁶ multiply-adds (the LSTM's h · Rᵀ at H = 256
/// is 8.4·10⁶), where the second thread's share outweighs the hand-off even on a loaded machine; below,
/// one.
@usableFromInline
func prepackedThreads(m: Int, n: Int, k: Int) -> Int {
    m * n * k >= 4_000_000 ? min(2, onlineProcessors) : 1
}

/// C (+)= A · B for `m` rows given by pointers, on the calling thread: a block of rows of a larger
/// product, for callers that already split their rows over threads. B must have panels.
///
/// - Parameters: - a: [m, b.k], rows contiguous. - c: [m, b.n].
@inlinable
func gemmRows<T: KernelScalar>(
    _ a: UnsafePointer<T>, _ b: PackedOperand<T>, into c: UnsafeMutablePointer<T>, m: Int,
    accumulate: Bool
) {
    guard let panels = b.panels else { preconditionFailure("gemmRows: the operand has no panels") }
    if m == 0 || b.n == 0 || b.k == 0 { return }
    rnn_probe_count(panels.products)
    T.prepackedGemm(a, panels.base, c, m: m, n: b.n, k: b.k, transposeA: false, accumulate: accumulate, threads: 1)
}

extension PackedOperand {
    /// How many products the packed kernel has run on this operand's panels (0 without panels).
    var productCount: Int { panels.map { rnn_probe_read($0.products) } ?? 0 }
}
