import Foundation

/// Text, JSON and JUnit renderings of a run.
///
/// Every string a report prints that rnnspec did not write itself (case ids, paths, kernel
/// names, titles, reasons, error messages, notes, mismatch details) can hold anything a file
/// name or a YAML string can: line breaks, escape sequences, bidirectional overrides,
/// characters XML forbids. The text report shows them as visible escapes (`\n`, `\u{1B}`), so
/// that a line at column 0 only ever comes from rnnspec; JSON escapes them; JUnit replaces what
/// XML 1.0 forbids and escapes markup, and stays well-formed.
public enum ReportFormat: String, Sendable, CaseIterable {
    case text, json
}

extension RunReport {
    /// The lit-style text: one block per case that did not pass, the counts by status, and the
    /// plain summary line last. Only the block headers, notes and the two summary lines start
    /// at column 0; everything inside a block is indented, and user text is escaped.
    public func text(verbose: Bool = false, color: Bool = false) -> String {
        var out = ""
        let total = results.count
        for (k, r) in results.enumerated() where r.isReported(verbose: verbose) {
            out += r.block(position: k + 1, of: total, color: color)
        }
        return out + footer(color: color)
    }

    /// The end of the text report: the orphan goldens, the counts by status and the summary line.
    public func footer(color: Bool = false) -> String {
        var out = ""
        if !orphanGoldens.isEmpty {
            out +=
                "note: \(orphanGoldens.count) golden file\(orphanGoldens.count == 1 ? " has" : "s have") no case (`rnnspec prune` deletes them):\n"
            for id in orphanGoldens { out += "  \(id.escapedForDisplay)\n" }
        }
        out += "Results: " + countsPhrase(color: color) + String(format: " in %.2f s\n", seconds)
        out += summaryLine + "\n"
        return out
    }

    /// `40 PASS, 1 FAIL`: the count of every result kind that occurred, in `Status` order.
    func countsPhrase(color: Bool = false) -> String {
        let counts = Status.allCases.compactMap { s -> String? in
            let n = count(s)
            return n == 0 ? nil : "\(n) \(s.colored(color))"
        }
        return counts.isEmpty ? "no cases" : counts.joined(separator: ", ")
    }

