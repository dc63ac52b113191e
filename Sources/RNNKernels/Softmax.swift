// The logistic function and the softmax family, for scalars and vectors (the cells' activations are
// `CellActivation`).

/// The logistic function σ(x) = 1 / (1 + e^−x), evaluated without overflow for large |x|.
@inlinable
public func sigmoid<T: KernelScalar>(_ x: T) -> T {
    if x >= 0 { return 1 / (1 + T.exp(-x)) }
    let e = T.exp(x)
    return e / (1 + e)
}

/// Numerically stable softmax: exp(x − max x) / Σ exp(x − max x).
///
/// An empty input gives an empty output. If the maximum is +∞ the +∞ entries share the
/// mass equally; NaN in, NaN out.
@inlinable
public func softmax<T: KernelScalar>(_ x: [T]) -> [T] {
    guard let m = x.max() else { return [] }
    if m == .infinity {
        let n = T(x.filter { $0 == .infinity }.count)
        return x.map { $0 == .infinity ? 1 / n : 0 }
    }
    let e = x.map { T.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

/// log-softmax, stable: x − max x − log Σ exp(x − max x).
@inlinable
public func logSoftmax<T: KernelScalar>(_ x: [T]) -> [T] {
    guard let m = x.max() else { return [] }
    let lse = T.log(x.reduce(0) { $0 + T.exp($1 - m) }) + m
    return x.map { $0 - lse }
}
