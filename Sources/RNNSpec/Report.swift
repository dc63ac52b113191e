import Foundation

/// Text, JSON and JUnit renderings of a run.
public enum ReportFormat: String, Sendable, CaseIterable {
    case text, json
}

extension RunReport {
    /// The lit-style text: one block per case that did not pass, the counts by status, and the
    /// plain summary line last.
    public func text(verbose: Bool = false) -> String {
        var out = ""
        let total = results.count
        for (k, r) in results.enumerated() {
            let interesting = !r.status.isSuccess || r.recording != nil || verbose
            guard interesting else { continue }
            if r.status == .pass && r.recording == nil && !verbose { continue }
            out += "\(r.status.rawValue): \(r.id) (\(k + 1) of \(total))\n"
            out += r.detailText().split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
        }
        if !orphanGoldens.isEmpty {
            out += "note: \(orphanGoldens.count) golden file\(orphanGoldens.count == 1 ? " has" : "s have") no case (`rnnspec prune` deletes them):\n"
            for id in orphanGoldens { out += "  \(id)\n" }
        }
        let counts = Status.allCases.compactMap { s -> String? in
            let n = count(s)
            return n == 0 ? nil : "\(n) \(s.rawValue)"
        }
        out += "Results: " + (counts.isEmpty ? "no cases" : counts.joined(separator: ", ")) + String(format: " in %.2f s\n", seconds)
        out += summaryLine + "\n"
        return out
    }

    /// The report as JSON (`--format json`).
    public func json() -> String {
        struct Entry: Encodable {
            var id: String, path: String, kernel: String?, status: String, seconds: Double
            var reason: String?, message: String?, recording: Recording?
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
        let doc = Document(passed: passed, failed: failed, skipped: skipped, seconds: seconds, counts: counts,
                           orphan_goldens: orphanGoldens,
                           cases: results.map { r in
                               Entry(id: r.id, path: r.path, kernel: r.kernel, status: r.status.rawValue, seconds: r.seconds,
                                     reason: r.reason, message: r.status.isSuccess && r.recording == nil ? nil : r.detailText(),
                                     recording: r.recording)
                           })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(doc)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// The report as JUnit XML (`--junit FILE`), one testcase per case.
    public func junit() -> String {
        func esc(_ s: String) -> String {
            var out = ""
            for u in s.unicodeScalars {
                switch u {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&quot;"
                default:
                    // XML 1.0 allows tab, newline, carriage return and characters from U+0020.
                    if u.value < 0x20 && u != "\n" && u != "\t" && u != "\r" { out += "?" } else { out.unicodeScalars.append(u) }
                }
            }
            return out
        }
        let errors = count(.unresolved)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites>\n"
        out += String(format: "<testsuite name=\"rnnspec\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
                      results.count, failed - errors, errors, skipped, seconds)
        for r in results {
            let dir = r.id.split(separator: "/").dropLast().joined(separator: ".")
            let name = String(r.id.split(separator: "/").last ?? "")
            out += String(format: "  <testcase classname=\"%@\" name=\"%@\" time=\"%.3f\"", esc(dir.isEmpty ? "cases" : dir), esc(name), r.seconds)
            if r.status.isSuccess { out += "/>\n"; continue }
            out += ">\n"
            let detail = esc(r.detailText())
            switch r.status {
            case .unsupported: out += "    <skipped message=\"\(esc(r.reason ?? ""))\"/>\n"
            case .unresolved: out += "    <error message=\"UNRESOLVED\">\(detail)</error>\n"
            default: out += "    <failure message=\"\(r.status.rawValue)\">\(detail)</failure>\n"
            }
            out += "  </testcase>\n"
        }
        out += "</testsuite>\n</testsuites>\n"
        return out
    }
}

extension CaseResult {
    /// What went wrong (or what was recorded), several lines, ending with a newline.
    public func detailText() -> String {
        var out = ""
        if let reason { out += "reason: \(reason)\n" }
        if let error { out += "\(error)\n" }
        for m in mismatches {
            out += "\(path): output '\(m.output)' differs from the \(m.reference.rawValue):\n"
            out += m.detail.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        }
        for note in notes { out += "\(note)\n" }
        if let rec = recording {
            switch rec.action {
            case .created: out += "golden created\n"
            case .rewritten: out += "golden rewritten" + (rec.notes.isEmpty ? "" : ":") + "\n"
            case .unchanged: out += "golden unchanged\n"
            case .refused: out += "golden not written\n"
            }
            for note in rec.notes { out += "  \(note)\n" }
        }
        return out
    }
}
