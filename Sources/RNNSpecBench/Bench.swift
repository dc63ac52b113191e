import Foundation
import RNNKernels
import RNNSpec

/// Which parts `rnnspec bench` runs.
package enum BenchSection: String, Sendable, CaseIterable, Codable {
    case all, runner, kernels
}

/// Options of `rnnspec bench`.
package struct BenchOptions: Sendable {
    /// One repetition per row, no warm-up, only the 2,000-case suite, a 512² peak: a smoke test.
    package var quick = false
    /// The `--jobs` values the runner suite is run with.
    package var jobs: [Int] = [1, 2]
    /// The Python that runs tools/bench/numpy_reference.py.
    package var python = "python3"
    package var skipNumPy = false
    package var format: ReportFormat = .text
    package var section: BenchSection = .all
    /// The rnnspec binary the runner rows start (default: this process's executable).
    package var executable: String = currentExecutablePath()
    /// Where to write the generated suites and keep them (`suite-N/cases`, `suite-N/golden`), to
    /// profile `rnnspec run` on them; a temporary directory, removed afterwards, when nil.
    package var suiteDirectory: String? = nil
    /// Rounds of the kernel rows (nil: 3, or 1 with `quick`): in each, rnnspec's rows and its gemm, then the
    /// NumPy reference (and ONNX Runtime); every time printed is the median of the rounds' medians.
    package var rounds: Int? = nil
    package init() {}

    var caseCounts: [Int] { quick ? [2000] : [500, 1000, 2000] }
    var repetitions: Repetitions { quick ? .quick : .standard }
    var runnerRepetitions: Int { quick ? 1 : 3 }
    var oneCaseRepetitions: Int { quick ? 3 : 30 }
    var peakN: Int { quick ? 512 : 2048 }
    var kernelRounds: Int { max(1, rounds ?? (quick ? 1 : 3)) }
}

/// Whether this binary was built without optimisation.
package var isDebugBuild: Bool {
    #if DEBUG
    return true
    #else
    return false
    #endif
}

/// One runner row: the generated suite of `cases` cases run by `rnnspec run --jobs N` as a child.
package struct RunnerRow: Sendable, Codable {
    package var cases: Int
    package var jobs: Int
    /// Median wall time over the runs, seconds.
    package var seconds: Double
    /// The largest peak resident memory over the runs, bytes (each process's peak, summed).
    package var peakBytes: Int
    /// The largest peak memory of the processes together over the runs, bytes
    /// (`ChildRun.peakGroupBytes`: shared pages once); nil where it was not measured.
    package var peakGroupBytes: Int? = nil
    package var runs: Int
    package var exitStatus: Int32
    /// The child's summary line (`2000 passed, 0 failed`).
    package var summary: String

    package var casesPerSecond: Double { Double(cases) / seconds }
    package var peakMB: Double { Double(peakBytes) / 1_048_576 }
    package var peakGroupMB: Double? { peakGroupBytes.map { Double($0) / 1_048_576 } }
    /// The memory the target is judged on: the processes together where measured (shared pages
    /// once), else the summed resident peaks.
    package var judgedMB: Double { peakGroupMB ?? peakMB }
}

/// One small case end to end: `rnnspec run` on one case file, from the spawn to the exit, repeated.
package struct OneCaseRow: Sendable, Codable {
    /// The arguments after `run`: the case file relative to the suite's directory (the roots as flags
    /// too where the child cannot be started in that directory).
    package var path: String
    /// Wall milliseconds of each run, in the order made.
    package var milliseconds: [Double]
    /// The largest exit status of the runs.
    package var exitStatus: Int32

    /// The median of `milliseconds`.
    package var median: Double { RNNSpecBench.median(milliseconds) }
}

