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
    /// Marked `skip:`, or a backend does not implement the kernel.
    case unsupported = "UNSUPPORTED"
    /// The case ran longer than its time limit and its worker was stopped.
    case timeout = "TIMEOUT"

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
    /// What was done with the golden.
    /// `pending`: written beside the golden for review (`RecordTarget.pending`); `wouldWrite`: a dry
    /// run's golden that would be created or rewritten.
    public enum Action: String, Sendable, Codable { case created, rewritten, unchanged, refused, pending, wouldWrite }
    /// What was done.
    public var action: Action
    /// Per output: how far it moved from the old golden, or why nothing was written.
    public var notes: [String]
}

/// The outcome of one case.
public struct CaseResult: Sendable {
    /// The case id: its path under the cases root without `.yaml`.
    public var id: String
    /// The case file as shown (relative to the working directory).
    public var path: String
    /// The kernel, when the case could be loaded.
    public var kernel: String?
    /// The verdict.
    public var status: Status
    /// The case's tags (empty when it cannot be loaded).
    public var tags: [String] = []
    /// For XFAIL/XPASS/UNSUPPORTED: the case's reason.
    public var reason: String?
    /// Each output that differs from an `expect:` value, the finite differences or the golden.
    public var mismatches: [Mismatch] = []
    /// The error of an UNRESOLVED or STALE result.
    public var error: SpecError?
    /// Further explanation lines (a STALE golden's hint, say).
    public var notes: [String] = []
    /// What happened to the golden, in a recording run.
    public var recording: Recording?
    /// How long the case took, in seconds.
    public var seconds: Double = 0
    /// The case, its outputs and its golden, when `RunOptions.keepArtifacts` is set.
    public var artifacts: CaseArtifacts? = nil
    /// The line of the case's `kernel:` field, when the case was loaded (nil when it could not be).
    public var location: SourceLocation? = nil

    /// A result from its parts.
    public init(id: String, path: String, kernel: String?, status: Status, reason: String? = nil,
                mismatches: [Mismatch] = [], error: SpecError? = nil, notes: [String] = [],
                recording: Recording? = nil, seconds: Double = 0) {
        self.id = id
        self.path = path
        self.kernel = kernel
        self.status = status
        self.reason = reason
        self.mismatches = mismatches
        self.error = error
        self.notes = notes
        self.recording = recording
        self.seconds = seconds
    }
}

/// Options of a run.
public struct RunOptions: Sendable {
    /// Cases run at once; default: the number of cores.
    public var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    /// A glob over case ids (`lstm/*`, `*clip*`); a pattern without `*`, `?` or `[` matches the ids
    /// that contain it.
    public var filter: String? = nil
    /// Leave out cases whose id matches any of these (the same matching as `filter`).
    public var excludes: [String] = []
    /// Only cases with any of these tags.
    public var tags: [String] = []
    /// Leave out cases with any of these tags.
    public var excludeTags: [String] = []
    /// Whether a selection that matches no case is accepted (else it is a usage error).
    public var allowEmpty = false
    /// Stop starting cases once this many have failed (`--max-failures`, `--fail-fast` is 1).
    public var maxFailures: Int? = nil
    /// Run the i-th (1-based) of n deterministic shares of the cases.
    public var shard: (index: Int, count: Int)? = nil
    /// When goldens are written (`.none`: never).
    public var record: RecordMode = .none
    /// Where recorded goldens go: over the golden, into a pending file beside it, or nowhere.
    public var recordTarget: RecordTarget = .golden
    /// The size limits cases and goldens are read under.
    public var limits = LoadLimits()
    /// Where kernels run: in worker processes (isolated, with the limits below) or in this process.
    public var execution: ExecutionMode = .inProcess
    /// Seconds a case may run before its worker is killed (a case's `timeout:` overrides it).
    public var timeout: Double = RunOptions.defaultTimeout
    /// The memory cap of each worker, in bytes (shown in messages; the worker command applies it).
    public var maxMemoryBytes: Int = RunOptions.defaultMaxMemoryBytes
    /// Keep each case's outputs and golden on its result (`CaseResult.artifacts`), for the HTML report.
    public var keepArtifacts = false
    /// How much of each mismatch is kept (`--max-mismatches`).
    public var comparison = ComparisonOptions()
    /// Run every case's gradcheck in this mode instead of its own (`--gradcheck`).
    public var gradcheckMode: GradCheckMode? = nil

