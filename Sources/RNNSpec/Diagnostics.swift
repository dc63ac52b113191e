import Foundation

/// A place in a file: 1-based line and column, as Yams' `Mark` counts them.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The file as it is shown to the user (relative to the working directory where possible).
    public var file: String
    /// 1-based line; 0 when the whole file is meant.
    public var line: Int
    /// 1-based column, counted in Unicode scalars; 0 when the whole line is meant.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, or `file` alone for a location that names the whole file.
    public var description: String {
        line > 0 ? "\(file):\(line):\(max(column, 1))" : file
    }

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

    public init(_ message: String, at location: SourceLocation, snippet: String? = nil) {
        self.location = location
        self.message = message
        self.snippet = snippet
    }

    /// `file:line:column: error: message` and, on the next lines, the snippet.
    public var description: String {
        var text = "\(location): error: \(message)"
        if let snippet, !snippet.isEmpty { text += "\n" + snippet }
        return text
    }
}

/// A problem with how rnnspec was invoked or set up (bad flag combination, missing root):
/// exit code 2.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "error: \(message)" }
}

/// The text of a file, so that errors can quote the offending line (split into lines only then:
/// loading a good file never needs them).
public struct SourceText: Sendable {
    /// The path as shown to the user.
    public var path: String
    /// The whole text.
    public var text: String

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

    /// The line and a caret line under the column (tabs kept, so the caret lines up).
    public func snippet(line: Int, column: Int) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return nil }
        var content = String(lines[line - 1])
        if content.hasSuffix("\r") { content.removeLast() }
        let scalars = Array(content.unicodeScalars.prefix(max(column - 1, 0)))
        let pad = String(String.UnicodeScalarView(scalars.map { $0 == "\t" ? "\t" : " " }))
        return "\(content)\n\(pad)^"
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
func closestMatch(to word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { a, b in a.1 != b.1 ? a.1 < b.1 : a.0 < b.0 }) else { return nil }
    let limit = max(2, best.0.count / 3)
    return best.1 <= limit ? best.0 : nil
}

/// Candidates sorted by closeness to `word`, closest first, at most `limit` of them.
func closestMatches(to word: String, in candidates: [String], limit: Int = 3) -> [String] {
    let threshold = Swift.max(3, word.count / 2)
    var scored: [(name: String, distance: Int)] = []
    for candidate in candidates {
        let d = editDistance(word.lowercased(), candidate.lowercased())
        if d <= threshold || candidate.hasPrefix(word) || word.hasPrefix(candidate) { scored.append((candidate, d)) }
    }
    scored.sort { a, b in a.distance != b.distance ? a.distance < b.distance : a.name < b.name }
    // Only names about as close as the closest one: a clear favourite is named alone.
    guard let best = scored.first?.distance else { return [] }
    return scored.filter { $0.distance <= best + 1 }.prefix(limit).map { $0.name }
}

/// Levenshtein distance between two strings (by Unicode scalar).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution: Int = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            let insertion: Int = current[j - 1] + 1
            let deletion: Int = previous[j] + 1
            current[j] = Swift.min(substitution, insertion, deletion)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// "a, b or c" for messages.
func listPhrase(_ items: [String], conjunction: String = "or") -> String {
    switch items.count {
    case 0: return "(none)"
    case 1: return items[0]
    default: return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items.last!
    }
}
