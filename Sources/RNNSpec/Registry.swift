/// The kernels rnnspec knows, by name.
public struct KernelRegistry: Sendable {
    public let kernels: [any Kernel]
    private let index: [String: Int]

    public init(kernels: [any Kernel]) {
        self.kernels = kernels.sorted { $0.spec.name < $1.spec.name }
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