    /// Seconds a case may run in a worker by default.
    public static let defaultTimeout: Double = 120
    /// A quarter of the machine's memory, at most 8 GiB and at least 1 GiB: two workers at the cap
    /// leave the machine half its memory.
    public static var defaultMaxMemoryBytes: Int {
        let quarter = Int(min(ProcessInfo.processInfo.physicalMemory / 4, UInt64(Int.max)))
        return min(8 << 30, max(1 << 30, quarter))
    }

    /// The defaults: every case, in this process, on all cores, writing nothing.
    public init() {}
}

/// The results of a run, in case-id order.
public struct RunReport: Sendable {
    /// One result per case that ran, in case-id order.
    public var results: [CaseResult]
    /// Goldens with no case file (reported when the run covers the whole cases root).
    public var orphanGoldens: [String]
    /// The run's wall time.
    public var seconds: Double
    /// Selected cases that were not run because `--max-failures` was reached.
    public var notRun: Int = 0

    /// The number of results with this status.
    public func count(_ status: Status) -> Int { results.filter { $0.status == status }.count }
    /// PASS and XFAIL results.
    public var passed: Int { results.filter { $0.status.isSuccess }.count }
    /// UNSUPPORTED results.
    public var skipped: Int { results.filter { $0.status.isSkipped }.count }
    /// Every other result.
    public var failed: Int { results.count - passed - skipped }
    /// The case ids whose pending golden this run wrote (`RecordTarget.pending`).
    public var goldensPending: [String] {
        results.filter { $0.recording?.action == .pending }.map(\.id)
    }
    /// The case ids whose golden this run created or rewrote.
    public var goldensWritten: [String] {
        results.filter { $0.recording?.action == .created || $0.recording?.action == .rewritten }.map(\.id)
    }
    /// `N passed, N failed` (`, N skipped` when any were).
    public var summaryLine: String {
        var line = "\(passed) passed, \(failed) failed"
        if skipped > 0 { line += ", \(skipped) skipped" }
        if notRun > 0 { line += ", \(notRun) not run (--max-failures reached)" }
        return line
    }
}

/// Runs cases in named stages, as lit assembles a verdict: **select** the files (paths, filter,
/// shard), **load** them and select by tag, then per case **execute** (in a worker process, or in
/// this one), **check expectations**, **check gradients**, **compare with the golden**, **record**
/// when asked, and combine these into a **verdict**. Nothing runs or is written for a case that
/// the selection leaves out.
public struct Runner: Sendable {
    /// Where the cases and goldens are.
    public var project: Project
    /// Selection, recording, execution and limits.
    public var options: RunOptions
    /// The kernels cases name.
    public var registry: KernelRegistry

    /// A runner of `project`'s cases with `registry`'s kernels.
    public init(project: Project, options: RunOptions, registry: KernelRegistry = .standard) {
        self.project = project
        self.options = options
        self.registry = registry
    }

    /// Selects the case files under the paths by filter and shard (tags are checked after
    /// loading).
    public func selectFiles(_ paths: [String]) throws -> [(url: URL, id: String)] {
        var files = try project.caseFiles(paths)
        if let filter = options.filter { files = files.filter { idMatches(filter, $0.id) } }
        if !options.excludes.isEmpty { files = files.filter { file in !options.excludes.contains { idMatches($0, file.id) } } }
        if let shard = options.shard {
            files = files.enumerated().filter { $0.offset % shard.count == shard.index - 1 }.map(\.element)
        }
        return files
    }

    /// A selected file after the load stage: a case ready to run, or already a result.
    public enum Loaded: Sendable {
        case ready(Case)
        /// UNRESOLVED (cannot be read) or UNSUPPORTED (`skip:`), with the tags when known.
        case settled(CaseResult, tags: [String]?)

        var tags: [String]? {
            switch self {
            case .ready(let c): return c.tags
            case .settled(_, let tags): return tags
            }
        }
    }

    /// The load stage and the tag selection for one selected file: nil when `--tag` leaves the case
    /// out. A case that cannot be loaded is kept (its tags are unknown). Only the cases being worked
    /// on are in memory at once.
    func loadSelected(url: URL, id: String) -> Loaded? {
        let loaded = loadStage(url: url, id: id)
        guard !options.tags.isEmpty || !options.excludeTags.isEmpty, let tags = loaded.tags else { return loaded }
        if tags.contains(where: options.excludeTags.contains) { return nil }
        return options.tags.isEmpty || tags.contains(where: options.tags.contains) ? loaded : nil
    }

