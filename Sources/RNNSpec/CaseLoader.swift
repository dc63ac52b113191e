import Foundation
import RNNKernels
import Yams

/// Loads case files: parse, decode and check against the kernel registry.
public struct CaseLoader: Sendable {
    /// Where kernel names are looked up.
    public var registry: KernelRegistry
    /// The size limits a case is read under.
    public var limits: LoadLimits
    /// Reads a file for `{npy: ...}`/`{npz: ...}` inputs: a path relative to the cases root and
    /// the most bytes to read; nil means the file does not exist (NumPyFiles.swift). Without it,
    /// file inputs are an error.
    public var readCasesFile: (@Sendable (String, Int) throws -> Data?)? = nil

    /// A loader that resolves kernel names in `registry` and reads under `limits`.
    public init(registry: KernelRegistry = .standard, limits: LoadLimits = LoadLimits()) {
        self.registry = registry
        self.limits = limits
    }

    static let topLevelFields = [
        "kernel", "title", "source", "tags", "params", "inputs", "expect", "tolerance", "gradcheck", "xfail", "skip",
        "timeout", "notes", "rng",
    ]

    /// Loads one file.
    ///
    /// - Parameters:
    ///   - url: the file.
    ///   - id: its case id (path under the cases root, no extension).
    ///   - displayPath: how messages name the file.
    public func load(url: URL, id: String, displayPath: String) throws -> Case {
        // The size is checked before the file is read, and no more than the limit is read.
        let data = try limits.readFile(url, display: displayPath)
        return try load(data: data, id: id, displayPath: displayPath)
    }

    /// Loads a case from the bytes of a file.
    public func load(data: Data, id: String, displayPath: String) throws -> Case {
        try limits.checkFileBytes(data.count, file: displayPath)
        guard let text = String(validatingUTF8Data: data) else {
            throw SourceText.invalidUTF8Error(data, path: displayPath) { byte, offset in
                "the file is not valid UTF-8 (invalid byte 0x\(String(format: "%02X", byte)) at byte \(offset)); save it as UTF-8"
            }
        }
        let source = SourceText(path: displayPath, text: text)
        // The usual layout straight from the bytes; anything else (or any error) the general way.
        if let c = fastCase(source, id: id) { return c }
        return try generalLoad(source, id: id)
    }

    /// Loads a case through YAML nodes: every layout, and every error with its location.
    func generalLoad(_ source: SourceText, id: String) throws -> Case {
        let (composed, packed) = try NodeReader.composePacked(source, limits: limits)
        guard let root = composed else {
            throw SpecError(
                "the file is empty; a case is a mapping with at least 'kernel:' and 'inputs:' (see `rnnspec new`)",
                at: source.location(line: 1, column: 1))
        }
        var reader = NodeReader(source: source, limits: limits)
        reader.packed = packed
        return try decode(root, id: id, reader: &reader)
    }

    func decode(_ root: Node, id: String, reader: inout NodeReader) throws -> Case {
        let source = reader.source
        let fields = try reader.mapping(root, "a case file")
        try reader.checkKeys(fields, allowed: Self.topLevelFields, in: "the case")
        // Each field by name, found once (scanning the entries for each of the fields read copied
        // every node it passed).
        var position: [String: Int] = [:]
        for (k, f) in fields.enumerated() where position[f.key] == nil { position[f.key] = k }
        func field(_ key: String) -> (keyNode: Node, value: Node)? {
            position[key].map { (fields[$0].keyNode, fields[$0].value) }
        }
        var locations: [String: SourceLocation] = [:]
        for f in fields { locations[f.key] = reader.location(f.keyNode) }

        guard let kernelField = field("kernel") else {
            throw source.error(
                "missing 'kernel:': name the kernel this case runs (`rnnspec kernels` lists them)", line: 1, column: 1)
        }
        let kernelName = try reader.string(kernelField.value, "kernel")
        guard let kernel = registry.kernel(named: kernelName) else {
            let hint = didYouMean(kernelName, in: registry.names, limit: 3)
            throw reader.error(
                "unknown kernel '\(kernelName)'" + (hint.isEmpty ? "; `rnnspec kernels` lists them" : hint),
                at: kernelField.value)
        }
        locations["kernel"] = reader.location(kernelField.value)
        let spec = kernel.spec

        let title = try field("title").map { try reader.string($0.value, "title") }
        let caseSource = try field("source").map { try reader.string($0.value, "source") }
        let tags = try field("tags").map { try reader.stringList($0.value, "tags") } ?? []
        if let notes = field("notes") { _ = try reader.string(notes.value, "notes") }
        let xfail = try field("xfail").map {
            try reader.string($0.value, "xfail (the reason the case is expected to fail)")
        }
        let skip = try field("skip").map { try reader.string($0.value, "skip (the reason the case is not run)") }
        let timeout = try field("timeout").map { f -> Double in
            let seconds = try reader.real(f.value, "timeout (seconds)")
            guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                throw reader.error(
                    "timeout must be a number of seconds above 0 and at most 86400, found \(NumberText.format(seconds))",
                    at: f.value)
            }
            return seconds
        }

