import Foundation

/// A matrix as coloured cells (viridis, colour-blind safe), with a colour bar, an optional marked
/// cell and an optional marked row.
public struct Heatmap: Sendable {
    public var frame: Frame
    public var rows: Int
    public var columns: Int
    /// Row-major, rows × columns.
    public var values: [Double]
    /// A cell to outline (the worst element).
    public var mark: (row: Int, column: Int)?
    /// A row to point at (the first diverging time step), with its label.
    public var markRow: (row: Int, label: String)?
    /// Labels of the rows and columns (drawn when there are few).
    public var rowLabels: [String]?
    public var columnLabels: [String]?

    /// Above this many cells, blocks of cells are merged (keeping each block's largest value).
    public static let maxCells = 4_096

    public init(
        frame: Frame, rows: Int, columns: Int, values: [Double], mark: (row: Int, column: Int)? = nil,
        markRow: (row: Int, label: String)? = nil, rowLabels: [String]? = nil, columnLabels: [String]? = nil
    ) {
        self.frame = frame
        self.rows = rows
        self.columns = columns
        self.values = values
        self.mark = mark
        self.markRow = markRow
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
    }

    /// The grid drawn: block sizes and the merged values (NaN where a block holds only NaN).
    public var grid: (rowStep: Int, columnStep: Int, rows: Int, columns: Int, values: [Double]) {
        var rs = 1, cs = 1
        while ((rows + rs - 1) / rs) * ((columns + cs - 1) / cs) > Self.maxCells {
            if (rows + rs - 1) / rs >= (columns + cs - 1) / cs { rs *= 2 } else { cs *= 2 }
        }
        let gr = (rows + rs - 1) / rs, gc = (columns + cs - 1) / cs
        if rs == 1 && cs == 1 { return (1, 1, rows, columns, values) }
        var out = [Double](repeating: .nan, count: gr * gc)
        for r in 0..<rows {
            for c in 0..<columns {
                let v = values[r * columns + c]
                let k = (r / rs) * gc + c / cs
                if out[k].isNaN || (!v.isNaN && v > out[k]) { out[k] = v }
            }
        }
        return (rs, cs, gr, gc, out)
    }

