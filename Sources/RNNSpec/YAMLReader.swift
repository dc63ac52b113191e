import CYaml
import Foundation
import RNNKernels
import Yams

/// Limits that keep a hostile file from exhausting memory.
public struct LoadLimits: Sendable {
    /// The most scalars one case may hold across all its inputs and expectations.
    public var maxElements: Int
    public init(maxElements: Int = 50_000_000) { self.maxElements = maxElements }
}

/// Reads Yams nodes of one file into rnnspec values, turning every problem into a
/// `SpecError` that points at the node's line and column.
struct NodeReader {
    let source: SourceText
    let limits: LoadLimits
    /// Scalars decoded so far, checked against `limits.maxElements`.
    private(set) var elements = 0

    init(source: SourceText, limits: LoadLimits) {
        self.source = source
        self.limits = limits
    }

    // MARK: Parsing and locations

    /// Parses the text into its root node, turning Yams' errors into located errors.
    ///
    /// Before Yams builds nodes, a linear pass over libyaml's tokens refuses anchors and
    /// aliases (an alias bomb expands to billions of nodes) and nesting deeper than
    /// `maxDepth` (the composer recurses once per level).
    static func compose(_ source: SourceText, maxDepth: Int = 64) throws -> Node? {
        try checkNesting(source, limit: maxDepth)
        try scanTokens(source, maxDepth: maxDepth)
        do {
            // No implicit tag resolution: rnnspec reads every scalar from its text, and the
            // default resolver's regular expressions (run on every mapping key, to check for
            // duplicates) were the largest cost of loading a case. The encoding is given, since
            // Yams' default reads the whole process environment on every parse.
            return try Yams.compose(yaml: source.text, .basic, .default, .utf8)
        } catch let error as YamlError {
            throw NodeReader.convert(error, source)
        }
    }

    /// Refuses deeply nested flow lists and mappings with a character scan, before libyaml sees them.
    static func checkNesting(_ source: SourceText, limit: Int) throws {
        if nestingWithinLimitASCII(source.text, limit: limit) { return }
        var depth = 0, line = 1, column = 0
        var inQuote: Unicode.Scalar? = nil, inComment = false, afterCR = false
        for ch in source.text.unicodeScalars {
            column += 1
            // Lines and columns as libyaml counts them (CR LF is one break; columns in scalars).
            if ch == "\n" && afterCR { afterCR = false; column = 0; continue }
            afterCR = ch == "\r"
            if SourceText.isLineBreak(ch) { line += 1; column = 0; inComment = false; continue }
            if inComment { continue }
            if let q = inQuote { if ch == q { inQuote = nil }; continue }
            switch ch {
            case "#": inComment = true
            case "\"", "'": if depth > 0 { inQuote = ch }
            case "[", "{":
                depth += 1
                if depth > limit {
                    throw source.error("nesting deeper than \(limit) levels; rnnspec files hold tensors of a few dimensions", line: line, column: column)
                }
            case "]", "}": depth = max(0, depth - 1)
            default: break
            }
        }
    }

