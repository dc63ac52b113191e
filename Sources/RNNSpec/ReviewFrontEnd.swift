import Foundation
import RNNKernels

// MARK: - review, accept, reject

extension FrontEnd {
    /// The review items of the pending goldens the arguments name (all when none), in id order.
    public func reviewItems(_ arguments: [String], limits: LoadLimits = LoadLimits()) throws -> [ReviewItem] {
        try project.validate(for: .check)
        let review = Review(project: project, registry: registry, limits: limits)
        return try review.select(arguments).map { try review.item($0) }
    }

    /// `rnnspec review` when standard input is not a terminal: prints every item and says how to
    /// decide (`rnnspec accept ID`, `rnnspec reject ID`); decides nothing.
    public func reviewListing(_ arguments: [String]) throws -> ExitStatus {
        let items = try reviewItems(arguments)
        if items.isEmpty { stdout("no pending goldens (`rnnspec run --record pending` writes them)\n"); return .success }
        for (k, item) in items.enumerated() { stdout("(\(k + 1) of \(items.count)) " + item.text()) }
        stdout("""
            standard input is not a terminal, so nothing was decided: \
            `rnnspec accept ID...` (or --all) makes a pending golden the golden, \
            `rnnspec reject ID...` (or --all) deletes the pending file\n
            """)
        return .success
    }

    /// `rnnspec accept [ID...|--all]`: each pending golden is renamed over its golden (atomically).
    public func accept(_ arguments: [String], all: Bool) throws -> ExitStatus {
        try decide(arguments, all: all, verb: "accept") { review, id in
            try review.accept(id)
            let store = project.goldenStore
            return "accepted \(visibleText(id)): \(visibleText(store.display(store.url(for: id))))"
        }
    }

    /// `rnnspec reject [ID...|--all]`: each pending file is deleted; the golden is left as it is.
    public func reject(_ arguments: [String], all: Bool) throws -> ExitStatus {
        try decide(arguments, all: all, verb: "reject") { review, id in
            try review.reject(id)
            let store = project.goldenStore
            return "rejected \(visibleText(id)): deleted \(visibleText(store.display(store.pendingURL(for: id))))"
        }
    }

    func decide(_ arguments: [String], all: Bool, verb: String, _ act: (Review, String) throws -> String) throws -> ExitStatus {
        try refuseUnderCI("`\(verb)`")
        if all == !arguments.isEmpty {
            throw UsageError(all ? "give case ids or --all, not both" : "\(verb) which pending goldens? give their case ids (`rnnspec review` lists them) or --all")
        }
        try project.validate(for: .check)
        let review = Review(project: project, registry: registry)
        let ids = try review.select(arguments)
        if ids.isEmpty { stdout("no pending goldens\n"); return .success }
        var failed = 0
        for id in ids {
            do { stdout(try act(review, id) + "\n") } catch {
                failed += 1
                stderr("\(error)\n")
            }
        }
        return failed == 0 ? .success : .failures
    }
}

// MARK: - show

