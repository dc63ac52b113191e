import Foundation
import RNNKernels
import SVGPlot

/// When and on what a report's run happened, for its header.
public struct RunInfo: Sendable {
    public var date: Date
    /// `git describe --always --dirty` of the working directory, when it is a git checkout.
    public var commit: String?
    /// Host, OS, architecture and cores.
    public var machine: String
    public var command: String

    public init(date: Date = Date(), commit: String? = nil, machine: String = RunInfo.thisMachine, command: String = "") {
        self.date = date
        self.commit = commit
        self.machine = machine
        self.command = command
    }

    public static var thisMachine: String {
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
    public func html(info: RunInfo) -> String {
        var page = HTMLPage()
        page.head(title: "rnnspec report: \(summaryLine)")
        page += "<header><h1>rnnspec report</h1><p class=\"line \(failed == 0 ? "ok" : "bad")\">\(esc(summaryLine)) <span class=\"muted\">(\(esc(countsPhrase())) in \(String(format: "%.2f", seconds)) s)</span></p></header>\n<main>\n"
        page += summarySection(info: info)
        page += "<section aria-labelledby=\"cases-h\"><h2 id=\"cases-h\">Cases</h2>\n<p class=\"muted\">Passing cases are collapsed; open one to see its inputs, outputs and plots.</p>\n"
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
        id.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/").nonEmpty ?? "(top level)"
    }

    func summarySection(info: RunInfo) -> String {
        var out = "<section aria-labelledby=\"summary-h\"><h2 id=\"summary-h\">Summary</h2>\n<div class=\"grid\">\n"
        out += "<div><h3>By result</h3><table><thead><tr><th scope=\"col\">result</th><th scope=\"col\">cases</th></tr></thead><tbody>"
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
        out += "<div><h3>Slowest cases</h3><table><thead><tr><th scope=\"col\">case</th><th scope=\"col\">s</th></tr></thead><tbody>"
        for r in slow {
            let k = results.firstIndex { $0.id == r.id } ?? 0
            out += "<tr><td><a href=\"#case-\(k)\">\(esc(r.id))</a></td><td class=\"n\">\(String(format: "%.3f", r.seconds))</td></tr>"
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
        var out = open ? "<h3>\(esc(title))</h3><table>" : "<details class=\"counts\"><summary><h3>\(esc(title)) (\(groups.count))</h3></summary><table>"
        out += "<thead><tr><th scope=\"col\">\(esc(title.lowercased().replacingOccurrences(of: "by ", with: "")))</th><th scope=\"col\">passed</th><th scope=\"col\">failed</th><th scope=\"col\">skipped</th></tr></thead><tbody>"
        for key in groups.keys.sorted() {
            let s = groups[key]!
            let p = s.filter(\.isSuccess).count, sk = s.filter(\.isSkipped).count
            let f = s.count - p - sk
            out += "<tr\(f > 0 ? " class=\"bad\"" : "")><td>\(esc(key))</td><td class=\"n\">\(p)</td><td class=\"n\">\(f)</td><td class=\"n\">\(sk)</td></tr>"
        }
        return out + "</tbody></table>" + (open ? "" : "</details>") + "\n"
    }

    func card(_ r: CaseResult, index: Int) -> String {
        let c = r.artifacts?.case
        let open = !r.status.isSuccess
        var out = "<details class=\"card s-\(r.status.rawValue.lowercased())\" id=\"case-\(index)\"\(open ? " open" : "")>"
        out += "<summary>\(badge(r.status)) <span class=\"id\">\(esc(r.id))</span>"
        if let t = c?.title { out += " <span class=\"title\">\(esc(t))</span>" }
        out += "</summary>\n<div class=\"body\">"
        out += "<dl class=\"meta\">"
        out += "<dt>file</dt><dd>\(esc(r.path))</dd>"
        if let k = r.kernel { out += "<dt>kernel</dt><dd><code>\(esc(k))</code></dd>" }
        if let s = c?.source { out += "<dt>source</dt><dd>\(esc(s))</dd>" }
        if let tags = c?.tags, !tags.isEmpty { out += "<dt>tags</dt><dd>" + tags.map { "<span class=\"tag\">\(esc($0))</span>" }.joined(separator: " ") + "</dd>" }
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
            for key in c.params.keys.sorted() { out += "<tr><th scope=\"row\">\(esc(key))</th><td>\(esc(c.params[key]!.description))</td></tr>" }
            out += "</tbody></table>"
        }
        if !c.inputs.isEmpty {
            out += "<h4>Inputs</h4>"
            for spec in c.kernel.spec.inputs { if let v = c.inputs[spec.name] { out += valueBlock(spec.name, v, caseTitle: "input") } }
        }
        if let outputs = r.artifacts?.outputs {
            out += outputsBlock(r, c, outputs)
            out += gradcheckPlots(r, c)
            let plots = c.kernel.spec.plots.compactMap { drawKernelPlot($0, c, outputs) }
            if !plots.isEmpty { out += "<h4>Plots</h4><div class=\"plots\">" + plots.map { "<figure>\($0)</figure>" }.joined() + "</div>" }
        }
        return out + "</div></details>\n"
    }

