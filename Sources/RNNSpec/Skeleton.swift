import Foundation

extension KernelSpec {
    /// A case file that runs this kernel as written: every input and param, with comments on
    /// their shapes and meaning, and example values.
    package func skeleton() -> String {
        var out = "# A case for \(name): \(summary).\n"
        out += "# Edit the values, then bless the outputs: rnnspec regen <this file>\n"
        out += "kernel: \(name)\n"
        out += "title: \(YAMLText.quoted("TODO: what this case computes"))\n"
        out += "source: \(YAMLText.quoted("TODO: where the inputs and expected values come from"))\n"
        out += "tags: [\(name.split(separator: ".").first ?? "")]\n"
        if !params.isEmpty {
            out += "params:\n"
            for p in params {
                let value = p.defaultValue.map(\.description) ?? exampleParam(p.type)
                var comment = "\(p.doc); \(p.type.description)"
                if p.defaultValue != nil {
                    comment += " (default \(value))"
                } else if p.optional {
                    comment += " (optional)"
                } else {
                    comment += " (required)"
                }
                // Optional params without a default are written commented out.
                let off = p.defaultValue == nil && p.optional
                out += "  \(off ? "# " : "")\(p.name): \(value)  # \(comment)\n"
            }
        }
        out += inputs.isEmpty ? "inputs: {}  # \(name) takes its values from params\n" : "inputs:\n"
        for i in inputs {
            var comment = (i.optional ? "optional: " : "") + i.doc
            if !i.shapes.isEmpty {
                comment +=
                    "; shape " + listPhrase(i.shapes.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" })
            }
            out += "  # \(comment)\n"
            // Optional inputs are written commented out: some only apply under certain params.
            out += "  \(i.inSkeleton ? "" : "# ")\(i.name): \(i.example)\n"
        }
        if !inputRules.isEmpty {
            out += "# Input rules (checked when the case loads):\n"
            for rule in inputRules { out += "#   \(rule)\n" }
        }
        out += "# expect:  values known independently of rnnspec (a printout, a hand derivation), e.g.\n"
        out += "#   \(outputs[0].name): {value: ..., abs: 5e-5, source: \"printed to 4 decimals\"}\n"
        out += "# Outputs: " + outputs.map(\.name).joined(separator: ", ") + "\n"
        return out
    }

    func exampleParam(_ type: ParamType) -> String {
        switch type {
        case .integer(let lo, _): return "\(max(lo ?? 1, 1))"
        case .real: return "1.0"
        case .boolean: return "false"
        case .string: return "\"\""
        case .choice(let words): return words[0]
        case .integerList: return "[1, 2]"
        case .realList: return "[0.5, 1.0]"
        case .stringList: return "[]"
        }
    }

    /// What `rnnspec kernels NAME` prints.
    package func describe() -> String {
        var out = "\(name): \(summary)\n"
        if !doc.isEmpty { out += "\n" + doc.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n" }
        out += "\ninputs:\n"
        for i in inputs {
            let shapes =
                i.shapes.isEmpty
                ? "any shape" : listPhrase(i.shapes.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" })
            let kind = i.kind == .real ? "" : "\(i.kind.rawValue), "
            out += "  \(i.name)\(i.optional ? " (optional)" : ""): \(kind)\(shapes) — \(i.doc)\n"
        }
        if !inputRules.isEmpty {
            out += "\ninput rules (checked when a case loads):\n"
            for rule in inputRules { out += "  \(rule)\n" }
        }
        if !params.isEmpty {
            out += "\nparams:\n"
            for p in params {
                let d = p.defaultValue.map { ", default \($0)" } ?? (p.optional ? ", optional" : ", required")
                out += "  \(p.name): \(p.type.description)\(d) — \(p.doc)\n"
            }
        }
        out += "\noutputs:\n"
        for o in outputs {
            let kind = o.kind == .real ? "" : "\(o.kind.rawValue), "
            out += "  \(o.name)\(o.optional ? " (optional)" : ""): \(kind)\(o.shape) — \(o.doc)\n"
            // The declared structure the mismatch report uses.
            if let structure = o.structure.description { out += "    \(structure)\n" }
        }
        return out
    }
}

extension KernelRegistry {
    /// What `rnnspec kernels` prints: one line per kernel.
    package func listing() -> String {
        let width = names.map(\.count).max() ?? 0
        return kernels.map { k in
            k.spec.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + k.spec.summary
        }.joined(separator: "\n") + "\n"
    }
}

extension Project {
    /// Writes a new case skeleton, refusing to overwrite. `path` is taken relative to the
    /// working directory when it lies under the cases root, else relative to the cases root.
    /// Returns the file written.
    package func writeSkeleton(kernel: KernelSpec, path: String) throws -> URL {
        var p = path
        if !p.hasSuffix(".yaml") { p += ".yaml" }
        var url = URL(fileURLWithPath: p, relativeTo: workingDirectory).absoluteURL.standardizedFileURL
        // Paths compared and cut on their bytes: a `String` prefix compares characters, which takes a
        // directory for the root's NFD twin and refuses a name that begins with a combining mark.
        let root = casesRoot.standardizedFileURL.path + "/"
        if !url.path.utf8.starts(with: root.utf8) {
            guard !p.hasPrefix("/") else {
                throw UsageError("\(p) is outside the cases root \(display(casesRoot))/; give a path under it")
            }
            url = casesRoot.appendingPathComponent(p).standardizedFileURL
            guard url.path.utf8.starts(with: root.utf8) else {
                throw UsageError("\(p) leaves the cases root \(display(casesRoot))/")
            }
        }
        // Through the confined layer: a symbolic link inside the cases root must not carry the
        // new file outside it, and nothing that exists at the name (a file, a link, even a
        // dangling one) is replaced: the file is linked into place, which fails if the name
        // was taken meanwhile.
        let relative = String(decoding: url.path.utf8.dropFirst(root.utf8.count), as: UTF8.self)
        do {
            try casesDirectory.writeAtomically(
                relative, Data((CaseSchema.modeline(forCaseAt: relative) + kernel.skeleton()).utf8), replace: false,
                createRoot: true)
        } catch let f as ConfinedDirectory.Failure {
            switch f.kind {
            case .outside:
                throw UsageError(
                    "\(display(url)) resolves (through a symbolic link) outside the cases root \(display(casesRoot))/; refusing to write it"
                )
            case .exists:
                throw UsageError("\(f.message); rnnspec new never overwrites a case")
            default:
                throw UsageError("cannot write \(display(url)): \(f.message)")
            }
        }
        return url
    }

    /// What `prune` did (or, with `dryRun`, would do).
    package struct PruneReport: Sendable {
        /// Goldens with no case that rnnspec wrote: deleted (listed with `dryRun`).
        package var deleted: [String] = []
        /// Files under the golden root with no case that are not rnnspec's goldens (hand-made
        /// files, symbolic links, FIFOs), with why: never deleted.
        package var leftAlone: [(path: String, why: String)] = []
    }

    /// Deletes (or, with `dryRun`, only lists) golden files that have no case. Only regular
    /// files that start as rnnspec writes goldens (its header line and `format:`) are deleted;
    /// anything else is listed and left alone. Links are never followed. Refuses (usage error)
    /// when the roots are confused or missing, and when there are no case files at all.
    package func pruneReport(dryRun: Bool) throws -> PruneReport {
        try validate(for: .prune)
        let cases = try caseFiles([])
        let store = goldenStore
        let entries = store.entries()
        let caseIDs = Set(cases.map { ExactKey($0.id) })
        if cases.isEmpty && !entries.isEmpty {
            throw UsageError(
                "there are no case files under the cases root \(display(casesRoot))/, so every golden would be deleted; refusing (check --cases-root or `cases:` in rnnspec.yaml)"
            )
        }
        var report = PruneReport()
        for entry in entries {
            let id = String(entry.path.dropLast(5))
            let shown = display(store.url(for: id))
            switch entry.kind {
            case .badName:
                report.leftAlone.append((shown, "a name that is not valid UTF-8, left alone"))
            case .other(let what):
                report.leftAlone.append((shown, "\(what), left alone"))
            case .symbolicLink:
                report.leftAlone.append((shown, "a symbolic link, left alone"))
            case .file:
                if caseIDs.contains(ExactKey(id)) { continue }
                if try store.removeIfWrittenByRNNSpec(id, dryRun: dryRun) {
                    report.deleted.append(shown)
                } else {
                    report.leftAlone.append((shown, "not an rnnspec golden, left alone"))
                }
            }
        }
        return report
    }

    /// Deletes (or, with `dryRun`, only lists) golden files that have no case: `pruneReport`'s
    /// deleted files.
    package func prune(dryRun: Bool) throws -> [String] {
        try pruneReport(dryRun: dryRun).deleted
    }
}

extension KernelRegistry {
    /// The kernel named `name`, or a usage error that names the closest kernel names (or says that
    /// `rnnspec kernels` lists them).
    package func kernelOrUsageError(named name: String) throws -> any Kernel {
        guard let kernel = kernel(named: name) else {
            let near = closestMatches(to: name, in: names)
            throw UsageError(
                "unknown kernel '\(name)'"
                    + (near.isEmpty
                        ? "; `rnnspec kernels` lists them" : "; did you mean \(listPhrase(near.map { "'\($0)'" }))?"))
        }
        return kernel
    }
}