    /// Loads and validates the selected cases without running a kernel (`rnnspec check`): each is
    /// PASS when it loads (the kernel's input rules included) and its golden, if there is one,
    /// can be read; UNRESOLVED, with the error's location, when not.
    public func check(_ paths: [String]) throws -> [CaseResult] {
        let files = try selectFiles(paths)
        let store = goldenStore
        return parallelMap(files, jobs: options.jobs, progress: nil) { file -> CaseResult? in
            switch self.loadSelected(url: file.url, id: file.id) {
            case nil: return nil
            case .ready(let c)?:
                var r = CaseResult(id: c.id, path: c.path, kernel: c.kernel.spec.name, status: .pass)
                r.tags = c.tags
                do { _ = try store.read(c.id) } catch {
                    r.status = .unresolved
                    r.error = asSpecError(error, path: store.display(store.url(for: c.id)))
                    r.notes = ["the golden cannot be read; `rnnspec regen \(c.path)` rewrites it"]
                }
                return r
            case .settled(var r, _)?:
                if r.status == .unsupported { r.status = .pass; r.reason = nil }
                return r
            }
        }.compactMap { $0 }
    }

    func loadStage(url: URL, id: String) -> Loaded {
        var result = CaseResult(id: id, path: project.display(url), kernel: nil, status: .unresolved)
        let c: Case
        do { c = try load(url: url, id: id) } catch {
            result.error = asSpecError(error, path: result.path)
            return .settled(result, tags: nil)
        }
        result.kernel = c.kernel.spec.name
        result.tags = c.tags
        result.location = c.locations["kernel"]
        if let skip = c.skip {
            result.status = .unsupported
            result.reason = skip
            if options.keepArtifacts { result.artifacts = CaseArtifacts(case: c) }
            return .settled(result, tags: c.tags)
        }
        return .ready(c)
    }

    /// Runs every selected case, `options.jobs` at a time. `progress` is called after each case
    /// with the number done and the total (from any thread); `onResult` with each case's result as
    /// soon as it is known, with the number of selected files (from any thread, one call at a time
    /// per case), its 1-based position among the selected files (in case-id order) and their number.
    /// Throws when the workers cannot start.
    public func run(paths: [String], progress: (@Sendable (Int, Int) -> Void)? = nil,
                    onResult: (@Sendable (CaseResult, _ position: Int, _ files: Int) -> Void)? = nil) throws -> RunReport {
        let start = Date()
        let files = try selectFiles(paths)
        let pool: WorkerPool?
        if case .workers(let command) = options.execution, !files.isEmpty {
            let p = WorkerPool(command: command)
            do { try p.warmUp() } catch { throw UsageError("cannot start a worker process: \(error)") }
            pool = p
        } else {
            pool = nil
        }
        defer { pool?.shutdown() }
        let outcomes = runSelected(files, pool: pool, progress: progress, onResult: onResult)
        let results = outcomes.compactMap { if case .ran(let r) = $0 { r } else { nil } }
        let notRun = outcomes.filter { if case .notRun = $0 { true } else { false } }.count
        if results.isEmpty && notRun == 0 && !options.allowEmpty {
            throw UsageError(emptySelectionMessage(paths))
        }
        var orphans: [String] = []
        if project.coversWholeCasesRoot(paths) && options.filter == nil && options.shard == nil && options.tags.isEmpty
            && options.excludes.isEmpty && options.excludeTags.isEmpty {
            if paths.isEmpty {
                // The selection is the whole cases root, listed already: no second walk.
                let caseIDs = Set(files.map { ExactKey($0.id) })
                orphans = project.goldenStore.allIDs().filter { !caseIDs.contains(ExactKey($0)) }
            } else {
                orphans = orphanGoldens()
            }
        }
        var report = RunReport(results: results, orphanGoldens: orphans, seconds: Date().timeIntervalSince(start))
        report.notRun = notRun
        return report
    }

    /// What became of a selected file in a run.
    enum Outcome: Sendable { case ran(CaseResult), notSelected, notRun }

    /// Why a run has no case: which selection matched nothing.
    func emptySelectionMessage(_ paths: [String]) -> String {
        var what: [String] = []
        if let filter = options.filter { what.append("--filter \(visibleText(filter))") }
        what += options.excludes.map { "--exclude \(visibleText($0))" }
        what += options.tags.map { "--tag \(visibleText($0))" }
        what += options.excludeTags.map { "--exclude-tag \(visibleText($0))" }
        if let shard = options.shard { what.append("--shard \(shard.index)/\(shard.count)") }
        let under = paths.isEmpty ? "the cases root \(visibleText(project.display(project.casesRoot)))/" : paths.map(visibleText).joined(separator: " ")
        if what.isEmpty { return "no case files (*.yaml) under \(under); `rnnspec new KERNEL PATH` writes one (--allow-empty accepts an empty run)" }
        return "no case under \(under) matches \(what.joined(separator: " ")) (--allow-empty accepts an empty selection)"
    }

