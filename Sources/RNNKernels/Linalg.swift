// Dense products used by every kernel. One place, so that a faster implementation
// (blocking, SIMD, threads) replaces all callers at once.
//
// Shapes: A [M, K], B [K, N], C [M, N]; vectors are rank-1.
//
// The packed SIMD kernels live in RNNKernelsSIMD (C, compiled for AVX2 + FMA on x86-64 by function
// attributes); GemmDispatch.swift decides at run time whether the CPU has them and how many threads a
// product gets.

/// C = A · B (+ C when `accumulate`), with A [M, K] and B [K, N], both row-major.
///
///     C[i, j] = Σ_p A[i, p] · B[p, j]   (+ C[i, j])
///
/// Arguments:
///   - transposeA: read A as its transpose: the argument is then laid out [K, M].
///   - transposeB: read B as its transpose: the argument is then laid out [N, K].
///
/// Every term is summed, as IEEE arithmetic has it: a NaN or infinity anywhere in a row of A or a column
/// of B reaches the corresponding elements of C (0 · ∞ is NaN). Small products run a plain loop; larger
/// ones a packed SIMD kernel (AVX2 + FMA on x86-64, chosen at run time) on up to two threads, which sums
/// in a different order and with fused multiply-adds, so results differ from the plain loop by rounding.
@inlinable
public func gemm<T: KernelScalar>(
    _ a: [T], _ b: [T], into c: inout [T],
    m: Int, n: Int, k: Int,
    transposeA: Bool = false, transposeB: Bool = false, accumulate: Bool = false
) {
    gemm(
        a, b, into: &c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
        accumulate: accumulate, path: .automatic)
}

/// C = row + A · B in every row of C, with `row` [N]: bit for bit `gemm(accumulate: true)` on a C whose rows
/// were each filled with `row` (a bias added to a product), without that filling pass where the packed
/// kernel runs (it starts each sum from the row).
///
///     C[i, j] = row[j] + Σ_p A[i, p] · B[p, j]
///
/// - Returns: C, [M, N].
@inlinable
public func gemm<T: KernelScalar>(
    _ a: [T], _ b: [T], addingRow row: [T], m: Int, n: Int, k: Int, transposeA: Bool = false,
    transposeB: Bool = false
) -> [T] {
    precondition(a.count == m * k && b.count == k * n && row.count == n, "gemm: shape mismatch")
    let threads = gemmPackedThreads(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
    if threads > 0 && m > 0 && n > 0 && k > 0 {
        return [T](unsafeUninitializedCapacity: m * n) { c, count in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    row.withUnsafeBufferPointer { pr in
                        T.packedGemm(
                            pa.baseAddress!, pb.baseAddress!, c.baseAddress!, addingRow: pr.baseAddress!, m: m, n: n,
                            k: k, transposeA: transposeA, transposeB: transposeB, threads: threads)
                    }
                }
            }
            count = m * n
        }
    }
    var c = [T]()
    c.reserveCapacity(m * n)
    for _ in 0..<m { c.append(contentsOf: row) }
    gemm(a, b, into: &c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, accumulate: true)
    return c
}

/// Which implementation `gemm` uses: `.automatic` chooses by size and CPU; tests pin the others.
@usableFromInline
enum GemmPath: Sendable {
    case automatic
    /// The plain loop (also the fallback on CPUs without AVX2/FMA).
    case simple
    /// The packed SIMD kernel on this many threads, whatever the size (only where the CPU has it).
    case packed(threads: Int)
}

/// `gemm` with the implementation chosen by `path`.
@inlinable
func gemm<T: KernelScalar>(
    _ a: [T], _ b: [T], into c: inout [T], m: Int, n: Int, k: Int,
    transposeA: Bool, transposeB: Bool, accumulate: Bool, path: GemmPath
) {
    precondition(a.count == m * k && b.count == k * n && c.count == m * n, "gemm: shape mismatch")
    if m == 0 || n == 0 { return }
    if k == 0 {
        if !accumulate { for i in 0..<(m * n) { c[i] = 0 } }
        return
    }
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                let a0 = pa.baseAddress!, b0 = pb.baseAddress!, c0 = pc.baseAddress!
                let threads: Int
                switch path {
                case .automatic:
                    threads = gemmPackedThreads(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
                case .simple: threads = 0
                case .packed(let t): threads = packedGemmAvailable ? t : 0
                }
                if threads > 0 {
                    T.packedGemm(
                        a0, b0, c0, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                        accumulate: accumulate, threads: threads)
                    return
                }
                gemmSimple(
                    a0, b0, c0, m: m, n: n, k: k,
                    transposeA: transposeA, transposeB: transposeB, accumulate: accumulate)
            }
        }
    }
}

/// The plain loop: row by row, each element summed in order of p. Used below the size where packing
/// pays, and on CPUs without the SIMD kernel.
@inlinable
func gemmSimple<T: KernelScalar>(
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>, m: Int, n: Int, k: Int,
    transposeA: Bool, transposeB: Bool, accumulate: Bool
) {
    if transposeB && !transposeA {
        // Rows of A and rows of the [N, K] argument are both contiguous: dot products.
        for i in 0..<m {
            let ai = a + i * k
            for j in 0..<n {
                let bj = b + j * k
                var s: T = accumulate ? c[i * n + j] : 0
                for p in 0..<k { s += ai[p] * bj[p] }
                c[i * n + j] = s
            }
        }
        return
    }
    if !accumulate { c.update(repeating: 0, count: m * n) }
    for i in 0..<m {
        let ci = c + i * n
        for p in 0..<k {
            let aip = transposeA ? a[p * m + i] : a[i * k + p]
            if transposeB {
                for j in 0..<n { ci[j] += aip * b[j * k + p] }
            } else {
                let row = b + p * n
                for j in 0..<n { ci[j] += aip * row[j] }
            }
        }
    }
}

/// A · B for rank-2 tensors: [M, K] · [K, N] → [M, N].
@inlinable
public func matmul<T: KernelScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    precondition(
        a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
        "matmul: \(a.shape) · \(b.shape)")
    var c = [T](repeating: 0, count: a.shape[0] * b.shape[1])
    gemm(a.scalars, b.scalars, into: &c, m: a.shape[0], n: b.shape[1], k: a.shape[1])
    return Tensor(shape: [a.shape[0], b.shape[1]], scalars: c)
}

/// y = W x for W [M, N] and x [N] → [M].
///
/// Computed as the product xᵀ · Wᵀ ([1, N] · [N, M]) by `gemm`.
@inlinable
public func matvec<T: KernelScalar>(_ w: Tensor<T>, _ x: Tensor<T>) -> Tensor<T> {
    precondition(w.rank == 2 && x.rank == 1 && w.shape[1] == x.count, "matvec: \(w.shape) · \(x.shape)")
    var y = [T](repeating: 0, count: w.shape[0])
    gemm(x.scalars, w.scalars, into: &y, m: 1, n: w.shape[0], k: w.shape[1], transposeB: true)
    return Tensor(y)
}

/// Euclidean norm of all elements of all tensors: sqrt(Σ x²).
///
/// Scaled so that elements near the overflow threshold do not overflow the sum of squares.
@inlinable
public func globalNorm<T: KernelScalar>(_ tensors: [Tensor<T>]) -> T {
    var largest: T = 0
    for t in tensors { for v in t.scalars { largest = Swift.max(largest, Swift.abs(v)) } }
    if largest == 0 || !largest.isFinite { return largest.isNaN ? .nan : largest }
    var sum: T = 0
    for t in tensors { for v in t.scalars { let s = v / largest; sum += s * s } }
    return largest * sum.squareRoot()
}
