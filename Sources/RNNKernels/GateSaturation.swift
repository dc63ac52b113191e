// Saturation statistics of gate activations.
//
// Shape legend: N gate values (any shape, flattened), K histogram bins.

/// How many gate values sit near 0 or 1, and their histogram.
public struct GateSaturation<T: KernelScalar>: Sendable {
    /// The gate values examined (σ applied when the input was pre-activations), [N].
    public var gates: Tensor<T>
    /// The fraction with g < low.
    public var below: T
    /// The fraction with g > high.
    public var above: T
    /// The fraction with g < low or g > high (the seed's "saturated fraction").
    public var saturated: T
    /// Values per bin, [K]; bin k is [e_k, e_{k+1}), the last bin also includes its right edge.
    public var counts: [Int]
    /// The bin edges, [K + 1].
    public var edges: Tensor<T>

    /// Creates the result from its parts.
    @inlinable
    public init(gates: Tensor<T>, below: T, above: T, saturated: T, counts: [Int], edges: Tensor<T>) {
        self.gates = gates
        self.below = below
        self.above = above
        self.saturated = saturated
        self.counts = counts
        self.edges = edges
    }
}

/// Equal-width histogram with NumPy's `np.histogram(x, bins=K, range=(lo, hi))` binning.
///
///     e_k = lo + k · (hi − lo)/K  (e_K = hi)     bin(x) = ⌊(x − lo)/(hi − lo) · K⌋, corrected against the edges
///
/// - Parameters:
///   - values: [N]; values outside [lo, hi] and NaN are not counted.
///   - bins: K ≥ 1.
///   - range: (lo, hi); lo = hi widens to (lo − ½, hi + ½) as NumPy does.
/// - Returns: counts [K] and edges [K + 1].
/// - Note: a range with an infinite end or a width that overflows (NumPy refuses those) never traps:
///   each value's bin index is clamped to 0..<K.
@inlinable
public func histogram<T: KernelScalar>(_ values: [T], bins: Int, range: (T, T)) -> (counts: [Int], edges: [T]) {
    precondition(bins >= 1, "histogram: bins must be ≥ 1")
    var (lo, hi) = range
    if lo == hi { lo -= T(0.5); hi += T(0.5) }
    let step = (hi - lo) / T(bins)
    var edges = (0...bins).map { lo + T($0) * step }
    edges[bins] = hi
    var counts = [Int](repeating: 0, count: bins)
    for x in values where x >= lo && x <= hi {
        let position = ((x - lo) / (hi - lo)) * T(bins)
        // NaN (an infinite range) and out-of-range positions are clamped before the conversion.
        var k = position.isNaN || position <= 0 ? 0 : position >= T(bins) ? bins - 1 : Int(position)
        if k > 0 && x < edges[k] { k -= 1 }
        if k < bins - 1 && x >= edges[k + 1] { k += 1 }
        counts[k] += 1
    }
    return (counts, edges)
}

/// The fraction of gate values that are saturated, and their histogram.
///
///     below = #{g < low}/N     above = #{g > high}/N     saturated = #{g < low or g > high}/N
///
/// Arguments:
///   - values: gate activations in [0, 1], or pre-activations when `applySigmoid` (seed 000 §13
///     draws normals and applies σ itself), [N].
///   - low, high: the thresholds (0.05 and 0.95 in the seed).
///   - bins: K for the histogram.
///   - range: the histogram range, or nil for (min g, max g) as `plt.hist` uses.
/// - Note: N = 0 gives NaN fractions and an all-zero histogram over (−½, ½) widened from (0, 0)
///   when no range is given.
@inlinable
public func gateSaturation<T: KernelScalar>(
    _ values: [T], low: T, high: T, bins: Int = 30,
    range: (T, T)? = nil, applySigmoid: Bool = false
) -> GateSaturation<T> {
    let g = applySigmoid ? values.map { sigmoid($0) } : values
    var nBelow = 0, nAbove = 0
    for v in g {
        if v < low { nBelow += 1 } else if v > high { nAbove += 1 }
    }
    let n = T(g.count)
    let r = range ?? (g.min() ?? 0, g.max() ?? 0)
    let (counts, edges) = histogram(g, bins: bins, range: r)
    return GateSaturation(
        gates: Tensor(g), below: T(nBelow) / n, above: T(nAbove) / n,
        saturated: T(nBelow + nAbove) / n, counts: counts, edges: Tensor(edges))
}
