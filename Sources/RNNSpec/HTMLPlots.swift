import Foundation
import RNNKernels
import SVGPlot

/// |actual − expected| laid out as rows (the first axis) by columns (the rest), with the worst
/// element and the first row holding a differing element taken from the comparison's `Mismatch`
/// (the comparison rule lives only in `Comparison`).
package struct MismatchMap: Sendable {
    package var rows: Int
    package var columns: Int
    /// Differences; +∞ where NaN or an infinity does not match.
    package var diffs: [Double]
    /// Flat index of the element with the largest absolute difference.
    package var worst: Int?
    /// The first row with an element out of tolerance.
    package var firstRow: Int?

    package init(actual: [Double], expected: [Double], mismatch m: Mismatch) {
        let shape = m.shape
        rows = shape.count >= 2 ? shape[0] : 1
        columns = max(1, actual.count / max(rows, 1))
        diffs = zip(actual, expected).map { x, y in
            if x.isNaN || y.isNaN || x.isInfinite || y.isInfinite {
                return (x.isNaN ? y.isNaN : x == y) ? 0 : .infinity
            }
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
                series.append(
                    Series(name: name, x: (0..<r.tensor.count).map { Double($0 + firstX) }, y: r.tensor.scalars))
            } else if r.shape.count == 2 {
                let (rows, cols) = (r.shape[0], r.shape[1])
                let labels = rowsFrom.flatMap(real).map(\.tensor.scalars)
                for row in 0..<rows {
                    let label =
                        labels.flatMap { $0.count == rows ? "\(rowsFrom!) = \(shortNumberText($0[row]))" : nil }
                        ?? "\(name)[\(row)]"
                    series.append(
                        Series(
                            name: label, x: (0..<cols).map { Double($0 + firstX) },
                            y: Array(r.tensor.scalars[(row * cols)..<((row + 1) * cols)])))
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
        let markers = thresholds.compactMap { name in
            number(name).map { (x: $0, label: "\(name) \(shortNumberText($0))") }
        }
        return Histogram(
            frame: Frame(title: title, xLabel: x, yLabel: "count"), edges: edges.tensor.scalars, counts: counts,
            markers: markers
        ).svg()
    case let .heatmap(title, name, x, y):
        guard let r = real(name), r.tensor.count > 0, r.shape.count <= 2 else { return nil }
        let rows = r.shape.count == 2 ? r.shape[0] : 1, cols = r.shape.last ?? 1
        var frame = Frame(title: title, xLabel: x, yLabel: y)
        frame.height = min(400, max(170, 90 + Double(rows) * 34))
        return Heatmap(frame: frame, rows: rows, columns: cols, values: r.tensor.scalars).svg()
    case let .trajectories(title, name):
        guard let r = real(name), r.shape.count >= 2, r.shape[0] > 0 else { return nil }
        let t = r.shape[0], width = r.shape.last!, stride = r.tensor.count / t
        let series = (0..<width).map { j in
            Series(name: "\(name)[\(j)]", y: (0..<t).map { r.tensor.scalars[$0 * stride + j] })
        }
        let batch = r.shape.count == 3 ? " (first batch row)" : ""
        return LineChart(
            frame: Frame(title: title + batch, xLabel: "time step t", yLabel: "state value"), series: series
        ).svg()
    case let .temperatureSweep(title, name, temperatureParam, labelsFrom):
        guard let p = real(name), p.shape.count == 2, p.shape[0] > 0, let temperature = number(temperatureParam),
            temperature > 0
        else { return nil }
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
            return Series(
                name: "T = \(shortNumberText(tau))" + (tau == temperature ? " (this case)" : ""), y: e.map { $0 / s })
        }
        var xLabel = "character index"
        if let labels = labelsFrom, case .string(let vocab)? = c.inputs[labels] {
            xLabel += ": " + vocab.scalars.enumerated().map { "\($0.offset) \"\($0.element)\"" }.joined(separator: ", ")
        }
        return LineChart(
            frame: Frame(title: title, xLabel: xLabel, yLabel: "probability"), series: series, markers: true
        ).svg()
    }
}