    func outputsBlock(_ r: CaseResult, _ c: Case, _ outputs: KernelOutputs) -> String {
        var out = "<h4>Outputs</h4><table class=\"outs\"><thead><tr><th scope=\"col\">output</th><th scope=\"col\">shape</th><th scope=\"col\">value</th><th scope=\"col\">golden</th><th scope=\"col\">expect:</th></tr></thead><tbody>"
        let golden = r.artifacts?.golden
        for (name, value) in outputs.entries {
            let gm = r.mismatches.first { $0.output == name && $0.reference == .golden }
            let gcell: String
            if golden == nil { gcell = "<span class=\"muted\">no golden</span>" }
            else if r.status == .stale { gcell = "<span class=\"muted\">stale</span>" }
            else if let gm { gcell = "<span class=\"no\">✗ \(gm.failing) of \(gm.total) differ</span>" }
            else { gcell = "<span class=\"yes\">✓ matches</span>" }
            var ecell = "<span class=\"muted\">—</span>"
            if let e = c.expectations.first(where: { $0.output == name })?.expectation {
                let em = r.mismatches.first { $0.output == name && $0.reference == .expect }
                ecell = em == nil ? "<span class=\"yes\">✓ matches</span>" : "<span class=\"no\">✗ \(em!.failing) of \(em!.total) differ</span>"
                ecell += "<div class=\"small\">\(valueInline(e.value))</div>"
                if let s = e.source { ecell += "<div class=\"small muted\">\(esc(s))</div>" }
            }
            out += "<tr><th scope=\"row\"><code>\(esc(name))</code></th><td>\(esc(value.shape.shapeText))</td><td>\(valueInline(value))</td><td>\(gcell)</td><td>\(ecell)</td></tr>"
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
            guard m.problem == nil, case .real(let e)? = expected, e.shape == a.shape, a.tensor.count > 0, let tolerance = m.tolerance else { continue }
            let d = MismatchMap(actual: a.tensor.scalars, expected: e.tensor.scalars, mismatch: m)
            var frame = Frame(title: "|actual − \(m.reference == .golden ? "golden" : "expect:")| of \(m.output)",
                              xLabel: a.shape.count >= 2 ? "element within the step (flattened)" : "element",
                              yLabel: a.shape.count >= 2 ? "first axis (time step t)" : "")
            frame.height = min(420, max(200, 80 + Double(d.rows) * 22))
            let rowNote = d.firstRow.map { "first diverging \(a.shape.count >= 2 ? "step" : "row"): \($0)" }
            let map = Heatmap(frame: frame, rows: d.rows, columns: d.columns, values: d.diffs,
                              mark: d.worst.map { ($0 / d.columns, $0 % d.columns) },
                              markRow: d.firstRow.map { ($0, rowNote!) })
            var caption = "\(m.failing) of \(m.total) elements out of tolerance (\(tolerance))"
            if let w = m.worstAbs { caption += "; worst at \(w.index.shapeText): actual \(w.actual), expected \(w.expected)" }
            if let t = m.time { caption += "; first differs at t = \(t.firstStep) of \(t.steps)" }
            else if a.shape.count >= 2, let f = d.firstRow { caption += "; first differing row: \(f)" }
            if !m.gates.isEmpty { caption += "; gate blocks that differ: " + m.gates.map(\.gate).joined(separator: ", ") }
            out += "<figure class=\"mismatch\">\(map.svg())<figcaption>\(esc(caption))</figcaption></figure>"
        }
        return out.isEmpty ? "" : "<h4>Where it differs</h4>" + out
    }

