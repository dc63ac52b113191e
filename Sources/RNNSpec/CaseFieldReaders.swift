import Foundation
import RNNKernels
import Yams

extension CaseLoader {
    /// `gradcheck: {wrt: [W_hh, h0], eps: 1e-6, abs: 1e-7, rel: 1e-5, mode: fast, directions: 4, seed: 0}`.
    func gradCheckRequest(_ node: Node, _ spec: KernelSpec, _ inputs: [String: Value], reader: NodeReader) throws
        -> GradCheckRequest
    {
        guard let loss = spec.lossOutput else {
            throw reader.error("\(spec.name) reports no gradients, so it has nothing to gradcheck", at: node)
        }
        let entries = try reader.mapping(node, "gradcheck")
        try reader.checkKeys(
            entries, allowed: ["wrt", "eps", "abs", "rel", "mode", "directions", "seed"], in: "gradcheck")
        guard let wrtEntry = entries.first(where: { $0.key == "wrt" }) else {
            throw reader.error("gradcheck needs wrt: [inputs to differentiate with respect to]", at: node)
        }
        // Real tensors, or lists of them (Keras's initial_state), whose gradient the kernel reports.
        let candidates = spec.inputs.filter {
            ($0.kind == .real || $0.kind == .realList) && spec.output("d" + $0.name) != nil
        }.map(\.name)
        var wrt: [String] = []
        for item in try reader.list(wrtEntry.value, "gradcheck wrt") {
            let name = try reader.string(item, "gradcheck wrt")
            guard candidates.contains(name) else {
                throw reader.error(
                    "\(spec.name) reports no gradient for '\(name)'" + didYouMean(name, in: candidates)
                        + " (it reports gradients for \(listPhrase(candidates, conjunction: "and")))", at: item)
            }
            guard inputs[name] != nil else {
                throw reader.error(
                    "gradcheck wrt '\(name)' needs the input '\(name)' in the case (its default is not differentiated)",
                    at: item)
            }
            guard !wrt.contains(name) else { throw reader.error("gradcheck wrt lists '\(name)' twice", at: item) }
            wrt.append(name)
        }
        var eps = 1e-6
        if let e = entries.first(where: { $0.key == "eps" }) {
            eps = try reader.real(e.value, "gradcheck eps")
            guard eps > 0, eps.isFinite else {
                throw reader.error("gradcheck eps must be a positive number", at: e.value)
            }
        }
        let tolerance = try toleranceFields(
            entries.filter { $0.key == "abs" || $0.key == "rel" }, defaults: GradCheck.defaultTolerance, reader: reader)
        var request = GradCheckRequest(
            wrt: wrt, eps: eps, tolerance: tolerance, loss: loss, location: reader.location(node))
        if let m = entries.first(where: { $0.key == "mode" }) {
            let text = try reader.string(m.value, "gradcheck mode")
            guard let mode = GradCheckMode(rawValue: text) else {
                throw reader.error(
                    "gradcheck mode must be fast or full, not '\(text)'"
                        + didYouMean(text, in: GradCheckMode.allCases.map(\.rawValue)), at: m.value)
            }
            request.mode = mode
        }
        if let d = entries.first(where: { $0.key == "directions" }) {
            let k = try reader.integer(d.value, "gradcheck directions")
            guard (1...GradCheck.maxDirections).contains(k) else {
                throw reader.error("gradcheck directions must be between 1 and \(GradCheck.maxDirections)", at: d.value)
            }
            request.directions = k
        }
        if let s = entries.first(where: { $0.key == "seed" }) {
            let seed = try reader.integer(s.value, "gradcheck seed")
            guard seed >= 0 else { throw reader.error("gradcheck seed must be an integer ≥ 0", at: s.value) }
            request.seed = UInt64(seed)
        }
        if request.mode == .full, let extra = entries.first(where: { $0.key == "directions" || $0.key == "seed" }) {
            throw reader.error("gradcheck \(extra.key) applies to mode: fast, not mode: full", at: extra.keyNode)
        }
        return request
    }

