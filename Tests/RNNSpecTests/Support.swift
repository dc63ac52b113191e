import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// A throwaway project directory with `cases/` and `golden/`.
final class TempProject {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("rnnspec-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("cases"), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    var project: Project { try! Project.locate(workingDirectory: root.path) }

    /// Writes `cases/<id>.yaml`.
    @discardableResult
    func writeCase(_ id: String, _ text: String) throws -> URL {
        let url = root.appendingPathComponent("cases/\(id).yaml")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func goldenURL(_ id: String) -> URL { root.appendingPathComponent("golden/\(id).yaml") }

    func golden(_ id: String) -> String? { try? String(contentsOf: goldenURL(id), encoding: .utf8) }

    func run(_ paths: [String] = [], record: RecordMode = .none, configure: (inout RunOptions) -> Void = { _ in })
        throws -> RunReport
    {
        var options = RunOptions()
        options.record = record
        options.jobs = 2
        configure(&options)
        return try Runner(project: project, options: options).run(paths: paths)
    }

    func result(_ id: String, record: RecordMode = .none) throws -> CaseResult {
        let report = try run(record: record)
        return try XCTUnwrap(report.results.first { $0.id == id }, "no result for \(id)")
    }

    /// The error text of a case that does not load.
    func loadError(_ text: String, id: String = "c") throws -> String {
        try writeCase(id, text)
        let r = try result(id)
        XCTAssertEqual(r.status, .unresolved)
        return r.error.map { "\($0)" } ?? "(no error)"
    }
}

/// Every `*.yaml` file below a directory (or the file itself), in the runner's order (by bytes).
func listYAML(under url: URL) -> [URL] {
    listYAMLPaths(under: url.path).sorted(by: utf8Precedes).map { URL(fileURLWithPath: $0, isDirectory: false) }
}

/// The path of `file` under `root` (both standardized) without the `.yaml` extension, as a case id is made.
func relativeID(of file: URL, under root: URL) -> String {
    let rootPath = standardizedPath(root), filePath = standardizedPath(file)
    let prefix = rootPath + "/"
    guard filePath.utf8.starts(with: prefix.utf8) else { return caseID(relativePath: file.lastPathComponent) }
    return caseID(relativePath: String(Substring(filePath.utf8.dropFirst(prefix.utf8.count))))
}

/// The repository's top directory (this file is Tests/RNNSpecTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let simpleStepCase = """
    kernel: rnn.step
    inputs:
      x: [1.0, -1.0]
      h_prev: [0.5, 0.0]
      W_xh: {eye: 2}
      W_hh: {eye: 2, scale: 0.5}

    """

/// The built `rnnspec` executable: the test bundle sits in the build products directory beside it.
var rnnspecBinary: URL {
    var dir = Bundle(for: TempProject.self).bundleURL
    while dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
    return dir.appendingPathComponent("rnnspec")
}

/// What a run of the binary printed, and its exit status.
struct CommandOutput { var status: Int32; var stdout: String; var stderr: String }

/// Runs the built binary in `dir`, with the environment changed as given (nil removes a variable).
func runRNNSpec(
    _ args: [String], in dir: URL, environment changes: [String: String?] = [:],
    executable: URL = rnnspecBinary
) throws -> CommandOutput {
    let process = Process()
    process.executableURL = executable
    process.arguments = args
    process.currentDirectoryURL = dir
    var env = ProcessInfo.processInfo.environment
    // The tests run under CI=true on CI; a test that wants it says so.
    env["CI"] = nil
    for (key, value) in changes { env[key] = value }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Standard error is read on another thread so that neither pipe can fill up and block the child.
    let errorData = OutputBox()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
        errorData.append(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CommandOutput(
        status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self), stderr: errorData.text)
}

/// RNNSPEC_FULL_TESTS=1: the long forms of tests that are shortened or sampled by default (CI runs
/// `swift test` both ways).
let fullTests = ProcessInfo.processInfo.environment["RNNSPEC_FULL_TESTS"] == "1"

/// Copies the seeds' folders of `cases/` and `golden/` (theory, exercises, article, companion, questions)
/// into `dir`, leaving out the cases tagged `training` and their goldens: the suite that tests of the
/// command line run the binary over, many times. (A training case takes seconds in a debug build;
/// SuiteTests runs every case.)
func copyQuickSeedSuite(to dir: URL) throws {
    let fm = FileManager.default
    for sub in ["cases", "golden"] {
        try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        for folder in ["theory", "exercises", "article", "companion", "questions"] {
            try fm.copyItem(
                at: repositoryRoot.appendingPathComponent("\(sub)/\(folder)"),
                to: dir.appendingPathComponent("\(sub)/\(folder)"))
        }
    }
    for folder in ["theory", "exercises", "article", "companion", "questions"] {
        for name in try fm.contentsOfDirectory(atPath: dir.appendingPathComponent("cases/\(folder)").path)
        where name.hasSuffix(".yaml") {
            let url = dir.appendingPathComponent("cases/\(folder)/\(name)")
            let text = try String(contentsOf: url, encoding: .utf8)
            guard let tags = text.split(separator: "\n").first(where: { $0.hasPrefix("tags:") }),
                tags.contains("training")
            else { continue }
            try fm.removeItem(at: url)
            try? fm.removeItem(at: dir.appendingPathComponent("golden/\(folder)/\(name)"))
        }
    }
}

/// Values equal bit for bit (NaN equal to NaN, -0.0 not equal to 0.0), and of the same dtype.
func sameBits(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.real(let x), .real(let y)):
        return x.shape == y.shape && x.dtype == y.dtype
            && zip(x.tensor.scalars, y.tensor.scalars).allSatisfy { $0.bitPattern == $1.bitPattern }
    case (.list(let xs), .list(let ys)):
        return xs.count == ys.count && zip(xs, ys).allSatisfy { sameBits($0, $1) }
    default:
        return a == b
    }
}