extension FrontEnd {
    /// The text or JSON `rnnspec show` prints for a case and its computed outputs: each output
    /// next to the golden's value and the case's `expect:` value, shape-aware.
    func showText(_ c: Case, _ outputs: KernelOutputs, format: ReportFormat) -> String {
        let store = project.goldenStore
        let goldenPath = store.display(store.url(for: c.id))
        var golden: Golden? = nil
        var state = "missing", changes: [String] = [], goldenError: String? = nil
        do {
            golden = try store.read(c.id)
            if let g = golden {
                if g.kernel == c.kernel.spec.name && g.digest == c.digest { state = "current" } else {
                    state = "stale"
                    changes = GoldenChange.changes(from: g, kernel: c.kernel.spec.name, digest: c.digest, parts: c.digestParts)
                }
            }
        } catch {
            state = "unreadable"
            goldenError = "\(asSpecError(error, path: goldenPath))"
        }
        let expectations = Dictionary(c.expectations.map { ($0.output, $0.expectation) }, uniquingKeysWith: { a, _ in a })

        if format == .json {
            var out = "{\"id\": \(jsonString(c.id)), \"path\": \(jsonString(c.path)), \"kernel\": \(jsonString(c.kernel.spec.name)),\n"
            out += " \"golden\": {\"path\": \(jsonString(goldenPath)), \"state\": \"\(state)\", \"changes\": [\(changes.map(jsonString).joined(separator: ", "))]"
            if let goldenError { out += ", \"error\": \(jsonString(goldenError))" }
            out += "},\n \"outputs\": ["
            var first = true
            for (name, value) in outputs.entries {
                out += first ? "\n" : ",\n"
                first = false
                out += "  {\"name\": \(jsonString(name)), \"type\": \(jsonString(ValueText.typeText(value))), \"computed\": \(ValueText.json(value))"
                if let g = golden?.output(name) {
                    let d = OutputDrift.compare(old: [(name, g)], new: [(name, value)])
                    let changed = d.reduce(0) { $0 + $1.changed } + d.filter { $0.kind == .reshaped || $0.kind == .added || $0.kind == .removed }.count
                    out += ", \"golden\": \(ValueText.json(g)), \"elementsDifferingFromGolden\": \(changed)"
                } else {
                    out += ", \"golden\": null"
                }
                if let e = expectations[name] {
                    let t = e.tolerance ?? c.goldenTolerance(for: name, dtype: dtypeOf(value))
                    let ok = Comparison.compare(actual: value, expected: e.value, tolerance: t, output: name, reference: .expect) == nil
                    out += ", \"expect\": {\"value\": \(ValueText.json(e.value)), \"abs\": \(NumberText.format(t.abs)), \"rel\": \(NumberText.format(t.rel)), \"source\": \(e.source.map(jsonString) ?? "null"), \"matches\": \(ok)}"
                } else {
                    out += ", \"expect\": null"
                }
                out += "}"
            }
            return out + "\n ]}\n"
        }

        var out = "\(visibleText(c.id)) (\(visibleText(c.path))): \(c.kernel.spec.name)\n"
        switch state {
        case "current": out += "golden: \(visibleText(goldenPath))\n"
        case "stale": out += "golden: \(visibleText(goldenPath)) is STALE: \(changes.joined(separator: "; ").escapedForDisplay)\n"
        case "unreadable": out += "golden: \(visibleText(goldenPath)) cannot be read: \((goldenError ?? "").escapedForDisplay)\n"
        default: out += "golden: none yet (NEW; `rnnspec run --record pending \(visibleText(c.path))` writes one for review)\n"
        }
        func block(_ label: String, _ value: Value, _ suffix: String = "") -> String {
            let lines = ValueText.lines(value)
            if lines.count == 1 { return "  \(label) \(lines[0])\(suffix)\n" }
            return "  \(label)\(suffix)\n" + lines.map { "    \($0)\n" }.joined()
        }
        for (name, value) in outputs.entries {
            out += "\(visibleText(name)): \(ValueText.typeText(value))\n"
            out += block("computed:", value)
            if let g = golden?.output(name) {
                let drifts = OutputDrift.compare(old: [(name, g)], new: [(name, value)])
                if drifts.allSatisfy({ $0.kind == .unchanged }) {
                    out += "  golden:   identical to computed\n"
                } else {
                    out += block("golden:  ", g)
                    for d in drifts where d.kind != .unchanged { out += d.text(indent: "  computed vs golden: ").escapedKeepingLines }
                }
            } else if golden != nil {
                out += "  golden:   (no such output in the golden)\n"
            }
            if let e = expectations[name] {
                let t = e.tolerance ?? c.goldenTolerance(for: name, dtype: dtypeOf(value))
                let ok = Comparison.compare(actual: value, expected: e.value, tolerance: t, output: name, reference: .expect) == nil
                let note = " (\(ok ? "matches" : "DIFFERS") within abs \(NumberText.format(t.abs)), rel \(NumberText.format(t.rel))\(e.source.map { "; source: \($0.escapedForDisplay)" } ?? ""))"
                out += block("expect:  ", e.value, note)
            }
        }
        return out
    }

    func dtypeOf(_ value: Value) -> DType {
        switch value {
        case .real(let r): return r.dtype
        case .list(let items): return items.first.map(dtypeOf) ?? .float64
        default: return .float64
        }
    }
}