        // Parameters.
        var params: [String: ParamValue] = [:]
        // An empty `params:`, `inputs:` or `expect:` (only comments below it) means none.
        func isEmpty(_ node: Node) -> Bool {
            if case .scalar(let s) = node, s.string.isEmpty || s.string == "~" || s.string == "null" { return true }
            return false
        }
        if let p = field("params"), !isEmpty(p.value) {
            let entries = try reader.mapping(p.value, "params")
            for entry in entries {
                guard let ps = spec.param(entry.key) else {
                    throw reader.error(
                        spec.noSuch("param", entry.key, among: spec.params.map(\.name)), at: entry.keyNode)
                }
                let value = try paramValue(entry.value, ps, reader: reader)
                if let problem = ps.problem(with: value) { throw reader.error(problem, at: entry.value) }
                params[entry.key] = value
                locations["param:\(entry.key)"] = reader.location(entry.value)
            }
        }
        for ps in spec.params where params[ps.name] == nil {
            if let d = ps.defaultValue {
                params[ps.name] = d
            } else if !ps.optional {
                throw reader.error(
                    "\(spec.name) needs param '\(ps.name)' (\(ps.type.description)): \(ps.doc)",
                    at: field("params")?.keyNode ?? kernelField.keyNode)
            }
        }

        // Inputs.
        var inputs: [String: Value] = [:]
        var numpyStream = try field("rng").map { try reader.numpyStream($0.value) }
        if let i = field("inputs"), !isEmpty(i.value) {
            let entries = try reader.mapping(i.value, "inputs")
            for entry in entries {
                guard let input = spec.input(entry.key) else {
                    throw reader.error(
                        spec.noSuch("input", entry.key, among: spec.inputs.map(\.name)), at: entry.keyNode)
                }
                if reader.isFileInput(entry.value) {  // .npy/.npz (NumPyFiles.swift)
                    inputs[entry.key] = try reader.fileInput(
                        entry.value, kind: input.kind, shapes: input.shapes, kernel: spec.name, caseID: id,
                        read: readCasesFile, "input '\(entry.key)'")
                } else if reader.holdsDraw(entry.value) {  // NumPy draws, in file order (NumPyDraws.swift)
                    inputs[entry.key] = try reader.drawnValue(
                        entry.value, kind: input.kind, stream: &numpyStream, "input '\(entry.key)'")
                } else {
                    inputs[entry.key] = try reader.value(entry.value, kind: input.kind, "input '\(entry.key)'")
                }
                locations["input:\(entry.key)"] = reader.location(entry.value)
            }
        }
        let dims = try checkInputs(
            spec, params, inputs, locations, source,
            missingAt: reader.location(field("inputs")?.keyNode ?? kernelField.keyNode))

        // Expectations.
        var expectations: [(String, Expectation)] = []
        if let e = field("expect"), !isEmpty(e.value) {
            for entry in try reader.mapping(e.value, "expect") {
                guard let output = spec.output(entry.key) else {
                    throw reader.error(
                        spec.noSuch("output", entry.key, among: spec.outputs.map(\.name)), at: entry.keyNode)
                }
                expectations.append((entry.key, try expectation(entry.value, output, reader: &reader)))
            }
        }

