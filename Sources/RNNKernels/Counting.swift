// Integer bookkeeping of recurrent layers: parameter counts, output shapes, truncated-BPTT windows.
//
// Shape legend: I input size, H hidden size, L layers, D directions (1 or 2), B batch, T steps,
// V vocabulary (output classes), G gate blocks per cell (RNN 1, GRU 3, LSTM 4).

/// A recurrent cell type, for counting.
public enum CellFamily: String, Sendable, CaseIterable {
    case rnn, lstm, gru

    /// G, the number of weight blocks of shape [H, I + H]: 1 (tanh), 4 (f, i, o, g), 3 (z, r, h~).
    @inlinable
    public var gateBlocks: Int {
        switch self {
        case .rnn: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }
}

/// The parameter count of a (stacked, possibly bidirectional) recurrent layer.
public struct ParameterCount: Sendable, Equatable {
    /// Weight entries over all layers and directions.
    public var weights: Int
    /// Bias entries over all layers and directions.
    public var biases: Int
    /// weights + biases of each layer (all its directions), [L].
    public var perLayer: [Int]
    /// weights + biases.
    public var total: Int { weights + biases }

    /// Creates the result from its parts.
    @inlinable
    public init(weights: Int, biases: Int, perLayer: [Int]) {
        self.weights = weights
        self.biases = biases
        self.perLayer = perLayer
    }
}

/// Counts the parameters of a recurrent layer.
///
///     per direction of layer l:  G·H·(I_l + H) + nb·G·H,   I_0 = I,  I_l = D·H for l ≥ 1
///
/// Arguments:
///   - cell: RNN (G = 1), LSTM (G = 4) or GRU (G = 3).
///   - inputSize: I; hiddenSize: H; layers: L ≥ 1; directions: D (1 or 2).
///   - biasVectors: nb, the bias vectors per gate block: 1 as in the seeds' b, 2 as PyTorch's
///     b_ih and b_hh, 0 for none.
/// - Note: shared over time, the count does not depend on the sequence length; unrolled with
///   separate weights per step it is T times larger.
@inlinable
public func parameterCount(
    cell: CellFamily, inputSize: Int, hiddenSize: Int, layers: Int = 1,
    directions: Int = 1, biasVectors: Int = 1
) -> ParameterCount {
    let g = cell.gateBlocks, h = hiddenSize
    var weights = 0, biases = 0, perLayer: [Int] = []
    for l in 0..<layers {
        let inSize = l == 0 ? inputSize : directions * h
        let w = directions * g * h * (inSize + h)
        let b = directions * biasVectors * g * h
        weights += w
        biases += b
        perLayer.append(w + b)
    }
    return ParameterCount(weights: weights, biases: biases, perLayer: perLayer)
}

/// `parameterCount` with every sum and product checked: nil when a count (or the total) would
/// overflow 64 bits, or when an argument is out of its domain.
@inlinable
public func checkedParameterCount(
    cell: CellFamily, inputSize: Int, hiddenSize: Int, layers: Int = 1,
    directions: Int = 1, biasVectors: Int = 1
) -> ParameterCount? {
    guard inputSize >= 0, hiddenSize >= 0, layers >= 0, directions >= 0, biasVectors >= 0 else { return nil }
    func mul(_ xs: Int...) -> Int? {
        var p = 1
        for x in xs {
            let (r, o) = p.multipliedReportingOverflow(by: x)
            if o { return nil }
            p = r
        }
        return p
    }
    func add(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }
    let g = cell.gateBlocks, h = hiddenSize
    var weights = 0, biases = 0, perLayer: [Int] = []
    for l in 0..<layers {
        guard let inSize = l == 0 ? inputSize : mul(directions, h), let width = add(inSize, h),
            let w = mul(directions, g, h, width), let b = mul(directions, biasVectors, g, h),
            let ws = add(weights, w), let bs = add(biases, b), let layer = add(w, b)
        else { return nil }
        weights = ws
        biases = bs
        perLayer.append(layer)
    }
    guard add(weights, biases) != nil else { return nil }
    return ParameterCount(weights: weights, biases: biases, perLayer: perLayer)
}

/// What a recurrent layer's outputs look like.
public enum RecurrentTask: String, Sendable, CaseIterable {
    /// One prediction per sequence, from the last output state: logits [B, V].
    case manyToOne = "many_to_one"
    /// One prediction per step: logits [B, T, V] (batch first) or [T, B, V].
    case manyToMany = "many_to_many"
}

/// The shapes a recurrent layer produces, as PyTorch reports them.
public struct RecurrentShapes: Sendable, Equatable {
    /// Per-step outputs of the top layer: [B, T, D·H] batch first, else [T, B, D·H].
    public var output: [Int]
    /// Final state of every layer and direction: [L·D, B, H].
    public var finalState: [Int]
    /// The last step's output state: [B, D·H].
    public var last: [Int]
    /// Logits of the head: [B, V] many-to-one; [B, T, V] (or [T, B, V]) many-to-many.
    public var logits: [Int]?

    /// Creates the result from its parts.
    @inlinable
    public init(output: [Int], finalState: [Int], last: [Int], logits: [Int]?) {
        self.output = output
        self.finalState = finalState
        self.last = last
        self.logits = logits
    }
}

/// The output shapes of a recurrent layer.
///
///     output [B, T, D·H]   h_n [L·D, B, H]   last [B, D·H]   logits [B, V] or [B, T, V]
///
/// Arguments:
///   - batch: B; steps: T; hiddenSize: H; layers: L; directions: D (2 concatenates forward and
///     backward states on the feature axis).
///   - vocabulary: V, the head's output size, or nil for no head.
///   - batchFirst: [B, T, ·] as in the seeds; false gives [T, B, ·] (PyTorch's default).
@inlinable
public func recurrentShapes(
    batch: Int, steps: Int, hiddenSize: Int, layers: Int = 1, directions: Int = 1,
    vocabulary: Int? = nil, task: RecurrentTask = .manyToMany,
    batchFirst: Bool = true
) -> RecurrentShapes {
    let feature = directions * hiddenSize
    let seq = batchFirst ? [batch, steps] : [steps, batch]
    let logits = vocabulary.map { v in task == .manyToOne ? [batch, v] : seq + [v] }
    return RecurrentShapes(
        output: seq + [feature], finalState: [layers * directions, batch, hiddenSize],
        last: [batch, feature], logits: logits)
}

/// The windows of truncated backpropagation through time.
///
///     chunk k = [k·s, min(k·s + w, T)),  k·s < T
///
/// - Parameters:
///   - length: T ≥ 0.
///   - window: w ≥ 1, the steps backpropagated through.
///   - stride: s ≥ 1, the distance between window starts (w: non-overlapping, as in the seeds).
/// - Returns: (start, stop) pairs, stop exclusive; the last window is shorter when w does not
///   divide T; T = 0 gives none.
@inlinable
public func bpttChunks(length: Int, window: Int, stride: Int? = nil) -> [(start: Int, stop: Int)] {
    precondition(length >= 0 && window >= 1 && (stride ?? 1) >= 1, "bpttChunks: bad arguments")
    return Swift.stride(from: 0, to: length, by: stride ?? window).map { ($0, $0 + Swift.min(window, length - $0)) }
}
