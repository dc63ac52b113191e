import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    /// rnnspec's kernels as a backend: the worker process `run` and `regen` start.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve rnnspec's kernels over the worker protocol on standard input and output.",
            discussion: """
            `rnnspec run` starts its workers with this; `rnnspec run --backend 'rnnspec serve'` runs the suite \
            through the protocol as any backend would be run. The protocol: docs/worker-protocol.md.
            """)

        @Option(help: ArgumentHelp("The address-space cap of this process, in bytes.", valueName: "bytes"))
        var maxMemory: Int?

        @Flag(help: "Ignore a request's gradcheck, leaving the finite differences to `rnnspec run` (as most backends do).")
        var noFiniteDifferences = false

        func run() throws {
            if let maxMemory { WorkerServer.capMemory(bytes: maxMemory) }
            let registry = KernelRegistry.forEnvironment(ProcessInfo.processInfo.environment)
            throw ExitCode(WorkerServer.serve(registry: registry, name: "rnnspec serve", finiteDifferences: !noFiniteDifferences))
        }
    }
}
