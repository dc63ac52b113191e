import RNNKernels

/// The kernels rnnspec knows, by name.
public struct KernelRegistry: Sendable {
    /// The kernels, sorted by name.
    public let kernels: [any Kernel]
    private let index: [String: Int]

    /// A registry of exactly these kernels (no two with the same name: that traps).
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

    /// The kernel registered under `name` (`rnn.step`), or nil.
    public func kernel(named name: String) -> (any Kernel)? { index[name].map { kernels[$0] } }

    /// The registered names, sorted.
    public var names: [String] { kernels.map(\.spec.name) }

    /// This registry with `others` added. A kernel whose name is already registered replaces the
    /// registered one, so that rnnspec's cases for, say, `rnn.step` run against your own `rnn.step`;
    /// a kernel with a new name adds a kernel that cases can name. Two of `others` with the same
    /// name are a programming error (it traps, as the initializer does).
    public func registering(_ others: [any Kernel]) -> KernelRegistry {
        let replaced = Set(others.map(\.spec.name))
        return KernelRegistry(kernels: kernels.filter { !replaced.contains($0.spec.name) } + others)
    }
}

/// A kernel with its spec built once.
struct SpecCachedKernel: Kernel {
    let base: any Kernel
    let spec: KernelSpec

    func run<T: KernelScalar>(_ context: KernelContext, as type: T.Type) throws -> KernelOutputs {
        try base.run(context, as: type)
    }
}
