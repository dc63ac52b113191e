import CYaml
import Foundation
import RNNKernels
import Yams

/// Reads Yams nodes of one file into rnnspec values, turning every problem into a
/// `SpecError` that points at the node's line and column.
struct NodeReader {
    let source: SourceText
    let limits: LoadLimits
    /// Scalars decoded so far, checked against `limits.maxElements`.
    private(set) var elements = 0
    /// Long lists of plain scalars that the pre-scan kept as text (`composePacked`), by the
    /// line and column of their `[`; Yams saw an empty list there.
    var packed: [Int: PackedList] = [:]

    init(source: SourceText, limits: LoadLimits) {
        self.source = source
        self.limits = limits
    }

    /// Whether a mapping key reads as `name`: `key.string == name` for a scalar (Yams reads a scalar
    /// as its text) without building the string.
    func isKey(_ key: Node, _ name: String) -> Bool {
        if case .scalar(let scalar) = key { return scalar.string == name }
        return false
    }

    /// Whether a key of `m` satisfies `test`, going by index: iterating a Yams mapping copies all its
    /// pairs into a new array first.
    func hasKey(_ m: Node.Mapping, _ test: (Node) -> Bool) -> Bool {
        var i = m.startIndex
        while i < m.endIndex {
            if test(m[i].key) { return true }
            i = m.index(after: i)
        }
        return false
    }

    // MARK: Locations

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
    func mapping(_ node: Node, _ what: @autoclosure () -> String) throws -> [(key: String, keyNode: Node, value: Node)]
    {
        guard case .mapping(let mapping) = node else {
            throw error("\(what()) must be a mapping (key: value lines), found \(describe(node))", at: node)
        }
        return try mapping.map { key, value in
            guard case .scalar(let s) = key else { throw error("\(what()): keys must be plain words", at: key) }
            return (s.string, key, value)
        }
    }