    /// Golden ids with no case file.
    public func orphanGoldens() -> [String] {
        // By bytes; none when the cases cannot be listed (never "all of them").
        (try? project.orphanGoldens()) ?? []
    }

    /// The golden store, reading under the run's limits.
    var goldenStore: GoldenStore {
        var store = project.goldenStore
        store.limits = options.limits
        return store
    }

    /// Loads one case file.
    public func load(url: URL, id: String) throws -> Case {
        // Through the confined layer: not outside the cases root, not a FIFO or a device.
        let data: Data
        do { data = try project.readCaseFile(url, maxBytes: options.limits.maxFileBytes) } catch let e as SpecError where e.message.contains("is larger than") {
            try options.limits.checkFileBytes(fileSize(url.path) ?? options.limits.maxFileBytes + 1, file: e.location.file)
            throw e
        }
        var loader = CaseLoader(registry: registry, limits: options.limits)
        let cases = project.casesDirectory
        loader.readCasesFile = { relative, maxBytes in try cases.read(relative, maxBytes: maxBytes) }
        var c = try loader.load(data: data, id: id, displayPath: project.display(url))
        if let mode = options.gradcheckMode { c.gradcheck?.mode = mode }
        return c
    }

    /// Runs one loaded case through the stages and returns its result.
    /// Runs the selected files on `options.jobs` threads, in file order in the result. Each thread
    /// keeps one worker and loads (and selects) its next case while the worker runs the one before, so
    /// that parsing YAML and computing overlap.
    func runSelected(_ files: [(url: URL, id: String)], pool: WorkerPool?, progress: (@Sendable (Int, Int) -> Void)?,
                     onResult: (@Sendable (CaseResult, Int, Int) -> Void)? = nil) -> [Outcome] {
        let box = ParallelBox<Outcome>(files.count)
        let failures = FailureCount(limit: options.maxFailures)
        @Sendable func store(_ k: Int, _ outcome: Outcome) {
            if case .ran(let r) = outcome, !r.status.isSuccess && !r.status.isSkipped { failures.add() }
            if case .ran(let r) = outcome { onResult?(r, k + 1, files.count) }
            let done = box.store(k, outcome)
            progress?(done, files.count)
        }
        DispatchQueue.concurrentPerform(iterations: max(1, min(options.jobs, files.count))) { _ in
            let worker = pool?.checkout()
            defer { if let worker { pool?.checkin(worker) } }
            var inFlight: (index: Int, c: Case, submitted: Submitted, start: Date)? = nil
            while true {
                let k = box.take()
                var next: (Case, Date)? = nil
                var settled: Outcome? = nil
                if let k {
                    let start = Date()
                    if failures.reached {
                        settled = .notRun
                    } else {
                        switch self.loadSelected(url: files[k].url, id: files[k].id) {
                        case nil: settled = .notSelected
                        case .settled(let r, _)?: settled = .ran(r)
                        case .ready(let c)?: next = (c, start)
                        }
                    }
                }
                if let f = inFlight {
                    store(f.index, .ran(self.evaluate(f.c, executed: self.complete(f.c, f.submitted, pool: pool, worker: worker), start: f.start)))
                    inFlight = nil
                }
                guard let k else { break }
                if next != nil && failures.reached {
                    store(k, .notRun)      // the case before it reached --max-failures
                } else if let (c, start) = next {
                    inFlight = (k, c, self.submit(c, pool: pool, worker: worker), start)
                } else if let settled {
                    store(k, settled)
                }
            }
        }
        return box.results.map { $0 ?? .notRun }
    }

