import Yams

/// Composes the YAML that case files are usually written in straight into Yams nodes, without
/// libyaml's scanner, parser and event objects: block mappings of `key: value` lines, block lists of
/// one-line items, flow lists and mappings (over several lines too), plain scalars on one line,
/// quoted scalars without escapes (folded over lines), and comments; text outside ASCII too, its
/// columns counted in characters as libyaml counts them.
///
/// It gives the nodes `Yams.compose` gives (strings, scalar styles, tags, marks; checked on every case
/// of the repository, generated suites, hostile files and seeded mutants by `FastComposerTests`), or nil
/// for anything else: other YAML, anything that may be an error, tabs, CR and other control characters,
/// line breaks outside ASCII, empty values, duplicate keys, lists long enough to pack, more scalars or
/// deeper nesting than the limits.
/// The caller then takes the general path (`NodeReader.composePacked`), which gives those files
/// their meaning or their error, so no file reads differently.
struct FastComposer {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var pos = 0
    /// 1-based line of `pos`, and the offset where that line starts.
    private var line = 1
    private var lineStart = 0
    private var scalars = 0
    private let maxScalars: Int
    private let maxDepth: Int
    /// A new implicit tag (Yams resolves a tag in place, so no two nodes share one), with the resolver
    /// and constructor `composePacked` gives Yams (each built once: Yams' `Constructor.default` builds a
    /// table on every read).
    private var tag: Tag { Tag(.implicit, Self.resolver, Self.constructor) }
    private static let resolver = Resolver.basic  // no rules: every scalar resolves to a string
    private nonisolated(unsafe) static let constructor = Constructor.default

    /// The root node, or nil when the text is outside what this composer reads.
    static func compose(_ text: String, maxDepth: Int, maxScalars: Int) -> Node? {
        composeCounting(text, maxDepth: maxDepth, maxScalars: maxScalars).root
    }

    /// `compose`, and how many bytes it went over to count columns outside ASCII (at most the text's
    /// length: each mark counts on from the one before it on its line).
    static func composeCounting(_ text: String, maxDepth: Int, maxScalars: Int) -> (root: Node?, columnBytes: Int) {
        guard marksAreTwoInts else { return (nil, 0) }
        var copy = text
        return copy.withUTF8 { buffer -> (Node?, Int) in
            guard let nonASCII = screen(buffer) else { return (nil, 0) }
            var composer = FastComposer(bytes: buffer, maxScalars: maxScalars, maxDepth: maxDepth)
            composer.nonASCII = nonASCII
            let root = composer.document()
            return (root, composer.columnBytes)
        }
    }

    /// Whether the text is one this composer may read (valid UTF-8 is the caller's check): no control
    /// character but the line feed (tabs, CR and the rest are left to libyaml), no line break outside
    /// ASCII (NEL, LS, PS), no byte order mark or noncharacter. Nil if not; else whether any byte is
    /// outside ASCII.
    private static func screen(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool? {
        var nonASCII = false
        var i = 0
        while i < buffer.count {
            let b = buffer[i]
            if b < 0x20 && b != newline || b == 0x7F { return nil }
            if b >= 0x80 {
                nonASCII = true
                if leftToLibyaml(buffer, at: i) { return nil }
            }
            i += 1
        }
        return nonASCII
    }

    /// Whether the character starting at `i` (a byte outside ASCII) is one the fast readers leave to
    /// libyaml: a C1 control (NEL among them), a line or paragraph separator, a byte order mark or a
    /// noncharacter (U+FFFE, U+FFFF), which YAML reads as a line break or drops.
    static func leftToLibyaml(_ buffer: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        let b = buffer[i]
        let b1 = i + 1 < buffer.count ? buffer[i + 1] : 0, b2 = i + 2 < buffer.count ? buffer[i + 2] : 0
        return (b == 0xC2 && b1 < 0xA0) || (b == 0xE2 && b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9))
            || (b == 0xEF && ((b1 == 0xBB && b2 == 0xBF) || (b1 == 0xBF && b2 >= 0xBE)))
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, maxScalars: Int, maxDepth: Int) {
        self.bytes = bytes
        self.maxScalars = maxScalars
        self.maxDepth = maxDepth
    }

