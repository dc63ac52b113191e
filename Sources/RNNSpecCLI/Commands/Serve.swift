import ArgumentParser
import Foundation
import RNNSpec

extension RNNSpecCommand {
    /// rnnspec's kernels as a backend: the worker process `run` and `regen` start.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve rnnspec's kernels over the worker protocol on standard input and output.",
            discussion: """
                `rnnspec run` starts its workers with this; `rnnspec run --backend 'rnnspec serve'` runs the suite \
                through the protocol as any backend would be run. The protocol: docs/worker-protocol.md.
                """)

        @Option(help: ArgumentHelp("The address-space cap of this process, in bytes.", valueName: "bytes"))
        var maxMemory: Int?

        @Flag(
            help: "Ignore a request's gradcheck, leaving the finite differences to `rnnspec run` (as most backends do)."
        )
        var noFiniteDifferences = false

        func run() throws {
            throw ExitCode(Serve.serve(maxMemory: maxMemory, noFiniteDifferences: noFiniteDifferences))
        }

        static func serve(maxMemory: Int?, noFiniteDifferences: Bool) -> Int32 {
            if let maxMemory { WorkerServer.capMemory(bytes: maxMemory) }
            let registry = KernelRegistry.forEnvironment(ProcessInfo.processInfo.environment)
            return WorkerServer.serve(
                registry: registry, name: "rnnspec serve", finiteDifferences: !noFiniteDifferences)
        }

        /// `serve` as `rnnspec run` starts it (`serve`, `--max-memory N`, `--no-finite-differences`,
        /// each at most once), run without the argument parser; nil for any other command line.
        static func fastPath(_ arguments: [String]) -> Int32? {
            guard arguments.first == "serve" else { return nil }
            var maxMemory: Int? = nil, noFiniteDifferences = false
            var rest = arguments.dropFirst()
            while let flag = rest.popFirst() {
                switch flag {
                case "--max-memory" where maxMemory == nil:
                    guard let text = rest.popFirst(), let n = Int(text) else { return nil }
                    maxMemory = n
                case "--no-finite-differences" where !noFiniteDifferences:
                    noFiniteDifferences = true
                default:
                    return nil
                }
            }
            return serve(maxMemory: maxMemory, noFiniteDifferences: noFiniteDifferences)
        }
    }
}
