// Repeated products over time: gradient scale proxies, forget-gate decay, leaky memory,
// sequence probabilities, learning-rate decay.
//
// Shape legend: S number of factors (scales, forget values), K distances, T steps, N epochs.

/// scale^k for several scales and k = 1 … K: how a gradient multiplied by the same factor at
/// every step shrinks or grows over a distance k.
///
///     values[s, k−1] = scale_s^k
///
/// - Parameters:
///   - scales: [S].
///   - steps: K ≥ 0.
/// - Returns: the table [S, K] and its last column scale^K, [S] (ones when K = 0).
/// - Note: computed with `pow`, not by repeated multiplication, as NumPy's `scale ** steps` does.
@inlinable
public func repeatedScale<T: KernelScalar>(scales: [T], steps: Int) -> (values: Tensor<T>, last: Tensor<T>) {
    precondition(steps >= 0, "repeatedScale: steps must be ≥ 0")
    var out = [T]()
    out.reserveCapacity(scales.count * steps)
    for s in scales { for k in stride(from: 1, through: steps, by: 1) { out.append(T.pow(s, T(k))) } }
    return (Tensor(shape: [scales.count, steps], scalars: out), Tensor(scales.map { T.pow($0, T(steps)) }))
}

/// The share of a cell-state value still present after k steps with a constant forget gate f.
public struct MemoryDecay<T: KernelScalar>: Sendable {
    /// f^k for k = 0 … N−1, [S, N].
    public var remaining: Tensor<T>
    /// ln ½ / ln f: the steps after which half remains, [S] (∞ for f = 1, 0 for f = 0).
    public var halfLife: Tensor<T>
    /// 1 / (1 − f): the mean lifetime in steps of the geometric decay, [S] (∞ for f = 1).
    public var timescale: Tensor<T>

    /// Creates the result from its parts.
    @inlinable
    public init(remaining: Tensor<T>, halfLife: Tensor<T>, timescale: Tensor<T>) {
        self.remaining = remaining
        self.halfLife = halfLife
        self.timescale = timescale
    }
}

/// How a constant forget gate erases the cell state: c_k = f^k c_0 when nothing is written.
///
///     remaining[s, k] = f_s^k  (k = 0 … N−1)     halfLife = ln ½ / ln f     timescale = 1 / (1 − f)
///
/// - Parameters:
///   - forget: forget-gate values in [0, 1], [S].
///   - steps: N ≥ 0, the number of steps listed (k = 0 … N−1, as `np.arange(0, N)`).
@inlinable
public func memoryDecay<T: KernelScalar>(forget: [T], steps: Int) -> MemoryDecay<T> {
    precondition(steps >= 0, "memoryDecay: steps must be ≥ 0")
    var out = [T]()
    out.reserveCapacity(forget.count * steps)
    for f in forget { for k in 0..<steps { out.append(T.pow(f, T(k))) } }
    let half = forget.map { f -> T in
        if f == 1 { return .infinity }
        if f == 0 { return 0 }
        return T.log(T(0.5)) / T.log(f)
    }
    let tau = forget.map { f -> T in f == 1 ? .infinity : 1 / (1 - f) }
    return MemoryDecay(
        remaining: Tensor(shape: [forget.count, steps], scalars: out),
        halfLife: Tensor(half), timescale: Tensor(tau))
}

/// A leaky integrator (an LSTM cell with tied gates i = 1 − f) driven by an input sequence.
///
///     s_t = f s_{t−1} + (1 − f) u_t,   t = 1 … T,   s_0 given
///
/// - Parameters:
///   - forget: the factors f, [S].
///   - inputs: u_1 … u_T, [T], shared by every f.
///   - initial: s_0 for each f, [S] (zeros if nil).
/// - Returns: the trajectories [S, T] (s_1 … s_T) and the final states s_T, [S] (s_0 when T = 0).
/// - Note: evaluated as `f * s + (1 - f) * u`, left to right, as seed 004 does; the closed
///   form 1 − f^T (for u = 1, s_0 = 0) agrees only to rounding.
@inlinable
public func leakyMemory<T: KernelScalar>(forget: [T], inputs: [T], initial: [T]? = nil) -> (
    trajectories: Tensor<T>, last: Tensor<T>
) {
    precondition(initial == nil || initial!.count == forget.count, "leakyMemory: initial must match forget")
    var out = [T](), last = [T]()
    out.reserveCapacity(forget.count * inputs.count)
    for (j, f) in forget.enumerated() {
        var s = initial?[j] ?? 0
        for u in inputs {
            s = f * s + (1 - f) * u
            out.append(s)
        }
        last.append(s)
    }
    return (Tensor(shape: [forget.count, inputs.count], scalars: out), Tensor(last))
}

/// The probability of a sequence from its per-step conditional probabilities.
public struct SequenceProbability<T: KernelScalar>: Sendable {
    /// ∏ p_t, multiplied left to right (underflows to 0 for long sequences).
    public var probability: T
    /// log p_t, [T].
    public var logProbabilities: Tensor<T>
    /// Σ log p_t (finite where the product underflows).
    public var logProbability: T

    /// Creates the result from its parts.
    @inlinable
    public init(probability: T, logProbabilities: Tensor<T>, logProbability: T) {
        self.probability = probability
        self.logProbabilities = logProbabilities
        self.logProbability = logProbability
    }
}

/// p(x_1 … x_T) = ∏_t p(x_t | x_<t), and its logarithm as a sum.
///
///     p = ((p_1 · p_2) · …) · p_T      log p = Σ_t log p_t
///
/// - Parameter probabilities: p_t in [0, 1], [T].
/// - Note: T = 0 gives p = 1, log p = 0; a zero probability gives log p = −∞.
@inlinable
public func sequenceProbability<T: KernelScalar>(_ probabilities: [T]) -> SequenceProbability<T> {
    var p: T = 1, s: T = 0
    let logs = probabilities.map { T.log($0) }
    for q in probabilities { p *= q }
    for l in logs { s += l }
    return SequenceProbability(probability: p, logProbabilities: Tensor(logs), logProbability: s)
}

/// Exponential learning-rate decay.
///
///     lr(e) = base · rate^(e / steps)           (continuous)
///     lr(e) = base · rate^⌊e / steps⌋           (stepwise)
///
/// Arguments:
///   - epochs: e, [N] (any reals ≥ 0).
///   - base: the learning rate at e = 0; rate: the factor per `steps` epochs; steps > 0.
/// - Returns: the exponents [N] and the learning rates [N].
@inlinable
public func exponentialDecay<T: KernelScalar>(epochs: [T], base: T, rate: T, steps: T, stepwise: Bool = false) -> (
    exponent: [T], rate: [T]
) {
    let exponents = epochs.map { e -> T in stepwise ? (e / steps).rounded(.down) : e / steps }
    return (exponents, exponents.map { base * T.pow(rate, $0) })
}
