import Foundation

/// A histogram from bin edges and counts.
public struct Histogram: Sendable {
    public var frame: Frame
    public var edges: [Double]
    public var counts: [Double]
    /// Vertical reference lines (`low`, `high` thresholds), labelled.
    public var markers: [(x: Double, label: String)]

    public init(frame: Frame, edges: [Double], counts: [Double], markers: [(x: Double, label: String)] = []) {
        self.frame = frame
        self.edges = edges
        self.counts = counts
        self.markers = markers
    }

    public func svg() -> String {
        let finiteEdges = edges.filter(\.isFinite) + markers.map(\.x).filter(\.isFinite)
        let lo = finiteEdges.min() ?? 0, hi = finiteEdges.max() ?? 1
        let x = Scale.linear(
            domain: lo < hi ? (lo, hi) : (lo - 0.5, lo + 0.5), range: (frame.plotLeft, frame.plotRight))
        let y = Scale.linear(covering: counts, range: (frame.plotBottom, frame.plotTop), includeZero: true)
        var out = frame.open(
            description:
                "\(counts.count) bins from \(tickLabel(lo)) to \(tickLabel(hi)); largest count \(tickLabel(counts.max() ?? 0))"
        )
        out += frame.axes(x: x, y: y)
        for k in 0..<min(counts.count, max(0, edges.count - 1)) {
            guard let x0 = x(edges[k]), let x1 = x(edges[k + 1]), let y0 = y(counts[k]), let base = y(0) else {
                continue
            }
            out +=
                "<rect x=\"\(coordinate(min(x0, x1)))\" y=\"\(coordinate(y0))\" width=\"\(coordinate(max(0.5, abs(x1 - x0) - 0.5)))\" height=\"\(coordinate(max(0, base - y0)))\" fill=\"#0072B2\"><title>[\(escapeMarkup(tickLabel(edges[k]))), \(escapeMarkup(tickLabel(edges[k + 1])))]: \(escapeMarkup(tickLabel(counts[k])))</title></rect>"
        }
        for m in markers {
            guard let px = x(m.x) else { continue }
            out +=
                "<line x1=\"\(coordinate(px))\" x2=\"\(coordinate(px))\" y1=\"\(coordinate(frame.plotTop))\" y2=\"\(coordinate(frame.plotBottom))\" stroke=\"#D55E00\" stroke-dasharray=\"4 3\" stroke-width=\"1.5\"/>"
            let leftSide = px > (frame.plotLeft + frame.plotRight) / 2
            out +=
                "<text x=\"\(coordinate(leftSide ? px - 3 : px + 3))\" y=\"\(coordinate(frame.plotTop + 12))\" text-anchor=\"\(leftSide ? "end" : "start")\" class=\"mk\">\(escapeMarkup(m.label))</text>"
        }
        return out + "</svg>"
    }
}
