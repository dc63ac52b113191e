import Foundation
import RNNKernels
import RNNSpec

/// What `tools/bench/numpy_reference.py` prints.
package struct NumPyReport: Sendable, Codable {
    package struct Row: Sendable, Codable {
        package var kind: String
        package var dtype: String
        package var T: Int, B: Int, I: Int, H: Int
        package var pass: String
        package var ms: Double
        package var runs: Int
        package var checks: [String: Double]

        package var shape: BenchShape { BenchShape(t: T, b: B, i: I, h: H) }
    }

    package struct Peak: Sendable, Codable {
        package var dtype: String
        package var n: Int
        package var ms: Double
        package var gflops: Double
    }

    /// ONNX Runtime's forward rows (float32), when the Python has onnxruntime and onnx.
    package struct ORT: Sendable, Codable {
        package var version: String?
        package var threads: Int?
        /// Why ONNX Runtime did not run.
        package var missing: String?
        package var rows: [Row]?
    }

    package var numpy: String
    package var python: String
    package var rows: [Row]
    package var peak: [Peak]
    package var ort: ORT?

    /// Parses the script's output: the last line holding a JSON object. A report of
    /// `{"error": ...}` (NumPy missing) throws that message.
    package static func parse(_ output: String) throws -> NumPyReport {
        guard let line = output.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix("{") }) else {
            throw UsageError("the NumPy reference printed no JSON")
        }
        let data = Data(line.utf8)
        struct Failure: Decodable { var error: String }
        if let failure = try? JSONDecoder().decode(Failure.self, from: data) { throw UsageError(failure.error) }
        do { return try JSONDecoder().decode(NumPyReport.self, from: data) } catch {
            throw UsageError("the NumPy reference's JSON does not parse: \(error)")
        }
    }

    package func row(kind: CellKind, dtype: String, shape: BenchShape, pass: BenchPass) -> Row? {
        rows.first { $0.kind == kind.rawValue && $0.dtype == dtype && $0.shape == shape && $0.pass == pass.rawValue }
    }

    package func peak(dtype: String) -> Peak? { peak.first { $0.dtype == dtype } }

    package func ortRow(kind: CellKind, dtype: String, shape: BenchShape, pass: BenchPass) -> Row? {
        ort?.rows?.first {
            $0.kind == kind.rawValue && $0.dtype == dtype && $0.shape == shape && $0.pass == pass.rawValue
        }
    }
}

/// The manifest rnnspec writes for the NumPy script: sizes, repetitions and the input files.
struct NumPyManifest: Encodable {
    struct Config: Encodable {
        var kind: String
        var T: Int, B: Int, I: Int, H: Int
        var dtypes: [String]
        var files: [String: String]
    }
    struct Reps: Encodable {
        var count: Int
        var budget_seconds: Double
        var minimum: Int
        var warm_up: Bool
        var warm_up_seconds: Double
        var short_count: Int
        var short_below_seconds: Double
    }
    var repetitions: Reps
    var peak_n: Int
    /// ONNX Runtime's intra-op threads: as many as rnnspec's kernels use.
    var threads: Int
    var configs: [Config]
}

/// Finds `tools/bench/numpy_reference.py`: above the working directory, then above the executable
/// (`.build/release/rnnspec` in a clone).
package func locateNumPyScript(workingDirectory: URL, executable: String = currentExecutablePath()) -> URL? {
    let relative = "tools/bench/numpy_reference.py"
    for start in [workingDirectory, URL(fileURLWithPath: executable).deletingLastPathComponent()] {
        var dir = start.standardizedFileURL
        while true {
            let candidate = dir.appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
    }
    return nil
}

/// An executable name looked up on PATH (a path with a slash is taken as it is).
package func resolveExecutable(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment)
    -> String?
{
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    for dir in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// The threads rnnspec's kernels split a large product or a step's elementwise work over: at most
/// two (`RNNKernels`' `elementwiseThreads` and packed-product thread choice), and no more than the cores.
package var kernelThreads: Int { min(2, ProcessInfo.processInfo.activeProcessorCount) }

/// Writes the inputs and the manifest for the NumPy script into `scratch`: once per bench, since they do not
/// change between rounds (about 30 MB of files, which each round wrote again before). Returns the manifest's
/// URL, for `runNumPyReference`.
func writeNumPyReferenceInputs(
    inputs: [BenchInputs], dtypes: [String], peakN: Int, repetitions: Repetitions, scratch: URL
) throws -> URL {
    var configs: [NumPyManifest.Config] = []
    for input in inputs {
        var files: [String: String] = [:]
        for file in input.files {
            let name = "\(input.kind.rawValue)_\(input.shape.key)_\(file.name).f64"
            var values = file.values
            let data = values.withUnsafeMutableBytes { Data($0) }  // little-endian on every platform Swift runs on here
            try data.write(to: scratch.appendingPathComponent(name))
            files[file.name] = name
        }
        configs.append(
            .init(
                kind: input.kind.rawValue, T: input.shape.t, B: input.shape.b, I: input.shape.i, H: input.shape.h,
                dtypes: dtypes, files: files))
    }
    let manifest = NumPyManifest(
        repetitions: .init(
            count: repetitions.count, budget_seconds: repetitions.budgetSeconds,
            minimum: repetitions.minimum, warm_up: repetitions.warmUp,
            warm_up_seconds: repetitions.warmUpSeconds, short_count: repetitions.shortCount,
            short_below_seconds: repetitions.shortBelowSeconds),
        peak_n: peakN, threads: kernelThreads, configs: configs)
    let manifestURL = scratch.appendingPathComponent("manifest.json")
    try JSONEncoder().encode(manifest).write(to: manifestURL)
    return manifestURL
}

/// Runs the script on the manifest `writeNumPyReferenceInputs` wrote, and parses its report (with the
/// child's run: its wall time, and no memory, since it is not polled).
func runNumPyReference(
    python: String, script: URL, manifest manifestURL: URL, scratch: URL
) throws -> (report: NumPyReport, run: ChildRun) {
    guard let executable = resolveExecutable(python) else { throw UsageError("\(python) not found") }
    // Not polled for memory: on two cores, reading the child's page tables every 2 ms slowed NumPy and
    // ONNX Runtime by up to 60%.
    let run = try runChild(
        executable, [script.path, "--manifest", manifestURL.path], scratch: scratch, measureMemory: false)
    guard run.status == 0 else {
        let err = (try? String(contentsOf: scratch.appendingPathComponent("child-stderr.txt"), encoding: .utf8)) ?? ""
        throw UsageError(
            "the NumPy reference exited with status \(run.status): \(err.split(separator: "\n").last.map(String.init) ?? "")"
        )
    }
    return (try NumPyReport.parse(run.output), run)
}
