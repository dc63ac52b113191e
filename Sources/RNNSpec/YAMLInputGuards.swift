import CYaml
import Foundation
import RNNKernels
import RNNPlatform
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
        throw SpecError(
            "the file is \(byteCount) bytes, over the limit of \(maxFileBytes) bytes (raise it with --max-file-bytes)",
            at: SourceLocation(file: file, line: 0, column: 0))
    }

    /// Reads a whole file, refusing it before reading when its size is over `maxFileBytes`, and
    /// reading at most `maxFileBytes + 1` bytes in any case (a file that grows, or a device). Only
    /// regular files are read: a FIFO, socket or device (through a link) is refused.
    public func readFile(_ url: URL, display: String) throws -> Data {
        let fd = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw SpecError(
                "cannot read the file: \(String(cString: strerror(errno)))",
                at: SourceLocation(file: display, line: 0, column: 0))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw SpecError(
                "cannot read the file: \(String(cString: strerror(errno)))",
                at: SourceLocation(file: display, line: 0, column: 0))
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR:
            throw SpecError(
                "cannot read the file: it is a directory", at: SourceLocation(file: display, line: 0, column: 0))
        default:
            throw SpecError(
                "cannot read the file: it is not a regular file (a device, FIFO or socket)",
                at: SourceLocation(file: display, line: 0, column: 0))
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
                RNNPlatform.read(fd, buffer.baseAddress! + length, buffer.count - length)
            }
            if n < 0 { if errno == EINTR { continue }; failure = errno; break }
            if n == 0 { break }
            length += n
        }
        if failure != 0 {
            throw SpecError(
                "cannot read the file: \(String(cString: strerror(failure)))",
                at: SourceLocation(file: display, line: 0, column: 0))
        }
        try checkFileBytes(length, file: display)
        data.count = length
        return data
    }
}

extension NodeReader {
    // MARK: Parsing under limits

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
    static func composePacked(_ source: SourceText, maxDepth: Int = 64, limits: LoadLimits = LoadLimits()) throws -> (
        root: Node?, packed: [Int: PackedList]
    ) {
        // The usual case file, straight into nodes (the same nodes; nil for anything else).
        if let root = FastComposer.compose(source.text, maxDepth: maxDepth, maxScalars: limits.maxScalars) {
            return (root, [:])
        }
        try checkNesting(source, limit: maxDepth)
        let lists = try scanTokens(
            source, maxDepth: maxDepth, maxScalars: limits.maxScalars, maxElements: limits.maxElements, packing: true)
        var text = source.text
        if !lists.isEmpty {
            var bytes = Array(source.text.utf8)
            for list in lists {
                bytes[list.start] = 0x5B  // [
                bytes[list.start + 1] = 0x5D  // ]
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
                    throw source.error(
                        "nesting deeper than \(limit) levels; rnnspec files hold tensors of a few dimensions",
                        line: line, column: column)
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
                case 0x23: inComment = true  // #
                case 0x22, 0x27: if depth > 0 { quote = b }  // " '
                case 0x5B, 0x7B: depth += 1; if depth > limit { return false }  // [ {
                case 0x5D, 0x7D: depth = max(0, depth - 1)  // ] }
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
    static func scanTokens(
        _ source: SourceText, maxDepth: Int, maxScalars: Int = Int.max, maxElements: Int = Int.max,
        packing: Bool = false
    ) throws -> [PackedList] {
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
                        open.append(
                            PackedList.Builder(
                                start: Int(mark.index), line: Int(mark.line) + 1, column: Int(mark.column) + 1))
                    case YAML_SCALAR_TOKEN:
                        if !open.isEmpty, open[open.count - 1] != nil {
                            if token.data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
                                previous == YAML_FLOW_SEQUENCE_START_TOKEN || previous == YAML_FLOW_ENTRY_TOKEN
                            {
                                let value = UnsafeBufferPointer(
                                    start: token.data.scalar.value, count: token.data.scalar.length)
                                open[open.count - 1]!.texts.append(String(decoding: value, as: UTF8.self))
                            } else {
                                open[open.count - 1] = nil
                            }
                        }
                    case YAML_FLOW_ENTRY_TOKEN:
                        // An empty entry (`[, 1]`, `[1, , 2]`) is left to the composer's error.
                        if !open.isEmpty, previous != YAML_SCALAR_TOKEN { open[open.count - 1] = nil }
                    case YAML_FLOW_SEQUENCE_END_TOKEN:
                        if let last = open.popLast(), let builder = last,
                            builder.texts.count >= PackedList.minimumCount,
                            previous == YAML_SCALAR_TOKEN || previous == YAML_FLOW_ENTRY_TOKEN
                        {
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
                    if expectingNode { scalars += 1 }  // an empty node
                }
                if type == YAML_SCALAR_TOKEN { scalars += 1 }
                if scalars > maxScalars {
                    throw source.error(
                        "the file holds more than \(maxScalars) scalars (numbers, words and keys): the limit is \(maxElements) elements per case plus \(LoadLimits.scalarAllowance) for keys and words (raise it with --max-elements)",
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
                    throw source.error(
                        "\(what): anchors and aliases are not allowed in rnnspec files (they can expand to billions of values); write the values out",
                        line: Int(mark.line) + 1, column: Int(mark.column) + 1)
                case YAML_BLOCK_SEQUENCE_START_TOKEN, YAML_BLOCK_MAPPING_START_TOKEN,
                    YAML_FLOW_SEQUENCE_START_TOKEN, YAML_FLOW_MAPPING_START_TOKEN:
                    depth += 1
                    if depth > maxDepth {
                        throw source.error(
                            "nesting deeper than \(maxDepth) levels; rnnspec files hold tensors of a few dimensions",
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
            return source.error(
                "duplicate key '\(duplicates.joined(separator: "', '"))' in a mapping: each key may appear once",
                line: context.mark.line, column: context.mark.column)
        case let .reader(problem, offset, value, _):
            return source.readerError(problem: problem, offset: offset, value: value)
        default:
            return SpecError("invalid YAML: \(error)", at: source.location(line: 1, column: 1))
        }
    }
}
