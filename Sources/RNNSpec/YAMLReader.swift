import CYaml
import Foundation
import RNNKernels
import Yams

/// Limits that keep a hostile file from exhausting memory, checked before the work they bound.
///
/// - `maxFileBytes` is checked on the file's size before it is read (and on the bytes, for text
///   that arrives as data), for case files and goldens alike.
/// - `maxElements` bounds the scalars a case or golden holds. The libyaml token pre-scan counts
///   every scalar of the file (numbers, words and keys alike) and every empty value or empty
///   list, before any node is built, and refuses a file with more than
///   `maxElements + scalarAllowance` of them; decoding then counts the elements of each tensor
///   (generators included, each element once) against `maxElements` itself. With the nesting
///   limit of 64 levels, the node tree is at most 65 nodes per counted scalar, so its memory is
///   bounded by the limit before it is built.
public struct LoadLimits: Sendable, Equatable {
    /// The most scalars one case may hold across all its inputs and expectations.
    public var maxElements: Int
    /// The largest case file or golden read, in bytes.
    public var maxFileBytes: Int

    /// Scalars a file may hold beyond `maxElements` before the pre-scan refuses it: the keys,
    /// kernel name, params, tags and shape lists around the data. The most any case or golden
    /// of the suite has is 218 (keys and words, in `interop/grad/torch_lstm_proj_...`).
    public static let scalarAllowance = 4096

    /// 256 MiB. A case at the default element limit (50,000,000) written compactly (`0, ` is
    /// the shortest number with its separator, about 5 bytes with a typical digit or two) needs
    /// about 250 MB, so the default admits any file the element limit admits in compact form, and
    /// refuses a multi-gigabyte file (or a link to a device) before it is read. Goldens print
    /// float64 numbers in full (about 20 bytes each): one above about 12,000,000 such numbers
    /// needs a larger limit (`--max-file-bytes`).
    public static let defaultMaxFileBytes = 256 << 20

    /// Limits of `maxElements` scalars per case and `maxFileBytes` bytes per file.
    public init(maxElements: Int = 50_000_000, maxFileBytes: Int = LoadLimits.defaultMaxFileBytes) {
        self.maxElements = maxElements
        self.maxFileBytes = maxFileBytes
    }

    /// The most scalars the token pre-scan lets through: `maxElements + scalarAllowance`.
    public var maxScalars: Int {
        let (n, overflow) = maxElements.addingReportingOverflow(Self.scalarAllowance)
        return overflow ? Int.max : n
    }

    /// Refuses a file of `byteCount` bytes over `maxFileBytes`; `file` is how messages name it.
    /// A pure function of the count, for every reader of case files and goldens to call on the
    /// size (`fstat`) before reading and on the bytes read.
    public func checkFileBytes(_ byteCount: Int, file: String) throws {
        guard byteCount > maxFileBytes else { return }
        throw SpecError("the file is \(byteCount) bytes, over the limit of \(maxFileBytes) bytes (raise it with --max-file-bytes)",
                        at: SourceLocation(file: file, line: 0, column: 0))
    }

