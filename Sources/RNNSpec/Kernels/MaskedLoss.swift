import RNNKernels

/// `loss.masked_mean`: the mean loss over real tokens, and the plain mean for contrast.
struct MaskedMeanKernel: Kernel {
    let spec = KernelSpec(
        name: "loss.masked_mean",
        summary: "Masked mean Σ l·m / Σ m over real tokens, and the unmasked mean Σ l / N",
        doc: """
            masked = Σ losses·mask / Σ mask; unmasked = Σ losses / N.
            No real tokens (Σ mask = 0) gives masked = NaN, as NumPy does; padding never contributes,
            even where its loss is NaN or infinite.
            """,
        inputs: [
            InputSpec("losses", shapes: [["T"], ["B", "T"]], doc: "per-token losses", example: "[0.4, 0.6, 0.0]"),
            InputSpec(
                "mask", shapes: [["T"], ["B", "T"]], doc: "1 for real tokens, 0 for padding (weights allowed)",
                example: "[1, 1, 0]"),
        ],
        outputs: [
            OutputSpec("masked", "[]", "mean over real tokens"),
            OutputSpec("unmasked", "[]", "mean over all positions, padding included"),
            OutputSpec("count", "[]", "Σ mask: the number of real tokens"),
        ],
        sizes: KernelSpec.boundedByInputs)

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let losses: Tensor<T> = try c.real("losses"), mask: Tensor<T> = try c.real("mask")
        guard losses.shape == mask.shape else {
            throw KernelError.input(
                "mask", "mask has shape \(mask.shape.shapeText) but losses has \(losses.shape.shapeText)")
        }
        let r = maskedMean(losses: losses, mask: mask)
        var out = KernelOutputs()
        out["masked"] = .real(r.masked)
        out["unmasked"] = .real(r.unmasked)
        out["count"] = .real(r.weight)
        return out
    }
}
