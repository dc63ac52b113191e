// Weight layouts: how the seeds and the frameworks store a cell's weights, mapped onto
// `CellParameters` (W [G*H, I], R [G*H, P], b_W, b_R in the conventions' gate order), the Elman RNN's
// W_xh, W_hh, b_h among them.
// Each mapping is a rearrangement; the `…Gradient` functions map gradients back.
//
// Shape legend: G gates, H hidden, I input, P state size of h, D directions.

/// The order of the concatenated input of a one-matrix layout.
public enum ConcatOrder: String, Sendable, CaseIterable {
    /// M [x, h]: seed 000.
    case xh = "x_h"
    /// M [h, x]: seed 003.
    case hx = "h_x"
}

/// Columns [0, k) and [k, N) of a [M, N] matrix.
@inlinable
public func splitColumns<T: KernelScalar>(_ m: Tensor<T>, at k: Int) -> (Tensor<T>, Tensor<T>) {
    precondition(m.rank == 2 && k >= 0 && k <= m.shape[1], "splitColumns: \(m.shape) at \(k)")
    let rows = m.shape[0], n = m.shape[1]
    var a = [T](), b = [T]()
    a.reserveCapacity(rows * k)
    b.reserveCapacity(rows * (n - k))
    for r in 0..<rows {
        a.append(contentsOf: m.scalars[(r * n)..<(r * n + k)])
        b.append(contentsOf: m.scalars[(r * n + k)..<((r + 1) * n)])
    }
    return (Tensor(shape: [rows, k], scalars: a), Tensor(shape: [rows, n - k], scalars: b))
}

/// [A | B] for [M, K1] and [M, K2].
@inlinable
public func joinColumns<T: KernelScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    concatenatedLastAxis([a, b])
}

/// Blocks stacked along the first axis ([H, K] blocks → [n*H, K]; [H] → [n*H]).
@inlinable
public func stackedRows<T: KernelScalar>(_ blocks: [Tensor<T>]) -> Tensor<T> {
    guard let first = blocks.first else { preconditionFailure("stackedRows: no blocks") }
    let inner = Array(first.shape.dropFirst())
    precondition(blocks.allSatisfy { Array($0.shape.dropFirst()) == inner }, "stackedRows: unequal blocks")
    return Tensor(shape: [blocks.reduce(0) { $0 + $1.shape[0] }] + inner, scalars: blocks.flatMap(\.scalars))
}

/// Rows [k*n, (k+1)*n) of the first axis (a gate block of a matrix or a bias).
@inlinable
public func rowBlock<T: KernelScalar>(_ m: Tensor<T>, _ k: Int, size n: Int) -> Tensor<T> {
    let inner = Array(m.shape.dropFirst()), w = inner.reduce(1, *)
    return Tensor(shape: [n] + inner, scalars: Array(m.scalars[(k * n * w)..<((k + 1) * n * w)]))
}

/// The transpose of a matrix.
@inlinable
public func transposed<T: KernelScalar>(_ m: Tensor<T>) -> Tensor<T> {
    precondition(m.rank == 2, "transposed: rank \(m.rank)")
    return m.permuted([1, 0])
}

extension CellParameters {
    /// One matrix M [G*H, I+H] over the concatenated input ([x, h] or [h, x]), rows in gate order,
    /// and an optional bias [G*H] (seeds 000 and 003).
    @inlinable
    public static func concatenated(_ m: Tensor<T>, bias: Tensor<T>? = nil, inputSize: Int, order: ConcatOrder)
        -> CellParameters
    {
        switch order {
        case .xh:
            let (w, r) = splitColumns(m, at: inputSize)
            return CellParameters(w: w, r: r, bw: bias)
        case .hx:
            let (r, w) = splitColumns(m, at: m.shape[1] - inputSize)
            return CellParameters(w: w, r: r, bw: bias)
        }
    }

    /// Separate W_k [H, I], U_k [H, H] and b_k [H] per gate, listed in the conventions' gate order (seed 002).
    @inlinable
    public static func perGate(w: [Tensor<T>], u: [Tensor<T>], b: [Tensor<T>]?) -> CellParameters {
        CellParameters(w: stackedRows(w), r: stackedRows(u), bw: b.map(stackedRows))
    }

