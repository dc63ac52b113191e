import Foundation
import RNNKernels
import Yams

/// Tolerances of a numeric comparison: pass where |actual − expected| ≤ abs + rel·|expected|
/// (NumPy's `allclose` rule).
public struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    public var abs: Double
    public var rel: Double

    public init(abs: Double, rel: Double) {
        self.abs = abs
        self.rel = rel
    }

    /// Goldens of float64 outputs: only round-off differences between machines pass.
    public static let float64Default = Tolerance(abs: 1e-12, rel: 1e-9)
    /// Goldens of float32 outputs: a few units in the last place.
    public static let float32Default = Tolerance(abs: 1e-6, rel: 1e-5)

    public var description: String { "abs \(NumberText.format(abs)), rel \(NumberText.format(rel))" }
}

/// A value known independently of the kernel (a notebook's printout, a hand derivation, a
/// framework's output), with the tolerance its precision allows.
public struct Expectation: Sendable {
    public var value: Value
    /// nil: the case's tolerance for this output.
    public var tolerance: Tolerance?
    /// Where the number comes from, if the entry says.
    public var source: String?
    public var location: SourceLocation
}

/// One case file, loaded and checked against its kernel's declaration.
public struct Case: Sendable {
    /// The path under the cases root without `.yaml` (`exercises/ex1_rnn_update`).
    public var id: String
    /// The file as shown to the user.
    public var path: String
    public var kernel: any Kernel
    public var title: String?
    public var source: String?
    public var tags: [String]
    /// Every declared parameter: the case's values, and defaults for the rest.
    public var params: [String: ParamValue]
    public var inputs: [String: Value]
    /// The extents bound to the symbols of the declared shapes.
    public var dims: [String: Int]
    public var expectations: [(output: String, expectation: Expectation)]
    /// The golden comparison's tolerance, if the case sets one (else the dtype's default).
    public var tolerance: Tolerance?
    public var outputTolerances: [String: Tolerance]
    /// A finite-difference check of the kernel's gradients, if the case asks for one.
    public var gradcheck: GradCheckRequest?
    /// Why the case is expected to fail, if it is (XFAIL/XPASS).
    public var xfail: String?
    /// Why the case is not run, if it is not (UNSUPPORTED).
    public var skip: String?
    /// The case's own time limit in seconds (`timeout:`), if it sets one.
    public var timeout: Double? = nil
    /// Where each top-level field, input, param and expectation is written.
    public var locations: [String: SourceLocation]
    public var text: SourceText
    /// SHA-256 of the kernel name, the parameters and the inputs, in canonical form.
    public var digest: String

    /// The tolerance a golden comparison of `output` uses.
    public func goldenTolerance(for output: String, dtype: DType) -> Tolerance {
        if let t = outputTolerances[output] { return t }
        if let t = tolerance { return t }
        return dtype == .float32 ? .float32Default : .float64Default
    }

    /// An error pointing at a field of this case (`input:x`, `param:activation`, `kernel`).
    public func error(_ message: String, at key: String) -> SpecError {
        let loc = locations[key] ?? locations["kernel"] ?? text.location(line: 1, column: 1)
        return SpecError(message, at: loc, snippet: text.snippet(line: loc.line, column: loc.column))
    }
}

/// Loads case files: parse, decode and check against the kernel registry.
public struct CaseLoader: Sendable {
    public var registry: KernelRegistry
    public var limits: LoadLimits
    /// Reads a file for `{npy: ...}`/`{npz: ...}` inputs: a path relative to the cases root and
    /// the most bytes to read; nil means the file does not exist (NumPyFiles.swift). Without it,
    /// file inputs are an error.
    public var readCasesFile: (@Sendable (String, Int) throws -> Data?)? = nil

    public init(registry: KernelRegistry = .standard, limits: LoadLimits = LoadLimits()) {
        self.registry = registry
        self.limits = limits
    }

