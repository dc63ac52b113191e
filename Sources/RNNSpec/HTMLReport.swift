import Foundation
import RNNKernels
import SVGPlot

/// When and on what a report's run happened, for its header.
package struct RunInfo: Sendable {
    package var date: Date
    /// `git describe --always --dirty` of the working directory, when it is a git checkout.
    package var commit: String?
    /// Host, OS, architecture and cores.
    package var machine: String
    package var command: String

    package init(
        date: Date = Date(), commit: String? = nil, machine: String = RunInfo.thisMachine, command: String = ""
    ) {
        self.date = date
        self.commit = commit
        self.machine = machine
        self.command = command
    }

    package static var thisMachine: String {
        let p = ProcessInfo.processInfo
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "other"
        #endif
        return "\(p.hostName), \(p.operatingSystemVersionString), \(arch), \(p.activeProcessorCount) cores"
    }
}

/// The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched), with a
/// summary, then a card per case. Every string from a case file, a golden, a path or an error
/// message goes through `escapeMarkup`; element ids are rnnspec's own (`case-12`).
extension RunReport {
    package func html(info: RunInfo) -> String {
        var page = HTMLPage()
        page.head(title: "rnnspec report: \(summaryLine)")
        page +=
            "<header><h1>rnnspec report</h1><p class=\"line \(failed == 0 ? "ok" : "bad")\">\(esc(summaryLine)) <span class=\"muted\">(\(esc(countsPhrase())) in \(String(format: "%.2f", seconds)) s)</span></p></header>\n<main>\n"
        page += summarySection(info: info)
        page +=
            "<section aria-labelledby=\"cases-h\"><h2 id=\"cases-h\">Cases</h2>\n<p class=\"muted\">Passing cases are collapsed; open one to see its inputs, outputs and plots.</p>\n"
        var folder: String? = nil
        for (k, r) in results.enumerated() {
            let f = folderOf(r.id)
            if f != folder {
                folder = f
                page += "<h3>\(esc(f))</h3>\n"
            }
            page += card(r, index: k)
        }
        page += "</section>\n</main>\n</body>\n</html>\n"
        return page.text
    }

    func folderOf(_ id: String) -> String {
        id.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/").nonEmpty
            ?? "(top level)"
    }

    func summarySection(info: RunInfo) -> String {
        var out = "<section aria-labelledby=\"summary-h\"><h2 id=\"summary-h\">Summary</h2>\n<div class=\"grid\">\n"
        out +=
            "<div><h3>By result</h3><table><thead><tr><th scope=\"col\">result</th><th scope=\"col\">cases</th></tr></thead><tbody>"
        for s in Status.allCases where count(s) > 0 {
            out += "<tr><td>\(badge(s))</td><td class=\"n\">\(count(s))</td></tr>"
        }
        out += "</tbody></table></div>\n"
        out += "<div>" + countsTable("By folder", results.map { folderOf($0.id) }, open: true) + "</div>\n"
        out += "<div><h3>Run</h3><dl>"
        out += "<dt>date</dt><dd>\(esc(ISO8601DateFormatter().string(from: info.date)))</dd>"
        out += "<dt>rnnspec</dt><dd>commit \(esc(info.commit ?? "unknown"))</dd>"
        out += "<dt>machine</dt><dd>\(esc(info.machine))</dd>"
        if !info.command.isEmpty { out += "<dt>command</dt><dd><code>\(esc(info.command))</code></dd>" }
        out += "<dt>wall time</dt><dd>\(String(format: "%.2f", seconds)) s</dd></dl></div>\n"
        let slow = results.sorted { $0.seconds > $1.seconds }.prefix(8)
        out +=
            "<div><h3>Slowest cases</h3><table><thead><tr><th scope=\"col\">case</th><th scope=\"col\">s</th></tr></thead><tbody>"
        for r in slow {
            let k = results.firstIndex { $0.id == r.id } ?? 0
            out +=
                "<tr><td><a href=\"#case-\(k)\">\(esc(r.id))</a></td><td class=\"n\">\(String(format: "%.3f", r.seconds))</td></tr>"
        }
        out += "</tbody></table></div>\n</div>\n"
        let bad = results.enumerated().filter { !$0.element.status.isSuccess && !$0.element.status.isSkipped }
        if !bad.isEmpty {
            out += "<h3>Not passing</h3><ul class=\"bad-list\">"
            for (k, r) in bad { out += "<li>\(badge(r.status)) <a href=\"#case-\(k)\">\(esc(r.id))</a></li>" }
            out += "</ul>\n"
        }
        out += countsTable("By kernel", results.map { $0.kernel ?? "(unknown)" }, open: false)
        if !orphanGoldens.isEmpty {
            out += "<h3>Goldens with no case</h3><ul>" + orphanGoldens.map { "<li>\(esc($0))</li>" }.joined() + "</ul>"
        }
        return out + "</section>\n"
    }

