// How far a gradient travels back in time: norms of products of step Jacobians.
//
// Shape legend: T steps, I input, H hidden, K = T distances (k = 1 … T).
//   x [T, I], h0 [H], W_xh [H, I], W_hh [H, H], b_h [H]; forget gates f [T, H]
//   Elman: h [T, H], products [K, H, H]; LSTM cell path: products [K, H]; norms [K]

/// The matrix norm used to measure a Jacobian product.
public enum MatrixNorm: String, Sendable, CaseIterable {
    /// sqrt(Σ a_ij²).
    case frobenius
    /// The largest singular value (the 2-norm), from the Jacobi eigenvalue method on AᵀA.
    case spectral
}

/// Products of step Jacobians over distances k = 1 … T, measured back from the last step.
public struct JacobianNorms<T: KernelScalar>: Sendable {
    /// The hidden states of the run, [T, H] (Elman only).
    public var h: Tensor<T>?
    /// P_k = ∂h_T/∂h_{T−k} (Elman, [K, H, H]) or the diagonal of ∂c_T/∂c_{T−k} along the cell
    /// path (LSTM, [K, H]).
    public var products: Tensor<T>
    /// ‖P_k‖, [K].
    public var norms: Tensor<T>

    /// Creates the result from its parts.
    @inlinable
    public init(h: Tensor<T>?, products: Tensor<T>, norms: Tensor<T>) {
        self.h = h
        self.products = products
        self.norms = norms
    }
}

/// The largest singular value of an [m, n] matrix: sqrt of the largest eigenvalue of AᵀA,
/// by cyclic Jacobi rotations (deterministic; converges to working precision).
@inlinable
public func spectralNorm<T: KernelScalar>(_ a: [T], rows m: Int, columns n: Int) -> T {
    if n == 0 || m == 0 { return 0 }
    var s = [T](repeating: 0, count: n * n)
    gemm(a, a, into: &s, m: n, n: n, k: m, transposeA: true)
    for _ in 0..<64 {
        var off: T = 0
        for p in 0..<n { for q in 0..<n where p != q { off += s[p * n + q] * s[p * n + q] } }
        if off == 0 { break }
        for p in 0..<(n - 1) {
            for q in (p + 1)..<n {
                let apq = s[p * n + q]
                if apq == 0 { continue }
                let theta = (s[q * n + q] - s[p * n + p]) / (2 * apq)
                let sign: T = theta >= 0 ? 1 : -1
                let t = sign / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), sn = t * c
                for k in 0..<n {
                    let skp = s[k * n + p], skq = s[k * n + q]
                    s[k * n + p] = c * skp - sn * skq
                    s[k * n + q] = sn * skp + c * skq
                }
                for k in 0..<n {
                    let spk = s[p * n + k], sqk = s[q * n + k]
                    s[p * n + k] = c * spk - sn * sqk
                    s[q * n + k] = sn * spk + c * sqk
                }
            }
        }
    }
    var largest: T = 0
    for i in 0..<n { largest = Swift.max(largest, s[i * n + i]) }
    return largest.squareRoot()
}

@inlinable
func matrixNorm<T: KernelScalar>(_ a: [T], rows: Int, columns: Int, _ norm: MatrixNorm) -> T {
    switch norm {
    case .frobenius: return globalNorm([Tensor(a)])
    case .spectral: return spectralNorm(a, rows: rows, columns: columns)
    }
}

/// Runs an Elman RNN (a one-gate cell, `RecurrentCell.elman`) and measures how the gradient through the
/// hidden path scales with distance.
///
///     J_t = ∂h_t/∂h_{t−1} = diag(act'(a_t)) W_hh   (= diag(1 − h_t²) W_hh for tanh)
///     P_k = J_T J_{T−1} ⋯ J_{T−k+1} = ∂h_T/∂h_{T−k},   norms[k−1] = ‖P_k‖,   k = 1 … T
///
/// Arguments:
///   - x: inputs [T, I]; h0: [H]; cell: an RNN cell (no gates, no projection).
///   - norm: Frobenius (default) or spectral.
/// - Note: the states come from `runSequence`, so the run is the same as `rnn.sequence`'s. T = 0 gives no
///   products.
@inlinable
public func elmanJacobianNorms<T: KernelScalar>(
    x: Tensor<T>, h0: Tensor<T>, cell: RecurrentCell<T>,
    norm: MatrixNorm = .frobenius
) -> JacobianNorms<T> {
    precondition(cell.conventions.kind == .rnn, "elmanJacobianNorms: a \(cell.conventions.kind) cell")
    let steps = x.shape[0], hs = cell.hiddenSize
    let run = runSequence(
        cell, x: x.reshaped([steps, 1, x.shape[1]]), h0: h0.reshaped([1, hs]), keepPreactivations: true)
    let a = cell.preactivations(of: run), act = cell.conventions.candidateActivation, whh = cell.parameters.r
    var product = [T](repeating: 0, count: hs * hs)
    for i in 0..<hs { product[i * hs + i] = 1 }
    var products = [T](), norms = [T]()
    for k in stride(from: 1, through: steps, by: 1) {
        // P_k = P_{k−1} · J_{T−k+1}, with J_t = diag(act'(a_t)) W_hh (t counted 0-based here).
        let t = steps - k
        var j = whh.scalars
        for r in 0..<hs {
            let d = act.derivative(a.scalars[t * hs + r], output: run.outputs.scalars[t * hs + r])
            for c in 0..<hs { j[r * hs + c] *= d }
        }
        var next = [T](repeating: 0, count: hs * hs)
        gemm(product, j, into: &next, m: hs, n: hs, k: hs)
        product = next
        products.append(contentsOf: product)
        norms.append(matrixNorm(product, rows: hs, columns: hs, norm))
    }
    return JacobianNorms(
        h: run.outputs.reshaped([steps, hs]), products: Tensor(shape: [steps, hs, hs], scalars: products),
        norms: Tensor(norms))
}

/// The LSTM cell-state highway: ∂c_T/∂c_{T−k} along the cell path is diag(f_T ⊙ ⋯ ⊙ f_{T−k+1}).
///
///     D_k = ∏_{s=T−k+1}^{T} f_s (elementwise),   norms[k−1] = ‖diag(D_k)‖,   k = 1 … T
///
/// Arguments:
///   - forgetGates: f_1 … f_T, [T, H].
///   - norm: Frobenius sqrt(Σ D²) or spectral max |D|.
/// - Note: only the direct path c_{t−1} → c_t is counted, as seed 003 §13 does; the paths through
///   h_{t−1} into the gates are left out.
@inlinable
public func cellPathJacobianNorms<T: KernelScalar>(forgetGates f: Tensor<T>, norm: MatrixNorm = .frobenius)
    -> JacobianNorms<T>
{
    let steps = f.shape[0], hs = f.shape[1]
    var d = [T](repeating: 1, count: hs)
    var products = [T](), norms = [T]()
    for k in stride(from: 1, through: steps, by: 1) {
        let t = steps - k
        for i in 0..<hs { d[i] *= f.scalars[t * hs + i] }
        products.append(contentsOf: d)
        switch norm {
        case .frobenius: norms.append(globalNorm([Tensor(d)]))
        case .spectral: norms.append(d.map { Swift.abs($0) }.max() ?? 0)
        }
    }
    return JacobianNorms(h: nil, products: Tensor(shape: [steps, hs], scalars: products), norms: Tensor(norms))
}