    func gradcheckPlots(_ r: CaseResult, _ c: Case) -> String {
        guard let request = c.gradcheck, let pairs = r.artifacts?.gradients, !pairs.isEmpty else { return "" }
        var out = "<h4>Gradient check</h4><div class=\"plots\">"
        for pair in pairs {
            let a = pair.analytic.tensor.scalars, n = pair.numeric.tensor.scalars
            let points = zip(n, a).map { (x: $0, y: $1) }
            var outside = Set<Int>()
            for (k, p) in points.enumerated() {
                let ok = p.x.isNaN ? p.y.isNaN : (p.x.isInfinite ? p.x == p.y : abs(p.y - p.x) <= request.tolerance.abs + request.tolerance.rel * abs(p.x))
                if !ok { outside.insert(k) }
            }
            let chart = ScatterChart(frame: Frame(title: "\(pair.name): analytic against finite differences", xLabel: "numeric (central difference, eps \(tickLabel(request.eps)))", yLabel: "analytic"),
                                     points: points, bandAbs: request.tolerance.abs, bandRel: request.tolerance.rel, outside: outside)
            out += "<figure>\(chart.svg())</figure>"
        }
        return out + "</div>"
    }

    func valueBlock(_ name: String, _ v: Value, caseTitle: String) -> String {
        if case .real(let r) = v, r.tensor.count > 48, r.shape.count >= 2 {
            let cols = r.shape.dropFirst().reduce(1, *)
            var frame = Frame(title: "\(caseTitle) \(name) \(r.shape.shapeText)", xLabel: r.shape.count > 2 ? "flattened trailing axes" : "column", yLabel: "row")
            frame.height = min(380, max(180, 80 + Double(r.shape[0]) * 14))
            let map = Heatmap(frame: frame, rows: r.shape[0], columns: cols, values: r.tensor.scalars)
            return "<div class=\"val\"><span class=\"vn\"><code>\(esc(name))</code> \(esc(r.shape.shapeText))</span><figure>\(map.svg())</figure></div>"
        }
        if case .real(let r) = v, r.tensor.count > 48 {
            let chart = LineChart(frame: Frame(title: "\(caseTitle) \(name) \(r.shape.shapeText)", xLabel: "index", yLabel: "value"), series: [Series(name: name, y: r.tensor.scalars)])
            return "<div class=\"val\"><span class=\"vn\"><code>\(esc(name))</code> \(esc(r.shape.shapeText))</span><figure>\(chart.svg())</figure></div>"
        }
        return "<div class=\"val\"><span class=\"vn\"><code>\(esc(name))</code> \(esc(v.shape.shapeText))</span>\(valueInline(v))</div>"
    }