    public func svg() -> String {
        let g = grid
        let finite = g.values.filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        let barWidth = 14.0
        let plotW = frame.plotRight - frame.plotLeft - barWidth - 44
        let plotH = frame.plotBottom - frame.plotTop
        let cw = plotW / Double(max(g.columns, 1)), ch = plotH / Double(max(g.rows, 1))
        var desc = "\(rows) × \(columns) values from \(tickLabel(lo)) to \(tickLabel(hi))"
        if g.rowStep > 1 || g.columnStep > 1 {
            desc += "; blocks of \(g.rowStep) × \(g.columnStep) cells drawn as their largest value"
        }
        let nonFinite = values.filter { !$0.isFinite }.count
        if nonFinite > 0 { desc += "; \(nonFinite) NaN or infinite cells hatched grey" }
        if let m = mark { desc += "; outlined: row \(m.row), column \(m.column)" }
        if let r = markRow { desc += "; arrow: \(r.label)" }
        var out = frame.open(description: desc)
        out +=
            "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><rect width=\"6\" height=\"6\" fill=\"#ddd\"/><path d=\"M0 6L6 0\" stroke=\"#888\"/></pattern></defs>"
        for r in 0..<g.rows {
            for c in 0..<g.columns {
                let v = g.values[r * g.columns + c]
                let fill = v.isFinite ? viridis(hi > lo ? (v - lo) / (hi - lo) : 0.5) : "url(#hatch)"
                out +=
                    "<rect x=\"\(coordinate(frame.plotLeft + Double(c) * cw))\" y=\"\(coordinate(frame.plotTop + Double(r) * ch))\" width=\"\(coordinate(cw + 0.3))\" height=\"\(coordinate(ch + 0.3))\" fill=\"\(fill)\"/>"
            }
        }
        // Axis ticks: labels when few, indices otherwise.
        let rowTicks = tickIndices(rows), columnTicks = tickIndices(columns)
        out += "<g class=\"ax\">"
        for r in rowTicks {
            let label = rowLabels.map { r < $0.count ? $0[r] : "\(r)" } ?? "\(r)"
            let py = frame.plotTop + (Double(r / g.rowStep) + 0.5) * ch
            out +=
                "<text x=\"\(coordinate(frame.plotLeft - 5))\" y=\"\(coordinate(py + 4))\" text-anchor=\"end\">\(escapeMarkup(label))</text>"
        }
        for c in columnTicks {
            let label = columnLabels.map { c < $0.count ? $0[c] : "\(c)" } ?? "\(c)"
            let px = frame.plotLeft + (Double(c / g.columnStep) + 0.5) * cw
            out +=
                "<text x=\"\(coordinate(px))\" y=\"\(coordinate(frame.plotBottom + 15))\" text-anchor=\"middle\">\(escapeMarkup(label))</text>"
        }
        out +=
            "<text x=\"\(coordinate(frame.plotLeft + plotW / 2))\" y=\"\(coordinate(frame.plotBottom + 36))\" text-anchor=\"middle\" class=\"al\">\(escapeMarkup(frame.xLabel))</text>"
        out +=
            "<text transform=\"translate(14 \(coordinate((frame.plotTop + frame.plotBottom) / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"al\">\(escapeMarkup(frame.yLabel))</text>"
        // Colour bar.
        let bx = frame.plotLeft + plotW + 10
        for k in 0..<32 {
            let t = Double(k) / 31
            out +=
                "<rect x=\"\(coordinate(bx))\" y=\"\(coordinate(frame.plotBottom - (Double(k) + 1) * plotH / 32))\" width=\"\(coordinate(barWidth))\" height=\"\(coordinate(plotH / 32 + 0.3))\" fill=\"\(viridis(t))\"/>"
        }
        out +=
            "<text x=\"\(coordinate(bx + barWidth + 3))\" y=\"\(coordinate(frame.plotTop + 9))\">\(escapeMarkup(barLabel(hi)))</text>"
        out +=
            "<text x=\"\(coordinate(bx + barWidth + 3))\" y=\"\(coordinate(frame.plotBottom))\">\(escapeMarkup(barLabel(lo)))</text>"
        out += "</g>"
        if let m = mark, m.row < rows, m.column < columns {
            let px = frame.plotLeft + Double(m.column / g.columnStep) * cw,
                py = frame.plotTop + Double(m.row / g.rowStep) * ch
            out +=
                "<rect x=\"\(coordinate(px))\" y=\"\(coordinate(py))\" width=\"\(coordinate(cw))\" height=\"\(coordinate(ch))\" fill=\"none\" stroke=\"#D55E00\" stroke-width=\"3\" class=\"worst\"><title>worst element: row \(m.row), column \(m.column)</title></rect>"
        }
        if let r = markRow, r.row < rows {
            let py = frame.plotTop + (Double(r.row / g.rowStep) + 0.5) * ch
            let ax = frame.plotLeft + plotW + 2
            let top = frame.plotTop + Double(r.row / g.rowStep) * ch
            out +=
                "<path d=\"M\(coordinate(ax + 6)) \(coordinate(py - 5))L\(coordinate(ax)) \(coordinate(py))L\(coordinate(ax + 6)) \(coordinate(py + 5))Z\" fill=\"#D55E00\" class=\"divergence\"><title>\(escapeMarkup(r.label))</title></path>"
            out +=
                "<line x1=\"\(coordinate(frame.plotLeft))\" x2=\"\(coordinate(frame.plotLeft + plotW))\" y1=\"\(coordinate(top))\" y2=\"\(coordinate(top))\" stroke=\"#D55E00\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>"
            out +=
                "<text x=\"\(coordinate(frame.plotLeft + plotW))\" y=\"\(coordinate(frame.plotTop - 5))\" text-anchor=\"end\" class=\"mk\">\(escapeMarkup(r.label))</text>"
        }
        return out + "</svg>"
    }

    func tickIndices(_ n: Int) -> [Int] {
        guard n > 0 else { return [] }
        if n <= 12 { return Array(0..<n) }
        let step = Int(niceStep(Double(n) / 6))
        return Array(stride(from: 0, to: n, by: max(step, 1)))
    }
}

/// A colour-bar label: three significant digits.
func barLabel(_ x: Double) -> String {
    x == 0 ? "0" : String(format: "%.3g", x)
}

/// Viridis, as a CSS colour, for t in [0, 1].
public func viridis(_ t: Double) -> String {
    let stops: [(Double, Double, Double)] = [
        (68, 1, 84), (72, 40, 120), (62, 74, 137), (49, 104, 142), (38, 130, 142),
        (31, 158, 137), (53, 183, 121), (109, 205, 89), (180, 222, 44), (253, 231, 37),
    ]
    let u = min(1, max(0, t.isFinite ? t : 0)) * Double(stops.count - 1)
    let k = min(stops.count - 2, Int(u))
    let f = u - Double(k)
    let a = stops[k], b = stops[k + 1]
    func mix(_ p: Double, _ q: Double) -> Int { Int((p + (q - p) * f).rounded()) }
    return String(format: "#%02x%02x%02x", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}
