import RNNKernels

/// One Keras recurrent layer's configuration (`keras.layers.SimpleRNN`, `LSTM`, `GRU`): what the
/// `keras.*` kernels and `keras.Bidirectional` read to build its cell.
struct KerasLayerConfig {
    var kind: CellKind
    var units: Int
    var activation: String
    /// nil for SimpleRNN (which has none).
    var recurrentActivation: String?
    var useBias: Bool
    /// GRU only.
    var resetAfter: Bool

    /// The Keras class name.
    var className: String {
        switch kind {
        case .rnn: return "SimpleRNN"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }

    /// The number of state tensors the layer takes and returns: [h, c] for LSTM, [h] otherwise.
    var stateCount: Int { kind == .lstm ? 2 : 1 }

    /// `keras.layers.Masking(mask_value)` in front of the layer.
    static let maskValueParam = ParamSpec(
        "mask_value", .real, optional: true,
        "a keras.layers.Masking(mask_value) in front: a step whose features all equal mask_value is masked and its inputs become 0 "
            + "(instead of a mask input); as in Keras 3, a call with initial_state drops that mask (every step is real, the zeroed inputs stay)"
    )

    /// Column blocks of kernel / recurrent_kernel / bias: LSTM i, f, c, o; GRU z, r, h.
    static func gateOrder(_ kind: CellKind) -> [Gate] {
        switch kind {
        case .rnn: return [.a]
        case .lstm: return [.i, .f, .g, .o]
        case .gru: return [.z, .r, .n]
        }
    }

    var conventions: CellConventions {
        let act = KerasRecurrentKernel.activation(activation)
        switch kind {
        case .rnn:
            return CellConventions(kind: .rnn, candidateActivation: act)
        case .lstm:
            return CellConventions(
                kind: .lstm, gateOrder: Self.gateOrder(kind),
                gateActivation: KerasRecurrentKernel.activation(recurrentActivation ?? "sigmoid"),
                candidateActivation: act, outputActivation: act)
        case .gru:
            return CellConventions(
                kind: .gru, gateOrder: Self.gateOrder(kind),
                gateActivation: KerasRecurrentKernel.activation(recurrentActivation ?? "sigmoid"),
                candidateActivation: act, resetPlacement: resetAfter ? .afterMatmul : .beforeMatmul,
                updateSide: .previous)
        }
    }

    /// The layer's cell from the inputs named `kernel`, `recurrentKernel`, `bias`, each checked
    /// against units and features; the bias tensor as given (nil without use_bias).
    func cell<T: KernelScalar>(
        _ c: KernelContext, features: Int, kernel kName: String, recurrentKernel rName: String,
        bias bName: String
    ) throws -> (RecurrentCell<T>, Tensor<T>?) {
        let g = kind.gateCount, blocks = g == 1 ? "" : "\(g)*"
        try c.requireInputs([kName, rName], because: "keras.layers.\(className) has them")
        let kernel: Tensor<T> = try c.real(kName), recurrent: Tensor<T> = try c.real(rName)
        guard kernel.shape == [features, g * units] else {
            throw KernelError.input(
                kName,
                "\(kName) must be (features, \(blocks)units) = (\(features), \(g * units)), found \(kernel.shape.shapeText)"
            )
        }
        guard recurrent.shape == [units, g * units] else {
            throw KernelError.input(
                rName,
                "\(rName) must be (units, \(blocks)units) = (\(units), \(g * units)), found \(recurrent.shape.shapeText)"
            )
        }
        var bias: Tensor<T>? = nil
        if useBias {
            try c.requireInputs([bName], because: "use_bias is true")
            let b: Tensor<T> = try c.real(bName)
            let split = kind == .gru && resetAfter
            let expected = split ? [2, g * units] : [g * units]
            guard b.shape == expected else {
                throw KernelError.input(
                    bName,
                    "\(bName) must be \(expected.shapeText)\(split ? " (input bias, recurrent bias) with reset_after" : ""), found \(b.shape.shapeText)"
                )
            }
            bias = b
        } else {
            try c.rejectInputs([bName], because: "use_bias is false")
        }
        return (
            RecurrentCell(
                conventions: conventions, parameters: .keras(kernel: kernel, recurrentKernel: recurrent, bias: bias)),
            bias
        )
    }

    /// `initial_state`: the layers' states in order ([h] or [h, c] per layer), each (batch, units).
    /// A list of equal shapes may come as one stacked tensor.
    static func initialStates<T: KernelScalar>(
        _ c: KernelContext, layers: [KerasLayerConfig], batch: Int, layerName: String
    ) throws -> [Tensor<T>] {
        var states: [Tensor<T>] = try c.realList("initial_state")
        if states.count == 1 && states[0].rank == 3 { states = (0..<states[0].shape[0]).map { states[0].slice($0) } }
        let widths = layers.flatMap { l in [Int](repeating: l.units, count: l.stateCount) }
        let names = layers.map { $0.kind == .lstm ? "[h, c]" : "[h]" }.joined(separator: " + ")
        guard states.count == widths.count else {
            throw KernelError.input(
                "initial_state",
                "\(layerName) takes \(widths.count) initial state tensor(s) \(names), found \(states.count)")
        }
        for (s, w) in zip(states, widths) where s.shape != [batch, w] {
            throw KernelError.input(
                "initial_state",
                "each initial state must be (batch, units) = (\(batch), \(w)), found \(s.shape.shapeText)")
        }
        return states
    }

    /// What the layer sees: its inputs (after a Masking layer, when mask_value is given), the mask
    /// it gets in time order, [timesteps, batch] (nil for none), and Masking's own mask (nil without
    /// mask_value), by which `maskingGradient` zeroes dinputs.
    ///
    /// The mask comes from the `mask` input (batch, timesteps), or from `mask_value` as
    /// keras.layers.Masking computes it: a step is real when any feature differs from mask_value,
    /// and Masking outputs 0 at the other steps. Keras 3 hands a layer the mask its input carries
    /// only when that input is the call's one tensor argument (`Layer.__call__`); a call with
    /// `initial_state` has more, so Masking's mask is dropped and every step is real (the zeroed
    /// inputs stay). `mask_value` with `initial_state` does the same.
    static func maskedInputs<T: KernelScalar>(_ c: KernelContext, inputs: Tensor<T>) throws -> (
        inputs: Tensor<T>, mask: Tensor<Bool>?, masking: Tensor<Bool>?
    ) {
        let maskValue = try c.optionalDouble("mask_value")
        if c.has("mask") {
            if maskValue != nil {
                throw KernelError.input("mask", "give either a mask or mask_value (a Masking layer in front), not both")
            }
            guard case .boolean(let m)? = c.inputs["mask"] else {
                throw KernelError.input("mask", "mask must be booleans")
            }
            let expected = Array(inputs.shape.prefix(2))
            guard m.shape == expected else {
                throw KernelError.input(
                    "mask", "mask must be (batch, timesteps) = \(expected.shapeText), found \(m.shape.shapeText)")
            }
            return (inputs, m.permuted([1, 0]), nil)
        }
        guard let maskValue else { return (inputs, nil, nil) }
        let value = T(maskValue)
        let batch = inputs.shape[0], steps = inputs.shape[1], features = inputs.shape[2]
        var m = [Bool](repeating: false, count: steps * batch)
        var x = inputs.scalars
        for b in 0..<batch {
            for t in 0..<steps {
                let base = (b * steps + t) * features
                let real = (0..<features).contains { inputs.scalars[base + $0] != value }
                m[t * batch + b] = real
                if !real { for k in 0..<features { x[base + k] = 0 } }
            }
        }
        let masking = Tensor(shape: [steps, batch], scalars: m)
        return (Tensor(shape: inputs.shape, scalars: x), c.has("initial_state") ? nil : masking, masking)
    }

    /// dinputs (batch, timesteps, features) through Masking: 0 at the steps it masked.
    static func maskingGradient<T: KernelScalar>(_ d: Tensor<T>, masking: Tensor<Bool>?) -> Tensor<T> {
        guard let masking else { return d }
        let batch = d.shape[0], steps = d.shape[1], features = d.shape[2]
        var s = d.scalars
        for b in 0..<batch {
            for t in 0..<steps where !masking.scalars[t * batch + b] {
                for k in 0..<features { s[(b * steps + t) * features + k] = 0 }
            }
        }
        return Tensor(shape: d.shape, scalars: s)
    }
}