    static let topLevelFields = ["kernel", "title", "source", "tags", "params", "inputs", "expect", "tolerance", "gradcheck", "xfail", "skip", "timeout", "notes", "rng"]

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
        let (composed, packed) = try NodeReader.composePacked(source, limits: limits)
        guard let root = composed else {
            throw SpecError("the file is empty; a case is a mapping with at least 'kernel:' and 'inputs:' (see `rnnspec new`)",
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
        func field(_ key: String) -> (keyNode: Node, value: Node)? {
            fields.first { $0.key == key }.map { ($0.keyNode, $0.value) }
        }
        var locations: [String: SourceLocation] = [:]
        for f in fields { locations[f.key] = reader.location(f.keyNode) }

        guard let kernelField = field("kernel") else {
            throw source.error("missing 'kernel:': name the kernel this case runs (`rnnspec kernels` lists them)", line: 1, column: 1)
        }
        let kernelName = try reader.string(kernelField.value, "kernel")
        guard let kernel = registry.kernel(named: kernelName) else {
            let near = suggestions(for: kernelName, in: registry.names)
            var message = "unknown kernel '\(kernelName)'"
            message += near.isEmpty ? "; `rnnspec kernels` lists them" : "; did you mean \(listPhrase(near.map { "'\($0)'" }))?"
            throw reader.error(message, at: kernelField.value)
        }
        locations["kernel"] = reader.location(kernelField.value)
        let spec = kernel.spec

        let title = try field("title").map { try reader.string($0.value, "title") }
        let caseSource = try field("source").map { try reader.string($0.value, "source") }
        let tags = try field("tags").map { try reader.stringList($0.value, "tags") } ?? []
        if let notes = field("notes") { _ = try reader.string(notes.value, "notes") }
        let xfail = try field("xfail").map { try reader.string($0.value, "xfail (the reason the case is expected to fail)") }
        let skip = try field("skip").map { try reader.string($0.value, "skip (the reason the case is not run)") }
        let timeout = try field("timeout").map { f -> Double in
            let seconds = try reader.real(f.value, "timeout (seconds)")
            guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                throw reader.error("timeout must be a number of seconds above 0 and at most 86400, found \(NumberText.format(seconds))", at: f.value)
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
                    var message = "\(spec.name) has no param '\(entry.key)'"
                    if let near = suggestion(for: entry.key, in: spec.params.map(\.name)) { message += "; did you mean '\(near)'?" }
                    message += spec.params.isEmpty ? "; it takes no params" : " (its params: \(spec.params.map(\.name).joined(separator: ", ")))"
                    throw reader.error(message, at: entry.keyNode)
                }
                let value = try paramValue(entry.value, ps, reader: reader)
                if let problem = ps.problem(with: value) { throw reader.error(problem, at: entry.value) }
                params[entry.key] = value
                locations["param:\(entry.key)"] = reader.location(entry.value)
            }
        }
        for ps in spec.params where params[ps.name] == nil {
            if let d = ps.defaultValue { params[ps.name] = d } else if !ps.optional {
                throw reader.error("\(spec.name) needs param '\(ps.name)' (\(ps.type.description)): \(ps.doc)", at: field("params")?.keyNode ?? kernelField.keyNode)
            }
        }

