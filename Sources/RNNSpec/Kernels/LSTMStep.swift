import RNNKernels

/// `lstm.step`: one LSTM step in the seeds' and PyTorch's weight layouts, every gate as an output.
struct LSTMStepKernel: Kernel {
    enum Layout: String, CaseIterable {
        case concatFIOG = "concat_fiog", separate, torch
    }

    static let separateNames = ["f", "i", "o", "g"].flatMap { ["W_\($0)", "U_\($0)", "b_\($0)"] }
    static let torchNames = ["W_ih", "W_hh", "b_ih", "b_hh"]
    static let concatNames = ["W", "b"]

    /// Which inputs each weight layout takes.
    static let layoutRules: [InputRule] = [
        .unused(
            separateNames + torchNames, when: .param("layout", [.string("concat_fiog")]),
            because: "layout concat_fiog takes W, b"),
        .required(["W"], when: .param("layout", [.string("concat_fiog")]), because: "layout concat_fiog"),
        .unused(
            concatNames + torchNames, when: .param("layout", [.string("separate")]),
            because: "layout separate takes W_k, U_k, b_k"),
        .required(
            ["f", "i", "o", "g"].flatMap { ["W_\($0)", "U_\($0)"] }, when: .param("layout", [.string("separate")]),
            because: "layout separate"),
        .allOrNone(["b_f", "b_i", "b_o", "b_g"], when: .param("layout", [.string("separate")])),
        .unused(
            concatNames + separateNames, when: .param("layout", [.string("torch")]),
            because: "layout torch takes W_ih, W_hh, b_ih, b_hh"),
        .required(["W_ih", "W_hh"], when: .param("layout", [.string("torch")]), because: "layout torch"),
    ]

    let spec = KernelSpec(
        name: "lstm.step",
        summary: "One LSTM step: gates f, i, o, g, then c = f⊙c_prev + i⊙g and h = o⊙tanh(c)",
        doc: """
            f, i, o = σ(a_f), σ(a_i), σ(a_o); g = tanh(a_g); c = f⊙c_prev + i⊙g; h = o⊙tanh(c).
            layout concat_fiog (seed 000): a = W [x, h_prev] + b, W [4*H, I+H], rows f, i, o, g.
            layout separate (seed 002): a_k = W_k x + U_k h_prev + b_k for k = f, i, o, g.
            layout torch (torch.nn.LSTMCell): a = W_ih x + b_ih + W_hh h_prev + b_hh, rows i, f, g, o.
            Biases are optional (zeros). x may be one vector [I] or a batch [B, I] (then h_prev, c_prev are [B, H]).
            dc_dc_prev is ∂c/∂c_prev from the backward step: the forget gate f, the cell-state highway.
            """,
        inputs: [
            InputSpec("x", shapes: [["I"], ["B", "I"]], doc: "input at this step", example: "[0.5, -1.0]"),
            InputSpec("h_prev", shapes: [["H"], ["B", "H"]], doc: "previous hidden state", example: "[0.1, -0.2]"),
            InputSpec("c_prev", shapes: [["H"], ["B", "H"]], doc: "previous cell state", example: "[0.3, 0.0]"),
            .real(
                "W", ["4*H", "I+H"], optional: true,
                "layout concat_fiog: one matrix over [x, h_prev], gate rows f, i, o, g",
                example: "{random: normal, shape: [8, 4], seed: 1, std: 0.5}"
            ).inSkeleton(),
            .real(
                "b", ["4*H"], optional: true, "layout concat_fiog: bias, rows f, i, o, g",
                example: "[0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]"),
        ]
            + ["f", "i", "o", "g"].flatMap { k in
                [
                    InputSpec.real(
                        "W_\(k)", ["H", "I"], optional: true, "layout separate: input weights of gate \(k)",
                        example: "{random: normal, shape: [2, 2], seed: 1, std: 0.5}"),
                    InputSpec.real(
                        "U_\(k)", ["H", "H"], optional: true, "layout separate: recurrent weights of gate \(k)",
                        example: "{random: normal, shape: [2, 2], seed: 2, std: 0.5}"),
                    InputSpec.real(
                        "b_\(k)", ["H"], optional: true, "layout separate: bias of gate \(k)", example: "[0.0, 0.0]"),
                ]
            } + [
                .real(
                    "W_ih", ["4*H", "I"], optional: true, "layout torch: weight_ih, gate rows i, f, g, o",
                    example: "{random: uniform, shape: [8, 2], seed: 1, low: -0.7, high: 0.7}"),
                .real(
                    "W_hh", ["4*H", "H"], optional: true, "layout torch: weight_hh, gate rows i, f, g, o",
                    example: "{random: uniform, shape: [8, 2], seed: 2, low: -0.7, high: 0.7}"),
                .real(
                    "b_ih", ["4*H"], optional: true, "layout torch: bias_ih",
                    example: "{random: uniform, shape: [8], seed: 3, low: -0.7, high: 0.7}"),
                .real(
                    "b_hh", ["4*H"], optional: true, "layout torch: bias_hh",
                    example: "{random: uniform, shape: [8], seed: 4, low: -0.7, high: 0.7}"),
            ],
        params: [
            ParamSpec(
                "layout", .choice(Layout.allCases.map(\.rawValue)), default: .string("concat_fiog"),
                "how the weights are given: concat_fiog (seed 000), separate (seed 002), torch (PyTorch)")
        ],
        outputs: ["f", "i", "o", "g"].map { OutputSpec($0, "[H] or [B, H]", "gate \($0) (g: the candidate)") } + [
            OutputSpec("c", "[H] or [B, H]", "new cell state f⊙c_prev + i⊙g"),
            OutputSpec("h", "[H] or [B, H]", "new hidden state o⊙tanh(c)"),
        ] + ["f", "i", "o", "g"].map { OutputSpec("a_\($0)", "[H] or [B, H]", "pre-activation of gate \($0)") } + [
            OutputSpec("dc_dc_prev", "[H] or [B, H]", "∂c/∂c_prev (elementwise): equals f")
        ],
        sizes: KernelSpec.boundedByInputs
    ).rules(LSTMStepKernel.layoutRules)

