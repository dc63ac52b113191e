// Gradient clipping by global norm.
//
// Shape legend: any number of tensors of any shapes, treated as one long vector.

/// The result of clipping a list of tensors by their global norm.
public struct ClipResult<T: KernelScalar>: Sendable {
    /// ‖g‖ = sqrt(Σ over all tensors and elements of g²), before clipping.
    public var norm: T
    /// The factor applied: min(1, max_norm / (‖g‖ + ε)); 1 when ‖g‖ = 0.
    public var scale: T
    /// scale · g, tensor by tensor, same shapes as the input.
    public var clipped: [Tensor<T>]
    /// ‖scale · g‖, recomputed from the clipped values.
    public var clippedNorm: T

    /// Creates the result from its parts.
    @inlinable
    public init(norm: T, scale: T, clipped: [Tensor<T>], clippedNorm: T) {
        self.norm = norm
        self.scale = scale
        self.clipped = clipped
        self.clippedNorm = clippedNorm
    }
}

/// Rescales tensors so that their global norm is at most `maxNorm`.
///
///     ‖g‖ = sqrt(Σ_k Σ_i g_k,i²)      scale = min(1, maxNorm / (‖g‖ + ε))      g' = scale · g
///
/// - Parameters:
///   - tensors: the gradients, any shapes (one tensor for the single-vector case).
///   - maxNorm: the threshold; must be ≥ 0.
///   - epsilon: added to the norm in the denominator (0 in the seeds, 1e-6 in PyTorch's
///     `clip_grad_norm_`).
/// - Note: a zero norm returns the input unchanged with scale 1 (no division by zero), as
///   seed 004's `clip_grad` does; a norm at or below `maxNorm` also leaves the input unchanged.
///   A non-finite norm gives scale NaN, as PyTorch does without `error_if_nonfinite`.
@inlinable
public func clipByGlobalNorm<T: KernelScalar>(_ tensors: [Tensor<T>], maxNorm: T, epsilon: T = 0) -> ClipResult<T> {
    let norm = globalNorm(tensors)
    let scale: T
    if norm.isNaN || norm.isInfinite {
        scale = .nan
    } else {
        let coefficient = maxNorm / (norm + epsilon)
        scale = coefficient < 1 ? coefficient : 1
    }
    let clipped =
        scale == 1
        ? tensors
        : tensors.map { Tensor(shape: $0.shape, scalars: $0.scalars.map { $0 * scale }) }
    return ClipResult(norm: norm, scale: scale, clipped: clipped, clippedNorm: globalNorm(clipped))
}
