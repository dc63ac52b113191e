import RNNKernels

/// The kernels rnnspec knows, by name.
public struct KernelRegistry: Sendable {
    public let kernels: [any Kernel]
    private let index: [String: Int]

    public init(kernels: [any Kernel]) {
        // Each adapter's `spec` is built on every access (its shapes parsed from text); a run
        // reads it many times per case, so the registry keeps each one built once.
        self.kernels = kernels.map { $0 is SpecCachedKernel ? $0 : SpecCachedKernel(base: $0, spec: $0.spec) }
            .sorted { $0.spec.name < $1.spec.name }
        var index: [String: Int] = [:]
        for (k, kernel) in self.kernels.enumerated() {
            precondition(index[kernel.spec.name] == nil, "kernel \(kernel.spec.name) is registered twice")
            index[kernel.spec.name] = k
        }
        self.index = index
    }

    /// Every kernel rnnspec ships: the list in `Kernels/AllKernels.swift`.
    public static let standard = KernelRegistry(kernels: allKernels)

    public func kernel(named name: String) -> (any Kernel)? { index[name].map { kernels[$0] } }

    public var names: [String] { kernels.map(\.spec.name) }
}

/// A kernel with its spec built once.
struct SpecCachedKernel: Kernel {
    let base: any Kernel
    let spec: KernelSpec

    func run<T: KernelScalar>(_ context: KernelContext, as type: T.Type) throws -> KernelOutputs {
        try base.run(context, as: type)
    }
}
