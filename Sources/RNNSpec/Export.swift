import Foundation
import RNNKernels

/// `rnnspec export`: each case as a folder any tool can read without rnnspec, as ONNX's backend node
/// tests are: `case.json` and one `.npy` file per input, per `expect:` value and per golden output.
package struct SuiteExport {
    package var project: Project
    package var registry: KernelRegistry
    package var options: RunOptions

    package init(project: Project, registry: KernelRegistry = .standard, options: RunOptions = RunOptions()) {
        self.project = project
        self.registry = registry
        self.options = options
    }

    /// What an export did.
    package struct Summary: Sendable {
        package var exported: [String] = []
        /// Cases that could not be exported, with why (they do not load, say).
        package var skipped: [(id: String, why: String)] = []
        /// Exported cases that have no golden (their folder has no outputs).
        package var withoutGolden: [String] = []
    }

    /// The name of the index file at the top of an export; a directory that holds it may be exported into again.
    package static let indexName = "rnnspec-export.json"

    /// Exports the selected cases under `directory`, which must be empty, new, or an earlier export.
    package func export(paths: [String], to directory: String) throws -> Summary {
        let top = URL(fileURLWithPath: directory, relativeTo: project.workingDirectory).absoluteURL.standardizedFileURL
        try project.checkReportDestination(directory)
        let fm = FileManager.default
        if let entries = try? fm.contentsOfDirectory(atPath: top.path), !entries.isEmpty,
            !entries.contains(Self.indexName)
        {
            throw UsageError(
                "\(visibleText(directory)) is not empty and is not an earlier export (no \(Self.indexName)); export into a new or empty directory"
            )
        }
        let runner = Runner(project: project, options: options, registry: registry)
        var summary = Summary()
        for file in try runner.selectFiles(paths) {
            let c: Case
            do { c = try runner.load(url: file.url, id: file.id) } catch {
                summary.skipped.append((file.id, "\(asSpecError(error, path: project.display(file.url)).message)"))
                continue
            }
            if !options.tags.isEmpty && !c.tags.contains(where: options.tags.contains) { continue }
            let golden: Golden?
            do { golden = try runner.goldenStore.read(c.id) } catch {
                summary.skipped.append((c.id, "its golden cannot be read: \(asSpecError(error, path: c.path).message)"))
                continue
            }
            try write(c, golden: golden, under: top.appendingPathComponent(c.id, isDirectory: true))
            summary.exported.append(c.id)
            if golden == nil || golden?.digest != c.digest { summary.withoutGolden.append(c.id) }
        }
        let index: [String: Any] = [
            "format": 1, "rnnspec_export": "one folder per case: case.json, inputs/, expect/, golden/",
            "cases": summary.exported,
        ]
        try writeFile(
            try JSONSerialization.data(
                withJSONObject: index, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
            top.appendingPathComponent(Self.indexName))
        return summary
    }

    func write(_ c: Case, golden: Golden?, under folder: URL) throws {
        var json: [String: Any] = [
            "id": c.id, "kernel": c.kernel.spec.name,
            "params": Dictionary(uniqueKeysWithValues: c.params.map { ($0.key, paramJSON($0.value)) }),
            "tags": c.tags,
        ]
        if let title = c.title { json["title"] = title }
        if let source = c.source { json["source"] = source }
        var tolerance: [String: Any] = [:]
        if let t = c.tolerance { tolerance["abs"] = t.abs; tolerance["rel"] = t.rel }
        if !c.outputTolerances.isEmpty {
            tolerance["outputs"] = Dictionary(
                uniqueKeysWithValues: c.outputTolerances.map { ($0.key, ["abs": $0.value.abs, "rel": $0.value.rel]) })
        }
        tolerance["default_float64"] = ["abs": Tolerance.float64Default.abs, "rel": Tolerance.float64Default.rel]
        tolerance["default_float32"] = ["abs": Tolerance.float32Default.abs, "rel": Tolerance.float32Default.rel]
        tolerance["rule"] =
            "|actual - expected| <= abs + rel * |expected| elementwise; NaN only where expected is NaN; infinities equal"
        json["tolerance"] = tolerance
        json["inputs"] = try values(c.inputs.sorted { $0.key < $1.key }, in: folder, sub: "inputs")
        var expect: [String: Any] = [:]
        for (name, e) in c.expectations {
            var entry = try values([(name, e.value)], in: folder, sub: "expect")[name] as! [String: Any]
            if let t = e.tolerance { entry["abs"] = t.abs; entry["rel"] = t.rel }
            if let s = e.source { entry["source"] = s }
            expect[name] = entry
        }
        json["expect"] = expect
        if let golden, golden.digest == c.digest {
            json["golden"] = [
                "digest": golden.digest,
                "outputs": try values(golden.outputs.map { ($0.name, $0.value) }, in: folder, sub: "golden"),
            ]
        } else {
            json["golden"] = NSNull()
        }
        try writeFile(
            try JSONSerialization.data(
                withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
            folder.appendingPathComponent("case.json"))
    }

    /// Writes each tensor as `sub/NAME.npy` (a list as `NAME.0.npy`, `NAME.1.npy`, ...; strings in
    /// the JSON) and returns their descriptions for `case.json`.
    func values(_ named: [(String, Value)], in folder: URL, sub: String) throws -> [String: Any] {
        var out: [String: Any] = [:]
        for (name, value) in named { out[name] = try describe(value, file: "\(sub)/\(name)", in: folder) }
        return out
    }

    func describe(_ value: Value, file: String, in folder: URL) throws -> [String: Any] {
        switch value {
        case .list(let items):
            return ["list": try items.enumerated().map { try describe($1, file: "\(file).\($0)", in: folder) }]
        case .string(let t):
            return ["dtype": "string", "shape": t.shape, "data": t.scalars]
        default:
            let data = NpyWriter.data(NpyArray(value)!)
            try writeFile(data, folder.appendingPathComponent(file + ".npy"))
            let dtype: String
            switch value {
            case .real(let r): dtype = r.dtype.rawValue
            case .integer: dtype = "int64"
            default: dtype = "bool"
            }
            return ["file": file + ".npy", "dtype": dtype, "shape": value.shape]
        }
    }

    func paramJSON(_ p: ParamValue) -> Any {
        func real(_ x: Double) -> Any { x.isFinite ? x : (x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf")) }
        switch p {
        case .integer(let v): return v
        case .real(let v): return real(v)
        case .boolean(let v): return v
        case .string(let v): return v
        case .integerList(let v): return v
        case .realList(let v): return v.map(real)
        case .stringList(let v): return v
        }
    }

    func writeFile(_ data: Data, _ url: URL) throws {
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw UsageError("cannot write \(visibleText(project.display(url))): \(error.localizedDescription)")
        }
    }
}