    func countsTable(_ title: String, _ keys: [String], open: Bool) -> String {
        var groups: [String: [Status]] = [:]
        for (key, r) in zip(keys, results) { groups[key, default: []].append(r.status) }
        var out =
            open
            ? "<h3>\(esc(title))</h3><table>"
            : "<details class=\"counts\"><summary><h3>\(esc(title)) (\(groups.count))</h3></summary><table>"
        out +=
            "<thead><tr><th scope=\"col\">\(esc(title.lowercased().replacingOccurrences(of: "by ", with: "")))</th><th scope=\"col\">passed</th><th scope=\"col\">failed</th><th scope=\"col\">skipped</th></tr></thead><tbody>"
        for key in groups.keys.sorted() {
            let s = groups[key]!
            let p = s.filter(\.isSuccess).count, sk = s.filter(\.isSkipped).count
            let f = s.count - p - sk
            out +=
                "<tr\(f > 0 ? " class=\"bad\"" : "")><td>\(esc(key))</td><td class=\"n\">\(p)</td><td class=\"n\">\(f)</td><td class=\"n\">\(sk)</td></tr>"
        }
        return out + "</tbody></table>" + (open ? "" : "</details>") + "\n"
    }

    func card(_ r: CaseResult, index: Int) -> String {
        let c = r.artifacts?.case
        let open = !r.status.isSuccess
        var out =
            "<details class=\"card s-\(r.status.rawValue.lowercased())\" id=\"case-\(index)\"\(open ? " open" : "")>"
        out += "<summary>\(badge(r.status)) <span class=\"id\">\(esc(r.id))</span>"
        if let t = c?.title { out += " <span class=\"title\">\(esc(t))</span>" }
        out += "</summary>\n<div class=\"body\">"
        out += "<dl class=\"meta\">"
        out += "<dt>file</dt><dd>\(esc(r.path))</dd>"
        if let k = r.kernel { out += "<dt>kernel</dt><dd><code>\(esc(k))</code></dd>" }
        if let s = c?.source { out += "<dt>source</dt><dd>\(esc(s))</dd>" }
        if let tags = c?.tags, !tags.isEmpty {
            out +=
                "<dt>tags</dt><dd>" + tags.map { "<span class=\"tag\">\(esc($0))</span>" }.joined(separator: " ")
                + "</dd>"
        }
        if let reason = r.reason { out += "<dt>reason</dt><dd>\(esc(reason))</dd>" }
        out += "<dt>time</dt><dd>\(String(format: "%.3f", r.seconds)) s</dd></dl>"
        if r.error != nil || !r.mismatches.isEmpty || !r.notes.isEmpty {
            out += "<pre class=\"detail\">\(esc(r.detailText()))</pre>"
        }
        guard let c else { return out + "</div></details>\n" }
        // Where it differs first: the heatmaps come right after the failure's text.
        if let outputs = r.artifacts?.outputs { out += mismatchPlots(r, c, outputs) }
        if !c.params.isEmpty {
            out += "<h4>Params</h4><table class=\"kv\"><tbody>"
            for key in c.params.keys.sorted() {
                out += "<tr><th scope=\"row\">\(esc(key))</th><td>\(esc(c.params[key]!.description))</td></tr>"
            }
            out += "</tbody></table>"
        }
        if !c.inputs.isEmpty {
            out += "<h4>Inputs</h4>"
            for spec in c.kernel.spec.inputs {
                if let v = c.inputs[spec.name] { out += valueBlock(spec.name, v, caseTitle: "input") }
            }
        }
        if let outputs = r.artifacts?.outputs {
            out += outputsBlock(r, c, outputs)
            out += gradcheckPlots(r, c)
            let plots = c.kernel.spec.plots.compactMap { drawKernelPlot($0, c, outputs) }
            if !plots.isEmpty {
                out +=
                    "<h4>Plots</h4><div class=\"plots\">" + plots.map { "<figure>\($0)</figure>" }.joined() + "</div>"
            }
        }
        return out + "</div></details>\n"
    }

    func outputsBlock(_ r: CaseResult, _ c: Case, _ outputs: KernelOutputs) -> String {
        var out =
            "<h4>Outputs</h4><table class=\"outs\"><thead><tr><th scope=\"col\">output</th><th scope=\"col\">shape</th><th scope=\"col\">value</th><th scope=\"col\">golden</th><th scope=\"col\">expect:</th></tr></thead><tbody>"
        let golden = r.artifacts?.golden
        for (name, value) in outputs.entries {
            let gm = r.mismatches.first { $0.output == name && $0.reference == .golden }
            let gcell: String
            if golden == nil {
                gcell = "<span class=\"muted\">no golden</span>"
            } else if r.status == .stale {
                gcell = "<span class=\"muted\">stale</span>"
            } else if let gm {
                gcell = "<span class=\"no\">✗ \(gm.failing) of \(gm.total) differ</span>"
            } else {
                gcell = "<span class=\"yes\">✓ matches</span>"
            }
            var ecell = "<span class=\"muted\">—</span>"
            if let e = c.expectations.first(where: { $0.output == name })?.expectation {
                let em = r.mismatches.first { $0.output == name && $0.reference == .expect }
                ecell =
                    em == nil
                    ? "<span class=\"yes\">✓ matches</span>"
                    : "<span class=\"no\">✗ \(em!.failing) of \(em!.total) differ</span>"
                ecell += "<div class=\"small\">\(valueInline(e.value))</div>"
                if let s = e.source { ecell += "<div class=\"small muted\">\(esc(s))</div>" }
            }
            out +=
                "<tr><th scope=\"row\"><code>\(esc(name))</code></th><td>\(esc(value.shape.shapeText))</td><td>\(valueInline(value))</td><td>\(gcell)</td><td>\(ecell)</td></tr>"
        }
        return out + "</tbody></table>"
    }

    /// A heatmap of |actual − reference| for every real output that differs, the worst element outlined
    /// and the first row (time step, for sequence outputs) out of tolerance marked.
    func mismatchPlots(_ r: CaseResult, _ c: Case, _ outputs: KernelOutputs) -> String {
        var out = ""
        for m in r.mismatches where m.reference != .gradcheck {
            guard case .real(let a)? = outputs[m.output] else { continue }
            let expected: Value?
            if m.reference == .golden {
                expected = r.artifacts?.golden?.output(m.output)
            } else {
                expected = c.expectations.first { $0.output == m.output }?.expectation.value
            }
            guard m.problem == nil, case .real(let e)? = expected, e.shape == a.shape, a.tensor.count > 0,
                let tolerance = m.tolerance
            else { continue }
            let d = MismatchMap(actual: a.tensor.scalars, expected: e.tensor.scalars, mismatch: m)
            var frame = Frame(
                title: "|actual − \(m.reference == .golden ? "golden" : "expect:")| of \(m.output)",
                xLabel: a.shape.count >= 2 ? "element within the step (flattened)" : "element",
                yLabel: a.shape.count >= 2 ? "first axis (time step t)" : "")
            frame.height = min(420, max(200, 80 + Double(d.rows) * 22))
            let rowNote = d.firstRow.map { "first diverging \(a.shape.count >= 2 ? "step" : "row"): \($0)" }
            let map = Heatmap(
                frame: frame, rows: d.rows, columns: d.columns, values: d.diffs,
                mark: d.worst.map { ($0 / d.columns, $0 % d.columns) },
                markRow: d.firstRow.map { ($0, rowNote!) })
            var caption = "\(m.failing) of \(m.total) elements out of tolerance (\(tolerance))"
            if let w = m.worstAbs {
                caption += "; worst at \(w.index.shapeText): actual \(w.actual), expected \(w.expected)"
            }
            if let t = m.time {
                caption += "; first differs at t = \(t.firstStep) of \(t.steps)"
            } else if a.shape.count >= 2, let f = d.firstRow {
                caption += "; first differing row: \(f)"
            }
            if !m.gates.isEmpty {
                caption += "; gate blocks that differ: " + m.gates.map(\.gate).joined(separator: ", ")
            }
            out += "<figure class=\"mismatch\">\(map.svg())<figcaption>\(esc(caption))</figcaption></figure>"
        }
        return out.isEmpty ? "" : "<h4>Where it differs</h4>" + out
    }

    func gradcheckPlots(_ r: CaseResult, _ c: Case) -> String {
        guard let request = c.gradcheck, let pairs = r.artifacts?.gradients, !pairs.isEmpty else { return "" }
        var out = "<h4>Gradient check</h4>"
        if let directional = r.artifacts?.directional, !directional.isEmpty {
            let verdict = GradCheck.verdict(pairs, directional, request)
            out +=
                "<p>Fast check: the analytic gradient's projections g·u on \(request.directions) random unit directions (seed \(request.seed)) against central differences along them; allowed Σ|u<sub>i</sub>|·(abs + rel·|g<sub>i</sub>|)"
                + (verdict.passed ? "." : "; it failed, so every element was checked (plots below).") + "</p>"
            out +=
                "<table class=\"tensor\"><thead><tr><th>direction</th><th>g·u</th><th>finite difference</th><th>|diff|</th><th>allowed</th><th></th></tr></thead><tbody>"
            for (j, d) in verdict.directions.enumerated() {
                out +=
                    "<tr><td>\(j + 1)</td>"
                    + [d.analytic, d.numeric, (d.analytic - d.numeric).magnitude, d.allowed].map {
                        "<td>\(esc(shortNumberText($0)))</td>"
                    }.joined()
                    + "<td>\(d.passed ? "ok" : "<strong>differs</strong>")</td></tr>"
            }
            out += "</tbody></table>"
        }
        out += "<div class=\"plots\">"
        for pair in pairs {
            guard let numeric = pair.numeric else { continue }
            let a = pair.analytic.tensor.scalars, n = numeric.tensor.scalars
            let points = zip(n, a).map { (x: $0, y: $1) }
            var outside = Set<Int>()
            for (k, p) in points.enumerated() {
                let ok =
                    p.x.isNaN
                    ? p.y.isNaN
                    : (p.x.isInfinite
                        ? p.x == p.y : abs(p.y - p.x) <= request.tolerance.abs + request.tolerance.rel * abs(p.x))
                if !ok { outside.insert(k) }
            }
            let chart = ScatterChart(
                frame: Frame(
                    title: "\(pair.name): analytic against finite differences",
                    xLabel: "numeric (central difference, eps \(tickLabel(request.eps)))", yLabel: "analytic"),
                points: points, bandAbs: request.tolerance.abs, bandRel: request.tolerance.rel, outside: outside)
            out += "<figure>\(chart.svg())</figure>"
        }
        return out + "</div>"
    }

    func valueBlock(_ name: String, _ v: Value, caseTitle: String) -> String {
        if case .real(let r) = v, r.tensor.count > 48, r.shape.count >= 2 {
            let cols = r.shape.dropFirst().reduce(1, *)
            var frame = Frame(
                title: "\(caseTitle) \(name) \(r.shape.shapeText)",
                xLabel: r.shape.count > 2 ? "flattened trailing axes" : "column", yLabel: "row")
            frame.height = min(380, max(180, 80 + Double(r.shape[0]) * 14))
            let map = Heatmap(frame: frame, rows: r.shape[0], columns: cols, values: r.tensor.scalars)
            return
                "<div class=\"val\"><span class=\"vn\"><code>\(esc(name))</code> \(esc(r.shape.shapeText))</span><figure>\(map.svg())</figure></div>"
        }
        if case .real(let r) = v, r.tensor.count > 48 {
            let chart = LineChart(
                frame: Frame(title: "\(caseTitle) \(name) \(r.shape.shapeText)", xLabel: "index", yLabel: "value"),
                series: [Series(name: name, y: r.tensor.scalars)])
            return
                "<div class=\"val\"><span class=\"vn\"><code>\(esc(name))</code> \(esc(r.shape.shapeText))</span><figure>\(chart.svg())</figure></div>"
        }
        return
            "<div class=\"val\"><span class=\"vn\"><code>\(esc(name))</code> \(esc(v.shape.shapeText))</span>\(valueInline(v))</div>"
    }

    /// A small value as a table (a scalar as a number); a large one summarised.
    func valueInline(_ v: Value) -> String {
        func cells(_ texts: [String], _ shape: [Int]) -> String {
            if shape.isEmpty { return "<span class=\"num\">\(esc(texts.first ?? ""))</span>" }
            if texts.count > 48 {
                return "<span class=\"muted\">\(texts.count) values: "
                    + texts.prefix(6).map(esc).joined(separator: ", ") + ", …</span>"
            }
            let cols = shape.count == 1 ? shape[0] : shape.dropFirst().reduce(1, *)
            guard cols > 0 else { return "<span class=\"muted\">empty</span>" }
            var out = "<table class=\"tensor\"><tbody>"
            for row in 0..<(texts.count / cols) {
                out +=
                    "<tr>" + texts[(row * cols)..<((row + 1) * cols)].map { "<td>\(esc($0))</td>" }.joined() + "</tr>"
            }
            return out + "</tbody></table>"
        }
        switch v {
        case .real(let r): return cells(r.tensor.scalars.map(shortNumberText), r.shape)
        case .integer(let t): return cells(t.scalars.map(String.init), t.shape)
        case .string(let t): return cells(t.scalars.map { "\"\($0)\"" }, t.shape)
        case .boolean(let t): return cells(t.scalars.map(String.init), t.shape)
        case .list(let items): return items.map(valueInline).joined(separator: " ")
        }
    }

    func badge(_ s: Status) -> String { "<span class=\"badge b-\(s.rawValue.lowercased())\">\(s.rawValue)</span>" }
}

/// A number with 6 significant digits, or the special value's name.
func shortNumberText(_ x: Double) -> String {
    if x.isNaN { return "NaN" }
    if x.isInfinite { return x < 0 ? "−∞" : "∞" }
    if x == x.rounded() && abs(x) < 1e15 { return String(Int(x)) }
    return String(format: "%.6g", x)
}

func esc(_ s: String) -> String { escapeMarkup(s) }