    /// Reads a whole file, refusing it before reading when its size is over `maxFileBytes`, and
    /// reading at most `maxFileBytes + 1` bytes in any case (a file that grows, or a device). Only
    /// regular files are read: a FIFO, socket or device (through a link) is refused.
    public func readFile(_ url: URL, display: String) throws -> Data {
        let fd = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw SpecError("cannot read the file: \(String(cString: strerror(errno)))", at: SourceLocation(file: display, line: 0, column: 0))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw SpecError("cannot read the file: \(String(cString: strerror(errno)))", at: SourceLocation(file: display, line: 0, column: 0))
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw SpecError("cannot read the file: it is a directory", at: SourceLocation(file: display, line: 0, column: 0))
        default: throw SpecError("cannot read the file: it is not a regular file (a device, FIFO or socket)", at: SourceLocation(file: display, line: 0, column: 0))
        }
        try checkFileBytes(Int(st.st_size), file: display)
        let capacity = Int(st.st_size) < maxFileBytes ? Int(st.st_size) + 1 : maxFileBytes
        var data = Data(count: max(capacity, 1))
        var length = 0
        var failure: Int32 = 0
        while true {
            if length == data.count {
                // The file grew after fstat: read on, up to one byte over the limit.
                guard length <= maxFileBytes else { break }
                data.count = min(maxFileBytes + 1, max(length * 2, 4096))
            }
            let n = data.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress! + length, buffer.count - length)
            }
            if n < 0 { if errno == EINTR { continue }; failure = errno; break }
            if n == 0 { break }
            length += n
        }
        if failure != 0 {
            throw SpecError("cannot read the file: \(String(cString: strerror(failure)))", at: SourceLocation(file: display, line: 0, column: 0))
        }
        try checkFileBytes(length, file: display)
        data.count = length
        return data
    }
}

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

    // MARK: Parsing and locations

    /// Parses the text into its root node, turning Yams' errors into located errors.
    ///
    /// Before Yams builds nodes, a linear pass over libyaml's tokens refuses anchors and
    /// aliases (an alias bomb expands to billions of nodes), nesting deeper than `maxDepth`
    /// (the composer recurses once per level) and more scalars than `limits.maxScalars` (Yams
    /// spends about 300 bytes on a node: the limit is checked before they are built).
    static func compose(_ source: SourceText, maxDepth: Int = 64, limits: LoadLimits = LoadLimits()) throws -> Node? {
        try checkNesting(source, limit: maxDepth)
        try scanTokens(source, maxDepth: maxDepth, maxScalars: limits.maxScalars, maxElements: limits.maxElements)
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

    /// `compose`, with every long flow list of plain scalars (`[0.5, -1, 2e-3, ...]`, at least
    /// `PackedList.minimumCount` items) kept as text by the pre-scan instead of as Yams nodes:
    /// about 16 bytes an item instead of about 300. Yams composes the text with each such list
    /// blanked out to `[]` and spaces (line breaks kept, so every other node keeps its line and
    /// column); the reader finds the items by the list's position. Only pure-ASCII text without
    /// carriage returns is packed (bytes, characters and libyaml's indices coincide).
    static func composePacked(_ source: SourceText, maxDepth: Int = 64, limits: LoadLimits = LoadLimits()) throws -> (root: Node?, packed: [Int: PackedList]) {
        try checkNesting(source, limit: maxDepth)
        let lists = try scanTokens(source, maxDepth: maxDepth, maxScalars: limits.maxScalars, maxElements: limits.maxElements, packing: true)
        var text = source.text
        if !lists.isEmpty {
            var bytes = Array(source.text.utf8)
            for list in lists {
                bytes[list.start] = 0x5B                                   // [
                bytes[list.start + 1] = 0x5D                               // ]
                for i in (list.start + 2)..<list.end where bytes[i] != 0x0A { bytes[i] = 0x20 }
            }
            text = String(decoding: bytes, as: UTF8.self)
        }
        do {
            let root = try Yams.compose(yaml: text, .basic, .default, .utf8)
            return (root, Dictionary(lists.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a }))
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
    /// block or flow nesting deeper than `maxDepth`, and a file with more than `maxScalars`
    /// scalars. Syntax errors are left to the composer, which reports them with their context.
    ///
    /// Counted: every scalar token (numbers, words, keys), and every place where a node is
    /// expected but none is written (an empty value `key:`, an empty `- ` entry, an empty list
    /// `[]` or mapping `{}`), since the composer builds a node there too. Every other node is a
    /// list or mapping around these, at most `maxDepth` of them per counted one, so the count
    /// bounds the node tree before it exists.
    @discardableResult
    static func scanTokens(_ source: SourceText, maxDepth: Int, maxScalars: Int = Int.max, maxElements: Int = Int.max,
                           packing: Bool = false) throws -> [PackedList] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return [] }
        defer { yaml_parser_delete(&parser) }
        var text = source.text
        var packedLists: [PackedList] = []
        try text.withUTF8 { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // Flow lists being read, innermost last: nil once one holds anything but plain
            // scalars separated by single commas.
            let pack = packing && !buffer.contains(where: { $0 >= 0x80 || $0 == 0x0D })
            var open: [PackedList.Builder?] = []
            var previous = YAML_NO_TOKEN
            var depth = 0
            var scalars = 0
            // The previous token opened a place for a node (after `key`, `:`, `-`, `,`, `[`, `{`
            // or a tag); `afterValue`: that token was `:` (where `-` starts an indentless list).
            var expectingNode = false, afterValue = false
            var token = yaml_token_t()
            while true {
                guard yaml_parser_scan(&parser, &token) == 1 else { return }
                let type = token.type
                let mark = token.start_mark
                if pack {
                    switch type {
                    case YAML_FLOW_SEQUENCE_START_TOKEN:
                        if !open.isEmpty { open[open.count - 1] = nil }
                        open.append(PackedList.Builder(start: Int(mark.index), line: Int(mark.line) + 1, column: Int(mark.column) + 1))
                    case YAML_SCALAR_TOKEN:
                        if !open.isEmpty, open[open.count - 1] != nil {
                            if token.data.scalar.style == YAML_PLAIN_SCALAR_STYLE, previous == YAML_FLOW_SEQUENCE_START_TOKEN || previous == YAML_FLOW_ENTRY_TOKEN {
                                let value = UnsafeBufferPointer(start: token.data.scalar.value, count: token.data.scalar.length)
                                open[open.count - 1]!.texts.append(String(decoding: value, as: UTF8.self))
                            } else {
                                open[open.count - 1] = nil
                            }
                        }
                    case YAML_FLOW_ENTRY_TOKEN:
                        // An empty entry (`[, 1]`, `[1, , 2]`) is left to the composer's error.
                        if !open.isEmpty, previous != YAML_SCALAR_TOKEN { open[open.count - 1] = nil }
                    case YAML_FLOW_SEQUENCE_END_TOKEN:
                        if let last = open.popLast(), let builder = last, builder.texts.count >= PackedList.minimumCount,
                           previous == YAML_SCALAR_TOKEN || previous == YAML_FLOW_ENTRY_TOKEN {
                            packedLists.append(PackedList(builder, end: Int(token.end_mark.index)))
                        }
                    default:
                        if !open.isEmpty { open[open.count - 1] = nil }
                    }
                    previous = type
                }
                yaml_token_delete(&token)
                switch type {
                case YAML_SCALAR_TOKEN, YAML_FLOW_SEQUENCE_START_TOKEN, YAML_FLOW_MAPPING_START_TOKEN,
                     YAML_BLOCK_SEQUENCE_START_TOKEN, YAML_BLOCK_MAPPING_START_TOKEN, YAML_TAG_TOKEN,
                     YAML_ANCHOR_TOKEN, YAML_ALIAS_TOKEN:
                    break
                case YAML_BLOCK_ENTRY_TOKEN where afterValue:
                    break
                default:
                    if expectingNode { scalars += 1 }   // an empty node
                }
                if type == YAML_SCALAR_TOKEN { scalars += 1 }
                if scalars > maxScalars {
                    throw source.error("the file holds more than \(maxScalars) scalars (numbers, words and keys): the limit is \(maxElements) elements per case plus \(LoadLimits.scalarAllowance) for keys and words (raise it with --max-elements)",
                                       line: Int(mark.line) + 1, column: Int(mark.column) + 1)
                }
                switch type {
                case YAML_KEY_TOKEN, YAML_VALUE_TOKEN, YAML_BLOCK_ENTRY_TOKEN, YAML_FLOW_ENTRY_TOKEN,
                     YAML_FLOW_SEQUENCE_START_TOKEN, YAML_FLOW_MAPPING_START_TOKEN, YAML_TAG_TOKEN:
                    expectingNode = true
                default:
                    expectingNode = false
                }
                afterValue = type == YAML_VALUE_TOKEN
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
        return packedLists
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
            if let near = suggestion(for: entry.key, in: allowed) {
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

    /// Whether a scalar is written as a string: quoted (`"1.0"`, `'1.0'`), a block scalar (`|`,
    /// `>`) or tagged (`!!str 1.0`, `! 1.0`). Such a scalar is never read as a number or boolean.
    /// (Yams gives an untagged plain scalar the implicit tag, whose name is empty; the tag is
    /// read before anything resolves it.)
    func isWrittenAsString(_ s: Node.Scalar) -> Bool {
        if s.style != .plain && s.style != .any { return true }
        let tag = s.tag.description
        return !(tag.isEmpty || tag == "tag:yaml.org,2002:float" || tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:bool")
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

    func real(_ node: Node, _ what: String) throws -> Double {
        guard case .scalar(let s) = node else {
            throw error("\(what) must be a number, found \(describe(node))", at: node)
        }
        if isWrittenAsString(s), !s.string.isEmpty {
            throw error("\(what) must be a number, found \(describeString(s))", at: node)
        }
        guard let v = NumberText.parseReal(s.string) else {
            if NumberText.overflows(s.string) {
                throw error("\(what): \(s.string) overflows float64 (the largest is about 1.8e308); infinities are written .inf and -.inf", at: node)
            }
            throw error("\(what) must be a number, found \(describe(node))", at: node)
        }
        return v
    }

    func integer(_ node: Node, _ what: String) throws -> Int {
        guard case .scalar(let s) = node else { throw error("\(what) must be an integer, found \(describe(node))", at: node) }
        if isWrittenAsString(s), !s.string.isEmpty {
            throw error("\(what) must be an integer, found \(describeString(s))", at: node)
        }
        if let v = NumberText.parseInteger(s.string) { return v }
        // Digits with at most a leading sign that Int cannot hold: too large.
        let digits = s.string.hasPrefix("-") || s.string.hasPrefix("+") ? s.string.dropFirst() : Substring(s.string)
        if !digits.isEmpty, digits.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) {
            throw error("\(what): \(s.string) is too large for a 64-bit integer", at: node)
        }
        if NumberText.parseReal(s.string) != nil || NumberText.overflows(s.string) {
            let v = NumberText.parseReal(s.string) ?? .infinity
            let kind = v.isNaN || v.isInfinite ? "'\(s.string)'" : "the number '\(s.string)'"
            throw error("\(what) must be an integer, found \(kind); integers (indices, token ids, counts) are written without a decimal point or exponent", at: node)
        }
        throw error("\(what) must be an integer, found \(describe(node))", at: node)
    }

    func boolean(_ node: Node, _ what: String) throws -> Bool {
        guard case .scalar(let s) = node else { throw error("\(what) must be true or false, found \(describe(node))", at: node) }
        if isWrittenAsString(s) {
            throw error("\(what) must be true or false, found \(describeString(s))", at: node)
        }
        switch s.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw error("\(what) must be true or false, found \(describe(node))", at: node)
        }
    }

    func list(_ node: Node, _ what: String) throws -> [Node] {
        guard case .sequence(let seq) = node else { throw error("\(what) must be a list, found \(describe(node))", at: node) }
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
        let body = String(decoding: u[u.index(u.startIndex, offsetBy: p.start)..<u.index(u.startIndex, offsetBy: p.end)], as: UTF8.self)
        let text = String(repeating: "\n", count: p.line - 1) + String(repeating: " ", count: p.column - 1) + body
        guard case .sequence(let seq)? = try Yams.compose(yaml: text, .basic, .default, .utf8), seq.count == p.texts.count else {
            throw source.error("internal error: a packed list does not read back", line: p.line, column: p.column)
        }
        return Array(seq)
    }

    func stringList(_ node: Node, _ what: String) throws -> [String] {
        if case .scalar = node { return [try string(node, what)] }
        return try list(node, what).map { try string($0, what) }
    }

    // MARK: Shapes and element budget

    /// A shape list such as `[2, 3]`: non-negative extents whose product fits the element limit,
    /// counted against it unless `reserve` is false (a reshape, or a golden whose values are
    /// counted as they are read). The product of the non-zero extents must fit the limit too:
    /// a zero-size tensor `[0, 2^62]` holds nothing, but a kernel multiplying its other extents
    /// would overflow, so such shapes are refused with the numbers.
    mutating func shape(_ node: Node, _ what: String, reserve: Bool = true) throws -> [Int] {
        let items = try list(node, "\(what) shape")
        // Nested lists stop at 64 levels; a shape list is held to the same rank.
        guard items.count <= 64 else {
            throw error("\(what): shape has \(items.count) dimensions; rnnspec tensors have at most 64", at: node)
        }
        let dims = try items.map { try integer($0, "\(what): a dimension") }
        if let bad = dims.first(where: { $0 < 0 }) {
            throw error("\(what): dimension \(bad) is negative; a shape lists extents ≥ 0", at: node)
        }
        let total = try elementCount(dims, at: node, what)
        if reserve { try self.reserve(total, at: node, what) }
        return dims
    }

    /// The number of elements of a shape of non-negative extents, or a located error with the
    /// numbers when the product overflows 64 bits or when the product of its non-zero extents is
    /// over the element limit (an empty tensor with a huge extent).
    func elementCount(_ dims: [Int], at node: Node, _ what: String) throws -> Int {
        var nonZero = 1
        for d in dims where d != 0 {
            let (p, overflow) = nonZero.multipliedReportingOverflow(by: d)
            if overflow { throw error("\(what): shape \(dims.shapeText) overflows a 64-bit element count", at: node) }
            nonZero = p
        }
        if dims.contains(0) {
            if nonZero > limits.maxElements {
                throw error("\(what): shape \(dims.shapeText) is empty, but its non-zero extents multiply to \(nonZero), over the limit of \(limits.maxElements) elements per case (raise it with --max-elements)", at: node)
            }
            return 0
        }
        return nonZero
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
            return .integer(Tensor(shape: shape, scalars: try leaves.map(self, NumberText.parseInteger) { try integer($0, "\(what): an element") }))
        case .string:
            let (shape, leaves) = try nested(node, what)
            return .string(Tensor(shape: shape, scalars: try leaves.map(self, { $0 }) { try string($0, "\(what): an element") }))
        case .boolean:
            let (shape, leaves) = try nested(node, what)
            return .boolean(Tensor(shape: shape, scalars: try leaves.map(self, NumberText.parseBoolean) { try boolean($0, "\(what): an element") }))
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
        return Tensor(shape: shape, scalars: try leaves.map(self, NumberText.parseReal) { try real($0, "\(what): an element") })
    }

    /// The shape and the scalar leaves of nested lists; ragged lists are an error that
    /// points at the row that differs.
    mutating func nested(_ node: Node, _ what: String) throws -> ([Int], Leaves) {
        switch node {
        case .scalar:
            try reserve(1, at: node, what)
            return ([], Leaves(nodes: [node]))
        case .sequence(let seq):
            if let p = packedList(node) {
                // As if counted one scalar at a time: an error names the item over the limit.
                let room = limits.maxElements - elements
                if p.texts.count > room {
                    let over = try materialize(p)[max(room, 0)]
                    elements += max(room, 0)
                    try reserve(1, at: over, what)
                }
                try reserve(p.texts.count, at: node, what)
                return ([p.texts.count], Leaves(packed: p))
            }
            let items = Array(seq)
            if items.isEmpty { return ([0], Leaves()) }
            var shape: [Int]? = nil
            var leaves = Leaves()
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
            if kinds.isEmpty, let first = entries.first, let near = suggestion(for: first.key, in: ["data", "eye", "zeros", "ones", "full", "range", "linspace", "random"]) {
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
            let items = try packedList(dataNode).map { Leaves(packed: $0) } ?? Leaves(nodes: try list(dataNode, "\(what) data"))
            let expected = try elementCount(shape, at: shapeNode, what)
            guard items.count == expected else {
                throw error("\(what): shape \(shape.shapeText) needs \(expected) numbers but data has \(items.count)", at: dataNode)
            }
            return Tensor(shape: shape, scalars: try items.map(self, NumberText.parseReal) { try real($0, "\(what) data: an element") })
        case "eye":
            try checkKeys(entries, allowed: ["eye", "scale"], in: "\(what) eye generator")
            let eyeNode = field("eye")!
            let dims: [Int]
            if case .sequence(let seq) = eyeNode {
                guard seq.count == 2 else { throw error("\(what): eye takes N or [rows, columns]", at: eyeNode) }
                dims = try shape(eyeNode, what)
            } else {
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
            // (stop − start) / step may overflow to ±inf, or be negative or NaN: only a count in
            // 0...limit is converted to an integer.
            let countD = ((args[1] - args[0]) / step).rounded(.up)
            let count: Int
            if countD.isNaN || countD <= 0 {
                count = 0
            } else if countD <= Double(limits.maxElements), countD < 0x1p62 {
                count = Int(countD)
            } else {
                throw error("\(what): range [\(args.map { NumberText.format($0) }.joined(separator: ", "))] needs \(NumberText.format(countD)) elements, over the limit of \(limits.maxElements) per case (raise it with --max-elements)", at: rangeNode)
            }
            try reserve(count, at: rangeNode, what)
            let values = (0..<count).map { args[0] + Double($0) * step }
            return try reshaped(Tensor(values), field("shape"), what)
        case "linspace":
            try checkKeys(entries, allowed: ["linspace", "shape"], in: "\(what) linspace generator")
            let lsNode = field("linspace")!
            let args = try list(lsNode, "\(what): linspace")
            guard args.count == 3 else { throw error("\(what): linspace takes [start, stop, count]", at: lsNode) }
            let a = try real(args[0], "\(what): start"), b = try real(args[1], "\(what): stop")
            guard a.isFinite, b.isFinite else { throw error("\(what): linspace needs a finite start and stop", at: lsNode) }
            let n = try integer(args[2], "\(what): count")
            guard n >= 0 else { throw error("\(what): linspace count must be ≥ 0", at: args[2]) }
            try reserve(n, at: args[2], what)
            // numpy.linspace: start + k·step, and the last point exactly `stop`. (b − a) may
            // overflow for finite bounds of opposite signs near the largest double: refused.
            let step = n > 1 ? (b - a) / Double(n - 1) : 0
            guard step.isFinite else { throw error("\(what): linspace from \(NumberText.format(a)) to \(NumberText.format(b)) overflows float64", at: lsNode) }
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
            let n = try elementCount(shape, at: shapeNode, what)
            // The distribution's parameters must be finite (a NaN or infinite mean, std or bound
            // gives no distribution); std ≥ 0, like numpy's scale.
            func parameter(_ key: String, default value: Double) throws -> Double {
                guard let node = field(key) else { return value }
                let v = try real(node, "\(what): \(key)")
                guard v.isFinite else { throw error("\(what): \(key) must be finite, found \(NumberText.format(v))", at: node) }
                return v
            }
            var values: [Double]
            if dist == "normal" {
                let mean = try parameter("mean", default: 0)
                let std = try parameter("std", default: 1)
                guard std >= 0 else { throw error("\(what): std must be ≥ 0, found \(NumberText.format(std))", at: field("std")!) }
                values = (0..<n).map { _ in mean + std * rng.nextNormal() }
            } else {
                let low = try parameter("low", default: 0)
                let high = try parameter("high", default: 1)
                guard (high - low).isFinite else {
                    throw error("\(what): high − low (\(NumberText.format(high)) − \(NumberText.format(low))) overflows float64", at: field("high") ?? node)
                }
                values = (0..<n).map { _ in low + (high - low) * rng.nextUniform() }
            }
            // Finite parameters near the largest double can still overflow a value.
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw error("\(what): random value \(bad) overflows float64 (\(NumberText.format(values[bad]))); use smaller parameters", at: node)
            }
            return Tensor(shape: shape, scalars: values)
        }
    }

    /// The generator's values in `shape:`; they were counted against the limit once, when made.
    mutating func reshaped(_ t: Tensor<Double>, _ shapeNode: Node?, _ what: String) throws -> Tensor<Double> {
        guard let shapeNode else { return t }
        let s = try shape(shapeNode, what, reserve: false)
        let count = try elementCount(s, at: shapeNode, what)
        guard count == t.count else {
            throw error("\(what): shape \(s.shapeText) holds \(count) elements but the generator makes \(t.count)", at: shapeNode)
        }
        return t.reshaped(s)
    }
}

// MARK: Suggestions for words of any length

/// `closestMatch(to:in:)` for a word of any length. A word longer than twice the longest
/// candidate plus 4 is beyond its edit-distance threshold from every candidate, so it is not
/// compared: the distance costs |word|·|candidate| steps, and a key or kernel name of a few
/// megabytes took minutes.
func suggestion(for word: String, in candidates: [String]) -> String? {
    let longest = candidates.map(\.count).max() ?? 0
    guard word.unicodeScalars.count <= 2 * longest + 4 else { return nil }
    return closestMatch(to: word, in: candidates)
}

/// `closestMatches(to:in:)` for a word of any length. Beyond twice the longest candidate plus
/// 6, only candidates the word starts with can match, and their distance is the difference in
/// length (deletions), so the result is the same without computing any distance.
func suggestions(for word: String, in candidates: [String], limit: Int = 3) -> [String] {
    let longest = candidates.map { $0.unicodeScalars.count }.max() ?? 0
    let length = word.unicodeScalars.count
    guard length > 2 * longest + 6 else { return closestMatches(to: word, in: candidates, limit: limit) }
    let lower = word.lowercased()
    var scored = candidates.filter { word.hasPrefix($0) && lower.hasPrefix($0.lowercased()) }.map { (name: $0, distance: length - $0.unicodeScalars.count) }
    scored.sort { a, b in a.distance != b.distance ? a.distance < b.distance : a.name < b.name }
    guard let best = scored.first?.distance else { return [] }
    return scored.filter { $0.distance <= best + 1 }.prefix(limit).map { $0.name }
}

// MARK: Packed lists

/// A long flow list of plain scalars, kept as its items' text by the token pre-scan instead of
/// as Yams nodes (see `NodeReader.composePacked`).
final class PackedList: @unchecked Sendable {
    /// Lists shorter than this are left to Yams: the saving is in the long ones.
    static let minimumCount = 64

    /// The items' text, as Yams gives it for a plain scalar.
    let texts: [String]
    /// Byte offsets of the `[` and just after the `]`.
    let start: Int, end: Int
    /// 1-based line and column of the `[`.
    let line: Int, column: Int

    var key: Int { Self.key(line: line, column: column) }
    static func key(line: Int, column: Int) -> Int { line << 32 | column }

    struct Builder {
        var start: Int, line: Int, column: Int
        var texts: [String] = []
    }

    init(_ builder: Builder, end: Int) {
        texts = builder.texts
        start = builder.start
        self.end = end
        line = builder.line
        column = builder.column
    }
}

/// The scalar leaves of nested lists, in order: Yams nodes and packed lists.
struct Leaves {
    var nodes: [Node] = []
    /// Packed lists and the number of `nodes` before each.
    var packed: [(at: Int, list: PackedList)] = []
    private(set) var count = 0

    init() {}
    init(nodes: [Node]) { self.nodes = nodes; count = nodes.count }
    init(packed: PackedList) { self.packed = [(0, packed)]; count = packed.texts.count }

    mutating func append(contentsOf other: Leaves) {
        if !other.packed.isEmpty {
            let offset = nodes.count
            packed += other.packed.map { ($0.at + offset, $0.list) }
        }
        nodes += other.nodes
        count += other.count
    }

    /// Converts every leaf: a packed item with `fast` from its text, or through `slow` on its
    /// node (materialized, for the error it throws) when `fast` gives nil; a node with `slow`.
    func map<T>(_ reader: NodeReader, _ fast: (String) -> T?, _ slow: (Node) throws -> T) throws -> [T] {
        if packed.isEmpty { return try nodes.map(slow) }
        var out: [T] = []
        out.reserveCapacity(count)
        var n = 0
        for (at, list) in packed {
            while n < at { out.append(try slow(nodes[n])); n += 1 }
            for (k, text) in list.texts.enumerated() {
                if let v = fast(text) { out.append(v) } else { out.append(try slow(try reader.materialize(list)[k])) }
            }
        }
        while n < nodes.count { out.append(try slow(nodes[n])); n += 1 }
        return out
    }
}