        // Tolerances.
        var tolerance: Tolerance? = nil
        var outputTolerances: [String: Tolerance] = [:]
        if let t = field("tolerance") {
            let entries = try reader.mapping(t.value, "tolerance")
            try reader.checkKeys(entries, allowed: ["abs", "rel", "outputs"], in: "tolerance")
            let base = try toleranceFields(entries, defaults: .float64Default, reader: reader)
            if entries.contains(where: { $0.key == "abs" || $0.key == "rel" }) { tolerance = base }
            if let perOutput = entries.first(where: { $0.key == "outputs" }) {
                for entry in try reader.mapping(perOutput.value, "tolerance outputs") {
                    guard spec.output(entry.key) != nil else {
                        throw reader.error(
                            spec.noSuch("output", entry.key, among: spec.outputs.map(\.name)), at: entry.keyNode)
                    }
                    let fields = try reader.mapping(entry.value, "tolerance for '\(entry.key)'")
                    try reader.checkKeys(fields, allowed: ["abs", "rel"], in: "tolerance for '\(entry.key)'")
                    outputTolerances[entry.key] = try toleranceFields(
                        fields, defaults: tolerance ?? .float64Default, reader: reader)
                }
            }
        }

        let gradcheck = try field("gradcheck").map { try gradCheckRequest($0.value, spec, inputs, reader: reader) }

        let digest = CaseDigest.compute(kernel: spec.name, params: params, inputs: inputs)
        // (CaseFastReader.swift builds a case the same way.)
        var c = Case(
            id: id, path: source.path, kernel: kernel, title: title, source: caseSource, tags: tags,
            params: params, inputs: inputs, dims: dims, expectations: expectations,
            tolerance: tolerance, outputTolerances: outputTolerances, gradcheck: gradcheck, xfail: xfail, skip: skip,
            locations: locations, text: source, digest: digest)
        c.timeout = timeout
        return c
    }

    /// The checks on a case's inputs as a whole, once each is read: none missing, the kernel's rules
    /// about which go together, their shapes against the declared ones (giving the dimensions), and
    /// what the params and shapes imply against the element limit. Errors point at `locations`
    /// (`input:NAME`, `param:NAME`, the fields), a missing input at `missingAt`.
    func checkInputs(
        _ spec: KernelSpec, _ params: [String: ParamValue], _ inputs: [String: Value],
        _ locations: [String: SourceLocation], _ source: SourceText, missingAt: SourceLocation
    ) throws -> [String: Int] {
        let missing = spec.inputs.filter { !$0.optional && inputs[$0.name] == nil }.map(\.name)
        if !missing.isEmpty {
            throw source.error(
                "\(spec.name) needs input\(missing.count > 1 ? "s" : "") \(listPhrase(missing.map { "'\($0)'" }, conjunction: "and"))",
                line: missingAt.line, column: missingAt.column)
        }
        // The kernel's own rules about which inputs go together.
        if let broken = spec.inputRuleViolation(params: params, given: Set(inputs.keys)) {
            let key = broken.input.map { "input:\($0)" } ?? broken.param.map { "param:\($0)" }
            let loc = key.flatMap { locations[$0] } ?? locations["inputs"] ?? locations["kernel"]!
            throw SpecError(broken.message, at: loc, snippet: source.snippet(line: loc.line, column: loc.column))
        }
        let dims = try bindShapes(spec, inputs, locations, source)
        // What the params and shapes imply (outputs, caches, steps), before anything runs.
        if let over = spec.sizeProblem(
            KernelContext(inputs: inputs, params: params, dims: dims), limit: limits.maxElements)
        {
            let key =
                locations[over.blame] != nil
                ? over.blame : over.blame.hasPrefix("param:") && locations["params"] != nil ? "params" : "kernel"
            let loc = locations[key]!
            throw SpecError(over.message, at: loc, snippet: source.snippet(line: loc.line, column: loc.column))
        }
        return dims
    }
}