        // Inputs.
        var inputs: [String: Value] = [:]
        var inputNodes: [String: Node] = [:]
        var numpyStream = try field("rng").map { try reader.numpyStream($0.value) }
        if let i = field("inputs"), !isEmpty(i.value) {
            let entries = try reader.mapping(i.value, "inputs")
            for entry in entries {
                guard let input = spec.input(entry.key) else {
                    var message = "\(spec.name) has no input '\(entry.key)'"
                    if let near = suggestion(for: entry.key, in: spec.inputs.map(\.name)) { message += "; did you mean '\(near)'?" }
                    message += " (its inputs: \(spec.inputs.map(\.name).joined(separator: ", ")))"
                    throw reader.error(message, at: entry.keyNode)
                }
                if reader.isFileInput(entry.value) {  // .npy/.npz (NumPyFiles.swift)
                    inputs[entry.key] = try reader.fileInput(entry.value, kind: input.kind, shapes: input.shapes, kernel: spec.name, caseID: id,
                                                             read: readCasesFile, "input '\(entry.key)'")
                } else if reader.holdsDraw(entry.value) {  // NumPy draws, in file order (NumPyDraws.swift)
                    inputs[entry.key] = try reader.drawnValue(entry.value, kind: input.kind, stream: &numpyStream, "input '\(entry.key)'")
                } else {
                    inputs[entry.key] = try reader.value(entry.value, kind: input.kind, "input '\(entry.key)'")
                }
                inputNodes[entry.key] = entry.value
                locations["input:\(entry.key)"] = reader.location(entry.value)
            }
        }
        let missing = spec.inputs.filter { !$0.optional && inputs[$0.name] == nil }.map(\.name)
        if !missing.isEmpty {
            throw reader.error("\(spec.name) needs input\(missing.count > 1 ? "s" : "") \(listPhrase(missing.map { "'\($0)'" }, conjunction: "and"))",
                               at: field("inputs")?.keyNode ?? kernelField.keyNode)
        }
        // The kernel's own rules about which inputs go together.
        if let broken = spec.inputRuleViolation(params: params, given: Set(inputs.keys)) {
            let key = broken.input.map { "input:\($0)" } ?? broken.param.map { "param:\($0)" }
            let loc = key.flatMap { locations[$0] } ?? locations["inputs"] ?? locations["kernel"]!
            throw SpecError(broken.message, at: loc, snippet: source.snippet(line: loc.line, column: loc.column))
        }
        let dims = try bindShapes(spec, inputs, inputNodes, reader)
        // What the params and shapes imply (outputs, caches, steps), before anything runs.
        if let over = spec.sizeProblem(KernelContext(inputs: inputs, params: params, dims: dims), limit: limits.maxElements) {
            let key = locations[over.blame] != nil ? over.blame : over.blame.hasPrefix("param:") && locations["params"] != nil ? "params" : "kernel"
            let loc = locations[key]!
            throw SpecError(over.message, at: loc, snippet: source.snippet(line: loc.line, column: loc.column))
        }

