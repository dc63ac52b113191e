// The weights of a recurrent cell, and their gradients, in the conventions' gate order.
//
// Shape legend: G gates, H hidden, I input, P state size of h (H, or the projection size).
//   W [G*H, I] input weights, R [G*H, P] recurrent weights, b_W [G*H], b_R [G*H],
//   peepholes p_i, p_f, p_o [H], projection W_hr [P, H]

/// The weights of a cell, in the conventions' gate order.
public struct CellParameters<T: KernelScalar>: Sendable {
    /// Input weights W, [G*H, I].
    public var w: Tensor<T>
    /// Recurrent weights R, [G*H, P].
    public var r: Tensor<T>
    /// Input bias b_W, [G*H], or nil.
    public var bw: Tensor<T>?
    /// Recurrent bias b_R, [G*H], or nil (frameworks with one bias put it in b_W).
    public var br: Tensor<T>?
    /// LSTM peepholes, [H] each (ONNX P = [p_i, p_o, p_f]).
    public var peepholeI: Tensor<T>?
    /// LSTM peephole on the forget gate, [H].
    public var peepholeF: Tensor<T>?
    /// LSTM peephole on the output gate, [H].
    public var peepholeO: Tensor<T>?
    /// LSTM projection W_hr, [P, H] (PyTorch `proj_size`).
    public var projection: Tensor<T>?

    /// A cell's weights: W [G*H, I], R [G*H, H or P], the optional biases, peepholes and projection.
    @inlinable
    public init(
        w: Tensor<T>, r: Tensor<T>, bw: Tensor<T>? = nil, br: Tensor<T>? = nil,
        peepholeI: Tensor<T>? = nil, peepholeF: Tensor<T>? = nil, peepholeO: Tensor<T>? = nil,
        projection: Tensor<T>? = nil
    ) {
        self.w = w
        self.r = r
        self.bw = bw
        self.br = br
        self.peepholeI = peepholeI
        self.peepholeF = peepholeF
        self.peepholeO = peepholeO
        self.projection = projection
    }
}

/// Gradients of a cell's weights; same shapes as `CellParameters` (biases, peepholes and the
/// projection always present, zero where the cell has none).
public struct CellGradients<T: KernelScalar>: Sendable {
    /// dL/dW, [G*H, I].
    public var w: Tensor<T>
    /// dL/dR, [G*H, H or P].
    public var r: Tensor<T>
    /// dL/db_W, [G*H].
    public var bw: Tensor<T>
    /// dL/db_R, [G*H].
    public var br: Tensor<T>
    /// dL/dp_i, [H].
    public var peepholeI: Tensor<T>
    /// dL/dp_f, [H].
    public var peepholeF: Tensor<T>
    /// dL/dp_o, [H].
    public var peepholeO: Tensor<T>
    /// dL/dW_hr, [P, H], with a projection.
    public var projection: Tensor<T>?

    /// Zeros shaped like the cell's weights.
    @inlinable
    public init(zerosLike cell: RecurrentCell<T>) {
        let gh = cell.conventions.kind.gateCount * cell.hiddenSize, h = cell.hiddenSize
        w = Tensor(zeros: [gh, cell.inputSize])
        r = Tensor(zeros: [gh, cell.stateSize])
        bw = Tensor(zeros: [gh])
        br = Tensor(zeros: [gh])
        peepholeI = Tensor(zeros: [h])
        peepholeF = Tensor(zeros: [h])
        peepholeO = Tensor(zeros: [h])
        projection = cell.parameters.projection.map { Tensor(zeros: $0.shape) }
    }
}
