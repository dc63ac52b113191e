// An Elman RNN unrolled over a sequence, in one direction or both.
//
// Shape legend: T steps, B batch, I input, H hidden, D directions (1, or 2 when bidirectional), V output.
//   x [T, B, I], h0 [B, H], h0_reverse [B, H]
//   h [T, B, D·H], a [T, B, D·H], h_last [B, D·H], y [T, B, V], p [T, B, V]
//   W_hy [V, D·H], b_y [V]

/// The order in which an unrolled RNN reads its inputs.
public enum ElmanDirection: String, Sendable, CaseIterable {
    /// t = 0, 1, ..., T−1.
    case forward
    /// t = T−1, ..., 0; the state computed at step t is reported at position t (as PyTorch does).
    case reverse
    /// Both, with separate weights; the two states are concatenated on the feature axis,
    /// forward first.
    case bidirectional
}

/// What an unrolled Elman RNN computes.
public struct ElmanSequenceResult<T: KernelScalar>: Sendable {
    /// The state at every position, [T, B, D·H] (forward half first when bidirectional).
    public var h: Tensor<T>
    /// The pre-activations W_xh x_t + W_hh h_{t∓1} + b_h at every position, [T, B, D·H].
    public var preactivation: Tensor<T>
    /// The final state of each direction, [B, D·H]: forward's after step T−1, reverse's after
    /// step 0. With T = 0 it is h0 (and h0_reverse).
    public var hLast: Tensor<T>
    /// Output logits W_hy h_t + b_y at every position, [T, B, V], with an output layer.
    public var y: Tensor<T>?
    /// softmax(y_t) over V, [T, B, V], with an output layer.
    public var probabilities: Tensor<T>?

    @inlinable
    public init(h: Tensor<T>, preactivation: Tensor<T>, hLast: Tensor<T>, y: Tensor<T>? = nil, probabilities: Tensor<T>? = nil) {
        self.h = h
        self.preactivation = preactivation
        self.hLast = hLast
        self.y = y
        self.probabilities = probabilities
    }
}

/// Runs one direction of an Elman RNN over a batch of sequences with `elmanStep`.
///
/// - Returns: states and pre-activations [T, B, H] (position t holds the state computed from x_t)
///   and the last state [B, H].
@inlinable
public func elmanUnroll<T: KernelScalar>(
    x: Tensor<T>, h0: Tensor<T>, weights: ElmanWeights<T>, reversed: Bool
) -> (h: Tensor<T>, preactivation: Tensor<T>, hLast: Tensor<T>) {
    precondition(x.rank == 3, "elmanUnroll: x must be [T, B, I], got \(x.shape)")
    let steps = x.shape[0], b = x.shape[1], hs = weights.hiddenSize
    var cell = weights
    cell.why = nil
    cell.by = nil
    var hOut = [T](repeating: 0, count: steps * b * hs)
    var aOut = [T](repeating: 0, count: steps * b * hs)
    var h = h0
    let order = reversed ? Array((0..<steps).reversed()) : Array(0..<steps)
    for t in order {
        let r = elmanStep(x: x.slice(t), hPrev: h, weights: cell)
        h = r.h
        let base = t * b * hs
        for k in 0..<(b * hs) {
            hOut[base + k] = r.h.scalars[k]
            aOut[base + k] = r.preactivation.scalars[k]
        }
    }
    return (Tensor(shape: [steps, b, hs], scalars: hOut), Tensor(shape: [steps, b, hs], scalars: aOut), h)
}

/// Concatenates two tensors of equal leading shape on their last axis.
@inlinable
public func concatenateLastAxis<T: KernelScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    precondition(a.shape.dropLast() == b.shape.dropLast(), "concatenateLastAxis: \(a.shape), \(b.shape)")
    let na = a.shape.last ?? 1, nb = b.shape.last ?? 1
    let rows = na == 0 ? (nb == 0 ? 0 : b.count / nb) : a.count / na
    var out = [T]()
    out.reserveCapacity(a.count + b.count)
    for r in 0..<rows {
        out.append(contentsOf: a.scalars[(r * na)..<((r + 1) * na)])
        out.append(contentsOf: b.scalars[(r * nb)..<((r + 1) * nb)])
    }
    return Tensor(shape: Array(a.shape.dropLast()) + [na + nb], scalars: out)
}