    /// The cell the case's weights describe, in the layout the `layout` param names (shared with lstm.bptt).
    static func cell<T: KernelScalar>(_ c: KernelContext, inputSize: Int) throws -> (RecurrentCell<T>, Layout) {
        let layout: Layout = try c.choice("layout")
        let conventions: CellConventions
        let parameters: CellParameters<T>
        switch layout {
        case .concatFIOG:
            try c.rejectInputs(Self.separateNames + Self.torchNames, because: "layout is concat_fiog (W, b)")
            try c.requireInputs(["W"], because: "layout concat_fiog")
            conventions = CellConventions(kind: .lstm, gateOrder: [.f, .i, .o, .g])
            parameters = .concatenated(try c.real("W"), bias: try c.optionalReal("b"), inputSize: inputSize, order: .xh)
        case .separate:
            try c.rejectInputs(Self.concatNames + Self.torchNames, because: "layout is separate (W_k, U_k, b_k)")
            try c.requireInputs(["f", "i", "o", "g"].flatMap { ["W_\($0)", "U_\($0)"] }, because: "layout separate")
            let gates = ["f", "i", "o", "g"]
            let biases = gates.filter { c.has("b_\($0)") }
            if !biases.isEmpty && biases.count < 4 {
                throw KernelError.input("b_\(gates.first { !c.has("b_\($0)") }!)", "give every gate's bias or none")
            }
            conventions = CellConventions(kind: .lstm, gateOrder: [.f, .i, .o, .g])
            parameters = .perGate(
                w: try gates.map { try c.real("W_\($0)") }, u: try gates.map { try c.real("U_\($0)") },
                b: biases.isEmpty ? nil : try gates.map { try c.real("b_\($0)") })
        case .torch:
            try c.rejectInputs(
                Self.concatNames + Self.separateNames, because: "layout is torch (W_ih, W_hh, b_ih, b_hh)")
            try c.requireInputs(["W_ih", "W_hh"], because: "layout torch")
            conventions = CellConventions(kind: .lstm, gateOrder: [.i, .f, .g, .o])
            parameters = CellParameters(
                w: try c.real("W_ih"), r: try c.real("W_hh"), bw: try c.optionalReal("b_ih"),
                br: try c.optionalReal("b_hh"))
        }
        return (RecurrentCell(conventions: conventions, parameters: parameters), layout)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let x: Tensor<T> = try c.real("x"), hPrev: Tensor<T> = try c.real("h_prev"),
            cPrev: Tensor<T> = try c.real("c_prev")
        let form = try StepBatching(x, [("h_prev", hPrev), ("c_prev", cPrev)])
        guard hPrev.shape == cPrev.shape else {
            throw KernelError.input(
                "c_prev", "c_prev has shape \(cPrev.shape.shapeText) but h_prev has \(hPrev.shape.shapeText)")
        }
        let (cell, _): (RecurrentCell<T>, Layout) = try Self.cell(c, inputSize: x.shape.last!)
        let conventions = cell.conventions
        let step = cell.forward(x: form.batch(x), hPrev: form.batch(hPrev), cPrev: form.batch(cPrev))
        var out = KernelOutputs()
        for g in [Gate.f, .i, .o, .g] { out[g.rawValue] = .real(form.unbatch(step.gate(g, of: conventions))) }
        if case .lstm(_, let cNew, _) = step.state { out["c"] = .real(form.unbatch(cNew)) }
        out["h"] = .real(form.unbatch(step.h))
        for g in [Gate.f, .i, .o, .g] {
            out["a_\(g.rawValue)"] = .real(form.unbatch(step.gate(g, of: conventions, preactivation: true)))
        }
        out["dc_dc_prev"] = .real(form.unbatch(lstmCellJacobianDiagonal(cell, step)))
        return out
    }
}

