// Dense products used by every kernel. One place, so that a faster implementation
// (blocking, SIMD, threads) replaces all callers at once.
//
// Shapes: A [M, K], B [K, N], C [M, N]; vectors are rank-1.

/// C = A · B (+ C when `accumulate`), with A [M, K] and B [K, N], both row-major.
///
/// - Parameters:
///   - transposeA: read A as its transpose: the argument is then laid out [K, M].
///   - transposeB: read B as its transpose: the argument is then laid out [N, K].
@inlinable
public func gemm<T: KernelScalar>(
    _ a: [T], _ b: [T], into c: inout [T],
    m: Int, n: Int, k: Int,
    transposeA: Bool = false, transposeB: Bool = false, accumulate: Bool = false
) {
    precondition(a.count == m * k && b.count == k * n && c.count == m * n, "gemm: shape mismatch")
    if !accumulate { for i in 0..<(m * n) { c[i] = 0 } }
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                for i in 0..<m {
                    for p in 0..<k {
                        let aip = transposeA ? pa[p * m + i] : pa[i * k + p]
                        if aip == 0 { continue }
                        if transposeB {
                            for j in 0..<n { pc[i * n + j] += aip * pb[j * k + p] }
                        } else {
                            let row = p * n
                            for j in 0..<n { pc[i * n + j] += aip * pb[row + j] }
                        }
                    }
                }
            }
        }
    }
}

/// A · B for rank-2 tensors: [M, K] · [K, N] → [M, N].
@inlinable
public func matmul<T: KernelScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
                 "matmul: \(a.shape) · \(b.shape)")
    var c = [T](repeating: 0, count: a.shape[0] * b.shape[1])
    gemm(a.scalars, b.scalars, into: &c, m: a.shape[0], n: b.shape[1], k: a.shape[1])
    return Tensor(shape: [a.shape[0], b.shape[1]], scalars: c)
}

/// y = W x for W [M, N] and x [N] → [M].
@inlinable
public func matvec<T: KernelScalar>(_ w: Tensor<T>, _ x: Tensor<T>) -> Tensor<T> {
    precondition(w.rank == 2 && x.rank == 1 && w.shape[1] == x.count, "matvec: \(w.shape) · \(x.shape)")
    let m = w.shape[0], n = w.shape[1]
    var y = [T](repeating: 0, count: m)
    for i in 0..<m {
        var s: T = 0
        for j in 0..<n { s += w.scalars[i * n + j] * x.scalars[j] }
        y[i] = s
    }
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
