import RNNKernels

/// `gru.step`: one GRU step with one matrix per gate over the concatenated input.
struct GRUStepKernel: Kernel {
    let spec = KernelSpec(
        name: "gru.step",
        summary: "One GRU step: update z, reset r, candidate h~, and the blend h",
        doc: """
            z = σ(W_z [x, h_prev] + b_z), r = σ(W_r [x, h_prev] + b_r)
            reset before_matmul (seeds): h~ = tanh(W_h [x, r⊙h_prev] + b_h)
            reset after_matmul (PyTorch, ONNX linear_before_reset): h~ = tanh(W_hx x + b_h + r⊙(W_hh h_prev))
            update_side candidate (seeds): h = (1−z)⊙h_prev + z⊙h~; previous (PyTorch/ONNX/Keras): h = z⊙h_prev + (1−z)⊙h~
            concat_order x_h: the matrices' columns are [x, h] (seed 000); h_x: [h, x] (seed 003).
            Biases are optional (zeros). x may be one vector [I] or a batch [B, I].
            """,
        inputs: [
            InputSpec("x", shapes: [["I"], ["B", "I"]], doc: "input at this step", example: "[0.5, -1.0]"),
            InputSpec("h_prev", shapes: [["H"], ["B", "H"]], doc: "previous hidden state", example: "[0.1, -0.2]"),
            .real(
                "W_z", ["H", "I+H"], "update-gate weights over the concatenated input",
                example: "{random: normal, shape: [2, 4], seed: 1, std: 0.5}"),
            .real(
                "W_r", ["H", "I+H"], "reset-gate weights over the concatenated input",
                example: "{random: normal, shape: [2, 4], seed: 2, std: 0.5}"),
            .real(
                "W_h", ["H", "I+H"], "candidate weights over the concatenated input",
                example: "{random: normal, shape: [2, 4], seed: 3, std: 0.5}"),
            .real("b_z", ["H"], optional: true, "update-gate bias", example: "[0.0, 0.1]"),
            .real("b_r", ["H"], optional: true, "reset-gate bias", example: "[0.0, -0.1]"),
            .real("b_h", ["H"], optional: true, "candidate bias", example: "[0.2, 0.0]"),
        ],
        params: [
            ParamSpec(
                "concat_order", .choice(ConcatOrder.allCases.map(\.rawValue)), default: .string("x_h"),
                "column order of the matrices: x_h (seed 000) or h_x (seed 003)"),
            ParamSpec(
                "reset", .choice(ResetPlacement.allCases.map(\.rawValue)), default: .string("before_matmul"),
                "where r applies: to h_prev before the matmul (seeds) or to its result (PyTorch)"),
            ParamSpec(
                "update_side", .choice(UpdateSide.allCases.map(\.rawValue)), default: .string("candidate"),
                "which side z weighs: candidate, h = (1−z)h_prev + z h~ (seeds); previous, h = z h_prev + (1−z) h~"),
        ],
        outputs: [
            OutputSpec("z", "[H] or [B, H]", "update gate"),
            OutputSpec("r", "[H] or [B, H]", "reset gate"),
            OutputSpec("candidate", "[H] or [B, H]", "candidate state h~"),
            OutputSpec("h", "[H] or [B, H]", "new hidden state"),
            OutputSpec("a_z", "[H] or [B, H]", "pre-activation of z"),
            OutputSpec("a_r", "[H] or [B, H]", "pre-activation of r"),
            OutputSpec("a_candidate", "[H] or [B, H]", "pre-activation of h~"),
        ],
        sizes: KernelSpec.boundedByInputs
    ).rules([GRUStepKernel.biasRule])

    /// The three biases go together.
    static let biasRule = InputRule.allOrNone(["b_z", "b_r", "b_h"])

