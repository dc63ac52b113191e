import Foundation

/// Okabe and Ito's palette, distinguishable with every common colour-vision deficiency; series
/// beyond eight reuse it with a dash pattern.
public let seriesPalette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]

/// A named sequence of points of a line chart.
public struct Series: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]

    public init(name: String, x: [Double], y: [Double]) {
        self.name = name
        self.x = x
        self.y = y
    }

    /// y over x = 0, 1, 2, ...
    public init(name: String, y: [Double]) {
        self.init(name: name, x: (0..<y.count).map(Double.init), y: y)
    }
}

/// The frame every chart draws in: size, margins, title and axis labels.
public struct Frame: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var width: Double = 560
    public var height: Double = 300
    public var left: Double = 68
    public var right: Double = 16
    public var top: Double = 34
    public var bottom: Double = 46

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    var plotLeft: Double { left }
    var plotRight: Double { width - right }
    var plotTop: Double { top }
    var plotBottom: Double { height - bottom }

    /// The opening tag with an accessible name (`<title>`) and description (`<desc>`).
    func open(extraHeight: Double = 0, description: String) -> String {
        let h = height + extraHeight
        return
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 \(coordinate(width)) \(coordinate(h))\" width=\"\(coordinate(width))\" height=\"\(coordinate(h))\" role=\"img\">"
            + "<title>\(escapeMarkup(title))</title><desc>\(escapeMarkup(description))</desc>"
            + "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
            + "<text x=\"\(coordinate(width / 2))\" y=\"20\" text-anchor=\"middle\" class=\"pt\">\(escapeMarkup(title))</text>"
    }

    /// Axes with ticks, tick labels, grid lines and the axis labels.
    func axes(x: Scale, y: Scale, xTicks: [Double]? = nil, yTicks: [Double]? = nil) -> String {
        var out = "<g class=\"ax\">"
        for t in yTicks ?? y.ticks() {
            guard let py = y(t) else { continue }
            out +=
                "<line x1=\"\(coordinate(plotLeft))\" x2=\"\(coordinate(plotRight))\" y1=\"\(coordinate(py))\" y2=\"\(coordinate(py))\" class=\"grid\"/>"
            out +=
                "<text x=\"\(coordinate(plotLeft - 6))\" y=\"\(coordinate(py + 4))\" text-anchor=\"end\">\(escapeMarkup(tickLabel(t)))</text>"
        }
        for t in xTicks ?? x.ticks() {
            guard let px = x(t) else { continue }
            out +=
                "<line x1=\"\(coordinate(px))\" x2=\"\(coordinate(px))\" y1=\"\(coordinate(plotBottom))\" y2=\"\(coordinate(plotBottom + 5))\"/>"
            out +=
                "<text x=\"\(coordinate(px))\" y=\"\(coordinate(plotBottom + 18))\" text-anchor=\"middle\">\(escapeMarkup(tickLabel(t)))</text>"
        }
        out +=
            "<rect x=\"\(coordinate(plotLeft))\" y=\"\(coordinate(plotTop))\" width=\"\(coordinate(plotRight - plotLeft))\" height=\"\(coordinate(plotBottom - plotTop))\" fill=\"none\" class=\"box\"/>"
        out +=
            "<text x=\"\(coordinate((plotLeft + plotRight) / 2))\" y=\"\(coordinate(plotBottom + 36))\" text-anchor=\"middle\" class=\"al\">\(escapeMarkup(xLabel))</text>"
        let cy = (plotTop + plotBottom) / 2
        out +=
            "<text transform=\"translate(14 \(coordinate(cy))) rotate(-90)\" text-anchor=\"middle\" class=\"al\">\(escapeMarkup(yLabel))</text>"
        return out + "</g>"
    }

    /// A legend below the chart, one entry per name, at most `limit` (then "and N more").
    func legend(_ names: [String], limit: Int = 12) -> (svg: String, height: Double) {
        guard names.count > 1 else { return ("", 0) }
        let shown = Array(names.prefix(limit))
        let columns = max(1, Int((width - left) / 130))
        let rows = (shown.count + columns - 1) / columns + (names.count > limit ? 1 : 0)
        var out = "<g class=\"legend\">"
        for (k, name) in shown.enumerated() {
            let x = left + Double(k % columns) * 130, y = height + 4 + Double(k / columns) * 16
            out +=
                "<line x1=\"\(coordinate(x))\" x2=\"\(coordinate(x + 18))\" y1=\"\(coordinate(y + 6))\" y2=\"\(coordinate(y + 6))\" stroke=\"\(seriesPalette[k % seriesPalette.count])\" stroke-width=\"2.5\"\(dash(k))/>"
            let label = name.count > 18 ? String(name.prefix(17)) + "…" : name
            out += "<text x=\"\(coordinate(x + 22))\" y=\"\(coordinate(y + 10))\">\(escapeMarkup(label))</text>"
        }
        if names.count > limit {
            out +=
                "<text x=\"\(coordinate(left))\" y=\"\(coordinate(height + 4 + Double(rows - 1) * 16 + 10))\">and \(names.count - limit) more</text>"
        }
        return (out + "</g>", Double(rows) * 16 + 8)
    }
}

