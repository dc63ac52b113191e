import Foundation

/// A place in a file: 1-based line and column, as Yams' `Mark` counts them.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The file as it is shown to the user (relative to the working directory where possible).
    public var file: String
    /// 1-based line; 0 when the whole file is meant.
    public var line: Int
    /// 1-based column, counted in Unicode scalars; 0 when the whole line is meant.
    public var column: Int

    /// A 1-based line and column in `file` (line 0: the whole file; column 0: the whole line).
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, or `file` alone for a location that names the whole file (the file
    /// name escaped for display, so that a name with a line break or an escape sequence prints
    /// as one safe line).
    public var description: String {
        let shown = file.escapedForDisplay
        return line > 0 ? "\(shown):\(line):\(max(column, 1))" : shown
    }

    /// Orders by file, then line, then column.
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// An error in a case file, a golden file or the project set-up, with the place it points at.
///
/// Printed the way compilers print, `file:line:column: error: message`, followed by the
/// offending line and a caret under the column.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is.
    public var location: SourceLocation
    /// What is wrong and, where it helps, what was expected.
    public var message: String
    /// The offending line of the file and a caret line, if the text is known.
    public var snippet: String?

    /// An error with its location and, optionally, the quoted line with a caret.
    public init(_ message: String, at location: SourceLocation, snippet: String? = nil) {
        self.location = location
        self.message = message
        self.snippet = snippet
    }

    /// `file:line:column: error: message` and, on the next lines, the snippet. Safe to print:
    /// the message is one line with every control, line-break and invisible format character
    /// escaped (`\n`, `\u{1B}`), and so is each line of the snippet (tabs kept, so the caret
    /// lines up).
    public var description: String {
        var text = "\(location): error: \(message.escapedForDisplay)"
        if let snippet, !snippet.isEmpty {
            text +=
                "\n"
                + snippet.split(separator: "\n", omittingEmptySubsequences: false)
                .map { String($0).escapedForDisplay(keepingTabs: true) }.joined(separator: "\n")
        }
        return text
    }
}

/// A problem with how rnnspec was invoked or set up (bad flag combination, missing root):
/// exit code 2.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, one line.
    public var message: String
    /// A usage error with this message.
    public init(_ message: String) { self.message = message }
    /// `error: message`, the message on one line with control and format characters escaped.
    public var description: String { "error: \(message.escapedForDisplay)" }
}

/// The text of a file, so that errors can quote the offending line (split into lines only then:
/// loading a good file never needs them).
public struct SourceText: Sendable {
    /// The path as shown to the user.
    public var path: String
    /// The whole text.
    public var text: String