    /// The cell the case's weights and params describe: W_z, W_r, W_h over the concatenated input, rows z, r, n
    /// (shared with gru.bptt).
    static func cell<T: KernelScalar>(_ c: KernelContext, inputSize: Int) throws -> RecurrentCell<T> {
        let names = ["b_z", "b_r", "b_h"]
        let present = names.filter { c.has($0) }
        if !present.isEmpty && present.count < 3 {
            throw KernelError.input(names.first { !c.has($0) }!, "give all three biases b_z, b_r, b_h or none")
        }
        let order: ConcatOrder = try c.choice("concat_order")
        let conventions = CellConventions(
            kind: .gru, gateOrder: [.z, .r, .n], resetPlacement: try c.choice("reset"),
            updateSide: try c.choice("update_side"))
        let m = stackedRows([try c.real("W_z", as: T.self), try c.real("W_r"), try c.real("W_h")])
        let bias: Tensor<T>? = present.isEmpty ? nil : stackedRows(try names.map { try c.real($0, as: T.self) })
        return RecurrentCell(
            conventions: conventions,
            parameters: .concatenated(m, bias: bias, inputSize: inputSize, order: order))
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let x: Tensor<T> = try c.real("x"), hPrev: Tensor<T> = try c.real("h_prev")
        let form = try StepBatching(x, [("h_prev", hPrev)])
        let cell: RecurrentCell<T> = try Self.cell(c, inputSize: x.shape.last!)
        let conventions = cell.conventions
        let step = cell.forward(x: form.batch(x), hPrev: form.batch(hPrev))
        var out = KernelOutputs()
        out["z"] = .real(form.unbatch(step.gate(.z, of: conventions)))
        out["r"] = .real(form.unbatch(step.gate(.r, of: conventions)))
        out["candidate"] = .real(form.unbatch(step.gate(.n, of: conventions)))
        out["h"] = .real(form.unbatch(step.h))
        out["a_z"] = .real(form.unbatch(step.gate(.z, of: conventions, preactivation: true)))
        out["a_r"] = .real(form.unbatch(step.gate(.r, of: conventions, preactivation: true)))
        out["a_candidate"] = .real(form.unbatch(step.gate(.n, of: conventions, preactivation: true)))
        return out
    }
}

/// `gru.blend`: h = (1−z)⊙h_prev + z⊙h~.
struct GRUBlendKernel: Kernel {
    let spec = KernelSpec(
        name: "gru.blend",
        summary: "The GRU blend h = (1−z)⊙h_prev + z⊙h~ (or z⊙h_prev + (1−z)⊙h~)",
        doc: """
            The last line of a GRU step, given z and the candidate (seed 001 exercise 6).
            update_side previous gives PyTorch/ONNX/Keras' h = z⊙h_prev + (1−z)⊙h~. Inputs share one shape (any).
            """,
        inputs: [
            InputSpec("z", shapes: [], doc: "update gate values", example: "[0.25, 0.75]"),
            InputSpec("h_prev", shapes: [], doc: "previous hidden state", example: "[1.0, -1.0]"),
            InputSpec("h_tilde", shapes: [], doc: "candidate state h~", example: "[0.0, 0.5]"),
        ],
        params: [
            ParamSpec(
                "update_side", .choice(UpdateSide.allCases.map(\.rawValue)), default: .string("candidate"),
                "which side z weighs: candidate (seeds) or previous (PyTorch/ONNX/Keras)")
        ],
        outputs: [OutputSpec("h", "like z", "new hidden state")],
        sizes: KernelSpec.boundedByInputs)

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let z: Tensor<T> = try c.real("z"), hPrev: Tensor<T> = try c.real("h_prev"),
            n: Tensor<T> = try c.real("h_tilde")
        for (name, t) in [("h_prev", hPrev), ("h_tilde", n)] where t.shape != z.shape {
            throw KernelError.input(name, "\(name) has shape \(t.shape.shapeText) but z has \(z.shape.shapeText)")
        }
        var out = KernelOutputs()
        out["h"] = .real(gruBlend(update: z, previous: hPrev, candidate: n, side: try c.choice("update_side")))
        return out
    }
}
