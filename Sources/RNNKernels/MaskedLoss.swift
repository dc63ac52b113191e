// Masked mean of per-token losses.
//
// Shape legend: any shape S, the same for losses and mask (typically [B, T]).

/// Masked and unmasked means of per-token losses.
public struct MaskedMeanResult<T: KernelScalar>: Sendable {
    /// Σ loss·mask / Σ mask: the mean over real tokens. NaN when Σ mask = 0 (no real tokens),
    /// as NumPy's `(l*m).sum() / m.sum()` gives.
    public var masked: T
    /// Σ loss / count: the plain mean, padding included (the mistake the seeds warn about).
    public var unmasked: T
    /// Σ mask: the number of real tokens (the total weight for a non-binary mask).
    public var weight: T

    /// Creates the result from its parts.
    @inlinable
    public init(masked: T, unmasked: T, weight: T) {
        self.masked = masked
        self.unmasked = unmasked
        self.weight = weight
    }
}

/// Mean loss over real tokens only.
///
///     masked = Σ_i l_i m_i / Σ_i m_i        unmasked = Σ_i l_i / N
///
/// - Parameters:
///   - losses: per-token losses, any shape S.
///   - mask: 1 for real tokens, 0 for padding (weights are allowed), shape S.
/// - Note: an empty input gives NaN for both means.
@inlinable
public func maskedMean<T: KernelScalar>(losses: Tensor<T>, mask: Tensor<T>) -> MaskedMeanResult<T> {
    precondition(losses.shape == mask.shape, "maskedMean: losses \(losses.shape), mask \(mask.shape)")
    var weighted: T = 0, weight: T = 0, total: T = 0
    for k in 0..<losses.count {
        let m = mask.scalars[k]
        // Padding contributes nothing, even where its loss is NaN or infinite.
        if m != 0 { weighted += losses.scalars[k] * m }
        weight += m
        total += losses.scalars[k]
    }
    let masked = weight == 0 ? T.nan : weighted / weight
    let unmasked = losses.count == 0 ? T.nan : total / T(losses.count)
    return MaskedMeanResult(masked: masked, unmasked: unmasked, weight: weight)
}
