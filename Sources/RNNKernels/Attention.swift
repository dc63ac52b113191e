// Dot-product attention of decoder queries over encoder states.
//
// Shape legend: S source positions (encoder steps), D key size, E value size, Q queries.
//   keys [S, D], values [S, E], query [Q, D], mask [S]
//   scores [Q, S], weights [Q, S], context [Q, E]

/// What one dot-product attention computes.
public struct AttentionResult<T: KernelScalar>: Sendable {
    /// scale · (query · key_s), before masking, [Q, S].
    public var scores: Tensor<T>
    /// softmax over s of the scores, masked positions excluded (weight 0), [Q, S].
    public var weights: Tensor<T>
    /// Σ_s weight_s · value_s, [Q, E].
    public var context: Tensor<T>

    /// Creates the result from its parts.
    @inlinable
    public init(scores: Tensor<T>, weights: Tensor<T>, context: Tensor<T>) {
        self.scores = scores
        self.weights = weights
        self.context = context
    }
}

/// context = weights · values: the attention-weighted average of the encoder states.
///
///     context[q, e] = Σ_s weights[q, s] · values[s, e]
///
/// - Parameters:
///   - weights: [Q, S] (rows usually sum to 1; not checked).
///   - values: [S, E].
/// - Returns: [Q, E]. S = 0 gives zeros.
@inlinable
public func attentionContext<T: KernelScalar>(weights: Tensor<T>, values: Tensor<T>) -> Tensor<T> {
    precondition(
        weights.rank == 2 && values.rank == 2 && weights.shape[1] == values.shape[0],
        "attentionContext: weights \(weights.shape), values \(values.shape)")
    let q = weights.shape[0], s = values.shape[0], e = values.shape[1]
    var c = [T](repeating: 0, count: q * e)
    gemm(weights.scalars, values.scalars, into: &c, m: q, n: e, k: s)
    return Tensor(shape: [q, e], scalars: c)
}

/// Dot-product attention with a numerically stable softmax.
///
///     score_s = scale · ⟨query, key_s⟩
///     weight_s = exp(score_s − max score) / Σ_{s' unmasked} exp(score_s' − max score)   (unmasked s)
///     context = Σ_s weight_s value_s
///
/// Arguments:
///   - query: [Q, D].
///   - keys: [S, D]; values: [S, E] (the seeds use the encoder states for both).
///   - scale: 1 in the seeds; 1/√D for scaled dot-product attention.
///   - mask: [S], nonzero for positions that may be attended to (all if nil).
/// - Note: the max is taken over unmasked scores, so scores of ±1000 do not overflow. With every
///   position masked, or S = 0, the weights are NaN (nothing to attend to), as a softmax over
///   all −∞ gives in PyTorch; the context is then NaN too (zeros when S = 0).
@inlinable
public func dotAttention<T: KernelScalar>(
    query: Tensor<T>, keys: Tensor<T>, values: Tensor<T>, scale: T = 1,
    mask: [T]? = nil
) -> AttentionResult<T> {
    precondition(
        query.rank == 2 && keys.rank == 2 && query.shape[1] == keys.shape[1],
        "dotAttention: query \(query.shape), keys \(keys.shape)")
    let q = query.shape[0], s = keys.shape[0], d = keys.shape[1]
    precondition(mask == nil || mask!.count == s, "dotAttention: mask must have S entries")
    var scores = [T](repeating: 0, count: q * s)
    gemm(query.scalars, keys.scalars, into: &scores, m: q, n: s, k: d, transposeB: true)
    if scale != 1 { for k in scores.indices { scores[k] *= scale } }
    var weights = [T]()
    weights.reserveCapacity(q * s)
    for r in 0..<q {
        let row = Array(scores[(r * s)..<((r + 1) * s)])
        let keep = (0..<s).map { mask == nil || mask![$0] != 0 }
        let kept = (0..<s).filter { keep[$0] }.map { row[$0] }
        if kept.isEmpty {
            weights.append(contentsOf: [T](repeating: .nan, count: s))
            continue
        }
        let p = softmax(kept)
        var next = 0
        for j in 0..<s {
            if keep[j] { weights.append(p[next]); next += 1 } else { weights.append(0) }
        }
    }
    let w = Tensor(shape: [q, s], scalars: weights)
    return AttentionResult(
        scores: Tensor(shape: [q, s], scalars: scores), weights: w,
        context: attentionContext(weights: w, values: values))
}
