import Foundation

/// `rnnspec init`: a new suite in an empty directory.
package enum SuiteInit {
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

    /// Makes a new suite in `directory` (relative to `workingDirectory`), which must be empty (a
    /// `.git` may be there) or new with an existing parent: `rnnspec.yaml`, `cases/`, `golden/`, one
    /// example case and its golden, computed by `registry`'s kernel and checked against the case's
    /// `expect:` values first. A directory with anything else in it is refused (a usage error), and
    /// nothing is written.
    package static func create(directory: String, workingDirectory: URL, registry: KernelRegistry) throws {
        let dir = URL(fileURLWithPath: directory, relativeTo: workingDirectory).absoluteURL.standardizedFileURL
        var st = stat()
        if stat(dir.path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw UsageError("\(visibleText(directory)) is not a directory")
            }
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter {
                $0 != ".git"
            }.sorted()
            if !entries.isEmpty {
                let shown =
                    entries.prefix(5).map(visibleText).joined(separator: ", ") + (entries.count > 5 ? ", ..." : "")
                throw UsageError(
                    "\(visibleText(directory)) is not empty (\(shown)); `rnnspec init` makes a new suite only in an empty directory"
                )
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
            try Data("# rnnspec's roots, relative to this file.\ncases: cases\ngolden: golden\n".utf8).write(
                to: dir.appendingPathComponent("rnnspec.yaml"), options: .withoutOverwriting)
        } catch {
            throw UsageError("cannot write rnnspec.yaml in \(visibleText(directory)): \(error.localizedDescription)")
        }
        let suite = try Project.locate(workingDirectory: dir.path)
        let relative = "example/rnn_step.yaml"
        do {
            try suite.casesDirectory.writeAtomically(
                relative, Data(exampleCase.utf8),
                replace: false, createRoot: true)
        } catch let f as ConfinedDirectory.Failure {
            throw UsageError("cannot write the example case: \(f.message)")
        }
        // The golden: the example run in this process, checked against its expect: values first.
        let runner = Runner(project: suite, options: RunOptions(), registry: registry)
        let c = try runner.load(url: suite.casesRoot.appendingPathComponent(relative), id: "example/rnn_step")
        let outputs = try Runner.execute(c)
        if !runner.expectationStage(c, outputs).isEmpty {
            throw UsageError("the example case does not match its own expect: values (a kernel bug?)")
        }
        try suite.goldenStore.write(
            Golden(
                caseID: c.id, kernel: c.kernel.spec.name, digest: c.digest, parts: c.digestParts,
                outputs: outputs.entries))
    }
}
