import ArgumentParser
import Foundation
import RNNSpec
import RNNSpecBench

extension BenchSection: ExpressibleByArgument {}

extension RNNSpecCommand {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench",
            abstract: "Measure the runner and the LSTM/GRU kernels, against NumPy in the same run.",
            discussion: """
                Run it from the repository's top directory in a release build: `swift run -c release rnnspec bench`. \
                It times `rnnspec run` on generated suites of 500, 1,000 and 2,000 small cases, the LSTM and GRU \
                forward and forward + BPTT at T=128 B=32 I=128 H=256 and at the notebooks' T=64 B=1 I=8 H=16, \
                and the same kernels in tools/bench/numpy_reference.py; docs/performance.md explains the table.
                """)

        @Flag(help: "One repetition per row and only the 2,000-case suite: a smoke test, not a measurement.")
        var quick = false

        @Option(name: .shortAndLong, help: "A --jobs value for the runner rows (repeatable; default 1 and 2).")
        var jobs: [Int] = []

        @Option(help: "The Python with NumPy that runs the reference (default: python3 on PATH).")
        var python: String?

        @Flag(help: "Do not run the NumPy reference.")
        var skipNumpy = false

        @Option(help: "What to measure: all, runner or kernels.")
        var only: BenchSection = .all

        @Option(
            help: "Write the generated suites under this directory and keep them (to profile `rnnspec run` on them).")
        var suiteDir: String?

        @Option(help: "Report format: text or json.")
        var format: ReportFormat = .text

        @Option(
            help:
                "Rounds of the kernel rows, each rnnspec's rows then the references' (default 3, 1 with --quick); each time printed is the median of the rounds' medians."
        )
        var rounds: Int?

        func validate() throws {
            if only == .kernels && suiteDir != nil {
                throw ValidationError("--only kernels writes no suite; drop --suite-dir")
            }
            if jobs.contains(where: { $0 < 1 }) { throw ValidationError("--jobs must be at least 1") }
            if let rounds, rounds < 1 { throw ValidationError("--rounds must be at least 1") }
            if only == .runner && rounds != nil {
                throw ValidationError("--only runner times no kernels; drop --rounds")
            }
            if skipNumpy && python != nil { throw ValidationError("--python and --skip-numpy contradict each other") }
            if only == .runner && (skipNumpy || python != nil) {
                throw ValidationError("--only runner runs no NumPy; drop --python/--skip-numpy")
            }
            if only == .kernels && !jobs.isEmpty { throw ValidationError("--only kernels runs no cases; drop --jobs") }
        }

        func run() throws {
            var options = BenchOptions()
            options.quick = quick
            if !jobs.isEmpty { options.jobs = jobs }
            if let python { options.python = python }
            options.skipNumPy = skipNumpy
            options.section = only
            options.format = format
            options.suiteDirectory = suiteDir
            options.rounds = rounds
            throw ExitCode(try FrontEnd(project: Project.locate()).bench(options).rawValue)
        }
    }
}