/// One kernel row, with its NumPy counterpart when there is one.
package struct KernelRow: Sendable, Codable {
    package var kind: String
    package var pass: BenchPass
    package var dtype: String
    package var shape: BenchShape
    package var flops: Double
    package var milliseconds: Double
    /// Timed runs over all rounds together.
    package var runs: Int
    package var checks: BenchChecks
    package var numpyMilliseconds: Double?
    /// Whether rnnspec's check values agree with NumPy's (nil without NumPy).
    package var agree: Bool?
    /// ONNX Runtime's time on the same inputs (float32 forward rows, when it ran).
    package var ortMilliseconds: Double?
    /// Whether rnnspec's check values agree with ONNX Runtime's.
    package var ortAgree: Bool?
    /// Each round's median time, in round order (`milliseconds` is their median), and the references' in
    /// the same rounds (`numpyMilliseconds` and `ortMilliseconds` are theirs).
    package var roundMilliseconds: [Double] = []
    package var numpyRoundMilliseconds: [Double] = []
    package var ortRoundMilliseconds: [Double] = []

    package var gflops: Double { flops / (milliseconds / 1000) / 1e9 }
    /// NumPy time / rnnspec time: above 1, rnnspec is faster.
    package var ratio: Double? { numpyMilliseconds.map { $0 / milliseconds } }
    /// ONNX Runtime time / rnnspec time: at least 1, rnnspec is as fast or faster.
    package var ortRatio: Double? { ortMilliseconds.map { $0 / milliseconds } }
    /// NumPy's time over rnnspec's, round by round (each pair timed within the same round); empty unless
    /// both sides have every round.
    package var roundRatios: [Double] { pairedRatios(numpyRoundMilliseconds, roundMilliseconds) }
    /// ONNX Runtime's time over rnnspec's, round by round.
    package var ortRoundRatios: [Double] { pairedRatios(ortRoundMilliseconds, roundMilliseconds) }
}

/// reference[i] / ours[i] for every round, or nothing when a round is missing on either side.
func pairedRatios(_ reference: [Double], _ ours: [Double]) -> [Double] {
    guard reference.count == ours.count, !ours.isEmpty else { return [] }
    return zip(reference, ours).map { $0 / $1 }
}

/// The matrix-multiply peak of the machine, measured in the same run.
package struct PeakRow: Sendable, Codable {
    package var dtype: String
    package var n: Int
    package var rnnspecGFLOPs: Double?
    package var numpyGFLOPs: Double?
    /// Each round's GFLOP/s (the two above are their medians).
    package var rnnspecRounds: [Double] = []
    package var numpyRounds: [Double] = []
}

/// Everything `rnnspec bench` measured.
package struct BenchReport: Sendable, Codable {
    package var debugBuild: Bool
    package var cores: Int
    package var runner: [RunnerRow] = []
    /// `rnnspec run` on one small case, start to exit (nil when the runner was not measured).
    package var oneCase: OneCaseRow? = nil
    package var kernels: [KernelRow] = []
    package var peaks: [PeakRow] = []
    /// Peak memory of forward+BPTT at the large size against its minimum.
    package var memory: [MemoryRow] = []
    /// "ONNX Runtime 1.32.0, 2 intra-op threads", or why it did not run.
    package var ort: String = ""
    /// "NumPy 2.4.6, Python 3.12.3", or why NumPy did not run.
    package var numpy: String = ""
    package var numpyRan = false
    /// Rounds of the kernel rows (each kernel time is the median of the rounds' medians).
    package var rounds = 1
    package var notes: [String] = []
}

