// A recurrent cell's conventions: everything but its weights (cell family, gate order, activations,
// clip, coupled input/forget gate, GRU reset placement and update side), as data the one cell core
// (`RecurrentCell`) reads.
//
// Shape legend: G gates (RNN 1, GRU 3, LSTM 4), H hidden.
//   gate blocks of W, R, b_W, b_R: rows k*H ..< (k+1)*H hold gate gateOrder[k].

/// The cell family.
public enum CellKind: String, Sendable, CaseIterable {
    case rnn, lstm, gru

    /// The number of gate blocks G.
    @inlinable public var gateCount: Int {
        switch self {
        case .rnn: return 1
        case .gru: return 3
        case .lstm: return 4
        }
    }
}

/// A gate block of the weights.
///
/// LSTM: `i` input, `f` forget, `g` cell candidate, `o` output. GRU: `z` update, `r` reset,
/// `n` candidate (new state). RNN: `a`, the one pre-activation.
public enum Gate: String, Sendable, CaseIterable {
    case i, f, g, o, z, r, n, a
}

/// Where the GRU reset gate applies.
public enum ResetPlacement: String, Sendable, CaseIterable {
    /// n = g(W_n x + b_Wn + R_n (r ⊙ h_prev) + b_Rn): seeds 000/003, ONNX `linear_before_reset: 0`,
    /// Keras `reset_after: false`.
    case beforeMatmul = "before_matmul"
    /// n = g(W_n x + b_Wn + r ⊙ (R_n h_prev + b_Rn)): PyTorch, ONNX `linear_before_reset: 1`,
    /// Keras `reset_after: true`.
    case afterMatmul = "after_matmul"
}

/// Which side of the GRU blend the update gate z weighs.
public enum UpdateSide: String, Sendable, CaseIterable {
    /// h = (1 − z) ⊙ h_prev + z ⊙ n: the seeds.
    case candidate
    /// h = z ⊙ h_prev + (1 − z) ⊙ n: PyTorch, ONNX, Keras.
    case previous
}

/// The conventions of a cell: everything except the weights.
public struct CellConventions: Sendable, Equatable {
    /// RNN, LSTM or GRU.
    public var kind: CellKind
    /// The gate of each weight block, in storage order (LSTM PyTorch [i, f, g, o], ONNX [i, o, f, g],
    /// seed 000 [f, i, o, g]; GRU PyTorch [r, z, n], ONNX/Keras [z, r, n]; RNN [a]).
    public var gateOrder: [Gate]
    /// ONNX's f: the gates i, f, o, z, r (sigmoid).
    public var gateActivation: CellActivation
    /// ONNX's g: the LSTM cell candidate g, the GRU candidate n, the RNN hidden activation (tanh).
    public var candidateActivation: CellActivation
    /// ONNX's h: the LSTM output h = o ⊙ h(c) (tanh). Unused by RNN and GRU.
    public var outputActivation: CellActivation
    /// When set, every gate pre-activation is clamped to [−clip, clip] before its activation (ONNX `clip`).
    public var clip: Double?
    /// LSTM only: f = 1 − i, the forget block of the weights is ignored (ONNX `input_forget`).
    public var inputForget: Bool
    /// GRU only.
    public var resetPlacement: ResetPlacement
    /// GRU only.
    public var updateSide: UpdateSide

    /// Conventions of a `kind` cell; by default PyTorch's gate order (LSTM [i, f, g, o], GRU [r, z, n]),
    /// sigmoid gates, tanh candidate and output, no clip, the GRU reset after the product and z weighing h_prev.
    @inlinable
    public init(
        kind: CellKind, gateOrder: [Gate]? = nil,
        gateActivation: CellActivation = .sigmoid, candidateActivation: CellActivation = .tanh,
        outputActivation: CellActivation = .tanh, clip: Double? = nil, inputForget: Bool = false,
        resetPlacement: ResetPlacement = .afterMatmul, updateSide: UpdateSide = .previous
    ) {
        self.kind = kind
        self.gateOrder = gateOrder ?? CellConventions.defaultOrder(kind)
        precondition(
            Set(self.gateOrder) == Set(CellConventions.defaultOrder(kind)) && self.gateOrder.count == kind.gateCount,
            "gate order \(self.gateOrder) does not list the gates of a \(kind) cell")
        self.gateActivation = gateActivation
        self.candidateActivation = candidateActivation
        self.outputActivation = outputActivation
        self.clip = clip
        self.inputForget = inputForget
        self.resetPlacement = resetPlacement
        self.updateSide = updateSide
    }

    /// PyTorch's order: LSTM [i, f, g, o], GRU [r, z, n], RNN [a].
    public static func defaultOrder(_ kind: CellKind) -> [Gate] {
        switch kind {
        case .rnn: return [.a]
        case .lstm: return [.i, .f, .g, .o]
        case .gru: return [.r, .z, .n]
        }
    }

    /// Row offset of a gate's block, in units of H.
    @inlinable
    public func block(_ gate: Gate) -> Int {
        guard let k = gateOrder.firstIndex(of: gate) else { preconditionFailure("a \(kind) cell has no gate \(gate)") }
        return k
    }
}
