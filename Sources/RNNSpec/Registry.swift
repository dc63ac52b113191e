import Foundation
import RNNKernels

/// The kernels rnnspec knows, by name.
public struct KernelRegistry: Sendable {
    /// The kernels, sorted by name.
    public let kernels: [any Kernel]
    private let index: [String: Int]

    /// A registry of exactly these kernels (no two with the same name: that traps).
    public init(kernels: [any Kernel]) {
        // Each adapter's `spec` is built on every access (its shapes parsed from text); a run
        // reads it many times per case, so the registry keeps each one built once (rnnspec's own
        // kernels, `LazyKernel`, are built when first used).
        self.kernels = kernels.map { $0 is SpecCachedKernel || $0 is LazyKernel ? $0 : SpecCachedKernel($0) }
            .sorted { $0.name < $1.name }
        var index: [String: Int] = [:]
        for (k, kernel) in self.kernels.enumerated() {
            precondition(index[kernel.name] == nil, "kernel \(kernel.name) is registered twice")
            index[kernel.name] = k
        }
        self.index = index
    }

    /// Every kernel rnnspec ships: the list in `Kernels/AllKernels.swift`.
    public static let standard = KernelRegistry(kernels: allKernels)

    /// The kernel registered under `name` (`rnn.step`), or nil.
    public func kernel(named name: String) -> (any Kernel)? { index[name].map { kernels[$0] } }

    /// The registered names, sorted.
    public var names: [String] { kernels.map(\.name) }

    /// This registry with `others` added. A kernel whose name is already registered replaces the
    /// registered one, so that rnnspec's cases for, say, `rnn.step` run against your own `rnn.step`;
    /// a kernel with a new name adds a kernel that cases can name. Two of `others` with the same
    /// name are a programming error (it traps, as the initializer does).
    public func registering(_ others: [any Kernel]) -> KernelRegistry {
        let replaced = Set(others.map(\.name))
        return KernelRegistry(kernels: kernels.filter { !replaced.contains($0.name) } + others)
    }
}

/// A kernel with its spec built once.
struct SpecCachedKernel: Kernel {
    let base: any Kernel
    let spec: KernelSpec

    init(_ base: any Kernel) {
        self.base = base
        self.spec = base.spec
    }

    func run<T: KernelScalar>(_ context: KernelContext, as type: T.Type) throws -> KernelOutputs {
        try base.run(context, as: type)
    }
}

/// One of rnnspec's own kernels, named in the list of kernels and built with its spec the first time a
/// spec is read or a case run: a process that runs one case builds one kernel's spec, not all of them
/// (building every spec took a fifth of a worker's start).
final class LazyKernel: Kernel, @unchecked Sendable {
    let name: String
    let make: @Sendable () -> any Kernel
    // Guards `built`; a kernel is read from the runner's threads.
    private let lock = NSLock()
    private var built: (kernel: any Kernel, spec: KernelSpec)?

    /// A kernel called `name`, which `make` builds; its spec must carry that name.
    init(_ name: String, _ make: @escaping @Sendable () -> any Kernel) {
        self.name = name
        self.make = make
    }

    private var resolved: (kernel: any Kernel, spec: KernelSpec) {
        lock.lock()
        defer { lock.unlock() }
        if let built { return built }
        let kernel = make()
        let spec = kernel.spec
        precondition(spec.name == name, "the kernel listed as \(name) is called \(spec.name) in its spec")
        built = (kernel, spec)
        return (kernel, spec)
    }

    var spec: KernelSpec { resolved.spec }

    /// Whether the kernel and its spec have been built.
    var isBuilt: Bool {
        lock.lock()
        defer { lock.unlock() }
        return built != nil
    }

    func run<T: KernelScalar>(_ context: KernelContext, as type: T.Type) throws -> KernelOutputs {
        try resolved.kernel.run(context, as: type)
    }
}
