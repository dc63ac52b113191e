import Foundation
import RNNKernels

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
        if !options.excludes.isEmpty {
            files = files.filter { file in !options.excludes.contains { idMatches($0, file.id) } }
        }
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
        try keepingDirectories().checkFiles(paths)
    }

    /// This runner with a fresh cache of kept directories (`DirectoryDescriptors`) for one run: its
    /// descriptors close when the run's copies of the project are gone, and the next run looks again.
    func keepingDirectories() -> Runner {
        var runner = self
        runner.project.directories = DirectoryDescriptors()
        return runner
    }

    private func checkFiles(_ paths: [String]) throws -> [CaseResult] {
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
        let file = project.caseFile(url)
        var result = CaseResult(id: id, path: file.shown, kernel: nil, status: .unresolved)
        let c: Case
        do { c = try load(url: url, id: id, file: file) } catch {
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
    public func run(
        paths: [String], progress: (@Sendable (Int, Int) -> Void)? = nil,
        onResult: (@Sendable (CaseResult, _ position: Int, _ files: Int) -> Void)? = nil
    ) throws -> RunReport {
        try keepingDirectories().runFiles(paths: paths, progress: progress, onResult: onResult)
    }

    private func runFiles(
        paths: [String], progress: (@Sendable (Int, Int) -> Void)?,
        onResult: (@Sendable (CaseResult, _ position: Int, _ files: Int) -> Void)?
    ) throws -> RunReport {
        let start = Date()
        let files = try selectFiles(paths)
        let pool: WorkerPool?
        var first: Loaded?? = nil
        if case .workers(let command) = options.execution, !files.isEmpty {
            let p = WorkerPool(command: command)
            // The first worker starts (or says hello, when it was started early) while the first case
            // loads; no case runs, and no result is reported, unless it started.
            let started = ParallelBox<Result<Void, any Error>>(1)
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) { _ = started.store(0, Result { try p.warmUp() }) }
            first = loadSelected(url: files[0].url, id: files[0].id)
            group.wait()
            if case .failure(let error)? = started.results[0] {
                p.shutdown()
                throw UsageError("cannot start a worker process: \(error)")
            }
            pool = p
        } else {
            pool = nil
        }
        defer { pool?.shutdown() }
        let outcomes = runSelected(files, pool: pool, first: first, progress: progress, onResult: onResult)
        let results = outcomes.compactMap { if case .ran(let r) = $0 { r } else { nil } }
        let notRun = outcomes.filter { if case .notRun = $0 { true } else { false } }.count
        if results.isEmpty && notRun == 0 && !options.allowEmpty {
            throw UsageError(emptySelectionMessage(paths))
        }
        var orphans: [String] = []
        if project.coversWholeCasesRoot(paths) && options.filter == nil && options.shard == nil && options.tags.isEmpty
            && options.excludes.isEmpty && options.excludeTags.isEmpty
        {
            // The paths name the whole cases root and nothing is filtered out, so the selection is every
            // case file, listed already: no second walk.
            let caseIDs = Set(files.map { ExactKey($0.id) })
            orphans = project.goldenStore.allIDs().filter { !caseIDs.contains(ExactKey($0)) }
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
        let under =
            paths.isEmpty
            ? "the cases root \(visibleText(project.display(project.casesRoot)))/"
            : paths.map(visibleText).joined(separator: " ")
        if what.isEmpty {
            return
                "no case files (*.yaml) under \(under); `rnnspec new KERNEL PATH` writes one (--allow-empty accepts an empty run)"
        }
        return
            "no case under \(under) matches \(what.joined(separator: " ")) (--allow-empty accepts an empty selection)"
    }

    /// The golden store, reading under the run's limits.
    var goldenStore: GoldenStore {
        var store = project.goldenStore
        store.limits = options.limits
        store.directories = project.directories
        return store
    }

    /// Loads one case file.
    public func load(url: URL, id: String) throws -> Case {
        try load(url: url, id: id, file: project.caseFile(url))
    }

    /// Loads one case file whose path and shown name are known.
    func load(url: URL, id: String, file: Project.CaseFilePath) throws -> Case {
        // Through the confined layer: not outside the cases root, not a FIFO or a device.
        let data: Data
        do { data = try project.readCaseFile(file, maxBytes: options.limits.maxFileBytes) } catch let e as SpecError
            where e.message.contains("is larger than")
        {
            try options.limits.checkFileBytes(
                fileSize(url.path) ?? options.limits.maxFileBytes + 1, file: e.location.file)
            throw e
        }
        var loader = CaseLoader(registry: registry, limits: options.limits)
        let cases = project.casesDirectory
        loader.readCasesFile = { relative, maxBytes in try cases.read(relative, maxBytes: maxBytes) }
        var c = try loader.load(data: data, id: id, displayPath: file.shown)
        if let mode = options.gradcheckMode { c.gradcheck?.mode = mode }
        return c
    }

    /// Runs the selected files on `options.jobs` threads, in file order in the result. Each thread
    /// keeps one worker and loads (and selects) its next case while the worker runs the one before, so
    /// that parsing YAML and computing overlap. `first`, when given, is the first file already loaded.
    func runSelected(
        _ files: [(url: URL, id: String)], pool: WorkerPool?, first: Loaded?? = nil,
        progress: (@Sendable (Int, Int) -> Void)?,
        onResult: (@Sendable (CaseResult, Int, Int) -> Void)? = nil
    ) -> [Outcome] {
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
                        let loaded: Loaded?
                        if k == 0, let first {
                            loaded = first
                        } else {
                            loaded = self.loadSelected(url: files[k].url, id: files[k].id)
                        }
                        switch loaded {
                        case nil: settled = .notSelected
                        case .settled(let r, _)?: settled = .ran(r)
                        case .ready(let c)?: next = (c, start)
                        }
                    }
                }
                if let f = inFlight {
                    store(
                        f.index,
                        .ran(
                            self.evaluate(
                                f.c, executed: self.complete(f.c, f.submitted, pool: pool, worker: worker),
                                start: f.start)))
                    inFlight = nil
                }
                guard let k else { break }
                if next != nil && failures.reached {
                    store(k, .notRun)  // the case before it reached --max-failures
                } else if let (c, start) = next {
                    inFlight = (k, c, self.submit(c, pool: pool, worker: worker), start)
                } else if let settled {
                    store(k, settled)
                }
            }
        }
        return box.results.map { $0 ?? .notRun }
    }
}

func asSpecError(_ error: Error, path: String) -> SpecError {
    if let e = error as? SpecError { return e }
    return SpecError("\(error)", at: SourceLocation(file: path, line: 0, column: 0))
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
