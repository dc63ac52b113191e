// One recurrent-cell core for the Elman RNN, the LSTM and the GRU, with every framework's
// conventions (gate order, bias split, GRU reset placement and update side, peepholes, clip,
// coupled input/forget gate, projection, activations) as data.
//
// Shape legend: B batch, I input, H hidden, P state size of h (H, or the projection size),
//   G gates (RNN 1, GRU 3, LSTM 4).
//   x [B, I], h_prev [B, P], c_prev [B, H]
//   W [G*H, I] input weights, R [G*H, P] recurrent weights, b_W [G*H], b_R [G*H],
//   peepholes p_i, p_f, p_o [H], projection W_hr [P, H]
//   gate blocks of W, R, b_W, b_R: rows k*H ..< (k+1)*H hold gate gateOrder[k].
//
// The cell's code is split by concern: CellConventions.swift (the conventions), CellParameters.swift (the
// weights and their gradients), this file (the cell and the helpers every step uses), CellForward.swift
// (a step forward), CellSplit.swift (a step split by hidden unit over threads), CellBackward.swift and
// CellBackwardGates.swift (a step backward).

/// A recurrent cell: conventions plus weights.
///
/// RNN:  h = g(W x + b_W + R h_prev + b_R)
/// LSTM: a_k = W_k x + b_Wk + R_k h_prev + b_Rk (+ p_k ⊙ c_prev for k = i, f)
///       i = f(a_i), f = f(a_f) (or 1 − i), g = g(a_g), c = f ⊙ c_prev + i ⊙ g,
///       o = f(a_o + p_o ⊙ c), h = o ⊙ h(c) (then h = W_hr h with a projection)
/// GRU:  z = f(a_z), r = f(a_r),
///       n = g(W_n x + b_Wn + R_n (r ⊙ h_prev) + b_Rn)       (reset before the matmul)
///       n = g(W_n x + b_Wn + r ⊙ (R_n h_prev + b_Rn))       (reset after the matmul)
///       h = (1 − z) ⊙ h_prev + z ⊙ n  or  h = z ⊙ h_prev + (1 − z) ⊙ n
/// With `clip`, each pre-activation is clamped to [−clip, clip] before its activation.
public struct RecurrentCell<T: KernelScalar>: Sendable {
    /// Everything but the weights: kind, gate order, activations, clip.
    public var conventions: CellConventions
    /// The weights.
    public var parameters: CellParameters<T>
    /// W and R packed for the sequence passes' products, kept while they are the same arrays
    /// (`PackedWeightsStore`), shared by the cell's copies.
    @usableFromInline let packedWeights = PackedWeightsStore<T>()

    /// H.
    public var hiddenSize: Int { parameters.w.shape[0] / conventions.kind.gateCount }
    /// I.
    public var inputSize: Int { parameters.w.shape[1] }
    /// P: the size of h (the projection size, or H).
    public var stateSize: Int { parameters.projection?.shape[0] ?? hiddenSize }

    /// A cell; the weights' shapes are checked against each other (callers check user input first).
    @inlinable
    public init(conventions: CellConventions, parameters p: CellParameters<T>) {
        let g = conventions.kind.gateCount
        precondition(p.w.rank == 2 && p.w.shape[0] % g == 0, "W must be [\(g)*H, I], found \(p.w.shape)")
        let h = p.w.shape[0] / g, s = p.projection?.shape[0] ?? h
        precondition(p.r.shape == [g * h, s], "R must be [\(g * h), \(s)], found \(p.r.shape)")
        for b in [p.bw, p.br].compactMap({ $0 }) {
            precondition(b.shape == [g * h], "biases must be [\(g * h)], found \(b.shape)")
        }
        for q in [p.peepholeI, p.peepholeF, p.peepholeO].compactMap({ $0 }) {
            precondition(conventions.kind == .lstm && q.shape == [h], "peepholes must be [\(h)] on an LSTM")
        }
        if let proj = p.projection {
            precondition(conventions.kind == .lstm && proj.shape == [s, h], "projection must be [P, H] on an LSTM")
        }
        self.conventions = conventions
        self.parameters = p
    }

    // MARK: helpers

    @inlinable
    func clamp(_ x: T) -> T {
        guard let c = conventions.clip else { return x }
        let b = T(c)
        return Swift.min(b, Swift.max(-b, x))
    }

    /// d clamp(x)/dx: 1 inside [−clip, clip] (ends included), 0 outside.
    @inlinable
    func clampSlope(_ x: T) -> T {
        guard let c = conventions.clip else { return 1 }
        return Swift.abs(x) <= T(c) ? 1 : 0
    }

    /// y[k] = act(clamp(a[k])) for k in 0..<n: the whole run at once (vectorized for the sigmoid
    /// and tanh), through a scratch copy only when the cell clips.
    @inlinable
    func activate(_ act: CellActivation, _ a: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, count n: Int) {
        if conventions.clip == nil {
            act.apply(UnsafeBufferPointer(start: a, count: n), into: UnsafeMutableBufferPointer(start: y, count: n))
        } else {
            let clamped = (0..<n).map { clamp(a[$0]) }
            clamped.withUnsafeBufferPointer { act.apply($0, into: UnsafeMutableBufferPointer(start: y, count: n)) }
        }
    }

    /// Rows [k*H, (k+1)*H) of a [G*H, K] matrix, as a flat [H*K] array.
    @inlinable
    func rows(_ m: Tensor<T>, block k: Int) -> [T] {
        let h = hiddenSize, n = m.shape[1]
        return Array(m.scalars[(k * h * n)..<((k + 1) * h * n)])
    }
}

/// A zero-filled array of n elements.
@inlinable
func zeros<T: KernelScalar>(_ n: Int) -> [T] { [T](repeating: 0, count: n) }