    /// Runs one loaded case through the stages after execution and returns its result.
    func evaluate(_ c: Case, executed: Result<ExecutionReply, Settled>, start: Date) -> CaseResult {
        var result = CaseResult(id: c.id, path: c.path, kernel: c.kernel.spec.name, status: .unresolved)
        result.tags = c.tags
        defer { result.seconds = Date().timeIntervalSince(start) }
        result.location = c.locations["kernel"]
        if options.keepArtifacts { result.artifacts = CaseArtifacts(case: c) }
        let reply: ExecutionReply
        switch executed {
        case .success(let r): reply = r
        case .failure(let settled):
            result.status = settled.status
            result.error = settled.error
            result.reason = settled.reason
            result.notes = settled.notes
            return result
        }
        result.artifacts?.outputs = reply.outputs
        result.artifacts?.gradients = reply.gradients
        result.artifacts?.directional = reply.directional
        result.mismatches += expectationStage(c, reply.outputs)
        if let request = c.gradcheck {
            result.mismatches += GradCheck.compare(reply.gradients, directional: reply.directional, request, options: options.comparison) { name, shape in
                c.kernel.spec.output(name)?.layout(params: c.params, shape: shape) ?? OutputLayout()
            }
        }
        let expectFailed = !result.mismatches.isEmpty
        var golden = goldenStage(c, reply.outputs)
        result.artifacts?.golden = golden.old
        result.mismatches += golden.mismatches
        result.notes += golden.notes
        if result.error == nil { result.error = golden.error }
        if let recording = recordStage(c, reply.outputs, golden: golden, expectFailed: expectFailed) {
            result.recording = recording
            // Only a golden written over the old one blesses the outputs; a pending one awaits review.
            if [.created, .rewritten, .unchanged].contains(recording.action) {
                golden = GoldenCheck(status: .pass)
                result.mismatches.removeAll { $0.reference == .golden }
                result.notes.removeAll()
                if !expectFailed { result.error = nil }
            }
        }
        verdictStage(c, golden: golden.status, into: &result)
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    /// A case that ended in the execute stage.
    struct Settled: Error {
        var status: Status
        var error: SpecError?
        var reason: String?
        var notes: [String] = []
    }

    /// Execute: the kernel runs (with the gradcheck's finite differences) in a worker or here.
    /// A case handed to the execute stage: done already (in this process, or refused before being
    /// sent), or sent to a worker whose reply is awaited.
    enum Submitted {
        case done(Result<ExecutionReply, Settled>)
        case sent(ExecutionRequest, deadline: Date, timeout: Double)
    }

    /// Execute, first half: runs the case here, or sends it to the thread's worker.
    func submit(_ c: Case, pool: WorkerPool?, worker: WorkerProcess?) -> Submitted {
        let request = ExecutionRequest(c)
        guard let pool, let worker else {
            do { return .done(.success(try checkedOutputs(c, Execution.run(request, registry: registry)))) } catch {
                return .done(.failure(Settled(status: .unresolved, error: Runner.located(c, error))))
            }
        }
        if let implemented = pool.kernels, !implemented.contains(c.kernel.spec.name) {
            return .done(.failure(Settled(status: .unsupported, reason: "\(pool.name.isEmpty ? "the backend" : pool.name) does not implement \(c.kernel.spec.name)")))
        }
        do { try worker.ensureRunning() } catch {
            return .done(.failure(Settled(status: .unresolved, error: c.error("cannot restart the worker process: \(error)", at: "kernel"))))
        }
        let timeout = c.timeout ?? options.timeout
        // A failed send shows as the worker's death when the reply is collected.
        _ = worker.submit(request)
        return .sent(request, deadline: Date().addingTimeInterval(timeout), timeout: timeout)
    }

    /// An execution failure located at the case's line for the field it names.
    static func located(_ c: Case, _ f: ExecutionFailure) -> SpecError {
        var key = f.at
        if key.hasPrefix("param:") && c.locations[key] == nil { key = "params" }
        return c.error(f.message, at: key)
    }

    /// Execute, second half: the worker's reply (or its fault) as outputs or a settled result.
    func complete(_ c: Case, _ submitted: Submitted, pool: WorkerPool?, worker: WorkerProcess?) -> Result<ExecutionReply, Settled> {
        guard case .sent(let request, let deadline, let timeout) = submitted, let worker else {
            if case .done(let result) = submitted { return result }
            return .failure(Settled(status: .unresolved, error: c.error("no worker process", at: "kernel")))
        }
        func located(_ f: ExecutionFailure) -> SpecError { Runner.located(c, f) }
        switch worker.collect(request, deadline: deadline, timeout: timeout, maxElements: options.limits.maxElements) {
        case .answered(.outputs(var reply)):
            if let plan = request.gradcheck, reply.gradients.isEmpty {
                // A backend that does not compute finite differences: run them through it.
                do {
                    let differences = try finiteDifferences(request, plan, c.kernel.spec, worker: worker, deadline: deadline)
                    reply.gradients = differences.gradients
                    reply.directional = differences.directional
                } catch {
                    if error.at == Self.timeoutKey {
                        return .failure(Settled(status: .timeout, error: c.error(
                            "the case's gradcheck did not finish within \(NumberText.format(timeout)) s; its worker was stopped", at: "gradcheck")))
                    }
                    return .failure(Settled(status: .unresolved, error: located(error)))
                }
            }
            do { return .success(try checkedOutputs(c, reply)) } catch { return .failure(Settled(status: .unresolved, error: located(error))) }
        case .answered(.failure(let f)):
            return .failure(Settled(status: .unresolved, error: located(f)))
        case .answered(.unsupported(let reason)):
            return .failure(Settled(status: .unsupported, reason: reason))
        case .timedOut(let seconds):
            let source = c.timeout != nil ? "its timeout:" : "--timeout"
            return .failure(Settled(status: .timeout, error: c.error(
                "the case did not finish within \(NumberText.format(seconds)) s (\(source)); its worker was stopped", at: c.timeout != nil ? "timeout" : "kernel")))
        case .died(let death):
            let message = death.ranOutOfMemory
                ? "the case ran out of memory: its worker process hit the cap of \(options.maxMemoryBytes >> 20) MiB (--max-memory) and died: \(death)"
                : "the case crashed its worker process: \(death)"
            return .failure(Settled(status: .unresolved, error: c.error(message, at: "kernel"), notes: death.notes))
        case .violated(let what):
            return .failure(Settled(status: .unresolved, error: c.error("the worker's reply does not follow the worker protocol: \(what)", at: "kernel")))
        }
    }

    static let timeoutKey = "(timeout)"

    /// A gradcheck's finite differences computed here, each run of the kernel a request to the worker,
    /// all of them within the case's deadline.
    func finiteDifferences(_ request: ExecutionRequest, _ plan: GradCheckPlan, _ spec: KernelSpec,
                           worker: WorkerProcess, deadline: Date) throws(ExecutionFailure) -> FiniteDifferences {
        try Execution.gradients(request, plan, spec: spec) { (inputs, params) throws(ExecutionFailure) in
            var shifted = request
            shifted.inputs = inputs
            shifted.params = params
            shifted.gradcheck = nil
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw ExecutionFailure("", at: Self.timeoutKey) }
            switch worker.startingIfNeeded(shifted, timeout: remaining, maxElements: options.limits.maxElements) {
            case .success(.answered(.outputs(let reply))): return reply.outputs
            case .success(.answered(.failure(let f))): throw ExecutionFailure("gradcheck: a run with a perturbed input failed: \(f.message)", at: f.at)
            case .success(.answered(.unsupported(let why))): throw ExecutionFailure("gradcheck: a run with a perturbed input is unsupported: \(why)", at: "gradcheck")
            case .success(.timedOut): throw ExecutionFailure("", at: Self.timeoutKey)
            case .success(.died(let death)): throw ExecutionFailure("gradcheck: the worker died during a run with a perturbed input: \(death)", at: "gradcheck")
            case .success(.violated(let what)): throw ExecutionFailure("gradcheck: the worker's reply does not follow the worker protocol: \(what)", at: "gradcheck")
            case .failure(let error): throw ExecutionFailure("gradcheck: cannot restart the worker process: \(error)", at: "gradcheck")
            }
        }
    }