/// `rnnspec bench`'s measurements: runner throughput on generated suites (each run of `rnnspec run`
/// a child process), kernel throughput against NumPy (and ONNX Runtime when the Python has it,
/// through `tools/bench/numpy_reference.py`, a child process) and the matrix-multiply peak. Each
/// step is announced through `log` (one line each); nothing is printed.
package struct Benchmark {
    package var project: Project
    package var log: (String) -> Void

    /// A benchmark of `project`'s working directory (where the suites and the script are found).
    package init(project: Project, log: @escaping (String) -> Void) {
        self.project = project
        self.log = log
    }

    /// Runs the sections `options` selects, in a scratch directory removed afterwards.
    package func run(_ options: BenchOptions) throws -> BenchReport {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rnnspec-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        var report = BenchReport(debugBuild: isDebugBuild, cores: ProcessInfo.processInfo.activeProcessorCount)
        if options.section != .kernels {
            report.runner = try benchRunner(options, scratch: scratch)
            report.oneCase = try benchOneCase(options, scratch: scratch)
        }
        if options.section != .runner {
            try benchKernels(options, scratch: scratch, into: &report)
        }
        return report
    }

    func benchRunner(_ options: BenchOptions, scratch: URL) throws -> [RunnerRow] {
        var rows: [RunnerRow] = []
        for count in options.caseCounts {
            log("bench: generating and recording \(count) cases\n")
            let base =
                options.suiteDirectory.map { URL(fileURLWithPath: $0, relativeTo: project.workingDirectory) } ?? scratch
            let root = base.appendingPathComponent("suite-\(count)")
            if FileManager.default.fileExists(atPath: root.path) {
                throw UsageError("\(project.display(root)) exists; the bench writes new suites only")
            }
            let suite = try BenchSuite.write(count: count, to: root)
            for jobs in options.jobs {
                log("bench: rnnspec run, \(count) cases, --jobs \(jobs)\n")
                // Timed runs are waited for without polling /proc (on two cores the poll's reads of the
                // processes' page tables take time from the run); one more run, polled, gives the memory.
                let arguments = [
                    "run", "--cases-root", suite.casesRoot.path, "--golden-root", suite.goldenRoot.path,
                    "--jobs", "\(jobs)",
                ]
                var runs: [ChildRun] = []
                for _ in 0..<options.runnerRepetitions {
                    runs.append(try runChild(options.executable, arguments, scratch: scratch, measureMemory: false))
                }
                let polled = try runChild(options.executable, arguments, scratch: scratch)
                let summary = polled.output.split(separator: "\n").last.map(String.init) ?? ""
                rows.append(
                    RunnerRow(
                        cases: count, jobs: jobs, seconds: median(runs.map(\.seconds)),
                        peakBytes: polled.peakBytes, peakGroupBytes: polled.peakGroupBytes, runs: runs.count,
                        exitStatus: (runs + [polled]).map(\.status).max()!, summary: summary))
            }
        }
        return rows
    }

    /// `rnnspec run cases/ID.yaml` in a suite of the generated suite's first case (an `rnn.step`), from
    /// the spawn to the exit, waited for without polling /proc; after one untimed run.
    func benchOneCase(_ options: BenchOptions, scratch: URL) throws -> OneCaseRow {
        log("bench: rnnspec run, one case, \(options.oneCaseRepetitions) times\n")
        let root = scratch.appendingPathComponent("one-case")
        try BenchSuite.write(count: 1, to: root)
        let file = "cases/\(BenchSuite.cases(count: 1)[0].id).yaml"
        // `rnnspec run cases/ID.yaml` in the suite's directory, as a user types it; where the C library
        // cannot start a child in another directory, the roots are given as flags.
        let inSuite = spawnAddChdir != nil
        let arguments =
            inSuite
            ? ["run", file]
            : [
                "run", "--cases-root", root.appendingPathComponent("cases").path, "--golden-root",
                root.appendingPathComponent("golden").path, root.appendingPathComponent(file).path,
            ]
        var times: [Double] = [], status: Int32 = 0
        for k in 0...options.oneCaseRepetitions {
            let run = try runChild(
                options.executable, arguments, scratch: scratch, directory: inSuite ? root : nil, measureMemory: false)
            status = max(status, run.status)
            if k > 0 { times.append(1000 * run.seconds) }
        }
        return OneCaseRow(path: arguments.dropFirst().joined(separator: " "), milliseconds: times, exitStatus: status)
    }

    func benchKernels(_ options: BenchOptions, scratch: URL, into report: inout BenchReport) throws {
        let dtypes = ["float32", "float64"]
        let inputs = [BenchShape.large, BenchShape.notebook].flatMap { shape in
            [CellKind.lstm, .gru].map { BenchInputs(kind: $0, shape: shape) }
        }
        let reps = options.repetitions, n = options.peakN, rounds = options.kernelRounds
        // The NumPy reference, located once; nil, with the reason in report.numpy, when it does not run.
        var script: URL? = nil
        if options.skipNumPy {
            report.numpy = "skipped (--skip-numpy)"
        } else if let found = locateNumPyScript(workingDirectory: project.workingDirectory) {
            script = found
        } else {
            report.numpy =
                "not run: tools/bench/numpy_reference.py not found above the working directory or the executable"
        }
        // Rounds: rnnspec's rows, then the reference's, so that both sides are timed across the same minutes
        // of a shared machine; each time is the median of the rounds' medians.
        var rows: [KernelRow] = []
        var peaks = ["float32", "float64"].map { PeakRow(dtype: $0, n: n, rnnspecGFLOPs: nil, numpyGFLOPs: nil) }
        var references: [NumPyReport] = []
        var referenceManifest: URL? = nil
        report.rounds = rounds
        for round in 1...rounds {
            let prefix = rounds > 1 ? "bench: round \(round) of \(rounds): " : "bench: "
            var k = 0
            for input in inputs {
                for dtype in dtypes {
                    for pass in BenchPass.allCases {
                        log("\(prefix)\(input.kind.rawValue) \(pass.rawValue) \(dtype) \(input.shape.label)\n")
                        let (timing, checks) =
                            dtype == "float32"
                            ? benchKernel(input, pass: pass, as: Float.self, repetitions: reps)
                            : benchKernel(input, pass: pass, as: Double.self, repetitions: reps)
                        if round == 1 {
                            rows.append(
                                KernelRow(
                                    kind: input.kind.rawValue, pass: pass, dtype: dtype, shape: input.shape,
                                    flops: benchFLOPs(kind: input.kind, shape: input.shape, pass: pass),
                                    milliseconds: timing.milliseconds, runs: 0, checks: checks))
                        }
                        rows[k].roundMilliseconds.append(timing.milliseconds)
                        rows[k].runs += timing.runs
                        k += 1
                    }
                }
            }
            log("\(prefix)rnnspec gemm \(n)²\n")
            peaks[0].rnnspecRounds.append(
                gemmFLOPs(n) / (benchGEMM(n: n, as: Float.self, repetitions: reps).milliseconds / 1000) / 1e9)
            peaks[1].rnnspecRounds.append(
                gemmFLOPs(n) / (benchGEMM(n: n, as: Double.self, repetitions: reps).milliseconds / 1000) / 1e9)
            if let found = script {
                log("\(prefix)NumPy reference (\(options.python) \(project.display(found)))\n")
                do {
                    // The inputs are written once, before the first round's reference runs.
                    let manifest =
                        try referenceManifest
                        ?? writeNumPyReferenceInputs(
                            inputs: inputs, dtypes: dtypes, peakN: n, repetitions: reps, scratch: scratch)
                    referenceManifest = manifest
                    references.append(
                        try runNumPyReference(
                            python: options.python, script: found, manifest: manifest, scratch: scratch
                        )
                        .report)
                } catch {
                    // The rounds before stand; a failure in the first round means no reference at all.
                    if references.isEmpty {
                        report.numpy = "not run: \(error)"
                    } else {
                        report.notes.append(
                            "the NumPy reference failed in round \(round) of \(rounds) (\(error)); its times are the median of the \(references.count) rounds before"
                        )
                    }
                    script = nil
                }
            }
        }
        for input in inputs where input.shape == .large {
            log("bench: memory of \(input.kind.rawValue) forward+bptt \(input.shape.label)\n")
            report.memory.append(benchMemory(input, as: Float.self))
            report.memory.append(benchMemory(input, as: Double.self))
        }
        report.kernels = combineRounds(rows, references)
        report.peaks = combinePeaks(peaks, references)
        guard let first = references.first else { return }
        report.numpyRan = true
        report.numpy = "NumPy \(first.numpy), Python \(first.python)"
        if let ort = first.ort, let version = ort.version {
            report.ort =
                "ONNX Runtime \(version), CPUExecutionProvider, \(ort.threads ?? kernelThreads) intra-op threads"
        } else {
            report.ort = first.ort?.missing ?? "not run: the NumPy reference reported nothing about ONNX Runtime"
        }
    }
}