/// `lstm.cell_update`: c = f⊙c_prev + i⊙g, and h = o⊙tanh(c) when o is given.
struct LSTMCellUpdateKernel: Kernel {
    let spec = KernelSpec(
        name: "lstm.cell_update",
        summary: "The LSTM cell update c = f⊙c_prev + i⊙g, and h = o⊙tanh(c) when o is given",
        doc: """
            The elementwise part of an LSTM step, given gate values (seed 001 exercise 5, seed 003 §10).
            Every input has the same shape (any).
            """,
        inputs: [
            InputSpec("f", shapes: [], doc: "forget gate values", example: "[0.9, 0.2]"),
            InputSpec("i", shapes: [], doc: "input gate values", example: "[0.1, 0.8]"),
            InputSpec("g", shapes: [], doc: "candidate values (the seeds' cand)", example: "[0.5, 0.25]"),
            InputSpec("c_prev", shapes: [], doc: "previous cell state", example: "[1.0, -1.0]"),
            InputSpec(
                "o", shapes: [], optional: true, doc: "output gate values: adds h = o⊙tanh(c)", example: "[0.5, 0.5]"),
        ],
        outputs: [
            OutputSpec("c", "like f", "new cell state"),
            OutputSpec("h", "like f", optional: true, "o⊙tanh(c) (with o)"),
        ],
        sizes: KernelSpec.boundedByInputs)

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let f: Tensor<T> = try c.real("f")
        var operands = [String: Tensor<T>]()
        for name in ["i", "g", "c_prev", "o"] {
            guard let t: Tensor<T> = try c.optionalReal(name) else { continue }
            guard t.shape == f.shape else {
                throw KernelError.input(name, "\(name) has shape \(t.shape.shapeText) but f has \(f.shape.shapeText)")
            }
            operands[name] = t
        }
        let r = lstmCellUpdate(
            forget: f, input: operands["i"]!, candidate: operands["g"]!, previous: operands["c_prev"]!,
            output: operands["o"])
        var out = KernelOutputs()
        out["c"] = .real(r.c)
        if let h = r.h { out["h"] = .real(h) }
        return out
    }
}
