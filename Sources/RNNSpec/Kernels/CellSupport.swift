import RNNKernels

/// Unpacking shared by the cell adapters: one vector [N] or a batch [B, N] per input, every
/// input batched the same way, outputs given back in the inputs' form.
struct StepBatching {
    /// Whether the case's inputs are batches [B, N] (else single vectors [N]).
    let batched: Bool
    let batch: Int

    /// Reads the form from `reference` (x) and checks that every other named tensor has the same rank
    /// and batch.
    init<T: KernelScalar>(_ reference: Tensor<T>, _ others: [(String, Tensor<T>?)]) throws {
        batched = reference.rank == 2
        batch = batched ? reference.shape[0] : 1
        for (name, t) in others {
            guard let t else { continue }
            guard t.rank == reference.rank else {
                throw KernelError.input(
                    name,
                    "\(name) must be batched like x: x has shape \(reference.shape.shapeText), \(name) \(t.shape.shapeText)"
                )
            }
            if batched && t.shape[0] != batch {
                throw KernelError.input(name, "\(name) has batch \(t.shape[0]) but x has batch \(batch)")
            }
        }
    }

    /// [N] → [1, N]; a batch stays as it is.
    func batch<T: KernelScalar>(_ t: Tensor<T>) -> Tensor<T> { batched ? t : t.reshaped([1] + t.shape) }
    func batch<T: KernelScalar>(optional t: Tensor<T>?) -> Tensor<T>? { t.map { batch($0) } }

    /// [1, N] → [N] when the inputs were single vectors.
    func unbatch<T: KernelScalar>(_ t: Tensor<T>) -> Tensor<T> { batched ? t : t.reshaped(Array(t.shape.dropFirst())) }
}

extension KernelContext {
    /// Rejects inputs that belong to another choice of a param (another layout, say).
    func rejectInputs(_ names: [String], because reason: String) throws {
        for name in names where has(name) { throw KernelError.input(name, "\(name) is not used: \(reason)") }
    }

    /// Requires inputs that a choice of a param needs.
    func requireInputs(_ names: [String], because reason: String) throws {
        for name in names where !has(name) { throw KernelError.input(name, "\(name) is required: \(reason)") }
    }
}