    /// A small value as a table (a scalar as a number); a large one summarised.
    func valueInline(_ v: Value) -> String {
        func cells(_ texts: [String], _ shape: [Int]) -> String {
            if shape.isEmpty { return "<span class=\"num\">\(esc(texts.first ?? ""))</span>" }
            if texts.count > 48 { return "<span class=\"muted\">\(texts.count) values: " + texts.prefix(6).map(esc).joined(separator: ", ") + ", …</span>" }
            let cols = shape.count == 1 ? shape[0] : shape.dropFirst().reduce(1, *)
            guard cols > 0 else { return "<span class=\"muted\">empty</span>" }
            var out = "<table class=\"tensor\"><tbody>"
            for row in 0..<(texts.count / cols) {
                out += "<tr>" + texts[(row * cols)..<((row + 1) * cols)].map { "<td>\(esc($0))</td>" }.joined() + "</tr>"
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

/// |actual − expected| laid out as rows (the first axis) by columns (the rest), with the worst
/// element and the first row holding a differing element taken from the comparison's `Mismatch`
/// (the comparison rule lives only in `Comparison`).
public struct MismatchMap: Sendable {
    public var rows: Int
    public var columns: Int
    /// Differences; +∞ where NaN or an infinity does not match.
    public var diffs: [Double]
    /// Flat index of the element with the largest absolute difference.
    public var worst: Int?
    /// The first row with an element out of tolerance.
    public var firstRow: Int?

    public init(actual: [Double], expected: [Double], mismatch m: Mismatch) {
        let shape = m.shape
        rows = shape.count >= 2 ? shape[0] : 1
        columns = max(1, actual.count / max(rows, 1))
        diffs = zip(actual, expected).map { x, y in
            if x.isNaN || y.isNaN || x.isInfinite || y.isInfinite { return (x.isNaN ? y.isNaN : x == y) ? 0 : .infinity }
            return Swift.abs(x - y)
        }
        func flat(_ index: [Int]) -> Int { zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 } }
        worst = m.worstAbs.map { flat($0.index) }
        // The elements are listed in row-major order: the first one is in the first differing row
        // (the first differing step when the rows are the declared time axis and none are listed).
        firstRow = m.elements.first.map { flat($0.index) / columns } ?? (m.time?.axis == 0 ? m.time?.firstStep : nil)
    }
}

/// The kernel's declared plots, drawn from the case's outputs (and inputs and params where the
/// declaration names them); nil when the outputs the plot needs are absent.
func drawKernelPlot(_ plot: KernelPlot, _ c: Case, _ outputs: KernelOutputs) -> String? {
    func real(_ name: String) -> RealTensor? {
        if case .real(let r)? = outputs[name] { return r }
        if case .real(let r)? = c.inputs[name] { return r }
        return nil
    }
    func number(_ name: String) -> Double? {
        switch c.params[name] {
        case .real(let v)?: return v
        case .integer(let v)?: return Double(v)
        default: return nil
        }
    }
    switch plot {
    case let .lines(title, names, x, y, logY, rowsFrom, firstX):
        var series: [Series] = []
        for name in names {
            guard let r = real(name) else { continue }
            if r.shape.count <= 1 {
                series.append(Series(name: name, x: (0..<r.tensor.count).map { Double($0 + firstX) }, y: r.tensor.scalars))
            } else if r.shape.count == 2 {
                let (rows, cols) = (r.shape[0], r.shape[1])
                let labels = rowsFrom.flatMap(real).map(\.tensor.scalars)
                for row in 0..<rows {
                    let label = labels.flatMap { $0.count == rows ? "\(rowsFrom!) = \(shortNumberText($0[row]))" : nil } ?? "\(name)[\(row)]"
                    series.append(Series(name: label, x: (0..<cols).map { Double($0 + firstX) }, y: Array(r.tensor.scalars[(row * cols)..<((row + 1) * cols)])))
                }
            }
        }
        guard !series.isEmpty, series.contains(where: { !$0.y.isEmpty }) else { return nil }
        return LineChart(frame: Frame(title: title, xLabel: x, yLabel: y), series: series, logY: logY).svg()
    case let .histogram(title, countsName, edgesName, x, thresholds):
        guard let edges = real(edgesName) else { return nil }
        let counts: [Double]
        switch outputs[countsName] {
        case .integer(let t)?: counts = t.scalars.map(Double.init)
        case .real(let r)?: counts = r.tensor.scalars
        default: return nil
        }
        let markers = thresholds.compactMap { name in number(name).map { (x: $0, label: "\(name) \(shortNumberText($0))") } }
        return Histogram(frame: Frame(title: title, xLabel: x, yLabel: "count"), edges: edges.tensor.scalars, counts: counts, markers: markers).svg()
    case let .heatmap(title, name, x, y):
        guard let r = real(name), r.tensor.count > 0, r.shape.count <= 2 else { return nil }
        let rows = r.shape.count == 2 ? r.shape[0] : 1, cols = r.shape.last ?? 1
        var frame = Frame(title: title, xLabel: x, yLabel: y)
        frame.height = min(400, max(170, 90 + Double(rows) * 34))
        return Heatmap(frame: frame, rows: rows, columns: cols, values: r.tensor.scalars).svg()
    case let .trajectories(title, name):
        guard let r = real(name), r.shape.count >= 2, r.shape[0] > 0 else { return nil }
        let t = r.shape[0], width = r.shape.last!, stride = r.tensor.count / t
        let series = (0..<width).map { j in Series(name: "\(name)[\(j)]", y: (0..<t).map { r.tensor.scalars[$0 * stride + j] }) }
        let batch = r.shape.count == 3 ? " (first batch row)" : ""
        return LineChart(frame: Frame(title: title + batch, xLabel: "time step t", yLabel: "state value"), series: series).svg()
    case let .temperatureSweep(title, name, temperatureParam, labelsFrom):
        guard let p = real(name), p.shape.count == 2, p.shape[0] > 0, let temperature = number(temperatureParam), temperature > 0 else { return nil }
        let v = p.shape[1]
        let first = Array(p.tensor.scalars[0..<v])
        let logits = first.map { $0 > 0 ? Foundation.log($0) * temperature : -Double.infinity }
        var temps = [0.25, 0.5, 1, 2]
        if !temps.contains(temperature) { temps.append(temperature) }
        temps.sort()
        let series = temps.map { tau -> Series in
            let z = logits.map { $0 / tau }
            let m = z.filter(\.isFinite).max() ?? 0
            let e = z.map { $0.isFinite ? Foundation.exp($0 - m) : 0 }
            let s = e.reduce(0, +)
            return Series(name: "T = \(shortNumberText(tau))" + (tau == temperature ? " (this case)" : ""), y: e.map { $0 / s })
        }
        var xLabel = "character index"
        if let labels = labelsFrom, case .string(let vocab)? = c.inputs[labels] {
            xLabel += ": " + vocab.scalars.enumerated().map { "\($0.offset) \"\($0.element)\"" }.joined(separator: ", ")
        }
        return LineChart(frame: Frame(title: title, xLabel: xLabel, yLabel: "probability"), series: series, markers: true).svg()
    }
}

/// The page being written, with its stylesheet.
struct HTMLPage {
    var text = ""

    static func += (page: inout HTMLPage, s: String) { page.text += s }

    mutating func head(title: String) {
        text += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        text += "<title>\(esc(title))</title>\n<style>\n\(Self.css)</style>\n</head>\n<body>\n"
    }

    static let css = """
    :root { --fg: #1b1b1b; --muted: #5f5f5f; --line: #d9d9d9; --ok: #00704a; --bad: #b3261e; --bg2: #f6f7f9; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
    header, main { max-width: 1180px; margin: 0 auto; padding: 0 16px; }
    header { padding-top: 12px; }
    h1 { font-size: 1.6em; margin: 0.3em 0 0.1em; }
    h2 { font-size: 1.3em; border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 1.4em; }
    h3 { font-size: 1.05em; margin: 1.1em 0 0.4em; }
    h4 { font-size: 0.95em; margin: 1em 0 0.3em; color: #333; }
    .line { font-size: 1.15em; font-weight: 600; margin: 0; }
    .line.ok { color: var(--ok); } .line.bad { color: var(--bad); }
    .muted { color: var(--muted); font-weight: normal; }
    .small { font-size: 0.85em; }
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(320px, 100%), 1fr)); gap: 8px 24px; }
    .grid > div { min-width: 0; overflow-x: auto; }
    table { border-collapse: collapse; margin: 4px 0; max-width: 100%; }
    td a { overflow-wrap: anywhere; }
    th, td { border: 1px solid var(--line); padding: 3px 7px; text-align: left; vertical-align: top; }
    thead th { background: var(--bg2); }
    td.n { text-align: right; font-variant-numeric: tabular-nums; }
    tr.bad td { background: #fdecea; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 4px 0; }
    dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
    code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
    .badge { display: inline-block; min-width: 5.6em; text-align: center; font: 600 0.78em/1.6 ui-monospace, "DejaVu Sans Mono", monospace; border-radius: 4px; padding: 0 6px; color: #fff; background: #555; }
    .b-pass, .b-xfail { background: var(--ok); }
    .b-fail, .b-xpass, .b-unresolved, .b-timeout { background: var(--bad); }
    .b-new, .b-stale { background: #8a4b00; }
    .b-unsupported { background: #666; }
    details.card { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; background: #fff; }
    details.card[open] { box-shadow: 0 1px 3px rgba(0,0,0,0.08); }
    details.card > summary { cursor: pointer; padding: 7px 10px; list-style-position: inside; overflow-wrap: anywhere; }
    details.card > summary:focus-visible, a:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
    details.s-fail, details.s-unresolved, details.s-timeout, details.s-xpass { border-left: 5px solid var(--bad); }
    details.s-new, details.s-stale { border-left: 5px solid #8a4b00; }
    .id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600; }
    .title { color: #333; }
    .body { padding: 2px 12px 12px; overflow-x: auto; }
    .tag { background: var(--bg2); border: 1px solid var(--line); border-radius: 10px; padding: 0 7px; font-size: 0.85em; }
    pre.detail { background: #fdf3f2; border: 1px solid #f1c4c0; padding: 8px; overflow-x: auto; white-space: pre-wrap; font-size: 0.85em; }
    table.tensor td { font: 0.82em ui-monospace, "DejaVu Sans Mono", monospace; padding: 1px 5px; text-align: right; }
    table.outs td, table.outs th { font-size: 0.92em; }
    .yes { color: var(--ok); font-weight: 600; } .no { color: var(--bad); font-weight: 600; }
    .val { margin: 6px 0; } .vn { display: block; font-size: 0.9em; color: #333; }
    .plots { display: flex; flex-wrap: wrap; gap: 12px; }
    figure { margin: 6px 0; max-width: 100%; }
    figcaption { font-size: 0.88em; color: #333; max-width: 560px; }
    svg.plot { max-width: 100%; height: auto; display: block; font: 11px system-ui, "DejaVu Sans", sans-serif; }
    svg.plot .pt { font-size: 13px; font-weight: 600; }
    svg.plot .al { font-size: 12px; fill: #333; }
    svg.plot .ax text { fill: #444; }
    svg.plot .ax line { stroke: #888; }
    svg.plot .grid { stroke: #e6e6e6; }
    svg.plot .box { stroke: #999; }
    svg.plot .mk { fill: #D55E00; font-size: 11px; }
    ul.bad-list { columns: 2 320px; padding-left: 1.2em; }
    details.counts > summary { cursor: pointer; } details.counts > summary h3 { display: inline; }
    @media (max-width: 600px) { body { font-size: 14px; } th, td { padding: 2px 4px; } .badge { min-width: 0; } }

    """
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