    /// The report as JSON (`--format json`): valid JSON whatever the strings hold. Ids, paths,
    /// kernels, reasons and error messages are carried as they are (JSON can hold any string);
    /// `message` is the text report's block for the case. Control characters are escaped by the
    /// encoder, and so are DEL, C1 controls, U+2028/U+2029, bidirectional and other format
    /// characters and noncharacters (`\u2028`), so that printing the file is safe too.
    public func json() -> String {
        struct ErrorEntry: Encodable {
            var file: String, line: Int, column: Int, message: String
        }
        struct Entry: Encodable {
            var id: String, path: String, kernel: String?, status: String, seconds: Double, tags: [String]
            var reason: String?, headline: String?, message: String?, error: ErrorEntry?, recording: Recording?
            var mismatches: [MismatchEntry]
        }
        struct Document: Encodable {
            var format = 1
            var passed: Int, failed: Int, skipped: Int, seconds: Double
            var counts: [String: Int]
            var orphan_goldens: [String]
            var cases: [Entry]
        }
        var counts: [String: Int] = [:]
        for s in Status.allCases { counts[s.rawValue] = count(s) }
        let doc = Document(
            passed: passed, failed: failed, skipped: skipped, seconds: seconds, counts: counts,
            orphan_goldens: orphanGoldens,
            cases: results.map { r in
                Entry(
                    id: r.id, path: r.path, kernel: r.kernel, status: r.status.rawValue, seconds: r.seconds,
                    tags: r.tags,
                    reason: r.reason, headline: r.status.isSuccess ? nil : r.headline,
                    message: r.status.isSuccess && r.recording == nil ? nil : r.detailText(),
                    error: r.error.map {
                        ErrorEntry(
                            file: $0.location.file, line: $0.location.line,
                            column: $0.location.column, message: $0.message)
                    },
                    recording: r.recording, mismatches: r.mismatches.map(MismatchEntry.init))
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Times are finite; should one not be, it is written as a string rather than failing.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? encoder.encode(doc) else {
            // Not reachable with the types above; still a valid document if it were.
            return "{\"format\": 1, \"error\": \"the report could not be encoded\"}\n"
        }
        return RunReport.escapeInvisibles(inJSON: String(decoding: data, as: UTF8.self)) + "\n"
    }

    /// Replaces every unsafe non-ASCII scalar (and DEL) of encoded JSON with its `\uXXXX`
    /// escape (a surrogate pair above U+FFFF). Such scalars can only stand inside strings
    /// (JSON's structure is ASCII), where the escape means the same character.
    static func escapeInvisibles(inJSON json: String) -> String {
        guard json.unicodeScalars.contains(where: { $0.value >= 0x7F && TextEscape.isUnsafe($0) }) else { return json }
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for u in json.unicodeScalars {
            guard u.value >= 0x7F && TextEscape.isUnsafe(u) else { out.unicodeScalars.append(u); continue }
            for unit in String(u).utf16 { out += "\\u" + hex4(unit) }
        }
        return out
    }

    /// The report as JUnit XML (`--junit FILE`), one testcase per case. Names and the skip
    /// reason are attributes that hold the original text (line breaks and tabs as character
    /// references, so that they survive attribute normalisation); the body of a failure is
    /// the text report's block. Characters XML 1.0 forbids are replaced by their visible
    /// escape (`\u{FFFE}`), so the file is always well-formed.
    public func junit() -> String {
        let errors = count(.unresolved)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites>\n"
        out +=
            "<testsuite name=\"rnnspec\" tests=\"\(results.count)\" failures=\"\(failed - errors)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(String(format: "%.3f", seconds))\">\n"
        for r in results {
            let parts = r.id.split(separator: "/", omittingEmptySubsequences: false)
            let dir = parts.dropLast().joined(separator: ".")
            let name = String(parts.last ?? "")
            out +=
                "  <testcase classname=\"\(XMLText.attribute(dir.isEmpty ? "cases" : dir))\" name=\"\(XMLText.attribute(name))\" time=\"\(String(format: "%.3f", r.seconds))\""
            if r.status.isSuccess { out += "/>\n"; continue }
            out += ">\n"
            let detail = XMLText.content(r.detailText())
            let message = XMLText.attribute("\(r.status.rawValue): \(r.headline)")
            switch r.status {
            case .unsupported: out += "    <skipped message=\"\(XMLText.attribute(r.reason ?? ""))\"/>\n"
            case .unresolved:
                out += "    <error message=\"\(message)\" type=\"\(r.status.rawValue)\">\(detail)</error>\n"
            default: out += "    <failure message=\"\(message)\" type=\"\(r.status.rawValue)\">\(detail)</failure>\n"
            }
            out += "  </testcase>\n"
        }
        out += "</testsuite>\n</testsuites>\n"
        return out
    }
}

/// Escaping for XML 1.0 documents.
enum XMLText {
    /// Whether XML 1.0 allows the character: #x9 | #xA | #xD | [#x20-#xD7FF] |
    /// [#xE000-#xFFFD] | [#x10000-#x10FFFF].
    static func isAllowed(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    /// Text for an attribute value in double quotes: markup escaped, tab, line feed and carriage
    /// return as character references (a parser would turn them into spaces), forbidden
    /// characters as their visible escape.
    static func attribute(_ s: String) -> String {
        escape(s) { u in
            switch u {
            case "\t": return "&#9;"
            case "\n": return "&#10;"
            case "\r": return "&#13;"
            default: return nil
            }
        }
    }

    /// Text for element content: markup escaped (`]]>` cannot occur, as `>` is escaped), a
    /// carriage return as a character reference (a parser would turn it into a line feed),
    /// forbidden characters as their visible escape.
    static func content(_ s: String) -> String {
        escape(s) { $0 == "\r" ? "&#13;" : nil }
    }

    // The same loop as SVGPlot's `escapeMarkup` and `YAMLText.quoted`, kept apart on purpose:
    // XML keeps a forbidden character as its visible escape and line breaks as character
    // references (the JUnit file says what the text held), where a page shows U+FFFD and a YAML
    // string uses backslash escapes.
    private static func escape(_ s: String, _ special: (Unicode.Scalar) -> String?) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                if let replacement = special(u) {
                    out += replacement
                } else if isAllowed(u) {
                    out.unicodeScalars.append(u)
                } else {
                    out += TextEscape.escape(u)
                }
            }
        }
        return out
    }
}

/// Four upper-case hex digits.
private func hex4(_ unit: UInt16) -> String {
    let hex = String(unit, radix: 16, uppercase: true)
    return String(repeating: "0", count: 4 - hex.count) + hex
}

extension Status {
    /// The SGR colour of the result kind on a terminal: green passes, red failures, yellow for
    /// goldens to review, cyan for expected failures and skips.
    public var colorCode: String {
        switch self {
        case .pass: return "32"
        case .fail, .unresolved, .timeout, .xpass: return "1;31"
        case .new, .stale: return "33"
        case .xfail, .unsupported: return "36"
        }
    }

    /// The name, in its colour when `color` is set.
    public func colored(_ color: Bool) -> String { color ? "\u{1B}[\(colorCode)m\(rawValue)\u{1B}[0m" : rawValue }
}

extension CaseResult {
    /// Whether the text report shows a block for this result: it did not pass, or it wrote a
    /// golden, or `verbose` lists everything.
    public func isReported(verbose: Bool) -> Bool { !status.isSuccess || recording != nil || verbose }