    /// Rejects keys outside `allowed`, naming the closest allowed one.
    func checkKeys(
        _ entries: [(key: String, keyNode: Node, value: Node)], allowed: [String], in what: @autoclosure () -> String
    ) throws {
        // By index: copying an entry copies its nodes.
        for i in entries.indices where !allowed.contains(entries[i].key) {
            let entry = entries[i]
            let hint = didYouMean(entry.key, in: allowed)
            throw error(
                "unknown field '\(entry.key)' in \(what())"
                    + (hint.isEmpty ? "; expected one of " + listPhrase(allowed) : hint), at: entry.keyNode)
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

    func string(_ node: Node, _ what: @autoclosure () -> String) throws -> String {
        guard case .scalar(let s) = node else {
            throw error("\(what()) must be text, found \(describe(node))", at: node)
        }
        return s.string
    }

    /// Whether a scalar is written as a string: quoted (`"1.0"`, `'1.0'`), a block scalar (`|`,
    /// `>`) or tagged (`!!str 1.0`, `! 1.0`). Such a scalar is never read as a number or boolean.
    /// (Yams gives an untagged plain scalar the implicit tag, whose name is empty; the tag is
    /// read before anything resolves it.)
    func isWrittenAsString(_ s: Node.Scalar) -> Bool {
        if s.style != .plain && s.style != .any { return true }
        let tag = s.tag.description
        return
            !(tag.isEmpty || tag == "tag:yaml.org,2002:float" || tag == "tag:yaml.org,2002:int"
            || tag == "tag:yaml.org,2002:bool")
    }

    /// "the string '1.0'" with how it was made one.
    func describeString(_ s: Node.Scalar) -> String {
        let how: String
        switch s.style {
        case .singleQuoted, .doubleQuoted: how = "quoted"
        case .literal, .folded: how = "a block scalar"
        default: how = "tagged \(s.tag.description.replacingOccurrences(of: "tag:yaml.org,2002:", with: "!!"))"
        }
        return "the string '\(s.string)' (\(how), so a string, not a number or boolean; write numbers without quotes)"
    }

    func real(_ node: Node, _ what: @autoclosure () -> String) throws -> Double {
        guard case .scalar(let s) = node else {
            throw error("\(what()) must be a number, found \(describe(node))", at: node)
        }
        if isWrittenAsString(s), !s.string.isEmpty {
            throw error("\(what()) must be a number, found \(describeString(s))", at: node)
        }
        guard let v = NumberText.parseReal(s.string) else {
            if NumberText.overflows(s.string) {
                throw error(
                    "\(what()): \(s.string) overflows float64 (the largest is about 1.8e308); infinities are written .inf and -.inf",
                    at: node)
            }
            throw error("\(what()) must be a number, found \(describe(node))", at: node)
        }
        return v
    }

    func integer(_ node: Node, _ what: @autoclosure () -> String) throws -> Int {
        guard case .scalar(let s) = node else {
            throw error("\(what()) must be an integer, found \(describe(node))", at: node)
        }
        if isWrittenAsString(s), !s.string.isEmpty {
            throw error("\(what()) must be an integer, found \(describeString(s))", at: node)
        }
        if let v = NumberText.parseInteger(s.string) { return v }
        // Digits with at most a leading sign that Int cannot hold: too large.
        let digits = s.string.hasPrefix("-") || s.string.hasPrefix("+") ? s.string.dropFirst() : Substring(s.string)
        if !digits.isEmpty, digits.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) {
            throw error("\(what()): \(s.string) is too large for a 64-bit integer", at: node)
        }
        if NumberText.parseReal(s.string) != nil || NumberText.overflows(s.string) {
            let v = NumberText.parseReal(s.string) ?? .infinity
            let kind = v.isNaN || v.isInfinite ? "'\(s.string)'" : "the number '\(s.string)'"
            throw error(
                "\(what()) must be an integer, found \(kind); integers (indices, token ids, counts) are written without a decimal point or exponent",
                at: node)
        }
        throw error("\(what()) must be an integer, found \(describe(node))", at: node)
    }

    func boolean(_ node: Node, _ what: @autoclosure () -> String) throws -> Bool {
        guard case .scalar(let s) = node else {
            throw error("\(what()) must be true or false, found \(describe(node))", at: node)
        }
        if isWrittenAsString(s) {
            throw error("\(what()) must be true or false, found \(describeString(s))", at: node)
        }
        guard let value = NumberText.parseBoolean(s.string) else {
            throw error("\(what()) must be true or false, found \(describe(node))", at: node)
        }
        return value
    }

    func list(_ node: Node, _ what: @autoclosure () -> String) throws -> [Node] {
        guard case .sequence(let seq) = node else {
            throw error("\(what()) must be a list, found \(describe(node))", at: node)
        }
        if let p = packedList(node) { return try materialize(p) }
        return Array(seq)
    }

    /// The packed list Yams saw as the empty list `node`, if it is one.
    func packedList(_ node: Node) -> PackedList? {
        guard !packed.isEmpty, case .sequence(let seq) = node, seq.isEmpty, let mark = node.mark else { return nil }
        return packed[PackedList.key(line: mark.line, column: mark.column)]
    }

    /// The items of a packed list as Yams nodes at their lines and columns (for messages, and
    /// for the lists that are not tensors): the list's own text, composed after as many line
    /// breaks and spaces as came before it.
    func materialize(_ p: PackedList) throws -> [Node] {
        let u = source.text.utf8
        let body = String(
            decoding: u[u.index(u.startIndex, offsetBy: p.start)..<u.index(u.startIndex, offsetBy: p.end)],
            as: UTF8.self)
        let text = String(repeating: "\n", count: p.line - 1) + String(repeating: " ", count: p.column - 1) + body
        guard case .sequence(let seq)? = try Yams.compose(yaml: text, .basic, .default, .utf8),
            seq.count == p.texts.count
        else {
            throw source.error("internal error: a packed list does not read back", line: p.line, column: p.column)
        }
        return Array(seq)
    }

    func stringList(_ node: Node, _ what: @autoclosure () -> String) throws -> [String] {
        if case .scalar = node { return [try string(node, what())] }
        return try list(node, what()).map { try string($0, what()) }
    }

    // MARK: Shapes and element budget

    /// A shape list such as `[2, 3]`: non-negative extents whose product fits the element limit,
    /// counted against it unless `reserve` is false (a reshape, or a golden whose values are
    /// counted as they are read). The product of the non-zero extents must fit the limit too:
    /// a zero-size tensor `[0, 2^62]` holds nothing, but a kernel multiplying its other extents
    /// would overflow, so such shapes are refused with the numbers.
    mutating func shape(_ node: Node, _ what: @autoclosure () -> String, reserve: Bool = true) throws -> [Int] {
        let items = try list(node, "\(what()) shape")
        // Nested lists stop at 64 levels; a shape list is held to the same rank.
        guard items.count <= 64 else {
            throw error("\(what()): shape has \(items.count) dimensions; rnnspec tensors have at most 64", at: node)
        }
        let dims = try items.map { try integer($0, "\(what()): a dimension") }
        if let bad = dims.first(where: { $0 < 0 }) {
            throw error("\(what()): dimension \(bad) is negative; a shape lists extents ≥ 0", at: node)
        }
        let total = try elementCount(dims, at: node, what())
        if reserve { try self.reserve(total, at: node, what()) }
        return dims
    }

    /// The number of elements of a shape of non-negative extents, or a located error with the
    /// numbers when the product overflows 64 bits or when the product of its non-zero extents is
    /// over the element limit (an empty tensor with a huge extent).
    func elementCount(_ dims: [Int], at node: Node, _ what: @autoclosure () -> String) throws -> Int {
        var nonZero = 1
        for d in dims where d != 0 {
            let (p, overflow) = nonZero.multipliedReportingOverflow(by: d)
            if overflow { throw error("\(what()): shape \(dims.shapeText) overflows a 64-bit element count", at: node) }
            nonZero = p
        }
        if dims.contains(0) {
            if nonZero > limits.maxElements {
                throw error(
                    "\(what()): shape \(dims.shapeText) is empty, but its non-zero extents multiply to \(nonZero), over the limit of \(limits.maxElements) elements per case (raise it with --max-elements)",
                    at: node)
            }
            return 0
        }
        return nonZero
    }

    /// Counts `count` more scalars against the limit.
    mutating func reserve(_ count: Int, at node: Node, _ what: @autoclosure () -> String) throws {
        let (total, overflow) = elements.addingReportingOverflow(count)
        if overflow || total > limits.maxElements {
            throw error(
                "\(what()) needs \(count) elements, over the limit of \(limits.maxElements) per case (raise it with --max-elements)",
                at: node)
        }
        elements = total
    }

    // MARK: Values

    /// Decodes a value of the given kind: a scalar, nested lists, `{shape, data}` or a generator.
    mutating func value(_ node: Node, kind: ValueKind, _ what: @autoclosure () -> String) throws -> Value {
        switch kind {
        case .real:
            return .real(RealTensor(try realTensor(node, what())))
        case .integer:
            let (shape, leaves) = try nested(node, what())
            return .integer(
                Tensor(
                    shape: shape,
                    scalars: try leaves.map(self, NumberText.parseInteger) { try integer($0, "\(what()): an element") })
            )
        case .string:
            let (shape, leaves) = try nested(node, what())
            return .string(
                Tensor(shape: shape, scalars: try leaves.map(self, { $0 }) { try string($0, "\(what()): an element") }))
        case .boolean:
            let (shape, leaves) = try nested(node, what())
            return .boolean(
                Tensor(
                    shape: shape,
                    scalars: try leaves.map(self, NumberText.parseBoolean) { try boolean($0, "\(what()): an element") })
            )
        case .realList:
            // A list whose items are tensors; a plain vector is a list of one tensor.
            if case .sequence(let seq) = node, let first = seq.first, !isScalar(first) {
                return .list(
                    try seq.enumerated().map { k, item in .real(RealTensor(try realTensor(item, "\(what())[\(k)]"))) })
            }
            return .list([.real(RealTensor(try realTensor(node, what())))])
        }
    }

    func isScalar(_ node: Node) -> Bool { if case .scalar = node { return true } else { return false } }

    /// A real tensor from nested lists, `{shape, data}` or a generator.
    mutating func realTensor(_ node: Node, _ what: @autoclosure () -> String) throws -> Tensor<Double> {
        if case .mapping = node { return try generated(node, what()) }
        let (shape, leaves) = try nested(node, what())
        return Tensor(
            shape: shape, scalars: try leaves.map(self, NumberText.parseReal) { try real($0, "\(what()): an element") })
    }

    /// The shape and the scalar leaves of nested lists; ragged lists are an error that
    /// points at the row that differs.
    mutating func nested(_ node: Node, _ what: @autoclosure () -> String) throws -> ([Int], Leaves) {
        switch node {
        case .scalar:
            try reserve(1, at: node, what())
            return ([], Leaves(nodes: [node]))
        case .sequence(let seq):
            if let p = packedList(node) {
                // As if counted one scalar at a time: an error names the item over the limit.
                let room = limits.maxElements - elements
                if p.texts.count > room {
                    let over = try materialize(p)[max(room, 0)]
                    elements += max(room, 0)
                    try reserve(1, at: over, what())
                }
                try reserve(p.texts.count, at: node, what())
                return ([p.texts.count], Leaves(packed: p))
            }
            let items = Array(seq)
            if items.isEmpty { return ([0], Leaves()) }
            var shape: [Int]? = nil
            var leaves = Leaves()
            for (k, item) in items.enumerated() {
                if case .mapping = item {
                    throw error(
                        "\(what()): a nested list holds numbers or lists, not a mapping; use {shape: [...], data: [...]} for the whole value",
                        at: item)
                }
                let (s, l) = try nested(item, what())
                if let expected = shape, expected != s {
                    throw error(
                        "\(what()): ragged list: item \(k) has shape \(s.shapeText) but item 0 has shape \(expected.shapeText); every row must have the same length",
                        at: item)
                }
                shape = s
                leaves.append(contentsOf: l)
            }
            return ([items.count] + shape!, leaves)
        case .mapping:
            throw error("\(what()): expected a list of values, found a mapping", at: node)
        case .alias:
            throw error("\(what()): aliases are not supported here", at: node)
        }
    }
}