/// An Elman RNN unrolled over a sequence from h0.
///
///     forward:  h_t = act(W_xh x_t + W_hh h_{t−1} + b_h),  t = 0 … T−1, h_{−1} = h0
///     reverse:  h_t = act(W_xh x_t + W_hh h_{t+1} + b_h),  t = T−1 … 0, h_T = h0
///     bidirectional: [h_t^fwd ; h_t^rev] with the reverse weights
///     output layer: y_t = W_hy h_t + b_y,  p_t = softmax(y_t)
///
/// - Parameters:
///   - x: inputs [T, B, I].
///   - h0: initial state [B, H] (the forward direction's when bidirectional).
///   - weights: the cell; its output layer, if any, reads the full output state [B, D·H].
///   - reverseWeights: the reverse direction's cell when bidirectional (defaults to `weights`).
///   - h0Reverse: the reverse direction's initial state when bidirectional (defaults to zeros).
/// - Returns: every state, every pre-activation, the last state of each direction, and y, p with
///   an output layer.
/// - Note: T = 0 gives empty [0, B, D·H] sequences and h_last = h0.
@inlinable
public func elmanSequence<T: KernelScalar>(
    x: Tensor<T>, h0: Tensor<T>, weights: ElmanWeights<T>, direction: ElmanDirection = .forward,
    reverseWeights: ElmanWeights<T>? = nil, h0Reverse: Tensor<T>? = nil
) -> ElmanSequenceResult<T> {
    let h: Tensor<T>, a: Tensor<T>, last: Tensor<T>
    switch direction {
    case .forward, .reverse:
        (h, a, last) = elmanUnroll(x: x, h0: h0, weights: weights, reversed: direction == .reverse)
    case .bidirectional:
        let rw = reverseWeights ?? weights
        let f = elmanUnroll(x: x, h0: h0, weights: weights, reversed: false)
        let r = elmanUnroll(x: x, h0: h0Reverse ?? Tensor(zeros: [x.shape[1], rw.hiddenSize]), weights: rw, reversed: true)
        h = concatenateLastAxis(f.h, r.h)
        a = concatenateLastAxis(f.preactivation, r.preactivation)
        last = concatenateLastAxis(f.hLast, r.hLast)
    }
    var result = ElmanSequenceResult(h: h, preactivation: a, hLast: last)
    if let why = weights.why {
        let (y, p) = affineSoftmax(h, weight: why, bias: weights.by)
        result.y = y
        result.probabilities = p
    }
    return result
}

/// y = W z + b over the last axis of z, and softmax(y) over that axis.
///
/// - Parameters:
///   - z: [..., K].
///   - weight: [V, K].
///   - bias: [V] (zeros if nil).
/// - Returns: y and p, both [..., V].
@inlinable
public func affineSoftmax<T: KernelScalar>(_ z: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>?) -> (Tensor<T>, Tensor<T>) {
    let v = weight.shape[0], k = weight.shape[1]
    precondition(z.shape.last == k, "affineSoftmax: z \(z.shape), W \(weight.shape)")
    let rows = k == 0 ? z.shape.dropLast().reduce(1, *) : z.count / k
    var y = [T](repeating: 0, count: rows * v)
    if let bias { for r in 0..<rows { for j in 0..<v { y[r * v + j] = bias.scalars[j] } } }
    gemm(z.scalars, weight.scalars, into: &y, m: rows, n: v, k: k, transposeB: true, accumulate: true)
    var p = [T]()
    p.reserveCapacity(rows * v)
    for r in 0..<rows { p.append(contentsOf: softmax(Array(y[(r * v)..<((r + 1) * v)]))) }
    let shape = Array(z.shape.dropLast()) + [v]
    return (Tensor(shape: shape, scalars: y), Tensor(shape: shape, scalars: p))
}