/// The peaks with each round's NumPy peak: each GFLOP/s the median of the rounds'.
package func combinePeaks(_ peaks: [PeakRow], _ references: [NumPyReport]) -> [PeakRow] {
    peaks.map { p in
        var p = p
        p.rnnspecGFLOPs = p.rnnspecRounds.isEmpty ? nil : median(p.rnnspecRounds)
        p.numpyRounds = references.compactMap { $0.peak(dtype: p.dtype)?.gflops }
        p.numpyGFLOPs = p.numpyRounds.isEmpty ? nil : median(p.numpyRounds)
        return p
    }
}

/// rnnspec's rows with each round's reference times: every time the median of the rounds' medians, and
/// the results agreeing where they agree with the reference's in every round.
package func combineRounds(_ rows: [KernelRow], _ references: [NumPyReport]) -> [KernelRow] {
    rows.map { row in
        var row = row
        row.milliseconds = median(row.roundMilliseconds)
        guard let kind = CellKind(rawValue: row.kind) else { return row }
        let numpy = references.compactMap { $0.row(kind: kind, dtype: row.dtype, shape: row.shape, pass: row.pass) }
        if !numpy.isEmpty {
            row.numpyRoundMilliseconds = numpy.map(\.ms)
            row.numpyMilliseconds = median(row.numpyRoundMilliseconds)
            row.agree = numpy.allSatisfy { checksAgree(row.checks, $0.checks, dtype: row.dtype) }
        }
        let ort = references.compactMap { $0.ortRow(kind: kind, dtype: row.dtype, shape: row.shape, pass: row.pass) }
        if !ort.isEmpty {
            row.ortRoundMilliseconds = ort.map(\.ms)
            row.ortMilliseconds = median(row.ortRoundMilliseconds)
            row.ortAgree = ort.allSatisfy { checksAgree(row.checks, $0.checks, dtype: row.dtype) }
        }
        return row
    }
}
