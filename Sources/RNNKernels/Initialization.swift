// He and Xavier weight initialisation from a seeded stream.
//
// Shape legend: n_in fan-in, n_out fan-out; W [n_in, n_out] (the article's layout) or
// [n_out, n_in] (PyTorch's).

/// A variance-preserving initialisation rule.
public enum InitScheme: String, Sendable, CaseIterable {
    /// He / Kaiming: Var W = 2 / n_in (for ReLU layers); the article's `randn(n_in, n_out) * sqrt(2/n_in)`.
    case he
    /// Xavier / Glorot: Var W = 2 / (n_in + n_out) (for tanh and sigmoid layers).
    case xavier
}

/// The distribution the weights are drawn from.
public enum InitDistribution: String, Sendable, CaseIterable {
    /// N(0, std²).
    case normal
    /// U(−bound, bound) with bound = √3 · std, the same variance.
    case uniform
}

/// Initialised weights and the statistics they should and do have.
public struct InitializedWeights<T: KernelScalar>: Sendable {
    /// The weights.
    public var weights: Tensor<T>
    /// The target standard deviation: √(2/n_in) (He) or √(2/(n_in + n_out)) (Xavier).
    public var std: T
    /// √3 · std: the half-width of the uniform variant.
    public var bound: T
    /// The mean of the drawn weights.
    public var sampleMean: T
    /// The standard deviation of the drawn weights (population form, divide by N).
    public var sampleStd: T

    /// Creates the result from its parts.
    @inlinable
    public init(weights: Tensor<T>, std: T, bound: T, sampleMean: T, sampleStd: T) {
        self.weights = weights
        self.std = std
        self.bound = bound
        self.sampleMean = sampleMean
        self.sampleStd = sampleStd
    }
}

/// A source of the draws an initialisation makes, one per weight in row-major order.
public protocol WeightInitStream {
    /// One N(0, std²) weight, given std = √(2 / d).
    mutating func normalWeight(std: Double) -> Double
    /// One weight from U(−bound, bound) with the same variance 2 / d as the normal rule; `d` is
    /// the denominator of that variance (n_in, or n_in + n_out).
    mutating func uniformWeight(variance: Double, denominator: Double) -> Double
}

extension SeededStream: WeightInitStream {
    /// `std · z` with z from the polar method.
    @inlinable
    public mutating func normalWeight(std: Double) -> Double { nextNormal() * std }
    /// `bound · (2u − 1)`, bound = √(3 · variance).
    @inlinable
    public mutating func uniformWeight(variance: Double, denominator: Double) -> Double {
        (3 * variance).squareRoot() * (2 * nextUniform() - 1)
    }
}

extension NumPyRandomState: WeightInitStream {
    /// `np.random.randn() * std`: the article's `np.random.randn(n_in, n_out) * np.sqrt(2.0/n_in)`.
    @inlinable
    public mutating func normalWeight(std: Double) -> Double { standardNormal() * std }
    /// `np.random.uniform(-b, b)` with b = `np.sqrt(6.0/d)` (Glorot's and He's uniform limits).
    @inlinable
    public mutating func uniformWeight(variance: Double, denominator: Double) -> Double {
        let b = (6 / denominator).squareRoot()
        return uniform(low: -b, high: b)
    }
}

/// Draws a weight matrix with He or Xavier scaling.
///
///     he:     std = √(2 / n_in)            xavier: std = √(2 / (n_in + n_out))
///     normal: w = std · z,  z ~ N(0, 1)    uniform: w ~ U(−bound, bound),  bound = √3 · std
///
/// Arguments:
///   - shape: the weight shape, [n_in, n_out] or [n_out, n_in]; every element is one draw, in
///     row-major order.
///   - fanIn, fanOut: n_in and n_out (≥ 1).
///   - stream: the draws: rnnspec's `SeededStream` (uniform as `bound · (2u − 1)`), or NumPy's
///     legacy `RandomState` (`randn(...) * std`, `uniform(-b, b)` with b = √(6 / d)), advanced by
///     the draws.
/// - Note: the draw is made in Double and rounded to T, so Float and Double weights agree to
///   float precision (NumPy's `(randn(...) * std).astype(np.float32)`).
@inlinable
public func initializeWeights<T: KernelScalar, S: WeightInitStream>(
    shape: [Int], fanIn: Int, fanOut: Int, scheme: InitScheme,
    distribution: InitDistribution, stream: inout S
) -> InitializedWeights<T> {
    precondition(fanIn >= 1 && fanOut >= 1, "initializeWeights: fans must be ≥ 1")
    let denominator = Double(scheme == .he ? fanIn : fanIn + fanOut)
    let variance: Double = 2 / denominator
    let std = variance.squareRoot()
    let bound = (3 * variance).squareRoot()
    let n = shape.reduce(1, *)
    var w = [T]()
    w.reserveCapacity(n)
    for _ in 0..<n {
        switch distribution {
        case .normal: w.append(T(stream.normalWeight(std: std)))
        case .uniform: w.append(T(stream.uniformWeight(variance: variance, denominator: denominator)))
        }
    }
    var mean: T = 0
    for v in w { mean += v }
    mean /= T(Swift.max(n, 1))
    var ss: T = 0
    for v in w { ss += (v - mean) * (v - mean) }
    let sampleStd = n == 0 ? T.nan : (ss / T(n)).squareRoot()
    return InitializedWeights(
        weights: Tensor(shape: shape, scalars: w), std: T(std), bound: T(bound),
        sampleMean: n == 0 ? T.nan : mean, sampleStd: sampleStd)
}