    /// The outputs of a reply, checked against the kernel's declaration (a worker may be any program).
    func checkedOutputs(_ c: Case, _ reply: ExecutionReply) throws(ExecutionFailure) -> ExecutionReply {
        try Execution.checkDeclared(reply.outputs, c.kernel.spec)
        guard let plan = c.gradcheck else { return reply }
        var reply = reply
        // In the plan's order: a fast check's directions run over the inputs in that order.
        var ordered: [GradientPair] = []
        for name in plan.wrt {
            guard let pair = reply.gradients.first(where: { $0.name == "d" + name }) else {
                throw ExecutionFailure("gradcheck: no finite differences came back for \(name)", at: "gradcheck")
            }
            if let numeric = pair.numeric, pair.analytic.shape != numeric.shape {
                throw ExecutionFailure("gradcheck: \(pair.name) has shape \(pair.analytic.shape) but its finite differences \(numeric.shape)", at: "gradcheck")
            }
            ordered.append(pair)
        }
        reply.gradients = ordered
        if ordered.contains(where: { $0.numeric == nil }) && (plan.mode != .fast || reply.directional.count != plan.directions) {
            throw ExecutionFailure("gradcheck: \(reply.directional.count) directional differences came back for the \(plan.mode == .fast ? plan.directions : 0) directions of a \(plan.mode.rawValue) check", at: "gradcheck")
        }
        return reply
    }