func dash(_ k: Int) -> String {
    k < seriesPalette.count ? "" : " stroke-dasharray=\"5 3\""
}

/// Above this many points a series is reduced before drawing: per pixel column, its first, smallest,
/// largest and last point (so peaks and the shape survive, and the SVG stays small).
public let downsampleThreshold = 2_000

/// The points of a series to draw, in order, with nil where the line breaks (a value that cannot
/// be placed: NaN, ±∞, or ≤ 0 on a log scale). Above `downsampleThreshold` points, each of `buckets`
/// runs keeps its first, minimum, maximum and last drawable point, and a break if it held one.
public func drawablePoints(_ s: Series, y: Scale, buckets: Int = 500) -> [(x: Double, y: Double)?] {
    let n = min(s.x.count, s.y.count)
    func placeable(_ k: Int) -> Bool { s.x[k].isFinite && y(s.y[k]) != nil }
    if n <= downsampleThreshold {
        return (0..<n).map { placeable($0) ? (s.x[$0], s.y[$0]) : nil }
    }
    var out: [(x: Double, y: Double)?] = []
    let size = (n + buckets - 1) / buckets
    var start = 0
    while start < n {
        let end = min(n, start + size)
        var keep: [Int] = []
        var lo = -1, hi = -1, first = -1, last = -1, gap = false
        for k in start..<end {
            guard placeable(k) else { gap = true; continue }
            if first < 0 { first = k }
            last = k
            if lo < 0 || s.y[k] < s.y[lo] { lo = k }
            if hi < 0 || s.y[k] > s.y[hi] { hi = k }
        }
        if first >= 0 { keep = Array(Set([first, lo, hi, last])).sorted() }
        for k in keep { out.append((s.x[k], s.y[k])) }
        if gap { out.append(nil) }
        start = end
    }
    return out
}

/// A line chart of one or more series, optionally on a log₁₀ y axis.
public struct LineChart: Sendable {
    public var frame: Frame
    public var series: [Series]
    public var logY: Bool
    /// Draw a dot at every point (short series).
    public var markers: Bool

    public init(frame: Frame, series: [Series], logY: Bool = false, markers: Bool? = nil) {
        self.frame = frame
        self.series = series
        self.logY = logY
        self.markers = markers ?? (series.map(\.y.count).max() ?? 0 <= 40)
    }

    public var yScale: Scale {
        let all = series.flatMap(\.y)
        let range = (frame.plotBottom, frame.plotTop)
        return logY ? .log(covering: all, range: range) : .linear(covering: all, range: range)
    }

    public var xScale: Scale {
        let all = series.flatMap(\.x).filter(\.isFinite)
        let lo = all.min() ?? 0, hi = all.max() ?? 1
        return .linear(
            domain: lo < hi ? (lo, hi) : (lo - 0.5, lo + 0.5), range: (frame.plotLeft + 6, frame.plotRight - 6))
    }

    /// Points that are not drawn: (not finite, not positive on a log axis).
    public var hidden: (nonFinite: Int, nonPositive: Int) {
        var a = 0, b = 0
        for s in series { for v in s.y { if !v.isFinite { a += 1 } else if logY && v <= 0 { b += 1 } } }
        return (a, b)
    }

    public func svg() -> String {
        let x = xScale, y = yScale
        let legend = frame.legend(series.map(\.name))
        var desc =
            "\(series.count) series over \(tickLabel(x.lower))…\(tickLabel(x.upper)); \(logY ? "log" : "linear") y axis from \(tickLabel(y.lower)) to \(tickLabel(y.upper))"
        let h = hidden
        if h.nonFinite > 0 { desc += "; \(h.nonFinite) NaN or infinite values shown as gaps" }
        if h.nonPositive > 0 {
            desc += "; \(h.nonPositive) zero or negative values cannot be placed on the log axis and are shown as gaps"
        }
        var out = frame.open(extraHeight: legend.height, description: desc)
        let xTicks = x.ticks().filter { x.upper - x.lower > 12 || $0 == $0.rounded() }
        out += frame.axes(x: x, y: y, xTicks: xTicks)
        for (k, s) in series.enumerated() {
            let color = seriesPalette[k % seriesPalette.count]
            var d = "", pen = false, dots = ""
            let points = drawablePoints(s, y: y)
            for (i, p) in points.enumerated() {
                guard let p, let px = x(p.x), let py = y(p.y) else { pen = false; continue }
                d += (pen ? "L" : "M") + coordinate(px) + " " + coordinate(py)
                let isolated = !pen && (i + 1 >= points.count || points[i + 1] == nil)
                if markers || isolated {
                    dots += "<circle cx=\"\(coordinate(px))\" cy=\"\(coordinate(py))\" r=\"2.5\" fill=\"\(color)\"/>"
                }
                pen = true
            }
            out += "<g class=\"series\"><title>\(escapeMarkup(s.name))</title>"
            if !d.isEmpty { out += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash(k))/>" }
            out += dots + "</g>"
        }
        return out + legend.svg + "</svg>"
    }
}