    // MARK: Characters

    private static let space: UInt8 = 0x20, newline: UInt8 = 0x0A, hash: UInt8 = 0x23, colon: UInt8 = 0x3A
    private static let dash: UInt8 = 0x2D, comma: UInt8 = 0x2C

    private var atEnd: Bool { pos >= bytes.count }
    private var current: UInt8 { pos < bytes.count ? bytes[pos] : Self.newline }
    private func byte(at i: Int) -> UInt8 { i < bytes.count ? bytes[i] : Self.newline }
    /// Whether any byte is outside ASCII: libyaml counts columns in characters, not bytes.
    private var nonASCII = false
    /// The last column counted outside ASCII: its line's start, its offset and its column, so that the
    /// next mark on the line counts on from there (a long line of many scalars is read in linear time).
    private var counted = (lineStart: -1, pos: 0, column: 1)
    private var columnBytes = 0
    private var mark: Mark {
        mutating get {
            guard nonASCII else { return Self.makeMark(line, pos - lineStart + 1) }
            if counted.lineStart != lineStart || counted.pos > pos { counted = (lineStart, lineStart, 1) }
            for i in counted.pos..<pos where bytes[i] & 0xC0 != 0x80 { counted.column += 1 }
            columnBytes += pos - counted.pos
            counted.pos = pos
            return Self.makeMark(line, counted.column)
        }
    }

    /// A Yams `Mark` (its initializer is internal to Yams): the struct is its line and column, in that
    /// order, which `marksAreTwoInts` checks once before the composer is used.
    private static func makeMark(_ line: Int, _ column: Int) -> Mark { unsafeBitCast((line, column), to: Mark.self) }
    private static let marksAreTwoInts: Bool = {
        guard MemoryLayout<Mark>.size == MemoryLayout<(Int, Int)>.size else { return false }
        let mark = makeMark(3, 7)
        return mark.line == 3 && mark.column == 7
    }()

    private mutating func newLine() {
        pos += 1
        line += 1
        lineStart = pos
    }

    private mutating func skipSpaces() { while pos < bytes.count && bytes[pos] == Self.space { pos += 1 } }

    /// After a value: spaces, an optional comment (after a space), the line break. False if anything
    /// else follows on the line.
    private mutating func endOfLine() -> Bool {
        let before = pos
        skipSpaces()
        if atEnd { return true }
        if bytes[pos] == Self.hash {
            guard pos > before || pos == lineStart else { return false }
            while pos < bytes.count && bytes[pos] != Self.newline { pos += 1 }
        }
        if atEnd { return true }
        guard bytes[pos] == Self.newline else { return false }
        newLine()
        return true
    }

    /// Skips blank and comment-only lines from the start of a line; returns the indent of the next
    /// line with content (nil at the end of the text), with `pos` at that line's start.
    private mutating func nextContentLine() -> Int? {
        while !atEnd {
            var i = pos
            while i < bytes.count && bytes[i] == Self.space { i += 1 }
            if i >= bytes.count { pos = i; return nil }
            if bytes[i] == Self.newline { pos = i; newLine(); continue }
            if bytes[i] == Self.hash {
                pos = i
                while pos < bytes.count && bytes[pos] != Self.newline { pos += 1 }
                if atEnd { return nil }
                newLine()
                continue
            }
            return i - pos
        }
        return nil
    }

    // MARK: Nodes

