import RNNKernels

/// `activation.eval`: sigmoid, tanh, relu and softmax with their derivatives at points.
struct ActivationEvalKernel: Kernel {
    let spec = KernelSpec(
        name: "activation.eval",
        summary: "sigmoid, tanh, relu, softmax and their derivatives at the given points",
        doc: """
            sigmoid = 1/(1+e^-x), sigmoid_grad = s(1-s) (max 1/4); tanh, tanh_grad = 1 - tanh^2 (max 1);
            relu = max(0, x), relu_grad = [x > 0]; softmax over the whole vector (max subtracted first) and its
            Jacobian diag(p) - p p^T. Overflow-safe: x = +-1000 gives 0/1 sigmoids and a one-hot softmax.
            """,
        inputs: [
            .real("x", ["N"], "the points", example: "[-2.0, 0.0, 2.0]")
        ],
        outputs: [
            OutputSpec("sigmoid", "[N]", "sigma(x)"),
            OutputSpec("sigmoid_grad", "[N]", "sigma(x)(1 - sigma(x))"),
            OutputSpec("tanh", "[N]", "tanh(x)"),
            OutputSpec("tanh_grad", "[N]", "1 - tanh(x)^2"),
            OutputSpec("relu", "[N]", "max(0, x)"),
            OutputSpec("relu_grad", "[N]", "1 where x > 0, else 0"),
            OutputSpec("softmax", "[N]", "softmax of x"),
            OutputSpec("softmax_jacobian", "[N, N]", "d softmax_i / d x_j"),
        ],
        sizes: { c in
            [
                ImpliedSize(
                    "output 'softmax_jacobian'", [("N", c.dim("N", otherwise: 0)), ("N", c.dim("N", otherwise: 0))],
                    blame: "input:x")
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let x: Tensor<T> = try c.real("x")
        let r = evaluateActivations(x.scalars)
        var out = KernelOutputs()
        out["sigmoid"] = .real(r.sigmoid)
        out["sigmoid_grad"] = .real(r.sigmoidGrad)
        out["tanh"] = .real(r.tanh)
        out["tanh_grad"] = .real(r.tanhGrad)
        out["relu"] = .real(r.relu)
        out["relu_grad"] = .real(r.reluGrad)
        out["softmax"] = .real(r.softmax)
        out["softmax_jacobian"] = .real(r.softmaxJacobian)
        return out
    }
}

/// `diag.gate_saturation`: fraction of saturated gate values and their histogram.
struct GateSaturationKernel: Kernel {
    let spec = KernelSpec(
        name: "diag.gate_saturation",
        summary: "Fraction of gate values below low / above high, and a histogram",
        doc: """
            below = #{g < low}/N, above = #{g > high}/N, saturated = below + above.
            apply_sigmoid: the input holds pre-activations and g = sigmoid(x) (seed 000 section 13).
            Histogram: bins equal-width bins over [min g, max g] (as plt.hist / np.histogram), or over
            [range_low, range_high] when given; the last bin includes its right edge.
            """,
        inputs: [
            InputSpec(
                "gates", shapes: [], doc: "gate values (or pre-activations with apply_sigmoid), any shape",
                example: "[0.01, 0.5, 0.97, 0.2]")
        ],
        params: [
            ParamSpec(
                "low", .real, default: .real(0.05), allowsInfinity: true, "values below this count as saturated at 0"),
            ParamSpec(
                "high", .real, default: .real(0.95), allowsInfinity: true, "values above this count as saturated at 1"),
            ParamSpec("bins", .integer(min: 1, max: 1_000_000_000), default: .integer(30), "histogram bins"),
            ParamSpec("apply_sigmoid", .boolean, default: .boolean(false), "apply sigmoid to the input first"),
            ParamSpec("range_low", .real, optional: true, "histogram range start (default: the smallest value)"),
            ParamSpec("range_high", .real, optional: true, "histogram range end (default: the largest value)"),
        ],
        outputs: [
            OutputSpec("below", "[]", "fraction below low"),
            OutputSpec("above", "[]", "fraction above high"),
            OutputSpec("saturated", "[]", "fraction below low or above high"),
            OutputSpec("counts", .integer, "[bins]", "histogram counts"),
            OutputSpec("edges", "[bins+1]", "histogram bin edges"),
        ],
        plots: [
            .histogram(
                title: "Gate saturation: histogram of gate values", counts: "counts", edges: "edges", x: "gate value",
                thresholds: ["low", "high"])
        ],
        sizes: { c in
            let bins = try c.int("bins")
            return [ImpliedSize("output 'edges'", [("bins + 1", bins + 1)], blame: "param:bins")]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let low = try c.double("low"), high = try c.double("high")
        guard low <= high else { throw KernelError.param("high", "high (\(high)) must be ≥ low (\(low))") }
        let rl = try c.optionalDouble("range_low"), rh = try c.optionalDouble("range_high")
        guard (rl == nil) == (rh == nil) else {
            throw KernelError.param(rl == nil ? "range_low" : "range_high", "give range_low and range_high together")
        }
        if let rl, let rh, !(rl <= rh) { throw KernelError.param("range_high", "range_high must be ≥ range_low") }
        let g: Tensor<T> = try c.real("gates")
        if let bad = g.scalars.first(where: { $0.isNaN }) {
            throw KernelError.input("gates", "gate values must not be NaN, found \(bad)")
        }
        if rl == nil, try !c.bool("apply_sigmoid"), let bad = g.scalars.first(where: { $0.isInfinite }) {
            // As np.histogram: "autodetected range ... is not finite".
            throw KernelError.input(
                "gates",
                "the histogram range from the values is not finite (found \(bad)); give range_low and range_high")
        }
        let r = gateSaturation(
            g.scalars, low: T(low), high: T(high), bins: try c.int("bins"),
            range: rl.map { (T($0), T(rh!)) }, applySigmoid: try c.bool("apply_sigmoid"))
        var out = KernelOutputs()
        out["below"] = .real(r.below)
        out["above"] = .real(r.above)
        out["saturated"] = .real(r.saturated)
        out["counts"] = .integers(r.counts)
        out["edges"] = .real(r.edges)
        return out
    }
}
