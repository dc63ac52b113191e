import RNNKernels

/// What the framework sequence kernels (torch.*, onnx.*, keras.*) share for their backward pass:
/// upstream-gradient inputs named after the framework's outputs, the `loss` they define, and a
/// `d<input>` output per differentiable input.
enum FrameworkGradients {
    /// The upstream gradient of output `output`, shaped like it.
    static func upstream(_ output: String, shapes: [Shape], like: String, example: String) -> InputSpec {
        InputSpec(
            "d" + output, shapes: shapes, optional: true,
            doc:
                "upstream gradient dL/d\(output), shaped like \(like); with it the kernel reports loss and the gradients",
            example: example)
    }

    /// `loss` = Σ upstream ⊙ output over the upstream gradients given.
    static func lossOutput(_ upstreams: [String]) -> OutputSpec {
        OutputSpec(
            "loss", "[]", optional: true,
            "\(upstreams.map { "Σ \($0)⊙\($0.dropFirst())" }.joined(separator: " + ")) over the upstream gradients given; "
                + "reported (with the d<input> gradients) only when at least one of \(upstreams.joined(separator: ", ")) is given"
        )
    }

    /// d<name> for every input, in their order.
    static func gradientOutputs(_ inputs: [String]) -> [OutputSpec] {
        inputs.map { OutputSpec("d" + $0, "like \($0)", optional: true, "dloss/d\($0) (with an upstream gradient)") }
    }

    /// The upstream gradients given, each checked against the shape of the output it belongs to.
    static func given<T: KernelScalar>(_ c: KernelContext, _ outputs: [(name: String, value: Tensor<T>?)]) throws -> [(
        upstream: Tensor<T>, value: Tensor<T>
    )] {
        var pairs: [(upstream: Tensor<T>, value: Tensor<T>)] = []
        for (name, value) in outputs {
            let input = "d" + name
            guard let u: Tensor<T> = try c.optionalReal(input) else { continue }
            guard let value else {
                throw KernelError.input(
                    input, "\(input) is given but the kernel does not output \(name) with these params")
            }
            guard u.shape == value.shape else {
                throw KernelError.input(
                    input, "\(input) must be shaped like \(name), \(value.shape.shapeText), found \(u.shape.shapeText)")
            }
            pairs.append((u, value))
        }
        return pairs
    }
}
