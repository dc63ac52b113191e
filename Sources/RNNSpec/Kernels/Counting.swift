import RNNKernels

/// `params.count`: parameter counts of RNN/LSTM/GRU layers.
struct ParamsCountKernel: Kernel {
    let spec = KernelSpec(
        name: "params.count",
        summary: "Parameter count of an RNN/LSTM/GRU layer stack, shared over time, and the count if it were not",
        doc: """
            per direction of layer l: G*H*(I_l + H) + biases*G*H, G = 1 (rnn), 4 (lstm), 3 (gru);
            I_0 = input_size, I_l = directions*H above. biases: 1 vector per gate block as in the seeds, 2 as PyTorch
            (b_ih and b_hh), 0 for none. unshared = steps * total: the count if every step had its own weights.
            """,
        inputs: [],
        params: [
            ParamSpec("cell", .choice(CellFamily.allCases.map(\.rawValue)), "rnn, lstm or gru"),
            ParamSpec("input_size", .integer(min: 0, max: 1_000_000_000), "I"),
            ParamSpec("hidden_size", .integer(min: 1, max: 1_000_000_000), "H"),
            ParamSpec("layers", .integer(min: 1, max: 1_000_000), default: .integer(1), "stacked layers"),
            ParamSpec("directions", .integer(min: 1, max: 2), default: .integer(1), "2 for bidirectional"),
            ParamSpec(
                "biases", .integer(min: 0, max: 2), default: .integer(1),
                "bias vectors per gate block: 1 (seeds), 2 (PyTorch), 0"),
            ParamSpec(
                "steps", .integer(min: 0, max: 1_000_000_000), optional: true, "T: adds the unshared count T * total"),
        ],
        outputs: [
            OutputSpec("total", .integer, "[]", "weights + biases"),
            OutputSpec("weights", .integer, "[]", "weight entries"),
            OutputSpec("biases", .integer, "[]", "bias entries"),
            OutputSpec("per_layer", .integer, "[L]", "total of each layer, all directions"),
            OutputSpec("unshared", .integer, "[]", optional: true, "steps * total (with steps)"),
        ],
        hasPrecision: false,
        sizes: { c in [ImpliedSize("output 'per_layer'", [("layers", try c.int("layers"))], blame: "param:layers")] })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        guard
            let n = checkedParameterCount(
                cell: try c.choice("cell"), inputSize: try c.int("input_size"), hiddenSize: try c.int("hidden_size"),
                layers: try c.int("layers"), directions: try c.int("directions"), biasVectors: try c.int("biases"))
        else {
            throw KernelError.param("hidden_size", "the parameter count overflows 64 bits (more than \(Int.max))")
        }
        var out = KernelOutputs()
        out["total"] = .integer(n.total)
        out["weights"] = .integer(n.weights)
        out["biases"] = .integer(n.biases)
        out["per_layer"] = .integers(n.perLayer)
        if let steps = try c.optionalInt("steps") {
            let (unshared, overflow) = steps.multipliedReportingOverflow(by: n.total)
            if overflow { throw KernelError.param("steps", "steps × total = \(steps) × \(n.total) overflows 64 bits") }
            out["unshared"] = .integer(unshared)
        }
        return out
    }
}

