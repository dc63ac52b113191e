import Foundation
import RNNKernels

/// The result kinds, as LLVM lit names them, plus NEW and STALE for goldens.
public enum Status: String, Sendable, Codable, CaseIterable {
    case pass = "PASS"
    case fail = "FAIL"
    /// No golden yet.
    case new = "NEW"
    /// The case changed since its golden was written (the digest differs).
    case stale = "STALE"
    /// Marked `xfail:` and failed as expected.
    case xfail = "XFAIL"
    /// Marked `xfail:` but passed.
    case xpass = "XPASS"
    /// The case (or its golden) cannot be loaded, or the kernel rejected it.
    case unresolved = "UNRESOLVED"
    /// Marked `skip:`.
    case unsupported = "UNSUPPORTED"

    /// Counted as passed in the summary line.
    public var isSuccess: Bool { self == .pass || self == .xfail }
    /// Counted as skipped.
    public var isSkipped: Bool { self == .unsupported }
}

/// When a run writes goldens.
public enum RecordMode: String, Sendable, CaseIterable {
    /// Never (the default of `run`).
    case none
    /// Only goldens that do not exist.
    case missing
    /// Goldens that are missing, stale, unreadable or differ from the outputs.
    case failed
    /// Every golden of a case that runs.
    case all
}

/// What happened to a golden during a recording run.
public struct Recording: Sendable, Codable {
    public enum Action: String, Sendable, Codable { case created, rewritten, unchanged, refused }
    public var action: Action
    /// Per output: how far it moved from the old golden, or why nothing was written.
    public var notes: [String]
}

/// The outcome of one case.
public struct CaseResult: Sendable {
    public var id: String
    public var path: String
    public var kernel: String?
    public var status: Status
    /// For XFAIL/XPASS/UNSUPPORTED: the case's reason.
    public var reason: String?
    public var mismatches: [Mismatch] = []
    /// The error of an UNRESOLVED or STALE result.
    public var error: SpecError?
    /// Further explanation lines (a STALE golden's hint, say).
    public var notes: [String] = []
    public var recording: Recording?
    public var seconds: Double = 0
}

/// Options of a run.
public struct RunOptions: Sendable {
    /// Cases run at once; default: the number of cores.
    public var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    /// A glob over case ids (`lstm/*`, `*clip*`).
    public var filter: String? = nil
    /// Only cases with any of these tags.
    public var tags: [String] = []
    /// Run the i-th (1-based) of n deterministic shares of the cases.
    public var shard: (index: Int, count: Int)? = nil
    public var record: RecordMode = .none
    public var limits = LoadLimits()

    public init() {}
}

/// The results of a run, in case-id order.
public struct RunReport: Sendable {
    public var results: [CaseResult]
    /// Goldens with no case file (reported when the run covers the whole cases root).
    public var orphanGoldens: [String]
    public var seconds: Double

    public func count(_ status: Status) -> Int { results.filter { $0.status == status }.count }
    public var passed: Int { results.filter { $0.status.isSuccess }.count }
    public var skipped: Int { results.filter { $0.status.isSkipped }.count }
    public var failed: Int { results.count - passed - skipped }
    /// `N passed, N failed` (`, N skipped` when any were).
    public var summaryLine: String {
        var line = "\(passed) passed, \(failed) failed"
        if skipped > 0 { line += ", \(skipped) skipped" }
        return line
    }
}

/// Runs cases: load, compute, compare with expectations and goldens, and record goldens
/// when asked.
public struct Runner: Sendable {
    public var project: Project
    public var options: RunOptions
    public var registry: KernelRegistry

    public init(project: Project, options: RunOptions, registry: KernelRegistry = .standard) {
        self.project = project
        self.options = options
        self.registry = registry
    }

    /// Selects the case files under the paths by filter and shard (tags are checked after
    /// loading).
    public func selectFiles(_ paths: [String]) throws -> [(url: URL, id: String)] {
        var files = try project.caseFiles(paths)
        if let filter = options.filter { files = files.filter { globMatch(filter, $0.id) } }
        if let shard = options.shard {
            files = files.enumerated().filter { $0.offset % shard.count == shard.index - 1 }.map(\.element)
        }
        return files
    }