    /// The text of the file shown as `path`.
    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }

    /// The location of a 1-based line and column in this file.
    public func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: path, line: line, column: column)
    }

    /// An error at a line and column, with the line quoted and a caret under the column.
    public func error(_ message: String, line: Int, column: Int) -> SpecError {
        SpecError(message, at: location(line: line, column: column), snippet: snippet(line: line, column: column))
    }

    /// The line and a caret line under the column (tabs kept, so the caret lines up). Lines are
    /// counted as libyaml counts them (LF, CR LF, a lone CR, NEL, U+2028 and U+2029 each end a
    /// line), so the quoted line is the one its marks point at, without its line break; the
    /// line is escaped for display (`\u{1}`, `\r`) and the caret sits under the escape when the
    /// column points at an escaped character.
    ///
    /// A long line (a whole tensor on one line, a hostile file) is cut to `snippetContext`
    /// columns on each side of the caret, the cuts marked `...`.
    public func snippet(line: Int, column: Int) -> String? {
        guard line >= 1, let content = SourceText.line(line, of: text) else { return nil }
        let count = content.count
        // A column past the end of the line (or not positive) puts the caret just after it
        // (or at its start).
        let column = min(max(column, 1), count + 1)
        let lo = max(0, column - 1 - SourceText.snippetContext)
        let hi = min(count, lo + 2 * SourceText.snippetContext)
        let window = content[
            content.index(content.startIndex, offsetBy: lo)..<content.index(content.startIndex, offsetBy: hi)]
        return SourceText.caretSnippet(
            window.map(Piece.init), column: column - lo, cutBefore: lo > 0, cutAfter: hi < count)
    }

    /// Characters of a quoted line shown on each side of the caret.
    static let snippetContext = 80

    /// The line (1-based) of `text`, without its line break; nil past the last line.
    static func line(_ number: Int, of text: String) -> Substring.UnicodeScalarView? {
        let scalars = text.unicodeScalars
        var current = 1
        var start = scalars.startIndex
        var k = scalars.startIndex
        while k < scalars.endIndex {
            let u = scalars[k]
            if isLineBreak(u) {
                if current == number { return scalars[start..<k] }
                var next = scalars.index(after: k)
                if u == "\r", next < scalars.endIndex, scalars[next] == "\n" { next = scalars.index(after: next) }
                current += 1
                start = next
                k = next
            } else {
                k = scalars.index(after: k)
            }
        }
        return current == number ? scalars[start..<scalars.endIndex] : nil
    }

    /// Whether libyaml ends a line at this scalar (CR LF counts once: the CR ends it).
    static func isLineBreak(_ u: Unicode.Scalar) -> Bool {
        u == "\n" || u == "\r" || u.value == 0x85 || u.value == 0x2028 || u.value == 0x2029
    }

    /// One column of a quoted line as shown: a scalar, or an invalid byte (`\x{FF}`).
    struct Piece {
        var shown: String
        var width: Int
        var isTab: Bool

        init(_ u: Unicode.Scalar) {
            isTab = u == "\t"
            if isTab {
                shown = "\t"; width = 1
            } else if TextEscape.isUnsafe(u) {
                shown = TextEscape.escape(u); width = shown.unicodeScalars.count
            } else {
                shown = String(u); width = TextEscape.displayWidth(u)
            }
        }

        init(invalidByte b: UInt8) {
            shown = "\\x{" + String(b, radix: 16, uppercase: true) + "}"
            width = shown.unicodeScalars.count
            isTab = false
        }
    }

    /// A line escaped for display and a caret line under the 1-based column (counted in
    /// pieces; the caret sits under the escape when the column points at an escaped one);
    /// `...` where the line was cut.
    static func caretSnippet(_ pieces: [Piece], column: Int, cutBefore: Bool = false, cutAfter: Bool = false) -> String
    {
        var shown = cutBefore ? "..." : "", pad = cutBefore ? "   " : ""
        let before = min(max(column, 1), pieces.count + 1) - 1
        for (k, piece) in pieces.enumerated() {
            shown += piece.shown
            if k < before { pad += piece.isTab ? "\t" : String(repeating: " ", count: piece.width) }
        }
        if cutAfter { shown += "..." }
        return "\(shown)\n\(pad)^"
    }

    /// The 1-based line and column (columns in scalars, lines as libyaml counts them) of a
    /// position in the text.
    public func lineAndColumn(of position: String.Index) -> (line: Int, column: Int) {
        var line = 1, column = 1
        var previous: Unicode.Scalar? = nil
        let scalars = text.unicodeScalars
        var k = scalars.startIndex
        while k < scalars.endIndex && k < position {
            let u = scalars[k]
            if u == "\n" && previous == "\r" {
                // The CR already ended the line.
            } else if SourceText.isLineBreak(u) {
                line += 1; column = 1
            } else {
                column += 1
            }
            previous = u
            k = scalars.index(after: k)
        }
        return (line, column)
    }

    /// Whether libyaml's reader refuses the character (`control characters are not allowed`):
    /// C0 controls but tab, line feed and carriage return, DEL, C1 controls but NEL, surrogates,
    /// U+FFFE and U+FFFF.
    static func isRefusedByYAMLReader(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09, 0x0A, 0x0D, 0x20...0x7E, 0x85, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return false
        default: return true
        }
    }

    /// The error for a libyaml reader problem (`control characters are not allowed` and the
    /// like): located at the character's own line and column, the character named and the line
    /// quoted (escaped), instead of `1:1 (at byte N)`.
    ///
    /// The reader stops at the first character it refuses, so that is the one located; for
    /// other problems `offset` is taken as Yams gives it (a count of characters, that is
    /// grapheme clusters, from the start of the text).
    public func readerError(problem: String, offset: Int?, value: Int32) -> SpecError {
        var message = "cannot read the file: \(problem)"
        if value >= 0, let u = Unicode.Scalar(UInt32(value)) {
            message += " (found \(TextEscape.name(u)))"
        }
        var position: String.Index? = nil
        if value >= 0, let refused = text.unicodeScalars.firstIndex(where: SourceText.isRefusedByYAMLReader) {
            position = refused
        } else if let offset, offset >= 0 {
            position = text.index(text.startIndex, offsetBy: offset, limitedBy: text.endIndex)
        }
        guard let position else { return SpecError(message, at: location(line: 1, column: 1)) }
        let (line, column) = lineAndColumn(of: position)
        return error(message, line: line, column: column)
    }

    /// The error for bytes that are not UTF-8: located at the first invalid byte's line and
    /// column (columns in decoded characters, each invalid byte one column), with its line
    /// quoted, the invalid bytes shown as `\x{FF}`.
    public static func invalidUTF8Error(
        _ data: Data, path: String,
        message: (_ byte: UInt8, _ offset: Int) -> String
    ) -> SpecError {
        let bytes = [UInt8](data)
        // A leading byte-order mark is not part of the text (the decoder drops it).
        let bom = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1, column = 1
        var lineStart = bom, offset = bom
        var previousCR = false
        var bad = max(0, bytes.count - 1)
        while offset < bytes.count {
            guard let (u, width) = decodeUTF8(bytes, at: offset) else { bad = offset; break }
            if u == "\n" && previousCR {
                lineStart = offset + 1
            } else if isLineBreak(u) {
                line += 1; column = 1; lineStart = offset + width
            } else {
                column += 1
            }
            previousCR = u == "\r"
            offset += width
        }
        // The quoted line, from its start to its line break (cut around the column like
        // `snippet`); invalid bytes as \x{..}.
        let lo = max(0, column - 1 - snippetContext), hi = lo + 2 * snippetContext
        var pieces: [Piece] = []
        var k = lineStart, index = 0, cutAfter = false
        while k < bytes.count {
            let decoded = decodeUTF8(bytes, at: k)
            if let (u, _) = decoded, isLineBreak(u) { break }
            if index == hi { cutAfter = true; break }
            if index >= lo { pieces.append(decoded.map { Piece($0.0) } ?? Piece(invalidByte: bytes[k])) }
            k += decoded?.1 ?? 1
            index += 1
        }
        let byte = bad < bytes.count ? bytes[bad] : 0
        return SpecError(
            message(byte, bad), at: SourceLocation(file: path, line: line, column: column),
            snippet: caretSnippet(pieces, column: column - lo, cutBefore: lo > 0, cutAfter: cutAfter))
    }

    /// The scalar encoded in valid UTF-8 at `offset`, and its width; nil where the bytes there
    /// are not valid UTF-8 (a leading byte-order mark decodes as U+FEFF).
    static func decodeUTF8(_ bytes: [UInt8], at offset: Int) -> (Unicode.Scalar, Int)? {
        let b0 = bytes[offset]
        if b0 < 0x80 { return (Unicode.Scalar(b0), 1) }
        let width: Int
        switch b0 {
        case 0xC2...0xDF: width = 2
        case 0xE0...0xEF: width = 3
        case 0xF0...0xF4: width = 4
        default: return nil
        }
        guard offset + width <= bytes.count else { return nil }
        guard let s = String(validating: bytes[offset..<offset + width], as: UTF8.self),
            let u = s.unicodeScalars.first, s.unicodeScalars.count == 1
        else { return nil }
        return (u, width)
    }
}