    /// Keras: `kernel` [I, G*H], `recurrent_kernel` [H, G*H], `bias` [G*H], or [2, G*H] = (input bias,
    /// recurrent bias) for a GRU with `reset_after`.
    @inlinable
    public static func keras(kernel: Tensor<T>, recurrentKernel: Tensor<T>, bias: Tensor<T>?) -> CellParameters {
        var bw = bias, br: Tensor<T>? = nil
        if let b = bias, b.rank == 2 { bw = b.slice(0); br = b.slice(1) }
        return CellParameters(w: transposed(kernel), r: transposed(recurrentKernel), bw: bw, br: br)
    }

    /// ONNX, direction d: W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H] = (Wb, Rb), P [D, 3*H] = (p_i, p_o, p_f).
    @inlinable
    public static func onnx(w: Tensor<T>, r: Tensor<T>, b: Tensor<T>?, p: Tensor<T>?, direction d: Int)
        -> CellParameters
    {
        let gh = w.shape[1]
        var out = CellParameters(w: w.slice(d), r: r.slice(d))
        if let b {
            let bd = b.slice(d)
            out.bw = rowBlock(bd, 0, size: gh)
            out.br = rowBlock(bd, 1, size: gh)
        }
        if let p {
            let pd = p.slice(d), h = pd.count / 3
            out.peepholeI = rowBlock(pd, 0, size: h)
            out.peepholeO = rowBlock(pd, 1, size: h)
            out.peepholeF = rowBlock(pd, 2, size: h)
        }
        return out
    }
}

extension CellGradients {
    /// The gradient of the one-matrix layout M = [W | R] or [R | W].
    @inlinable
    public func concatenated(order: ConcatOrder) -> Tensor<T> {
        order == .xh ? joinColumns(w, r) : joinColumns(r, w)
    }

    /// The gradients of Keras' `kernel` and `recurrent_kernel` (transposes of dW and dR).
    @inlinable
    public var kerasKernels: (kernel: Tensor<T>, recurrentKernel: Tensor<T>) { (transposed(w), transposed(r)) }

    /// The gradient of Keras' `bias`: db_W [G*H], or [2, G*H] = (input bias, recurrent bias) when
    /// `split` (a GRU with `reset_after`), the inverse of `CellParameters.keras`.
    @inlinable
    public func kerasBias(split: Bool) -> Tensor<T> {
        split ? Tensor.stacked([bw, br], innerShape: bw.shape) : bw
    }

    /// The gradients of ONNX's W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H] = (Wb, Rb) and
    /// P [D, 3*H] = (p_i, p_o, p_f) from one cell's gradients per direction: the inverse of
    /// `CellParameters.onnx`.
    @inlinable
    public static func onnx(_ directions: [CellGradients]) -> (w: Tensor<T>, r: Tensor<T>, b: Tensor<T>, p: Tensor<T>) {
        let first = directions[0]
        return (
            Tensor.stacked(directions.map(\.w), innerShape: first.w.shape),
            Tensor.stacked(directions.map(\.r), innerShape: first.r.shape),
            Tensor.stacked(directions.map { stackedRows([$0.bw, $0.br]) }, innerShape: [2 * first.bw.count]),
            Tensor.stacked(
                directions.map { stackedRows([$0.peepholeI, $0.peepholeO, $0.peepholeF]) },
                innerShape: [3 * first.peepholeI.count])
        )
    }
}

extension RecurrentCell {
    /// The Elman RNN of the seeds, h = act(W_xh x + W_hh h_prev + b_h): one gate block, with W_xh [H, I],
    /// W_hh [H, H] and b_h [H] (zeros if nil) as W, R and b_W, and act as the candidate activation.
    @inlinable
    public static func elman(wxh: Tensor<T>, whh: Tensor<T>, bh: Tensor<T>? = nil, activation: CellActivation = .tanh)
        -> RecurrentCell
    {
        RecurrentCell(
            conventions: CellConventions(kind: .rnn, candidateActivation: activation),
            parameters: CellParameters(w: wxh, r: whh, bw: bh))
    }
}