        // Expectations.
        var expectations: [(String, Expectation)] = []
        if let e = field("expect"), !isEmpty(e.value) {
            for entry in try reader.mapping(e.value, "expect") {
                guard let output = spec.output(entry.key) else {
                    var message = "\(spec.name) has no output '\(entry.key)'"
                    if let near = suggestion(for: entry.key, in: spec.outputs.map(\.name)) { message += "; did you mean '\(near)'?" }
                    message += " (its outputs: \(spec.outputs.map(\.name).joined(separator: ", ")))"
                    throw reader.error(message, at: entry.keyNode)
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
                        throw reader.error("\(spec.name) has no output '\(entry.key)' (its outputs: \(spec.outputs.map(\.name).joined(separator: ", ")))", at: entry.keyNode)
                    }
                    let fields = try reader.mapping(entry.value, "tolerance for '\(entry.key)'")
                    try reader.checkKeys(fields, allowed: ["abs", "rel"], in: "tolerance for '\(entry.key)'")
                    outputTolerances[entry.key] = try toleranceFields(fields, defaults: tolerance ?? .float64Default, reader: reader)
                }
            }
        }

        let gradcheck = try field("gradcheck").map { try gradCheckRequest($0.value, spec, inputs, reader: reader) }

        let digest = CaseDigest.compute(kernel: spec.name, params: params, inputs: inputs)
        var c = Case(id: id, path: source.path, kernel: kernel, title: title, source: caseSource, tags: tags,
                     params: params, inputs: inputs, dims: dims, expectations: expectations,
                     tolerance: tolerance, outputTolerances: outputTolerances, gradcheck: gradcheck, xfail: xfail, skip: skip,
                     locations: locations, text: source, digest: digest)
        c.timeout = timeout
        return c
    }

    /// `gradcheck: {wrt: [W_hh, h0], eps: 1e-6, abs: 1e-7, rel: 1e-5}`.
    func gradCheckRequest(_ node: Node, _ spec: KernelSpec, _ inputs: [String: Value], reader: NodeReader) throws -> GradCheckRequest {
        guard let loss = spec.lossOutput else {
            throw reader.error("\(spec.name) reports no gradients, so it has nothing to gradcheck", at: node)
        }
        let entries = try reader.mapping(node, "gradcheck")
        try reader.checkKeys(entries, allowed: ["wrt", "eps", "abs", "rel"], in: "gradcheck")
        guard let wrtEntry = entries.first(where: { $0.key == "wrt" }) else {
            throw reader.error("gradcheck needs wrt: [inputs to differentiate with respect to]", at: node)
        }
        // Real tensors, or lists of them (Keras's initial_state), whose gradient the kernel reports.
        let candidates = spec.inputs.filter { ($0.kind == .real || $0.kind == .realList) && spec.output("d" + $0.name) != nil }.map(\.name)
        var wrt: [String] = []
        for item in try reader.list(wrtEntry.value, "gradcheck wrt") {
            let name = try reader.string(item, "gradcheck wrt")
            guard candidates.contains(name) else {
                var message = "\(spec.name) reports no gradient for '\(name)'"
                if let near = suggestion(for: name, in: candidates) { message += "; did you mean '\(near)'?" }
                message += " (it reports gradients for \(listPhrase(candidates, conjunction: "and")))"
                throw reader.error(message, at: item)
            }
            guard inputs[name] != nil else {
                throw reader.error("gradcheck wrt '\(name)' needs the input '\(name)' in the case (its default is not differentiated)", at: item)
            }
            wrt.append(name)
        }
        var eps = 1e-6
        if let e = entries.first(where: { $0.key == "eps" }) {
            eps = try reader.real(e.value, "gradcheck eps")
            guard eps > 0, eps.isFinite else { throw reader.error("gradcheck eps must be a positive number", at: e.value) }
        }
        let tolerance = try toleranceFields(entries.filter { $0.key == "abs" || $0.key == "rel" }, defaults: Tolerance(abs: 1e-7, rel: 1e-5), reader: reader)
        return GradCheckRequest(wrt: wrt, eps: eps, tolerance: tolerance, loss: loss, location: reader.location(node))
    }

    func toleranceFields(_ entries: [(key: String, keyNode: Node, value: Node)], defaults: Tolerance, reader: NodeReader) throws -> Tolerance {
        var t = defaults
        for entry in entries {
            switch entry.key {
            case "abs", "rel":
                let v = try reader.real(entry.value, "tolerance \(entry.key)")
                guard v >= 0, v.isFinite else { throw reader.error("tolerance \(entry.key) must be a finite number ≥ 0", at: entry.value) }
                if entry.key == "abs" { t.abs = v } else { t.rel = v }
            default: break
            }
        }
        return t
    }

    func expectation(_ node: Node, _ output: OutputSpec, reader: inout NodeReader) throws -> Expectation {
        let location = reader.location(node)
        // {value: ..., abs: ..., rel: ..., source: ...} or the bare value.
        if case .mapping(let m) = node, m.keys.contains(where: { $0.string == "value" }) {
            let entries = try reader.mapping(node, "expect '\(output.name)'")
            try reader.checkKeys(entries, allowed: ["value", "abs", "rel", "source"], in: "expect '\(output.name)'")
            let valueNode = entries.first { $0.key == "value" }!.value
            let value = try reader.value(valueNode, kind: output.kind, "expect '\(output.name)'")
            let hasTolerance = entries.contains { $0.key == "abs" || $0.key == "rel" }
            let tolerance = hasTolerance ? try toleranceFields(entries, defaults: Tolerance(abs: 0, rel: 0), reader: reader) : nil
            let source = try entries.first { $0.key == "source" }.map { try reader.string($0.value, "source") }
            return Expectation(value: value, tolerance: tolerance, source: source, location: location)
        }
        return Expectation(value: try reader.value(node, kind: output.kind, "expect '\(output.name)'"), tolerance: nil, source: nil, location: location)
    }

    func paramValue(_ node: Node, _ spec: ParamSpec, reader: NodeReader) throws -> ParamValue {
        let what = "param '\(spec.name)'"
        switch spec.type {
        case .integer:
            // The declared range is checked by ParamSpec.problem(with:).
            return .integer(try reader.integer(node, what))
        case .real: return .real(try reader.real(node, what))
        case .boolean: return .boolean(try reader.boolean(node, what))
        case .string: return .string(try reader.string(node, what))
        case .choice(let words):
            let v = try reader.string(node, what)
            guard words.contains(v) else {
                var message = "\(what) must be one of \(listPhrase(words)), found '\(v)'"
                if let near = suggestion(for: v, in: words) { message += "; did you mean '\(near)'?" }
                throw reader.error(message, at: node)
            }
            return .string(v)
        case .integerList:
            return .integerList(try reader.list(node, what).map { try reader.integer($0, "\(what): an item") })
        case .realList:
            return .realList(try reader.list(node, what).map { try reader.real($0, "\(what): an item") })
        case .stringList:
            return .stringList(try reader.list(node, what).map { try reader.string($0, "\(what): an item") })
        }
    }

    /// Binds the symbols of the declared shapes to the inputs' extents and checks that every
    /// input fits one of its declared shapes.
    func bindShapes(_ spec: KernelSpec, _ inputs: [String: Value], _ nodes: [String: Node], _ reader: NodeReader) throws -> [String: Int] {
        var bindings: [String: Int] = [:]
        var boundBy: [String: String] = [:]
        // Choose, for each input, the declared alternative of its rank.
        var chosen: [(InputSpec, Shape, [Int])] = []
        for input in spec.inputs {
            guard let value = inputs[input.name], !input.shapes.isEmpty, input.kind != .realList else { continue }
            let actual = value.shape
            let candidates = input.shapes.filter { $0.count == actual.count }
            guard let shape = candidates.first else {
                let declared = input.shapes.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" }
                throw reader.error("input '\(input.name)' has shape \(actual.shapeText) (rank \(actual.count)) but \(spec.name) expects \(listPhrase(declared))", at: nodes[input.name]!)
            }
            chosen.append((input, shape, actual))
        }
        // Solve symbols until nothing changes, then check every dimension.
        var progress = true
        while progress {
            progress = false
            for (input, shape, actual) in chosen {
                for (dim, extent) in zip(shape, actual) where !dim.isWildcard && (try? dim.evaluate(bindings)) == .some(nil) {
                    if let (symbol, v) = dim.solve(for: extent, bindings) {
                        bindings[symbol] = v
                        boundBy[symbol] = input.name
                        progress = true
                    }
                }
            }
        }
        for (input, shape, actual) in chosen {
            for (axis, (dim, extent)) in zip(shape, actual).enumerated() where !dim.isWildcard {
                let expected: Int?
                do { expected = try dim.evaluate(bindings) } catch let overflow as DimOverflow {
                    let declared = "[" + shape.map(\.description).joined(separator: ", ") + "]"
                    throw reader.error("input '\(input.name)' has shape \(actual.shapeText) and \(spec.name) expects \(declared); axis \(axis): \(overflow)", at: nodes[input.name]!)
                }
                if expected != extent {
                    let declared = "[" + shape.map(\.description).joined(separator: ", ") + "]"
                    let context = dim.symbols.compactMap { s in bindings[s].map { "\(s) = \($0) from '\(boundBy[s]!)'" } }
                    var message = "input '\(input.name)' has shape \(actual.shapeText) but \(spec.name) expects \(declared)"
                    message += "; axis \(axis) should be \(dim)"
                    if let expected { message += " = \(expected)" }
                    if !context.isEmpty { message += " (\(context.joined(separator: ", ")))" }
                    throw reader.error(message, at: nodes[input.name]!)
                }
            }
        }
        return bindings
    }
}

extension String {
    /// Decodes UTF-8, or nil if the bytes are not valid UTF-8.
    /// A leading byte-order mark is dropped, as Foundation's `String(bytes:encoding:)` does
    /// (this is the standard library's validating decoder, several times faster).
    init?(validatingUTF8Data data: Data) {
        let body = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]
        guard let s = String(validating: body, as: UTF8.self) else { return nil }
        self = s
    }
}
