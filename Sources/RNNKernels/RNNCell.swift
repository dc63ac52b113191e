// Elman (vanilla) RNN cell.
//
// Shape legend: B batch, I input, H hidden, V output (vocabulary).
//   x [B, I], h_prev [B, H], W_xh [H, I], W_hh [H, H], b_h [H], W_hy [V, H], b_y [V]
//   h [B, H], y [B, V], p [B, V]

/// The weights of an Elman RNN cell with an optional output layer.
public struct ElmanWeights<T: KernelScalar>: Sendable {
    /// Input-to-hidden weights, [H, I].
    public var wxh: Tensor<T>
    /// Hidden-to-hidden weights, [H, H].
    public var whh: Tensor<T>
    /// Hidden bias, [H]; zeros when absent.
    public var bh: Tensor<T>
    /// Hidden-to-output weights, [V, H], if the cell has an output layer.
    public var why: Tensor<T>?
    /// Output bias, [V]; zeros when absent.
    public var by: Tensor<T>?
    /// The hidden nonlinearity (tanh in every seed).
    public var activation: Activation

    public init(wxh: Tensor<T>, whh: Tensor<T>, bh: Tensor<T>? = nil,
                why: Tensor<T>? = nil, by: Tensor<T>? = nil, activation: Activation = .tanh) {
        self.wxh = wxh
        self.whh = whh
        self.bh = bh ?? Tensor(zeros: [whh.shape[0]])
        self.why = why
        self.by = why.map { by ?? Tensor(zeros: [$0.shape[0]]) }
        self.activation = activation
    }

    /// Hidden size H.
    public var hiddenSize: Int { whh.shape[0] }
    /// Input size I.
    public var inputSize: Int { wxh.shape[1] }
}

/// What one Elman step computes.
public struct ElmanStepResult<T: KernelScalar>: Sendable {
    /// Pre-activation a = W_xh x + W_hh h_prev + b_h, [B, H].
    public var preactivation: Tensor<T>
    /// New hidden state h = act(a), [B, H].
    public var h: Tensor<T>
    /// Output logits y = W_hy h + b_y, [B, V], when the cell has an output layer.
    public var y: Tensor<T>?
    /// softmax(y) over V, [B, V], when the cell has an output layer.
    public var probabilities: Tensor<T>?

    @inlinable
    public init(preactivation: Tensor<T>, h: Tensor<T>, y: Tensor<T>? = nil, probabilities: Tensor<T>? = nil) {
        self.preactivation = preactivation
        self.h = h
        self.y = y
        self.probabilities = probabilities
    }
}

/// One Elman RNN step for a batch.
///
///     a = x W_xhᵀ + h_prev W_hhᵀ + b_h      h = act(a)
///     y = h W_hyᵀ + b_y                      p = softmax(y)   (with an output layer)
///
/// - Parameters:
///   - x: inputs, [B, I].
///   - hPrev: previous hidden states, [B, H].
/// - Returns: a, h and, with an output layer, y and p; all batch-major.
@inlinable
public func elmanStep<T: KernelScalar>(x: Tensor<T>, hPrev: Tensor<T>, weights w: ElmanWeights<T>) -> ElmanStepResult<T> {
    let b = x.shape[0], i = w.inputSize, h = w.hiddenSize
    precondition(x.shape == [b, i] && hPrev.shape == [b, h], "elmanStep: x \(x.shape), h_prev \(hPrev.shape)")
    var a = [T](repeating: 0, count: b * h)
    for r in 0..<b { for j in 0..<h { a[r * h + j] = w.bh.scalars[j] } }
    gemm(x.scalars, w.wxh.scalars, into: &a, m: b, n: h, k: i, transposeB: true, accumulate: true)
    gemm(hPrev.scalars, w.whh.scalars, into: &a, m: b, n: h, k: h, transposeB: true, accumulate: true)
    let hNew = a.map { w.activation.apply($0) }
    var result = ElmanStepResult(preactivation: Tensor(shape: [b, h], scalars: a),
                                 h: Tensor(shape: [b, h], scalars: hNew))
    if let why = w.why, let by = w.by {
        let v = why.shape[0]
        var y = [T](repeating: 0, count: b * v)
        for r in 0..<b { for j in 0..<v { y[r * v + j] = by.scalars[j] } }
        gemm(hNew, why.scalars, into: &y, m: b, n: v, k: h, transposeB: true, accumulate: true)
        var p = [T]()
        p.reserveCapacity(b * v)
        for r in 0..<b { p.append(contentsOf: softmax(Array(y[(r * v)..<((r + 1) * v)]))) }
        result.y = Tensor(shape: [b, v], scalars: y)
        result.probabilities = Tensor(shape: [b, v], scalars: p)
    }
    return result
}