    /// Check expectations: the outputs against the case's `expect:` values, independent of the golden.
    func expectationStage(_ c: Case, _ outputs: KernelOutputs) -> [Mismatch] {
        var mismatches: [Mismatch] = []
        for (name, e) in c.expectations {
            guard let actual = outputs[name] else {
                var m = Mismatch(output: name, reference: .expect, problem: "the kernel did not produce '\(name)' with these params")
                m.location = e.location
                mismatches.append(m)
                continue
            }
            let tolerance = e.tolerance ?? c.goldenTolerance(for: name, dtype: dtype(of: actual))
            if var m = Comparison.compare(actual: actual, expected: e.value, tolerance: tolerance, output: name, reference: .expect,
                                          structure: layout(c, name, actual), options: options.comparison) {
                m.location = e.location
                mismatches.append(m)
            }
        }
        return mismatches
    }

    /// What the golden stage found.
    struct GoldenCheck {
        /// PASS when the golden matches or mismatches are listed; NEW, STALE or UNRESOLVED otherwise.
        var status: Status
        var old: Golden? = nil
        var mismatches: [Mismatch] = []
        var notes: [String] = []
        var error: SpecError? = nil
    }

    /// Compare with the golden: NEW, STALE, unreadable, or output by output.
    func goldenStage(_ c: Case, _ outputs: KernelOutputs) -> GoldenCheck {
        let store = goldenStore
        let old: Golden?
        do { old = try store.read(c.id) } catch {
            return GoldenCheck(status: .unresolved, notes: ["the golden cannot be read; `rnnspec regen \(c.path)` rewrites it"],
                               error: asSpecError(error, path: store.display(store.url(for: c.id))))
        }
        guard let g = old else {
            return GoldenCheck(status: .new, notes: ["no golden yet; see the outputs with `rnnspec show \(c.path)`, then `rnnspec regen \(c.path)` (or `rnnspec run --record pending` and `rnnspec review`)"])
        }
        guard g.kernel == c.kernel.spec.name, g.digest == c.digest else {
            return GoldenCheck(status: .stale, old: g, notes: staleNotes(c, g, outputs))
        }
        var check = GoldenCheck(status: .pass, old: g)
        let file = store.display(store.url(for: c.id))
        func located(_ m: Mismatch) -> Mismatch {
            var m = m
            // The output's name, indented by two spaces under `outputs:` (column 3).
            m.location = SourceLocation(file: file, line: g.outputLines[m.output] ?? 0, column: 3)
            return m
        }
        for (name, value) in outputs.entries {
            guard let expected = g.output(name) else {
                check.mismatches.append(located(Mismatch(output: name, reference: .golden, problem: "output '\(name)' is not in the golden")))
                continue
            }
            if case .real(let a) = value, case .real(let e) = expected, a.dtype != e.dtype {
                check.mismatches.append(located(Mismatch(output: name, reference: .golden,
                                                         problem: "computed in \(a.dtype.rawValue), the golden holds \(e.dtype.rawValue) values",
                                                         shape: a.shape, dtype: a.dtype.rawValue)))
                continue
            }
            let tolerance = c.goldenTolerance(for: name, dtype: dtype(of: value))
            if let m = Comparison.compare(actual: value, expected: expected, tolerance: tolerance, output: name, reference: .golden,
                                          structure: layout(c, name, value), options: options.comparison) {
                check.mismatches.append(located(m))
            }
        }
        for (name, _) in g.outputs where outputs[name] == nil {
            check.mismatches.append(located(Mismatch(output: name, reference: .golden, problem: "the golden has output '\(name)' but the kernel no longer produces it")))
        }
        return check
    }

    /// Record: writes the golden when the record mode asks for it and the outputs do not
    /// contradict the case's `expect:` values; nil when nothing was asked.
    func recordStage(_ c: Case, _ outputs: KernelOutputs, golden check: GoldenCheck, expectFailed: Bool) -> Recording? {
        let wanted: Bool
        switch options.record {
        case .none: wanted = false
        case .missing: wanted = check.status == .new
        case .failed: wanted = check.status != .pass || !check.mismatches.isEmpty
        case .all: wanted = true
        }
        guard wanted else {
            // A pending golden of a case that now passes against its golden is obsolete.
            if options.recordTarget == .pending && check.status == .pass && check.mismatches.isEmpty { _ = goldenStore.removeObsoletePending(c.id) }
            return nil
        }
        if expectFailed && c.xfail == nil {
            return Recording(action: .refused, notes: ["not recorded: the outputs fail the case's expect: values, which a golden must not contradict"])
        }
        let golden = Golden(caseID: c.id, kernel: c.kernel.spec.name, digest: c.digest, parts: c.digestParts, outputs: outputs.entries)
        do { return try record(golden, replacing: check.old, store: goldenStore) } catch {
            return Recording(action: .refused, notes: ["\(asSpecError(error, path: c.path))"])
        }
    }