    /// A scalar node. Its tag: libyaml marks a quoted scalar without a tag "quoted implicit", which
    /// Yams tags as a string; a mapping key's implicit tag is resolved when Yams' duplicate check
    /// hashes it, and the basic resolver (no rules) resolves every scalar to a string. So keys with
    /// equal strings are the duplicates that check finds.
    private mutating func scalar(_ string: String, _ style: Node.Scalar.Style, _ at: Mark, key: Bool = false) -> Node? {
        scalars += 1
        if scalars > maxScalars { return nil }
        let tag = style == .plain && !key ? tag : Tag(.str, Self.resolver, Self.constructor)
        return .scalar(Node.Scalar(string, tag, style, at))
    }

    private mutating func document() -> Node? {
        guard nextContentLine() == 0 else { return nil }
        // Document markers and directives are left to libyaml.
        if current == 0x25 { return nil }  // %
        if (current == Self.dash || current == 0x2E) && byte(at: pos + 1) == current && byte(at: pos + 2) == current {
            return nil
        }
        guard let root = blockMapping(indent: 0, depth: 1) else { return nil }
        return atEnd ? root : nil
    }

    /// A block mapping whose keys start at column `indent + 1`; `pos` is at the first key.
    private mutating func blockMapping(indent: Int, depth: Int) -> Node? {
        guard depth <= maxDepth else { return nil }
        pos += indent
        let start = mark
        var pairs: [(Node, Node)] = []
        var keys: Set<String> = []
        while true {
            // A list entry or a document marker where a key belongs is left to libyaml.
            if current == Self.dash && (byte(at: pos + 1) == Self.space || byte(at: pos + 1) == Self.newline) {
                return nil
            }
            guard let (key, text) = self.key(), keys.insert(text).inserted else { return nil }
            skipSpaces()
            let value: Node
            if atEnd || current == Self.newline || current == Self.hash {
                guard endOfLine() else { return nil }
                // The value is on the lines below: a deeper mapping, or a list (at this indent too).
                guard let next = nextContentLine() else { return nil }
                let startsList =
                    byte(at: pos + next) == Self.dash
                    && (byte(at: pos + next + 1) == Self.space || byte(at: pos + next + 1) == Self.newline)
                if startsList && next >= indent {
                    guard let list = blockList(indent: next, depth: depth + 1) else { return nil }
                    value = list
                } else if next > indent {
                    guard let mapping = blockMapping(indent: next, depth: depth + 1) else { return nil }
                    value = mapping
                } else {
                    return nil  // an empty value
                }
            } else {
                guard let inline = inlineValue(blockIndent: indent, depth: depth + 1), endOfLine() else { return nil }
                value = inline
            }
            pairs.append((key, value))
            // The next key at this indent, or the end of this mapping.
            guard let next = nextContentLine() else { break }
            if next < indent { break }
            guard next == indent else { return nil }
            pos += indent
        }
        return .mapping(Node.Mapping(pairs, tag, .any, start))
    }

    /// A block list of one-line items, its `-` at column `indent + 1`; `pos` at the line's start.
    private mutating func blockList(indent: Int, depth: Int) -> Node? {
        guard depth <= maxDepth else { return nil }
        pos += indent
        let start = mark
        var items: [Node] = []
        while true {
            guard current == Self.dash, byte(at: pos + 1) == Self.space else { return nil }
            pos += 1
            skipSpaces()
            guard !atEnd, current != Self.newline, current != Self.hash,
                let item = inlineValue(blockIndent: indent, depth: depth + 1)
            else { return nil }
            // `- key: value` (a mapping in the list) is left to libyaml.
            guard current != Self.colon, endOfLine() else { return nil }
            items.append(item)
            guard let next = nextContentLine() else { break }
            if next < indent { break }
            guard next == indent else { return nil }
            if byte(at: pos + indent) != Self.dash { break }  // the parent mapping's next key
            pos += indent
        }
        return .sequence(Node.Sequence(items, tag, .any, start))
    }

