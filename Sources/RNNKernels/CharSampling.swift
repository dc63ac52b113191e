// Sampling characters from a character-level Elman RNN.
//
// Shape legend: V vocabulary, H hidden, N characters sampled.
//   W_xh [H, V] (one-hot inputs), W_hh [H, H], b_h [H], W_hy [V, H], b_y [V], h0 [H]
//   indices [N], probabilities [N], p [N, V], h [N, H]

/// What sampling from a character RNN produced.
public struct CharSample<T: KernelScalar>: Sendable {
    /// The sampled character indices, [N].
    public var indices: [Int]
    /// The probability each sampled index had when drawn, [N].
    public var probabilities: Tensor<T>
    /// The full distribution softmax(y_t / temperature) at each step, [N, V].
    public var distributions: Tensor<T>
    /// The uniform number u_t that chose each index, [N].
    public var uniforms: Tensor<T>
    /// The hidden state after each step, [N, H].
    public var h: Tensor<T>

    /// Creates the result from its parts.
    @inlinable
    public init(indices: [Int], probabilities: Tensor<T>, distributions: Tensor<T>, uniforms: Tensor<T>, h: Tensor<T>) {
        self.indices = indices
        self.probabilities = probabilities
        self.distributions = distributions
        self.uniforms = uniforms
        self.h = h
    }
}

/// Inverse-CDF sampling: the first index i whose cumulative probability p_0 + … + p_i exceeds u.
///
/// - Parameters:
///   - p: probabilities, [V] (summing to 1 up to rounding).
///   - u: a uniform number in [0, 1).
/// - Note: when rounding leaves u ≥ Σ p, the last index with p > 0 is returned.
@inlinable
public func inverseCDF<T: KernelScalar>(_ p: [T], _ u: T) -> Int {
    var cumulative: T = 0
    for (i, q) in p.enumerated() {
        cumulative += q
        if u < cumulative { return i }
    }
    return p.lastIndex { $0 > 0 } ?? Swift.max(p.count - 1, 0)
}

/// Samples n characters from a character-level RNN, feeding each sample back as the next input.
///
///     x_0 = onehot(seed)
///     h_t = act(W_xh x_t + W_hh h_{t−1} + b_h)       y_t = W_hy h_t + b_y
///     p_t = softmax(y_t / τ)      i_t = inverse CDF of p_t at u_t      x_{t+1} = onehot(i_t)
///
/// Arguments:
///   - cell: the RNN cell (`RecurrentCell.elman`); its input size must be V.
///   - why: the output layer W_hy, [V, H]. - by: b_y, [V] (zeros if nil).
///   - h0: the initial state, [H].
///   - seedIndex: the first input character.
///   - count: N ≥ 0.
///   - temperature: τ > 0; below 1 sharpens, above 1 flattens the distribution (1 is the
///     article's plain softmax).
///   - stream: the seeded uniform stream (u_t = stream.nextUniform(), rounded to T).
/// - Note: the article draws with `np.random.choice`; here the draw is the inverse CDF of a
///   reproducible uniform, so the same seed gives the same text on every machine.
@inlinable
public func sampleCharacters<T: KernelScalar>(
    cell: RecurrentCell<T>, why: Tensor<T>, by: Tensor<T>? = nil, h0: Tensor<T>,
    seedIndex: Int, count: Int, temperature: T = 1,
    stream: inout SeededStream
) -> CharSample<T> {
    sampleCharacters(cell: cell, why: why, by: by, h0: h0, seedIndex: seedIndex, count: count, temperature: temperature)
    { p in
        let u = T(stream.nextUniform())
        return (inverseCDF(p, u), u)
    }
}

/// Samples n characters as `sampleCharacters(..., stream:)` does, choosing each index with `choose`,
/// which is given p_t and returns the index and the uniform number that picked it.
@inlinable
public func sampleCharacters<T: KernelScalar>(
    cell: RecurrentCell<T>, why: Tensor<T>, by: Tensor<T>? = nil, h0: Tensor<T>,
    seedIndex: Int, count: Int, temperature: T = 1,
    choose: ([T]) -> (index: Int, u: T)
) -> CharSample<T> {
    let v = why.shape[0], hs = cell.stateSize
    precondition(
        cell.conventions.kind == .rnn && cell.inputSize == v && why.shape == [v, hs] && (by?.shape ?? [v]) == [v]
            && seedIndex >= 0 && seedIndex < v && count >= 0 && temperature > 0, "sampleCharacters: bad arguments")
    let bias = by?.scalars ?? [T](repeating: 0, count: v)
    var h = h0.reshaped([1, hs])
    var ix = seedIndex
    var indices: [Int] = [], probs: [T] = [], dists: [T] = [], us: [T] = [], hs_: [T] = []
    for _ in 0..<count {
        var x = [T](repeating: 0, count: v)
        x[ix] = 1
        h = cell.forward(x: Tensor(shape: [1, v], scalars: x), hPrev: h).h
        var logits = matvec(why, h.reshaped([hs])).scalars
        for j in 0..<v { logits[j] = (logits[j] + bias[j]) / temperature }
        let p = softmax(logits)
        let (chosen, u) = choose(p)
        ix = chosen
        indices.append(ix)
        probs.append(p[ix])
        dists.append(contentsOf: p)
        us.append(u)
        hs_.append(contentsOf: h.scalars)
    }
    return CharSample(
        indices: indices, probabilities: Tensor(probs), distributions: Tensor(shape: [count, v], scalars: dists),
        uniforms: Tensor(us), h: Tensor(shape: [count, hs], scalars: hs_))
}

/// Samples n characters as the article's `CharRNN.sample` does after `np.random.seed(seed)`: each
/// index is `np.random.choice(range(V), p=p.ravel())` (NumPy's legacy cdf, normalised, and
/// `searchsorted(cdf, random_sample(), side="right")`; `NumPyRandom.swift`), with p in T (NumPy's
/// check that p sums to 1 allows √ε of T when that exceeds float64's).
///
/// - Throws: `NumPyRandomError` where NumPy's `choice` refuses p (negative, NaN, not summing to 1).
@inlinable
public func sampleCharactersNumPyLegacy<T: KernelScalar>(
    cell: RecurrentCell<T>, why: Tensor<T>, by: Tensor<T>? = nil, h0: Tensor<T>,
    seedIndex: Int, count: Int, temperature: T = 1, seed: UInt32
) throws -> CharSample<T> {
    var rs = NumPyRandomState(seed: seed)
    // NumPy's tolerance on Σp: √ε of float64, or of p's dtype when larger (float32: √ε in float32).
    let atol = Swift.max(1.4901161193847656e-08, Double(T.ulpOfOne.squareRoot()))
    var failure: NumPyRandomError? = nil
    let r = sampleCharacters(
        cell: cell, why: why, by: by, h0: h0, seedIndex: seedIndex, count: count, temperature: temperature
    ) { p -> (index: Int, u: T) in
        do {
            let cdf = try numpyChoiceCDF(p.map { Double($0) }, atol: atol)
            let u = rs.randomSample()
            return (numpySearchSortedRight(cdf, u), T(u))
        } catch {
            failure = failure ?? (error as? NumPyRandomError)
            return (0, 0)
        }
    }
    if let failure { throw failure }
    return r
}