    /// Verdict: the golden's status first (NEW, STALE, UNRESOLVED), then XFAIL/XPASS, then FAIL/PASS.
    func verdictStage(_ c: Case, golden: Status, into result: inout CaseResult) {
        let failed = !result.mismatches.isEmpty
        if golden != .pass {
            result.status = golden
        } else if let reason = c.xfail {
            result.status = failed ? .xfail : .xpass
            result.reason = reason
        } else {
            result.status = failed ? .fail : .pass
        }
    }

/// Writes a golden unless its bytes would not change, and says how far each output moved.
    func record(_ golden: Golden, replacing old: Golden?, store: GoldenStore) throws -> Recording {
        let target = options.recordTarget
        if target != .dryRun { store.removeAbandonedTemporaries(golden.caseID) }
        let newText = golden.serialized()
        let current = store.current(golden.caseID)
        if let data = current.bytes, data == Data(newText.utf8) {
            // A pending golden of these outputs is obsolete: the golden holds them already.
            if target == .pending { _ = store.removeObsoletePending(golden.caseID) }
            return Recording(action: .unchanged, notes: [])
        }
        let existed = current.exists
        switch target {
        case .golden: try store.write(golden)
        case .pending: try store.writePending(golden)
        case .dryRun: break
        }
        let action: Recording.Action = target == .pending ? .pending : target == .dryRun ? .wouldWrite : existed ? .rewritten : .created
        guard let old else {
            return Recording(action: action, notes: existed ? ["the old golden could not be read"] : target == .golden ? [] : ["new golden"])
        }
        var notes: [String] = []
        for (name, value) in golden.outputs {
            guard let before = old.output(name) else { notes.append("\(name): new output"); continue }
            if let d = Comparison.drift(from: before, to: value) {
                notes.append(d.abs == 0 && d.rel == 0 ? "\(name): unchanged"
                             : "\(name): \(target == .golden ? "moved" : "would move") by at most abs \(shortNumber(d.abs)), rel \(shortNumber(d.rel))")
            } else {
                notes.append("\(name): changed shape or type")
            }
        }
        for (name, _) in old.outputs where golden.output(name) == nil { notes.append("\(name): removed") }
        return Recording(action: action, notes: notes)
    }

    /// Runs a case's kernel in this process, in its precision, and checks the outputs against the
    /// declaration; errors point at the case's lines.
    public static func execute(_ c: Case) throws -> KernelOutputs {
        do { return try Execution.run(ExecutionRequest(id: c.id, kernel: c.kernel.spec.name, params: c.params, inputs: c.inputs, dims: c.dims),
                                      kernel: c.kernel).outputs } catch {
            throw Runner.located(c, error)
        }
    }

    /// The output's declared time axis and gate blocks, resolved for the case's params and the value's shape.
    func layout(_ c: Case, _ name: String, _ value: Value) -> OutputLayout {
        c.kernel.spec.output(name)?.layout(params: c.params, shape: value.shape) ?? OutputLayout()
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
final class ParallelBox<R>: @unchecked Sendable {
    var results: [R?]
    var next = 0
    var done = 0
    let lock = NSLock()
    init(_ n: Int) { results = Array(repeating: nil, count: n) }

    /// The next index to work on, nil when all are taken.
    func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < results.count else { return nil }
        next += 1
        return next - 1
    }

    /// Stores a result; returns how many are done.
    func store(_ k: Int, _ r: R) -> Int {
        lock.lock(); defer { lock.unlock() }
        results[k] = r
        done += 1
        return done
    }
}

/// Counts failed cases for `--max-failures`, from any thread.
final class FailureCount: @unchecked Sendable {
    private let limit: Int?
    private var count = 0
    private let lock = NSLock()

    init(limit: Int?) { self.limit = limit }

    var reached: Bool {
        guard let limit else { return false }
        lock.lock(); defer { lock.unlock() }
        return count >= limit
    }

    func add() { lock.lock(); count += 1; lock.unlock() }
}

/// Whether a case id matches a `--filter`/`--exclude` pattern: a glob when it has `*`, `?` or `[`,
/// else a plain word that the id contains.
public func idMatches(_ pattern: String, _ id: String) -> Bool {
    pattern.contains(where: { "*?[".contains($0) }) ? globMatch(pattern, id) : id.contains(pattern)
}

/// Shell-style glob: `*` any run of characters (slashes included), `?` one character,
/// `[abc]` one of the listed characters.
public func globMatch(_ pattern: String, _ text: String) -> Bool {
    fnmatch(pattern, text, 0) == 0
}