/// Analytic against numeric values as a scatter plot, with the band where they agree under
/// |a − n| ≤ abs + rel·|n| drawn around the diagonal.
public struct ScatterChart: Sendable {
    public var frame: Frame
    public var points: [(x: Double, y: Double)]
    public var bandAbs: Double
    public var bandRel: Double
    /// Indices of points outside the band, drawn in a second colour.
    public var outside: Set<Int>

    public init(
        frame: Frame, points: [(x: Double, y: Double)], bandAbs: Double, bandRel: Double, outside: Set<Int> = []
    ) {
        self.frame = frame
        self.points = points
        self.bandAbs = bandAbs
        self.bandRel = bandRel
        self.outside = outside
    }

    public func svg() -> String {
        let values = points.flatMap { [$0.x, $0.y] }
        let range = Scale.linear(covering: values, range: (0, 1))
        let x = Scale.linear(domain: (range.lower, range.upper), range: (frame.plotLeft, frame.plotRight))
        let y = Scale.linear(domain: (range.lower, range.upper), range: (frame.plotBottom, frame.plotTop))
        let shown =
            points.count > 5_000
            ? stride(from: 0, to: points.count, by: points.count / 5_000 + 1).map { $0 } : Array(points.indices)
        var desc =
            "\(points.count) points; the shaded band is abs \(tickLabel(bandAbs)) + rel \(tickLabel(bandRel)) around the diagonal"
        if !outside.isEmpty { desc += "; \(outside.count) outside the band, in orange" }
        if shown.count < points.count { desc += "; every \(points.count / shown.count)th point drawn" }
        var out = frame.open(description: desc)
        out += frame.axes(x: x, y: y)
        // The band: between n − (abs + rel|n|) and n + (abs + rel|n|), sampled along the axis.
        let samples = (0...40).map { range.lower + (range.upper - range.lower) * Double($0) / 40 }
        var upper: [String] = [], lower: [String] = []
        for n in samples {
            let w = bandAbs + bandRel * abs(n)
            // An infinite or overflowing band fills the plot rather than breaking it.
            let px = x(n) ?? frame.plotLeft
            upper.append(
                coordinate(px) + " " + coordinate(min(frame.plotBottom, max(frame.plotTop, y(n + w) ?? frame.plotTop))))
            lower.append(
                coordinate(px) + " "
                    + coordinate(min(frame.plotBottom, max(frame.plotTop, y(n - w) ?? frame.plotBottom))))
        }
        out +=
            "<path d=\"M\(upper.joined(separator: "L"))L\(lower.reversed().joined(separator: "L"))Z\" fill=\"#56B4E9\" fill-opacity=\"0.35\" stroke=\"none\" class=\"band\"/>"
        out +=
            "<line x1=\"\(coordinate(x(range.lower)!))\" y1=\"\(coordinate(y(range.lower)!))\" x2=\"\(coordinate(x(range.upper)!))\" y2=\"\(coordinate(y(range.upper)!))\" stroke=\"#666\" stroke-dasharray=\"4 3\"/>"
        var missing = 0
        for k in shown {
            let p = points[k]
            guard let px = x(p.x), let py = y(p.y) else { missing += 1; continue }
            let bad = outside.contains(k)
            out +=
                "<circle cx=\"\(coordinate(px))\" cy=\"\(coordinate(py))\" r=\"\(bad ? 4 : 3)\" fill=\"\(bad ? "#D55E00" : "#0072B2")\" fill-opacity=\"0.8\"/>"
        }
        if missing > 0 {
            out +=
                "<text x=\"\(coordinate(frame.plotRight - 4))\" y=\"\(coordinate(frame.plotBottom - 6))\" text-anchor=\"end\" class=\"mk\">\(missing) NaN or infinite not drawn</text>"
        }
        // Legend, inside the top-left corner.
        let lx = frame.plotLeft + 8, ly = frame.plotTop + 8
        out +=
            "<g class=\"legend\"><rect x=\"\(coordinate(lx - 4))\" y=\"\(coordinate(ly - 4))\" width=\"150\" height=\"\(outside.isEmpty ? 38 : 54)\" fill=\"#fff\" fill-opacity=\"0.85\"/>"
        out +=
            "<rect x=\"\(coordinate(lx))\" y=\"\(coordinate(ly))\" width=\"14\" height=\"10\" fill=\"#56B4E9\" fill-opacity=\"0.35\"/><text x=\"\(coordinate(lx + 20))\" y=\"\(coordinate(ly + 9))\">tolerance band</text>"
        out +=
            "<circle cx=\"\(coordinate(lx + 7))\" cy=\"\(coordinate(ly + 21))\" r=\"3\" fill=\"#0072B2\"/><text x=\"\(coordinate(lx + 20))\" y=\"\(coordinate(ly + 25))\">within tolerance</text>"
        if !outside.isEmpty {
            out +=
                "<circle cx=\"\(coordinate(lx + 7))\" cy=\"\(coordinate(ly + 37))\" r=\"4\" fill=\"#D55E00\"/><text x=\"\(coordinate(lx + 20))\" y=\"\(coordinate(ly + 41))\">outside tolerance</text>"
        }
        return out + "</g></svg>"
    }
}