    /// The text report's block: `FAIL: id (3 of 41)` (no position when it is not known) and the
    /// indented detail.
    public func block(position: Int?, of total: Int, color: Bool = false) -> String {
        var out = "\(status.colored(color)): \(id.escapedForDisplay)\(position.map { " (\($0) of \(total))" } ?? "")\n"
        for line in detailText().split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            out += line.isEmpty ? "\n" : "  " + line + "\n"
        }
        return out
    }

    /// One line saying why the case did not pass: the error, the first mismatch's headline (with
    /// the number of further mismatches), the reason or the first note; the status when none.
    /// For JUnit's `message` and streamed results.
    public var headline: String {
        if let error { return "\(error.location): \(error.message)" }
        if let m = mismatches.first {
            let more = mismatches.count - 1
            return m.headline + (more > 0 ? " (and \(more) more mismatch\(more == 1 ? "" : "es"))" : "")
        }
        if let reason { return reason }
        return notes.first ?? status.rawValue
    }

    /// What went wrong (or what was recorded), several lines, ending with a newline; safe to
    /// print: the line breaks are rnnspec's own, and every piece of user text in it is escaped
    /// (`String.escapedForDisplay`). The text report indents it under the case's header line.
    public func detailText() -> String {
        var out = ""
        if let reason { out += "reason: \(reason.escapedForDisplay)\n" }
        if let error { out += "\(error)\n" }
        for m in mismatches {
            out +=
                "\(path.escapedForDisplay): output '\(m.output.escapedForDisplay)' differs from the \(m.reference.rawValue):\n"
            // The lines are rnnspec's (`Mismatch.lines`); each is escaped.
            for line in m.lines { out += "  " + line.escapedForDisplay + "\n" }
        }
        // A note is one line (it may name the case's path): a line break in it is escaped.
        for note in notes { out += "\(note.escapedForDisplay)\n" }
        if let rec = recording {
            switch rec.action {
            case .created: out += "golden created\n"
            case .rewritten: out += "golden rewritten" + (rec.notes.isEmpty ? "" : ":") + "\n"
            case .unchanged: out += "golden unchanged\n"
            case .refused: out += "golden not written\n"
            case .pending:
                out += "pending golden written (`rnnspec review` shows it)" + (rec.notes.isEmpty ? "" : ":") + "\n"
            case .wouldWrite: out += "golden would be written (dry run)" + (rec.notes.isEmpty ? "" : ":") + "\n"
            }
            for note in rec.notes { out += "  \(note.escapedForDisplay)\n" }
        }
        return out
    }
}

extension RunReport {
    /// Per kernel, how many cases passed, failed and were unsupported: what a backend covers.
    public func coverageTable(backend: String) -> String {
        var rows: [String: (passed: Int, failed: Int, unsupported: Int)] = [:]
        for r in results {
            let kernel = r.kernel ?? "(unreadable)"
            var row = rows[kernel] ?? (0, 0, 0)
            if r.status.isSuccess {
                row.passed += 1
            } else if r.status.isSkipped {
                row.unsupported += 1
            } else {
                row.failed += 1
            }
            rows[kernel] = row
        }
        let width = max(6, rows.keys.map(\.count).max() ?? 0)
        func line(_ name: String, _ a: String, _ b: String, _ c: String) -> String {
            name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + [a, b, c].enumerated().map { k, v in
                    String(repeating: " ", count: max(0, [6, 6, 11][k] - v.count)) + v
                }.joined(separator: "  ") + "\n"
        }
        var out = "Coverage of \(backend.escapedForDisplay), by kernel:\n"
        out += line("kernel", "passed", "failed", "unsupported")
        for name in rows.keys.sorted() {
            let row = rows[name]!
            out += line(name.escapedForDisplay, "\(row.passed)", "\(row.failed)", "\(row.unsupported)")
        }
        let implemented = rows.values.filter { $0.passed + $0.failed > 0 }.count
        out += line("total", "\(passed)", "\(failed)", "\(skipped)")
        out += "\(implemented) of \(rows.count) kernels implemented (a kernel with a passed or failed case)\n"
        return out
    }
}

extension RunReport {
    /// The `n` slowest cases, slowest first, with their seconds.
    public func slowest(_ n: Int) -> String {
        let top = results.sorted { $0.seconds > $1.seconds }.prefix(n)
        var out = "Slowest \(top.count) case\(top.count == 1 ? "" : "s"):\n"
        for r in top { out += String(format: "  %8.3f s  ", r.seconds) + r.id.escapedForDisplay + "\n" }
        return out
    }
}

extension RunReport {
    /// A report of the results of `Runner.check`, which runs nothing: no orphan goldens, no time.
    package init(checked results: [CaseResult]) {
        self.init(results: results, orphanGoldens: [], seconds: 0)
    }
}