/// `shape.rnn_output`: the output shapes of a recurrent layer and its head.
struct RNNOutputShapeKernel: Kernel {
    let spec = KernelSpec(
        name: "shape.rnn_output",
        summary: "Output shapes of a recurrent layer: per-step outputs, final states, last output, logits",
        doc: """
            output [B, T, D*H] (batch_first) or [T, B, D*H]; h_n [L*D, B, H]; last [B, D*H];
            logits [B, V] (many_to_one), or [B, T, V] (many_to_many, batch_first) or [T, B, V] when vocab is given.
            Bidirectional (directions: 2) concatenates forward and backward states on the feature axis.
            """,
        inputs: [],
        params: [
            ParamSpec("batch", .integer(min: 0, max: 1_000_000_000), "B"),
            ParamSpec("steps", .integer(min: 0, max: 1_000_000_000), "T"),
            ParamSpec("hidden_size", .integer(min: 1, max: 1_000_000_000), "H"),
            ParamSpec("layers", .integer(min: 1, max: 1_000_000), default: .integer(1), "L, stacked layers"),
            ParamSpec("directions", .integer(min: 1, max: 2), default: .integer(1), "D, 2 for bidirectional"),
            ParamSpec(
                "vocab", .integer(min: 1, max: 1_000_000_000), optional: true, "V, the head's output size (adds logits)"
            ),
            ParamSpec(
                "task", .choice(RecurrentTask.allCases.map(\.rawValue)), default: .string("many_to_many"),
                "one prediction per sequence or per step"),
            ParamSpec(
                "batch_first", .boolean, default: .boolean(true),
                "[B, T, ...] (seeds) or [T, B, ...] (PyTorch's default)"),
        ],
        outputs: [
            OutputSpec("output", .integer, "[3]", "shape of the per-step outputs"),
            OutputSpec("h_n", .integer, "[3]", "shape of the final states"),
            OutputSpec("last", .integer, "[2]", "shape of the last step's output"),
            OutputSpec("logits", .integer, "[2] or [3]", optional: true, "shape of the head's logits (with vocab)"),
        ],
        hasPrecision: false,
        sizes: { _ in [] })  // three shapes of at most three numbers

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let s = recurrentShapes(
            batch: try c.int("batch"), steps: try c.int("steps"), hiddenSize: try c.int("hidden_size"),
            layers: try c.int("layers"), directions: try c.int("directions"), vocabulary: try c.optionalInt("vocab"),
            task: try c.choice("task"), batchFirst: try c.bool("batch_first"))
        var out = KernelOutputs()
        out["output"] = .integers(s.output)
        out["h_n"] = .integers(s.finalState)
        out["last"] = .integers(s.last)
        if let l = s.logits { out["logits"] = .integers(l) }
        return out
    }
}

/// `bptt.chunks`: the windows of truncated BPTT.
struct BPTTChunksKernel: Kernel {
    let spec = KernelSpec(
        name: "bptt.chunks",
        summary: "Truncated-BPTT windows [start, min(start + window, T)) for start = 0, stride, ... < T",
        doc: """
            Windows of `window` steps starting every `stride` steps (default: window, non-overlapping);
            the last one is shorter when window does not divide T; T = 0 gives none.
            The hidden state is carried (detached) from one window to the next.
            """,
        inputs: [],
        params: [
            ParamSpec("length", .integer(min: 0, max: 1_000_000_000_000), "T, the sequence length"),
            ParamSpec("window", .integer(min: 1, max: 1_000_000_000_000), "steps per window"),
            ParamSpec(
                "stride", .integer(min: 1, max: 1_000_000_000_000), optional: true,
                "distance between starts (default: window)"),
        ],
        outputs: [
            OutputSpec("chunks", .integer, "[N, 2]", "(start, stop) per window, stop exclusive"),
            OutputSpec("lengths", .integer, "[N]", "stop - start per window"),
            OutputSpec("count", .integer, "[]", "N, the number of windows"),
        ],
        hasPrecision: false,
        sizes: { c in
            let length = try c.int("length"), window = try c.int("window"), stride = try c.optionalInt("stride")
            let s = stride ?? window
            let windows = length / s + (length % s == 0 ? 0 : 1)
            return [
                ImpliedSize(
                    "output 'chunks'", [("windows", windows), ("2", 2)],
                    blame: stride == nil ? "param:window" : "param:stride")
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let chunks = bpttChunks(
            length: try c.int("length"), window: try c.int("window"), stride: try c.optionalInt("stride"))
        var out = KernelOutputs()
        out["chunks"] = .integer(Tensor(shape: [chunks.count, 2], scalars: chunks.flatMap { [$0.start, $0.stop] }))
        out["lengths"] = .integers(chunks.map { $0.stop - $0.start })
        out["count"] = .integer(chunks.count)
        return out
    }
}