    func toleranceFields(
        _ entries: [(key: String, keyNode: Node, value: Node)], defaults: Tolerance, reader: NodeReader
    ) throws -> Tolerance {
        var t = defaults
        for entry in entries {
            switch entry.key {
            case "abs", "rel":
                let v = try reader.real(entry.value, "tolerance \(entry.key)")
                guard v >= 0, v.isFinite else {
                    throw reader.error("tolerance \(entry.key) must be a finite number ≥ 0", at: entry.value)
                }
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
            let tolerance =
                hasTolerance ? try toleranceFields(entries, defaults: Tolerance(abs: 0, rel: 0), reader: reader) : nil
            let source = try entries.first { $0.key == "source" }.map { try reader.string($0.value, "source") }
            return Expectation(value: value, tolerance: tolerance, source: source, location: location)
        }
        return Expectation(
            value: try reader.value(node, kind: output.kind, "expect '\(output.name)'"), tolerance: nil, source: nil,
            location: location)
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
                throw reader.error(
                    "\(what) must be one of \(listPhrase(words)), found '\(v)'" + didYouMean(v, in: words), at: node)
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
    func bindShapes(
        _ spec: KernelSpec, _ inputs: [String: Value], _ locations: [String: SourceLocation], _ source: SourceText
    ) throws -> [String: Int] {
        // An input's error points at its value, as its node's mark does.
        func error(_ message: String, _ input: String) -> SpecError {
            let at = locations["input:\(input)"] ?? SourceLocation(file: source.path, line: 0, column: 0)
            return source.error(message, line: at.line, column: at.column)
        }
        var bindings: [String: Int] = [:]
        var boundBy: [String: String] = [:]
        bindings.reserveCapacity(8)
        boundBy.reserveCapacity(8)
        // Choose, for each input, the declared alternative of its rank.
        var chosen: [(InputSpec, Shape, [Int])] = []
        for input in spec.inputs {
            guard let value = inputs[input.name], !input.shapes.isEmpty, input.kind != .realList else { continue }
            let actual = value.shape
            let candidates = input.shapes.filter { $0.count == actual.count }
            guard let shape = candidates.first else {
                let declared = input.shapes.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" }
                throw error(
                    "input '\(input.name)' has shape \(actual.shapeText) (rank \(actual.count)) but \(spec.name) expects \(listPhrase(declared))",
                    input.name)
            }
            chosen.append((input, shape, actual))
        }
        // Solve symbols until nothing changes, then check every dimension.
        var progress = true
        while progress {
            progress = false
            for (input, shape, actual) in chosen {
                for (dim, extent) in zip(shape, actual)
                where !dim.isWildcard && (try? dim.evaluate(bindings)) == .some(nil) {
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
                    throw error(
                        "input '\(input.name)' has shape \(actual.shapeText) and \(spec.name) expects \(declared); axis \(axis): \(overflow)",
                        input.name)
                }
                if expected != extent {
                    let declared = "[" + shape.map(\.description).joined(separator: ", ") + "]"
                    let context = dim.symbols.compactMap { s in bindings[s].map { "\(s) = \($0) from '\(boundBy[s]!)'" }
                    }
                    var message =
                        "input '\(input.name)' has shape \(actual.shapeText) but \(spec.name) expects \(declared)"
                    message += "; axis \(axis) should be \(dim)"
                    if let expected { message += " = \(expected)" }
                    if !context.isEmpty { message += " (\(context.joined(separator: ", ")))" }
                    throw error(message, input.name)
                }
            }
        }
        return bindings
    }
}

extension KernelSpec {
    /// "K has no param 'x'; did you mean 'y'? (its params: a, b)": the message for a key of
    /// `params:`, `inputs:` or `expect:` (`what`: param, input, output) that names nothing.
    func noSuch(_ what: String, _ key: String, among names: [String]) -> String {
        "\(name) has no \(what) '\(key)'" + didYouMean(key, in: names)
            + (names.isEmpty ? "; it takes no \(what)s" : " (its \(what)s: \(names.joined(separator: ", ")))")
    }
}
