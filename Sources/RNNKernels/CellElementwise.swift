// The elementwise parts of the LSTM and GRU cells, shared by `RecurrentCell` and by the
// kernels that expose them on their own (`lstm.cell_update`, `gru.blend`).
//
// Shape legend: any shape S, the same for every operand (typically [H] or [B, H]).

/// c = f · c_prev + i · g: the LSTM cell update for one element.
@inlinable
public func lstmCellState<T: KernelScalar>(forget f: T, input i: T, candidate g: T, previous c: T) -> T {
    f * c + i * g
}

/// The GRU blend for one element: (1 − z) h_prev + z n (`.candidate`) or z h_prev + (1 − z) n (`.previous`).
@inlinable
public func gruBlend<T: KernelScalar>(update z: T, previous h: T, candidate n: T, side: UpdateSide) -> T {
    side == .candidate ? (1 - z) * h + z * n : z * h + (1 - z) * n
}

/// The result of an LSTM cell update.
public struct LSTMCellUpdate<T: KernelScalar>: Sendable {
    /// c = f ⊙ c_prev + i ⊙ g, shape S.
    public var c: Tensor<T>
    /// h = o ⊙ act(c), shape S, when o is given.
    public var h: Tensor<T>?

    /// Creates the result from its parts.
    @inlinable
    public init(c: Tensor<T>, h: Tensor<T>?) {
        self.c = c
        self.h = h
    }
}

/// The LSTM cell update on its own.
///
///     c = f ⊙ c_prev + i ⊙ g        h = o ⊙ act(c)   (when o is given; act = tanh by default)
///
/// - Precondition: every operand has the same shape S.
@inlinable
public func lstmCellUpdate<T: KernelScalar>(
    forget f: Tensor<T>, input i: Tensor<T>, candidate g: Tensor<T>,
    previous cPrev: Tensor<T>, output o: Tensor<T>? = nil,
    activation: CellActivation = .tanh
) -> LSTMCellUpdate<T> {
    precondition(
        f.shape == i.shape && f.shape == g.shape && f.shape == cPrev.shape && (o == nil || o!.shape == f.shape),
        "lstmCellUpdate: shapes differ")
    let c = (0..<f.count).map {
        lstmCellState(
            forget: f.scalars[$0], input: i.scalars[$0], candidate: g.scalars[$0], previous: cPrev.scalars[$0])
    }
    let h = o.map { o in Tensor(shape: f.shape, scalars: (0..<c.count).map { o.scalars[$0] * activation.apply(c[$0]) })
    }
    return LSTMCellUpdate(c: Tensor(shape: f.shape, scalars: c), h: h)
}

/// The GRU blend on its own: h = (1 − z) ⊙ h_prev + z ⊙ h~ (`.candidate`, the seeds) or
/// h = z ⊙ h_prev + (1 − z) ⊙ h~ (`.previous`, PyTorch/ONNX/Keras).
///
/// - Precondition: z, h_prev and h~ have the same shape S.
@inlinable
public func gruBlend<T: KernelScalar>(
    update z: Tensor<T>, previous hPrev: Tensor<T>, candidate n: Tensor<T>,
    side: UpdateSide = .candidate
) -> Tensor<T> {
    precondition(z.shape == hPrev.shape && z.shape == n.shape, "gruBlend: shapes differ")
    return Tensor(
        shape: z.shape,
        scalars: (0..<z.count).map {
            gruBlend(update: z.scalars[$0], previous: hPrev.scalars[$0], candidate: n.scalars[$0], side: side)
        })
}

/// ∂c_t/∂c_{t−1} of an LSTM step: the diagonal of the cell-state Jacobian, [B, H], computed by the
/// backward step with dL/dc_t = 1 and dL/dh_t = 0. Without peepholes it equals the forget gate f_t
/// (the "cell highway"); peepholes on i and f add their terms.
@inlinable
public func lstmCellJacobianDiagonal<T: KernelScalar>(_ cell: RecurrentCell<T>, _ cache: CellStepCache<T>) -> Tensor<T>
{
    precondition(cell.conventions.kind == .lstm, "lstmCellJacobianDiagonal: not an LSTM")
    var scratch = CellGradients(zerosLike: cell)
    guard case .lstm(let cPrev, _, _) = cache.state else {
        preconditionFailure("lstmCellJacobianDiagonal: not an LSTM step")
    }
    let d = cell.backward(
        cache, dh: Tensor(zeros: cache.h.shape), dc: Tensor(repeating: 1, shape: cPrev.shape), into: &scratch)
    return d.cPrev ?? Tensor(zeros: cPrev.shape)
}