    /// The same scan over the bytes of pure-ASCII text without carriage returns (where bytes and
    /// characters coincide): true when it finds no nesting over the limit. Anything else goes to
    /// the character scan, which also locates the error.
    static func nestingWithinLimitASCII(_ text: String, limit: Int) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var depth = 0
            var quote: UInt8 = 0, inComment = false
            for b in bytes {
                if b >= 0x80 || b == 0x0D { return false }
                if b == 0x0A { inComment = false; continue }
                if inComment { continue }
                if quote != 0 { if b == quote { quote = 0 }; continue }
                switch b {
                case 0x23: inComment = true                                  // #
                case 0x22, 0x27: if depth > 0 { quote = b }                  // " '
                case 0x5B, 0x7B: depth += 1; if depth > limit { return false } // [ {
                case 0x5D, 0x7D: depth = max(0, depth - 1)                   // ] }
                default: break
                }
            }
            return true
        }
    }

    /// Scans libyaml's tokens (no nodes are built): anchors and aliases are refused, and so is
    /// block or flow nesting deeper than `maxDepth`. Syntax errors are left to the composer,
    /// which reports them with their context.
    static func scanTokens(_ source: SourceText, maxDepth: Int) throws {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(source.text.utf8)
        try bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var depth = 0
            var token = yaml_token_t()
            while true {
                guard yaml_parser_scan(&parser, &token) == 1 else { return }
                let type = token.type
                let mark = token.start_mark
                yaml_token_delete(&token)
                switch type {
                case YAML_STREAM_END_TOKEN, YAML_NO_TOKEN:
                    return
                case YAML_ANCHOR_TOKEN, YAML_ALIAS_TOKEN:
                    let what = type == YAML_ANCHOR_TOKEN ? "an anchor (&name)" : "an alias (*name)"
                    throw source.error("\(what): anchors and aliases are not allowed in rnnspec files (they can expand to billions of values); write the values out",
                                       line: Int(mark.line) + 1, column: Int(mark.column) + 1)
                case YAML_BLOCK_SEQUENCE_START_TOKEN, YAML_BLOCK_MAPPING_START_TOKEN,
                     YAML_FLOW_SEQUENCE_START_TOKEN, YAML_FLOW_MAPPING_START_TOKEN:
                    depth += 1
                    if depth > maxDepth {
                        throw source.error("nesting deeper than \(maxDepth) levels; rnnspec files hold tensors of a few dimensions",
                                           line: Int(mark.line) + 1, column: Int(mark.column) + 1)
                    }
                case YAML_BLOCK_END_TOKEN, YAML_FLOW_SEQUENCE_END_TOKEN, YAML_FLOW_MAPPING_END_TOKEN:
                    depth = max(0, depth - 1)
                default:
                    break
                }
            }
        }
    }

    static func convert(_ error: YamlError, _ source: SourceText) -> SpecError {
        func located(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) -> SpecError {
            var message = "invalid YAML: \(problem)"
            if let context { message += " \(context.text)" }
            return source.error(message, line: mark.line, column: mark.column)
        }
        switch error {
        case let .scanner(context, problem, mark, _): return located(problem, context, mark)
        case let .parser(context, problem, mark, _): return located(problem, context, mark)
        case let .composer(context, problem, mark, _): return located(problem, context, mark)
        case let .duplicatedKeysInMapping(duplicates, context):
            return source.error("duplicate key '\(duplicates.joined(separator: "', '"))' in a mapping: each key may appear once",
                                line: context.mark.line, column: context.mark.column)
        case let .reader(problem, offset, value, _):
            return source.readerError(problem: problem, offset: offset, value: value)
        default:
            return SpecError("invalid YAML: \(error)", at: source.location(line: 1, column: 1))
        }
    }

    func location(_ node: Node) -> SourceLocation {
        let mark = node.mark
        return source.location(line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    func error(_ message: String, at node: Node) -> SpecError {
        guard let mark = node.mark else { return SpecError(message, at: source.location(line: 0, column: 0)) }
        return source.error(message, line: mark.line, column: mark.column)
    }

    // MARK: Structure

    /// A mapping's entries with string keys, in file order.
    func mapping(_ node: Node, _ what: String) throws -> [(key: String, keyNode: Node, value: Node)] {
        guard case .mapping(let mapping) = node else {
            throw error("\(what) must be a mapping (key: value lines), found \(describe(node))", at: node)
        }
        return try mapping.map { key, value in
            guard case .scalar(let s) = key else { throw error("\(what): keys must be plain words", at: key) }
            return (s.string, key, value)
        }
    }

    /// Rejects keys outside `allowed`, naming the closest allowed one.
    func checkKeys(_ entries: [(key: String, keyNode: Node, value: Node)], allowed: [String], in what: String) throws {
        for entry in entries where !allowed.contains(entry.key) {
            var message = "unknown field '\(entry.key)' in \(what)"
            if let near = closestMatch(to: entry.key, in: allowed) {
                message += "; did you mean '\(near)'?"
            } else {
                message += "; expected one of " + listPhrase(allowed)
            }
            throw error(message, at: entry.keyNode)
        }
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return s.string.isEmpty ? "an empty value" : "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func string(_ node: Node, _ what: String) throws -> String {
        guard case .scalar(let s) = node else { throw error("\(what) must be text, found \(describe(node))", at: node) }
        return s.string
    }

    func real(_ node: Node, _ what: String) throws -> Double {
        guard case .scalar(let s) = node, let v = NumberText.parseReal(s.string) else {
            throw error("\(what) must be a number, found \(describe(node))", at: node)
        }
        return v
    }

    func integer(_ node: Node, _ what: String) throws -> Int {
        guard case .scalar(let s) = node else { throw error("\(what) must be an integer, found \(describe(node))", at: node) }
        if let v = NumberText.parseInteger(s.string) { return v }
        // Digits with at most a leading sign that Int cannot hold: too large.
        let digits = s.string.hasPrefix("-") || s.string.hasPrefix("+") ? s.string.dropFirst() : Substring(s.string)
        if !digits.isEmpty, digits.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) {
            throw error("\(what): \(s.string) is too large for a 64-bit integer", at: node)
        }
        if let v = NumberText.parseReal(s.string) {
            let kind = v.isNaN || v.isInfinite ? "'\(s.string)'" : "the number '\(s.string)'"
            throw error("\(what) must be an integer, found \(kind); integers (indices, token ids, counts) are written without a decimal point or exponent", at: node)
        }
        throw error("\(what) must be an integer, found \(describe(node))", at: node)
    }

    func boolean(_ node: Node, _ what: String) throws -> Bool {
        guard case .scalar(let s) = node else { throw error("\(what) must be true or false, found \(describe(node))", at: node) }
        switch s.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw error("\(what) must be true or false, found \(describe(node))", at: node)
        }
    }

    func list(_ node: Node, _ what: String) throws -> [Node] {
        guard case .sequence(let seq) = node else { throw error("\(what) must be a list, found \(describe(node))", at: node) }
        return Array(seq)
    }

    func stringList(_ node: Node, _ what: String) throws -> [String] {
        if case .scalar = node { return [try string(node, what)] }
        return try list(node, what).map { try string($0, what) }
    }

    // MARK: Shapes and element budget

    /// A shape list such as `[2, 3]`: non-negative extents whose product fits the element limit.
    mutating func shape(_ node: Node, _ what: String) throws -> [Int] {
        let dims = try list(node, "\(what) shape").map { try integer($0, "\(what): a dimension") }
        if let bad = dims.first(where: { $0 < 0 }) {
            throw error("\(what): dimension \(bad) is negative; a shape lists extents ≥ 0", at: node)
        }
        var total = 1
        for d in dims {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { throw error("\(what): shape \(dims.shapeText) overflows a 64-bit element count", at: node) }
            total = p
        }
        try reserve(total, at: node, what)
        return dims
    }

    /// Counts `count` more scalars against the limit.
    mutating func reserve(_ count: Int, at node: Node, _ what: String) throws {
        let (total, overflow) = elements.addingReportingOverflow(count)
        if overflow || total > limits.maxElements {
            throw error("\(what) needs \(count) elements, over the limit of \(limits.maxElements) per case (raise it with --max-elements)", at: node)
        }
        elements = total
    }

    // MARK: Values

    /// Decodes a value of the given kind: a scalar, nested lists, `{shape, data}` or a generator.
    mutating func value(_ node: Node, kind: ValueKind, _ what: String) throws -> Value {
        switch kind {
        case .real:
            return .real(RealTensor(try realTensor(node, what)))
        case .integer:
            let (shape, leaves) = try nested(node, what)
            return .integer(Tensor(shape: shape, scalars: try leaves.map { try integer($0, "\(what): an element") }))
        case .string:
            let (shape, leaves) = try nested(node, what)
            return .string(Tensor(shape: shape, scalars: try leaves.map { try string($0, "\(what): an element") }))
        case .boolean:
            let (shape, leaves) = try nested(node, what)
            return .boolean(Tensor(shape: shape, scalars: try leaves.map { try boolean($0, "\(what): an element") }))
        case .realList:
            // A list whose items are tensors; a plain vector is a list of one tensor.
            if case .sequence(let seq) = node, let first = seq.first, !isScalar(first) {
                return .list(try seq.enumerated().map { k, item in .real(RealTensor(try realTensor(item, "\(what)[\(k)]"))) })
            }
            return .list([.real(RealTensor(try realTensor(node, what)))])
        }
    }

    func isScalar(_ node: Node) -> Bool { if case .scalar = node { return true } else { return false } }

    /// A real tensor from nested lists, `{shape, data}` or a generator.
    mutating func realTensor(_ node: Node, _ what: String) throws -> Tensor<Double> {
        if case .mapping = node { return try generated(node, what) }
        let (shape, leaves) = try nested(node, what)
        return Tensor(shape: shape, scalars: try leaves.map { try real($0, "\(what): an element") })
    }

    /// The shape and the scalar leaves of nested lists; ragged lists are an error that
    /// points at the row that differs.
    mutating func nested(_ node: Node, _ what: String) throws -> ([Int], [Node]) {
        switch node {
        case .scalar:
            try reserve(1, at: node, what)
            return ([], [node])
        case .sequence(let seq):
            let items = Array(seq)
            if items.isEmpty { return ([0], []) }
            var shape: [Int]? = nil
            var leaves: [Node] = []
            for (k, item) in items.enumerated() {
                if case .mapping = item {
                    throw error("\(what): a nested list holds numbers or lists, not a mapping; use {shape: [...], data: [...]} for the whole value", at: item)
                }
                let (s, l) = try nested(item, what)
                if let expected = shape, expected != s {
                    throw error("\(what): ragged list: item \(k) has shape \(s.shapeText) but item 0 has shape \(expected.shapeText); every row must have the same length", at: item)
                }
                shape = s
                leaves.append(contentsOf: l)
            }
            return ([items.count] + shape!, leaves)
        case .mapping:
            throw error("\(what): expected a list of values, found a mapping", at: node)
        case .alias:
            throw error("\(what): aliases are not supported here", at: node)
        }
    }

    /// `{shape, data}` or one of the generators `eye`, `zeros`, `ones`, `full`, `range`,
    /// `linspace`, `random`.
    mutating func generated(_ node: Node, _ what: String) throws -> Tensor<Double> {
        let entries = try mapping(node, what)
        let keys = Set(entries.map(\.key))
        func field(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        let kinds = ["data", "eye", "zeros", "ones", "full", "range", "linspace", "random"].filter(keys.contains)
        guard kinds.count == 1 else {
            let message = kinds.isEmpty
                ? "\(what): a mapping value must be {shape, data} or a generator: eye, zeros, ones, full, range, linspace or random"
                : "\(what): give one of \(listPhrase(kinds, conjunction: "and")), not several"
            if kinds.isEmpty, let first = entries.first, let near = closestMatch(to: first.key, in: ["data", "eye", "zeros", "ones", "full", "range", "linspace", "random"]) {
                throw error("\(what): unknown field '\(first.key)'; did you mean '\(near)'?", at: first.keyNode)
            }
            throw error(message, at: node)
        }
        let kind = kinds[0]
        switch kind {
        case "data":
            try checkKeys(entries, allowed: ["shape", "data"], in: "\(what) {shape, data}")
            guard let shapeNode = field("shape") else { throw error("\(what): {data} needs a shape: [...] beside it", at: node) }
            let shape = try self.shape(shapeNode, what)
            let dataNode = field("data")!
            let items = try list(dataNode, "\(what) data")
            let expected = shape.reduce(1, *)
            guard items.count == expected else {
                throw error("\(what): shape \(shape.shapeText) needs \(expected) numbers but data has \(items.count)", at: dataNode)
            }
            return Tensor(shape: shape, scalars: try items.map { try real($0, "\(what) data: an element") })
        case "eye":
            try checkKeys(entries, allowed: ["eye", "scale"], in: "\(what) eye generator")
            let eyeNode = field("eye")!
            let dims: [Int]
            if case .sequence = eyeNode { dims = try shape(eyeNode, what) } else {
                let n = try integer(eyeNode, "\(what): eye")
                guard n >= 0 else { throw error("\(what): eye needs a size ≥ 0", at: eyeNode) }
                let nodeShape = [n, n]
                let (p, overflow) = n.multipliedReportingOverflow(by: n)
                if overflow { throw error("\(what): eye \(n) overflows the element count", at: eyeNode) }
                try reserve(p, at: eyeNode, what)
                dims = nodeShape
            }
            guard dims.count == 2 else { throw error("\(what): eye takes N or [rows, columns]", at: eyeNode) }
            let scale = try field("scale").map { try real($0, "\(what): scale") } ?? 1
            var t = Tensor<Double>(zeros: dims)
            for k in 0..<min(dims[0], dims[1]) { t[k, k] = scale }
            return t
        case "zeros", "ones":
            try checkKeys(entries, allowed: [kind], in: "\(what) \(kind) generator")
            return Tensor(repeating: kind == "ones" ? 1 : 0, shape: try shape(field(kind)!, what))
        case "full":
            try checkKeys(entries, allowed: ["full", "value"], in: "\(what) full generator")
            guard let v = field("value") else { throw error("\(what): full needs value: beside it", at: node) }
            return Tensor(repeating: try real(v, "\(what): value"), shape: try shape(field("full")!, what))
        case "range":
            // Like numpy.arange: range: N, or [start, stop] or [start, stop, step].
            try checkKeys(entries, allowed: ["range", "shape"], in: "\(what) range generator")
            let rangeNode = field("range")!
            let args = isScalar(rangeNode) ? [0, try real(rangeNode, "\(what): range")]
                : try list(rangeNode, "\(what): range").map { try real($0, "\(what): range") }
            guard (2...3).contains(args.count) else { throw error("\(what): range takes N, [start, stop] or [start, stop, step]", at: rangeNode) }
            let step = args.count == 3 ? args[2] : 1
            guard step != 0, step.isFinite, args[0].isFinite, args[1].isFinite else { throw error("\(what): range needs finite bounds and a non-zero step", at: rangeNode) }
            let countD = ((args[1] - args[0]) / step).rounded(.up)
            guard countD < Double(limits.maxElements) + 1 else {
                throw error("\(what): range needs \(countD) elements, over the limit of \(limits.maxElements) per case (raise it with --max-elements)", at: rangeNode)
            }
            let count = max(0, Int(countD))
            try reserve(count, at: rangeNode, what)
            let values = (0..<count).map { args[0] + Double($0) * step }
            return try reshaped(Tensor(values), field("shape"), what)
        case "linspace":
            try checkKeys(entries, allowed: ["linspace", "shape"], in: "\(what) linspace generator")
            let lsNode = field("linspace")!
            let args = try list(lsNode, "\(what): linspace")
            guard args.count == 3 else { throw error("\(what): linspace takes [start, stop, count]", at: lsNode) }
            let a = try real(args[0], "\(what): start"), b = try real(args[1], "\(what): stop")
            let n = try integer(args[2], "\(what): count")
            guard n >= 0 else { throw error("\(what): linspace count must be ≥ 0", at: args[2]) }
            try reserve(n, at: lsNode, what)
            // numpy.linspace: start + k·step, and the last point exactly `stop`.
            let step = n > 1 ? (b - a) / Double(n - 1) : 0
            var values = (0..<n).map { a + Double($0) * step }
            if n > 1 { values[n - 1] = b }
            return try reshaped(Tensor(values), field("shape"), what)
        default: // random
            try checkKeys(entries, allowed: ["random", "shape", "seed", "mean", "std", "low", "high"], in: "\(what) random generator")
            let distNode = field("random")!
            let dist = try string(distNode, "\(what): random")
            guard dist == "normal" || dist == "uniform" else {
                throw error("\(what): random must be normal or uniform, found '\(dist)'", at: distNode)
            }
            guard let shapeNode = field("shape") else { throw error("\(what): random needs shape: [...]", at: node) }
            guard let seedNode = field("seed") else { throw error("\(what): random needs seed: N, so that the numbers are reproducible", at: node) }
            let shape = try self.shape(shapeNode, what)
            let seed = try integer(seedNode, "\(what): seed")
            let allowedParams = dist == "normal" ? ["mean", "std"] : ["low", "high"]
            for (key, keyNode, _) in entries where ["mean", "std", "low", "high"].contains(key) && !allowedParams.contains(key) {
                throw error("\(what): \(key) goes with \(dist == "normal" ? "uniform" : "normal"); \(dist) takes \(listPhrase(allowedParams, conjunction: "and"))", at: keyNode)
            }
            var rng = SeededStream(seed: UInt64(bitPattern: Int64(seed)))
            let n = shape.reduce(1, *)
            let values: [Double]
            if dist == "normal" {
                let mean = try field("mean").map { try real($0, "\(what): mean") } ?? 0
                let std = try field("std").map { try real($0, "\(what): std") } ?? 1
                values = (0..<n).map { _ in mean + std * rng.nextNormal() }
            } else {
                let low = try field("low").map { try real($0, "\(what): low") } ?? 0
                let high = try field("high").map { try real($0, "\(what): high") } ?? 1
                values = (0..<n).map { _ in low + (high - low) * rng.nextUniform() }
            }
            return Tensor(shape: shape, scalars: values)
        }
    }

    mutating func reshaped(_ t: Tensor<Double>, _ shapeNode: Node?, _ what: String) throws -> Tensor<Double> {
        guard let shapeNode else { return t }
        let s = try shape(shapeNode, what)
        guard s.reduce(1, *) == t.count else {
            throw error("\(what): shape \(s.shapeText) holds \(s.reduce(1, *)) elements but the generator makes \(t.count)", at: shapeNode)
        }
        return t.reshaped(s)
    }
}
