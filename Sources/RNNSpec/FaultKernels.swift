import Foundation
import RNNKernels

/// Kernels that fail on purpose, to test that a run survives what a real kernel might do: trap,
/// hang, exhaust memory, exit, or write garbage. They are registered only when the environment
/// has `RNNSPEC_FAULT_KERNELS=1` (the isolation tests set it); never in a normal run.
enum FaultKernels {
    static let environmentKey = "RNNSPEC_FAULT_KERNELS"

    static let all: [any Kernel] = [
        Fault(name: "fault.trap", summary: "traps (fatalError) with a message on standard error") { _ in
            fatalError("fault.trap: a deliberate trap")
        },
        Fault(name: "fault.hang", summary: "never returns") { _ in
            while true { sleep(1) }
        },
        Fault(name: "fault.allocate", summary: "allocates and touches `mib` MiB") { c in
            let mib = try c.int("mib")
            var blocks: [[UInt8]] = []
            for _ in 0..<mib { blocks.append([UInt8](repeating: 1, count: 1 << 20)) }
            return blocks.count
        },
        Fault(name: "fault.exit", summary: "exits the process with status 3") { _ in
            exit(3)
        },
        Fault(name: "fault.noise", summary: "writes a megabyte to standard error and to standard output, then traps") {
            _ in
            let line = String(repeating: "x", count: 1023) + "\n"
            for _ in 0..<1024 { writeAll(STDERR_FILENO, line) }
            writeAll(STDOUT_FILENO, "this is not a reply\n")
            fatalError("fault.noise: done")
        },
        Square(),
    ]

    /// `loss = Σ x²` with its gradient, right (`dx = 2x`) or, with `wrong: true`, wrong (`dx = x`):
    /// a gradcheck must catch the second, wherever the finite differences are computed.
    struct Square: Kernel {
        let spec = KernelSpec(
            name: "fault.square", summary: "loss = sum(x^2) and dx (a test kernel)",
            inputs: [.real("x", ["N"], "the point", example: "[1.0, -2.0]")],
            params: [ParamSpec("wrong", .boolean, default: .boolean(false), "report dx = x instead of 2x")],
            outputs: [OutputSpec("loss", "[]", "sum of squares"), OutputSpec("dx", "[N]", "the gradient")],
            hasPrecision: false, lossOutput: "loss", sizes: KernelSpec.boundedByInputs)

        func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
            let x: Tensor<Double> = try c.real("x")
            let factor: Double = try c.bool("wrong") ? 1 : 2
            var out = KernelOutputs()
            out["loss"] = .real(Tensor(shape: [], scalars: [x.scalars.reduce(0) { $0 + $1 * $1 }]))
            out["dx"] = .real(Tensor(shape: x.shape, scalars: x.scalars.map { factor * $0 }))
            return out
        }
    }

    struct Fault: Kernel {
        let spec: KernelSpec
        let body: @Sendable (KernelContext) throws -> Int

        init(name: String, summary: String, body: @escaping @Sendable (KernelContext) throws -> Int) {
            spec = KernelSpec(
                name: name, summary: summary + " (a test kernel)",
                inputs: [.real("x", ["N"], "anything", example: "[1.0]")],
                params: [ParamSpec("mib", .integer(min: 0, max: 1 << 20), default: .integer(0), "MiB to allocate")],
                outputs: [OutputSpec("y", "[N]", "x, when the kernel returns")], hasPrecision: false,
                sizes: KernelSpec.boundedByInputs)
            self.body = body
        }

        func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
            let x: Tensor<Double> = try c.real("x")
            _ = try body(c)
            var out = KernelOutputs()
            out["y"] = .real(x)
            return out
        }
    }
}

extension KernelRegistry {
    /// The standard kernels, and the fault kernels when the environment asks for them.
    public static func forEnvironment(_ environment: [String: String]) -> KernelRegistry {
        environment[FaultKernels.environmentKey] == "1" ? withFaultKernels : standard
    }

    static let withFaultKernels = KernelRegistry(kernels: allKernels + FaultKernels.all)
}