    /// A mapping key on one line, up to its `:` and the space or line break after it.
    private mutating func key() -> (Node, String)? {
        let at = mark
        let text: String
        let style: Node.Scalar.Style
        switch current {
        case 0x22, 0x27:
            guard let quoted = quoted(continuing: nil) else { return nil }
            (text, style) = (quoted, current == 0x22 ? .doubleQuoted : .singleQuoted)
            pos += 1
        default:
            guard let plain = plain(flow: false) else { return nil }
            (text, style) = (plain, .plain)
        }
        guard current == Self.colon, byte(at: pos + 1) == Self.space || byte(at: pos + 1) == Self.newline else {
            return nil
        }
        pos += 1
        guard let node = scalar(text, style, at, key: true) else { return nil }
        return (node, text)
    }

    /// A value on the rest of a line (a flow collection may go on over the next lines).
    private mutating func inlineValue(blockIndent: Int, depth: Int) -> Node? {
        switch current {
        case 0x5B, 0x7B: return flow(blockIndent: blockIndent, depth: depth)
        case 0x22, 0x27:
            let at = mark
            let style: Node.Scalar.Style = current == 0x22 ? .doubleQuoted : .singleQuoted
            guard let text = quoted(continuing: blockIndent) else { return nil }
            pos += 1
            return scalar(text, style, at)
        default:
            let at = mark
            guard let text = plain(flow: false) else { return nil }
            return scalar(text, .plain, at)
        }
    }

    /// A flow list or mapping; its lines after the first are indented past `blockIndent`.
    private mutating func flow(blockIndent: Int, depth: Int) -> Node? {
        guard depth <= maxDepth else { return nil }
        let at = mark
        let isList = current == 0x5B
        let close: UInt8 = isList ? 0x5D : 0x7D
        pos += 1
        var items: [Node] = []
        var pairs: [(Node, Node)] = []
        var keys: Set<String> = []
        guard flowSpace(blockIndent) else { return nil }
        if current == close {
            pos += 1
        } else {
            while true {
                if isList {
                    guard let item = flowItem(blockIndent: blockIndent, depth: depth + 1) else { return nil }
                    items.append(item)
                    // Long lists are packed by the general path.
                    if items.count >= PackedList.minimumCount { return nil }
                } else {
                    guard current != 0x22, current != 0x27, current != 0x3F else { return nil }  // " ' ?
                    let keyAt = mark
                    guard let text = plain(flow: true), current == Self.colon, byte(at: pos + 1) == Self.space,
                        keys.insert(text).inserted, let key = scalar(text, .plain, keyAt, key: true)
                    else { return nil }
                    pos += 1
                    guard flowSpace(blockIndent), current != Self.comma, current != close,
                        let value = flowItem(blockIndent: blockIndent, depth: depth + 1)
                    else { return nil }
                    pairs.append((key, value))
                }
                guard flowSpace(blockIndent) else { return nil }
                if current == close {
                    pos += 1
                    break
                }
                guard current == Self.comma else { return nil }
                pos += 1
                guard flowSpace(blockIndent), current != close, current != Self.comma else { return nil }
            }
        }
        return isList
            ? .sequence(Node.Sequence(items, tag, .any, at)) : .mapping(Node.Mapping(pairs, tag, .any, at))
    }

    private mutating func flowItem(blockIndent: Int, depth: Int) -> Node? {
        let at = mark
        switch current {
        case 0x5B, 0x7B: return flow(blockIndent: blockIndent, depth: depth)
        case 0x22, 0x27:
            let style: Node.Scalar.Style = current == 0x22 ? .doubleQuoted : .singleQuoted
            guard let text = quoted(continuing: blockIndent) else { return nil }
            pos += 1
            return scalar(text, style, at)
        default:
            guard let text = plain(flow: true) else { return nil }
            // `[a: b]` (a one-pair mapping in a list) is left to libyaml.
            if current == Self.colon { return nil }
            return scalar(text, .plain, at)
        }
    }