// MARK: - init

extension FrontEnd {
    /// The example case `rnnspec init` writes: one tanh update whose result is known by hand.
    static let exampleCase = """
        # An example case: one tanh hidden-state update, h = tanh(W_xh x + W_hh h_prev).
        # Run it with `rnnspec run`; `rnnspec new KERNEL PATH` writes a skeleton for another kernel.
        kernel: rnn.step
        title: One tanh hidden-state update
        source: "by hand: a = x + 0.5 h_prev = [1.25, -1.0], h = tanh(a)"
        tags: [example]
        inputs:
          x: [1.0, -1.0]
          h_prev: [0.5, 0.0]
          W_xh: {eye: 2}
          W_hh: {eye: 2, scale: 0.5}
        expect:
          a: [1.25, -1.0]
          h: {value: [0.84828364, -0.76159416], abs: 5e-9, source: "tanh to 8 decimals"}

        """

    /// `rnnspec init [DIR]`: a new suite in an empty directory (a `.git` may be there): `rnnspec.yaml`,
    /// `cases/`, `golden/`, one example case and its golden. A directory with anything else in it
    /// is refused, and nothing is written.
    public func initSuite(directory: String) throws -> ExitStatus {
        try refuseUnderCI("`init`")
        let dir = URL(fileURLWithPath: directory, relativeTo: project.workingDirectory).absoluteURL.standardizedFileURL
        var st = stat()
        if stat(dir.path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw UsageError("\(visibleText(directory)) is not a directory") }
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0 != ".git" }.sorted()
            if !entries.isEmpty {
                let shown = entries.prefix(5).map(visibleText).joined(separator: ", ") + (entries.count > 5 ? ", ..." : "")
                throw UsageError("\(visibleText(directory)) is not empty (\(shown)); `rnnspec init` makes a new suite only in an empty directory")
            }
        } else {
            guard stat(dir.deletingLastPathComponent().path, &st) == 0 else {
                throw UsageError("\(visibleText(directory)) does not exist, nor its parent directory")
            }
            do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false) } catch {
                throw UsageError("cannot create \(visibleText(directory)): \(error.localizedDescription)")
            }
        }
        do {
            try Data("# rnnspec's roots, relative to this file.\ncases: cases\ngolden: golden\n".utf8).write(to: dir.appendingPathComponent("rnnspec.yaml"), options: .withoutOverwriting)
        } catch {
            throw UsageError("cannot write rnnspec.yaml in \(visibleText(directory)): \(error.localizedDescription)")
        }
        let suite = try Project.locate(workingDirectory: dir.path)
        let relative = "example/rnn_step.yaml"
        do {
            try suite.casesDirectory.writeAtomically(relative, Data(FrontEnd.exampleCase.utf8),
                                                     replace: false, createRoot: true)
        } catch let f as ConfinedDirectory.Failure {
            throw UsageError("cannot write the example case: \(f.message)")
        }
        // The golden: the example run in this process, checked against its expect: values first.
        let runner = Runner(project: suite, options: RunOptions(), registry: registry)
        let c = try runner.load(url: suite.casesRoot.appendingPathComponent(relative), id: "example/rnn_step")
        let outputs = try Runner.execute(c)
        if !runner.expectationStage(c, outputs).isEmpty { throw UsageError("the example case does not match its own expect: values (a kernel bug?)") }
        try suite.goldenStore.write(Golden(caseID: c.id, kernel: c.kernel.spec.name, digest: c.digest, parts: c.digestParts, outputs: outputs.entries))
        let top = visibleText(directory.hasSuffix("/") ? String(directory.dropLast()) : directory)
        stdout("""
            wrote \(top)/rnnspec.yaml, \(top)/cases/\(relative) and its golden \(top)/golden/example/rnn_step.yaml
            next: `rnnspec run` there; `rnnspec new KERNEL cases/PATH.yaml` adds a case (`rnnspec kernels` lists the kernels)

            """)
        return .success
    }
}

extension FrontEnd {
    /// Refuses (usage error) when `CI=true`: `what` writes files.
    public func checkMayWrite(_ what: String) throws { try refuseUnderCI(what) }
}