    /// Runs every selected case, `options.jobs` at a time. `progress` is called after each case
    /// with the number done and the total (from any thread).
    public func run(paths: [String], progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> RunReport {
        let start = Date()
        let files = try selectFiles(paths)
        let results = parallelMap(files, jobs: options.jobs, progress: progress) { file in
            self.runOne(url: file.url, id: file.id)
        }.filter { result in
            // A tag filter keeps tagged cases, and unresolved ones (their tags are unknown).
            options.tags.isEmpty || result.status == .unresolved || result.tags.contains { options.tags.contains($0) }
        }.map(\.result)
        var orphans: [String] = []
        if paths.isEmpty && options.filter == nil && options.shard == nil && options.tags.isEmpty {
            orphans = orphanGoldens()
        }
        return RunReport(results: results, orphanGoldens: orphans, seconds: Date().timeIntervalSince(start))
    }

    /// Golden ids with no case file.
    public func orphanGoldens() -> [String] {
        // By bytes; none when the cases cannot be listed (never "all of them").
        (try? project.orphanGoldens()) ?? []
    }

    /// Loads one case file.
    public func load(url: URL, id: String) throws -> Case {
        // Through the confined layer: not outside the cases root, not a FIFO or a device.
        let data = try project.readCaseFile(url)
        return try CaseLoader(registry: registry, limits: options.limits).load(data: data, id: id, displayPath: project.display(url))
    }

    struct Tagged: Sendable {
        var result: CaseResult
        var tags: [String]
        var status: Status { result.status }
    }

    func runOne(url: URL, id: String) -> Tagged {
        let start = Date()
        var result = CaseResult(id: id, path: project.display(url), kernel: nil, status: .unresolved)
        var tags: [String] = []
        defer { result.seconds = Date().timeIntervalSince(start) }
        let c: Case
        do {
            c = try load(url: url, id: id)
        } catch {
            result.error = asSpecError(error, path: result.path)
            return Tagged(result: result, tags: [])
        }
        tags = c.tags
        result.kernel = c.kernel.spec.name
        if let skip = c.skip {
            result.status = .unsupported
            result.reason = skip
            return Tagged(result: result, tags: tags)
        }
        evaluate(c, into: &result)
        result.seconds = Date().timeIntervalSince(start)
        return Tagged(result: result, tags: tags)
    }

    /// Runs the kernel of a loaded case and compares its outputs.
    func evaluate(_ c: Case, into result: inout CaseResult) {
        let outputs: KernelOutputs
        do {
            outputs = try Runner.execute(c)
        } catch let error as SpecError {
            result.error = error
            return
        } catch {
            result.error = c.error("\(error)", at: "kernel")
            return
        }

        // Expectations: independent of the golden.
        for (name, e) in c.expectations {
            guard let actual = outputs[name] else {
                result.mismatches.append(Mismatch(output: name, reference: .expect,
                                                  detail: "the kernel did not produce '\(name)' with these params", failing: 1, total: 1))
                continue
            }
            let tolerance = e.tolerance ?? c.goldenTolerance(for: name, dtype: dtype(of: actual))
            if var m = Comparison.compare(actual: actual, expected: e.value, tolerance: tolerance, output: name, reference: .expect) {
                m.detail = "\(e.location): " + m.detail
                result.mismatches.append(m)
            }
        }
        // Gradients against finite differences.
        if let request = c.gradcheck {
            do {
                result.mismatches += try GradCheck.check(c, request)
            } catch {
                result.mismatches.append(Mismatch(output: request.loss, reference: .gradcheck,
                                                  detail: "\(asSpecError(error, path: c.path))", failing: 1, total: 1))
            }
        }
        let expectFailed = !result.mismatches.isEmpty

        // Golden.
        let store = project.goldenStore
        var goldenStatus: Status = .pass
        var old: Golden? = nil
        do {
            old = try store.read(c.id)
            if let g = old {
                if g.kernel != c.kernel.spec.name || g.digest != c.digest {
                    goldenStatus = .stale
                    let why = g.kernel != c.kernel.spec.name
                        ? "the golden was written for kernel '\(g.kernel)', the case now runs '\(c.kernel.spec.name)'"
                        : "the case's kernel, params or inputs changed since its golden was written"
                    result.notes.append("\(why); review the change, then `rnnspec regen \(c.path)`")
                } else {
                    for (name, value) in outputs.entries {
                        guard let expected = g.output(name) else {
                            result.mismatches.append(Mismatch(output: name, reference: .golden, detail: "output '\(name)' is not in the golden", failing: 1, total: 1))
                            continue
                        }
                        let tolerance = c.goldenTolerance(for: name, dtype: dtype(of: value))
                        if let m = Comparison.compare(actual: value, expected: expected, tolerance: tolerance, output: name, reference: .golden) {
                            result.mismatches.append(m)
                        }
                    }
                    for (name, _) in g.outputs where outputs[name] == nil {
                        result.mismatches.append(Mismatch(output: name, reference: .golden, detail: "the golden has output '\(name)' but the kernel no longer produces it", failing: 1, total: 1))
                    }
                }
            } else {
                goldenStatus = .new
                result.notes.append("no golden yet; review the outputs, then `rnnspec regen \(c.path)`")
            }
        } catch {
            goldenStatus = .unresolved
            result.error = asSpecError(error, path: store.display(store.url(for: c.id)))
            result.notes.append("the golden cannot be read; `rnnspec regen \(c.path)` rewrites it")
        }
        let goldenFailed = result.mismatches.contains { $0.reference == .golden }

        // Recording.
        let wantsRecord: Bool
        switch options.record {
        case .none: wantsRecord = false
        case .missing: wantsRecord = goldenStatus == .new
        case .failed: wantsRecord = goldenStatus != .pass || goldenFailed
        case .all: wantsRecord = true
        }
        var recorded = false
        if wantsRecord {
            if expectFailed && c.xfail == nil {
                result.recording = Recording(action: .refused, notes: ["not recorded: the outputs fail the case's expect: values, which a golden must not contradict"])
            } else {
                let golden = Golden(caseID: c.id, kernel: c.kernel.spec.name, digest: c.digest, outputs: outputs.entries)
                do {
                    result.recording = try record(golden, replacing: old, store: store)
                    recorded = true
                } catch {
                    result.recording = Recording(action: .refused, notes: ["\(asSpecError(error, path: c.path))"])
                }
            }
        }
        if recorded {
            goldenStatus = .pass
            result.mismatches.removeAll { $0.reference == .golden }
            result.notes.removeAll()
            if result.error != nil && !expectFailed { result.error = nil }
        }

        // Verdict.
        let failed = !result.mismatches.isEmpty
        if goldenStatus != .pass {
            result.status = goldenStatus
        } else if let reason = c.xfail {
            result.status = failed ? .xfail : .xpass
            result.reason = reason
        } else {
            result.status = failed ? .fail : .pass
        }
    }

    /// Writes a golden unless its bytes would not change, and says how far each output moved.
    func record(_ golden: Golden, replacing old: Golden?, store: GoldenStore) throws -> Recording {
        store.removeAbandonedTemporaries(golden.caseID)
        let newText = golden.serialized()
        let current = store.current(golden.caseID)
        if let data = current.bytes, data == Data(newText.utf8) {
            return Recording(action: .unchanged, notes: [])
        }
        let existed = current.exists
        try store.write(golden)
        guard let old else {
            return Recording(action: existed ? .rewritten : .created, notes: existed ? ["the old golden could not be read"] : [])
        }
        var notes: [String] = []
        for (name, value) in golden.outputs {
            guard let before = old.output(name) else { notes.append("\(name): new output"); continue }
            if let d = Comparison.drift(from: before, to: value) {
                notes.append(d.abs == 0 && d.rel == 0 ? "\(name): unchanged"
                             : "\(name): moved by at most abs \(shortNumber(d.abs)), rel \(shortNumber(d.rel))")
            } else {
                notes.append("\(name): changed shape or type")
            }
        }
        for (name, _) in old.outputs where golden.output(name) == nil { notes.append("\(name): removed") }
        return Recording(action: .rewritten, notes: notes)
    }

    /// Runs a case's kernel in its precision and checks the outputs against the declaration.
    public static func execute(_ c: Case) throws -> KernelOutputs {
        let kernel = c.kernel
        let context = KernelContext(inputs: c.inputs, params: c.params, dims: c.dims)
        let outputs: KernelOutputs
        do {
            if case .string("float32")? = c.params["dtype"] {
                outputs = try kernel.run(context, as: Float.self)
            } else {
                outputs = try kernel.run(context, as: Double.self)
            }
        } catch let error as KernelError {
            switch error {
            case .input(let name, let message): throw c.error(message, at: "input:\(name)")
            case .param(let name, let message): throw c.error(message, at: c.locations["param:\(name)"] != nil ? "param:\(name)" : "params")
            case .invalid(let message): throw c.error(message, at: "kernel")
            }
        }
        let spec = kernel.spec
        for (name, _) in outputs.entries where spec.output(name) == nil {
            throw c.error("kernel \(spec.name) produced an undeclared output '\(name)' (a bug in its adapter)", at: "kernel")
        }
        for output in spec.outputs where !output.optional && outputs[output.name] == nil {
            throw c.error("kernel \(spec.name) did not produce its output '\(output.name)' (a bug in its adapter)", at: "kernel")
        }
        return outputs
    }

    func dtype(of value: Value) -> DType {
        switch value {
        case .real(let r): return r.dtype
        case .list(let items): return items.first.map(dtype(of:)) ?? .float64
        default: return .float64
        }
    }
}

func asSpecError(_ error: Error, path: String) -> SpecError {
    if let e = error as? SpecError { return e }
    return SpecError("\(error)", at: SourceLocation(file: path, line: 0, column: 0))
}

/// Maps `body` over `items` on up to `jobs` threads, keeping the order.
func parallelMap<T: Sendable, R: Sendable>(_ items: [T], jobs: Int, progress: (@Sendable (Int, Int) -> Void)?,
                                          _ body: @Sendable @escaping (T) -> R) -> [R] {
    let box = ParallelBox<R>(items.count)
    let workers = max(1, min(jobs, items.count))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            box.lock.lock()
            let k = box.next
            box.next += 1
            box.lock.unlock()
            if k >= items.count { return }
            let r = body(items[k])
            box.lock.lock()
            box.results[k] = r
            box.done += 1
            let done = box.done
            box.lock.unlock()
            progress?(done, items.count)
        }
    }
    return box.results.map { $0! }
}

/// Shared state of `parallelMap`'s workers, guarded by its lock.
private final class ParallelBox<R>: @unchecked Sendable {
    var results: [R?]
    var next = 0
    var done = 0
    let lock = NSLock()
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
}

/// Shell-style glob: `*` any run of characters (slashes included), `?` one character,
/// `[abc]` one of the listed characters.
public func globMatch(_ pattern: String, _ text: String) -> Bool {
    fnmatch(pattern, text, 0) == 0
}