    /// Spaces, line breaks and comments inside a flow collection; a line that goes on must be indented
    /// past the block it is in.
    private mutating func flowSpace(_ blockIndent: Int) -> Bool {
        while !atEnd {
            switch bytes[pos] {
            case Self.space: pos += 1
            case Self.newline:
                newLine()
                var i = pos
                while i < bytes.count && bytes[i] == Self.space { i += 1 }
                if i < bytes.count && bytes[i] != Self.newline && bytes[i] != Self.hash && i - pos <= blockIndent {
                    return false
                }
            case Self.hash:
                guard pos > lineStart && bytes[pos - 1] == Self.space || pos == lineStart else { return false }
                while pos < bytes.count && bytes[pos] != Self.newline { pos += 1 }
            default: return true
            }
        }
        return false  // the text ends inside the collection
    }

    /// A quoted scalar with no escapes; `pos` is left at the closing quote. With `continuing`, it may
    /// go on over lines indented past that block indent, folded as YAML folds them: a line break is a
    /// space, or n - 1 line breaks when n come together, the spaces around them dropped.
    private mutating func quoted(continuing blockIndent: Int?) -> String? {
        let quote = current
        var start = pos + 1
        var i = start
        var folded: [UInt8]? = nil
        while i < bytes.count {
            let b = bytes[i]
            if b == quote { break }
            if b == 0x5C { return nil }  // a backslash
            if b == Self.newline {
                guard let blockIndent else { return nil }
                var text = folded ?? []
                var end = i
                while end > start && bytes[end - 1] == Self.space { end -= 1 }
                text += bytes[start..<end]
                // The line breaks that follow, and the next line's indent.
                var breaks = 0
                while i < bytes.count && bytes[i] == Self.newline {
                    breaks += 1
                    i += 1
                    line += 1
                    lineStart = i
                    while i < bytes.count && bytes[i] == Self.space { i += 1 }
                }
                guard i < bytes.count, i - lineStart > blockIndent else { return nil }
                if breaks == 1 {
                    text.append(Self.space)
                } else {
                    text += repeatElement(Self.newline, count: breaks - 1)
                }
                folded = text
                start = i
                continue
            }
            i += 1
        }
        guard i < bytes.count else { return nil }
        if quote == 0x27 && byte(at: i + 1) == 0x27 { return nil }  // '' (an escaped quote)
        let last = UnsafeBufferPointer(rebasing: bytes[start..<i])
        let text = folded.map { String(decoding: $0 + last, as: UTF8.self) } ?? String(decoding: last, as: UTF8.self)
        pos = i
        return text
    }

    /// A plain scalar on one line, up to `: `, ` #` or the line's end (and in a flow collection a flow
    /// indicator); its trailing spaces are not part of it.
    private mutating func plain(flow: Bool) -> String? {
        let first = current
        // Characters that start something other than a plain scalar (or may), and `-`, `?`, `:` when
        // a space follows them.
        switch first {
        case 0x2C, 0x5B, 0x5D, 0x7B, 0x7D, Self.hash, 0x26, 0x2A, 0x21, 0x7C, 0x3E, 0x27, 0x22, 0x25, 0x40, 0x60,
            Self.newline, Self.space:
            return nil
        case Self.dash, 0x3F, Self.colon:
            let next = byte(at: pos + 1)
            if next == Self.space || next == Self.newline
                || (flow && (next == Self.comma || next == 0x5D || next == 0x7D))
            {
                return nil
            }
            if first != Self.dash { return nil }  // `?x` and `:x` are left to libyaml
        default: break
        }
        let start = pos
        var end = pos
        while pos < bytes.count {
            let b = bytes[pos]
            if b == Self.newline { break }
            if b == Self.colon {
                let next = byte(at: pos + 1)
                if next == Self.space || next == Self.newline { break }
                if flow { return nil }
            }
            if b == Self.hash {
                if bytes[pos - 1] == Self.space { break }
                if flow { return nil }
            }
            if flow && (b == Self.comma || b == 0x5B || b == 0x5D || b == 0x7B || b == 0x7D) { break }
            pos += 1
            if b != Self.space { end = pos }
        }
        pos = end
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}
