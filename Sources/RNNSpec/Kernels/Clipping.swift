import RNNKernels

/// `grad.clip_norm`: clip one tensor or a list of tensors by their global norm.
struct ClipNormKernel: Kernel {
    let spec = KernelSpec(
        name: "grad.clip_norm",
        summary: "Clip gradients by global norm: g' = g · min(1, max_norm / (‖g‖ + epsilon))",
        doc: """
            ‖g‖ = sqrt(Σ over all tensors of Σ g²); scale = min(1, max_norm / (‖g‖ + epsilon)).
            A zero norm returns the input unchanged (scale 1). A plain vector is a list of one tensor.
            """,
        inputs: [
            InputSpec(
                "g", .realList, shapes: [], doc: "the gradient: one tensor, or a list of tensors of any shapes",
                example: "[3.0, 4.0, 12.0]")
        ],
        params: [
            ParamSpec("max_norm", .real, allowsInfinity: true, "the largest global norm allowed"),
            ParamSpec(
                "epsilon", .real, default: .real(0),
                "added to the norm in the denominator (PyTorch's clip_grad_norm_ uses 1e-6)"),
        ],
        outputs: [
            OutputSpec("norm", "[]", "global norm before clipping"),
            OutputSpec("scale", "[]", "the factor applied"),
            OutputSpec("clipped", .realList, "like g", "the clipped tensors"),
            OutputSpec("clipped_norm", "[]", "global norm after clipping"),
        ],
        sizes: KernelSpec.boundedByInputs)

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let maxNorm = try c.double("max_norm"), epsilon = try c.double("epsilon")
        guard maxNorm >= 0 else { throw KernelError.param("max_norm", "max_norm must be ≥ 0, found \(maxNorm)") }
        guard epsilon >= 0 else { throw KernelError.param("epsilon", "epsilon must be ≥ 0, found \(epsilon)") }
        let r = clipByGlobalNorm(try c.realList("g", as: T.self), maxNorm: T(maxNorm), epsilon: T(epsilon))
        var out = KernelOutputs()
        out["norm"] = .real(r.norm)
        out["scale"] = .real(r.scale)
        out["clipped"] = .reals(r.clipped)
        out["clipped_norm"] = .real(r.clippedNorm)
        return out
    }
}