/// How user text is made safe to print: every character that could move the cursor, end a
/// line, change the terminal's state, reorder or hide text becomes a visible escape.
public enum TextEscape {
    /// Whether a scalar is shown as an escape: C0 controls (tab and line feed included), DEL,
    /// C1 controls, the line and paragraph separators, format characters (bidirectional
    /// embeddings, overrides and isolates, zero-width characters, the byte-order mark, tag
    /// characters), the invisible Hangul fillers and noncharacters (U+FFFE, U+FFFF, ...).
    public static func isUnsafe(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        if v < 0x20 || (0x7F...0x9F).contains(v) { return true }
        if v < 0xA0 { return false }
        switch v {
        case 0x115F, 0x1160, 0x3164, 0xFFA0: return true
        default: break
        }
        let p = u.properties
        switch p.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator, .surrogate: return true
        default: return p.isNoncharacterCodePoint
        }
    }

    /// The visible escape of one scalar: `\n`, `\r`, `\t`, `\0`, else `\u{HEX}`.
    public static func escape(_ u: Unicode.Scalar) -> String {
        switch u {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\0": return "\\0"
        default: return "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
        }
    }

    /// `U+0001`, for messages that name a character.
    static func name(_ u: Unicode.Scalar) -> String {
        let hex = String(u.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Terminal columns a printable scalar takes: 0 for combining marks, 2 for East Asian wide
    /// and full-width characters and emoji, else 1 (for carets under a column).
    static func displayWidth(_ u: Unicode.Scalar) -> Int {
        let v = u.value
        if v < 0x300 { return 1 }
        let p = u.properties
        switch p.generalCategory {
        case .nonspacingMark, .enclosingMark: return 0
        default: break
        }
        if p.isEmojiPresentation { return 2 }
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
            0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }
}

extension String {
    /// The text on one line with every unsafe character (`TextEscape.isUnsafe`, line feeds
    /// and tabs included) shown as a visible escape: what rnnspec prints of any text it did
    /// not write itself (case ids, paths, kernel names, reasons, messages).
    public var escapedForDisplay: String { escapedForDisplay(keepingTabs: false) }

    /// The same, optionally keeping tabs (in a quoted source line, so that the caret lines up).
    public func escapedForDisplay(keepingTabs: Bool) -> String {
        // Fast path: printable ASCII (and tabs when kept) needs no change.
        if utf8.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || (keepingTabs && $0 == 0x09) }) { return self }
        var out = ""
        out.reserveCapacity(utf8.count)
        for u in unicodeScalars {
            if TextEscape.isUnsafe(u) && !(keepingTabs && u == "\t") {
                out += TextEscape.escape(u)
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Text of several lines (rnnspec's own line breaks) with each line escaped for display:
    /// only line feeds stay, so every line can be indented and none starts at column 0 unless
    /// the caller puts it there.
    public var escapedKeepingLines: String {
        split(separator: "\n", omittingEmptySubsequences: false).map { String($0).escapedForDisplay }.joined(
            separator: "\n")
    }
}
