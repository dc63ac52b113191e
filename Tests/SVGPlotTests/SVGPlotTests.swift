import Foundation
import TestAssertions
import Testing

@testable import SVGPlot

/// Geometry of the SVG charts: scales and ticks, values that cannot be placed, degenerate series,
/// and the size of the page for large inputs.
@Suite final class SVGPlotTests {
    @Test func testLinearTicksAreNiceStepsInsideTheDomain() {
        let s = Scale.linear(covering: [0.03, 0.97], range: (0, 100))
        XCTAssertEqual(s.lower, 0)
        XCTAssertEqual(s.upper, 1)
        let ticks = s.ticks()
        XCTAssertEqual(ticks.count, 6)
        for (t, e) in zip(ticks, [0, 0.2, 0.4, 0.6, 0.8, 1.0]) { XCTAssertEqual(t, e, accuracy: 1e-12) }
        XCTAssertEqual(s(0), 0)
        XCTAssertEqual(s(1), 100)
        XCTAssertEqual(s(0.5)!, 50, accuracy: 1e-12)
        // A reversed pixel range (a y axis) maps the other way.
        let y = Scale.linear(covering: [-3, 7], range: (200, 0))
        XCTAssertEqual(y(y.lower), 200)
        XCTAssertEqual(y(y.upper), 0)
        XCTAssertTrue(y.ticks().contains(0))
        XCTAssertEqual(tickLabel(0.2), "0.2")
        XCTAssertEqual(tickLabel(1e-6), "1e-6")
        XCTAssertEqual(tickLabel(250000), "2.5e+05")
        XCTAssertEqual(tickLabel(.infinity), "∞")
        XCTAssertEqual(tickLabel(.nan), "NaN")
        // Spans at the edge of Double: a few ticks, never an endless loop.
        XCTAssertLessThanOrEqual(Scale.linear(covering: [-1e308, 1e308], range: (0, 1)).ticks().count, 11)
        XCTAssertLessThanOrEqual(Scale.linear(covering: [1e300, 1e300 * (1 + 1e-15)], range: (0, 1)).ticks().count, 11)
    }

    @Test func testLogScaleIgnoresZerosNegativesAndNonFiniteValues() {
        let s = Scale.log(covering: [0, -1, .nan, .infinity, 3e-4, 20], range: (0, 100))
        XCTAssertEqual(s.lower, 1e-4, accuracy: 1e-18)
        XCTAssertEqual(s.upper, 100, accuracy: 1e-9)
        XCTAssertEqual(s.ticks(count: 10).count, 7)
        XCTAssertEqual(s.ticks(), [1e-4, 1e-2, 1, 100])
        XCTAssertNil(s(0))
        XCTAssertNil(s(-1))
        XCTAssertNil(s(.nan))
        XCTAssertNil(s(.infinity))
        XCTAssertEqual(s(1e-4)!, 0, accuracy: 1e-9)
        XCTAssertEqual(s(1)!, 66.666666, accuracy: 1e-4)
        // Only zeros: a default decade, never a crash or an infinite axis.
        let empty = Scale.log(covering: [0, 0], range: (0, 1))
        XCTAssertEqual(empty.lower, 1)
        XCTAssertEqual(empty.upper, 10)
        // Many decades: every k-th power, at most about `count` ticks.
        let wide = Scale.log(covering: [1e-40, 1e10], range: (0, 1))
        XCTAssertLessThanOrEqual(wide.ticks(count: 5).count, 6)
        // Values near the smallest double keep a representable axis.
        let tiny = Scale.log(covering: [Double.leastNonzeroMagnitude, 1], range: (0, 1))
        XCTAssertGreaterThan(tiny.lower, 0)
    }

    @Test func testNaNAndInfinitiesAreGapsInALine() {
        let s = Series(name: "g", y: [1, 2, .nan, 4, .infinity, 6])
        let chart = LineChart(frame: Frame(title: "t", xLabel: "x", yLabel: "y"), series: [s])
        let points = drawablePoints(s, y: chart.yScale)
        XCTAssertEqual(points.map { $0 == nil }, [false, false, true, false, true, false])
        let svg = chart.svg()
        // Three runs: 1-2, 4, 6; the path starts a new subpath after each gap.
        let path = svg.components(separatedBy: "<path d=\"")[1].components(separatedBy: "\"")[0]
        XCTAssertEqual(path.filter { $0 == "M" }.count, 3)
        XCTAssertTrue(svg.contains("2 NaN or infinite values shown as gaps"))
        XCTAssertFalse(svg.contains("nan") || svg.contains("inf\""))
    }

    @Test func testLogLineWithZerosAndNegativesDrawsTheRestAndSaysSo() {
        let s = Series(name: "norm", y: [1, 0.1, 0, -0.5, 0.001])
        let chart = LineChart(frame: Frame(title: "t", xLabel: "x", yLabel: "y"), series: [s], logY: true)
        XCTAssertEqual(chart.hidden.nonPositive, 2)
        let svg = chart.svg()
        XCTAssertTrue(svg.contains("2 zero or negative values cannot be placed on the log axis"))
        let path = svg.components(separatedBy: "<path d=\"")[1].components(separatedBy: "\"")[0]
        XCTAssertEqual(path.filter { $0 == "M" }.count, 2)
        XCTAssertEqual(chart.yScale.lower, 1e-3, accuracy: 1e-15)
    }

    @Test func testConstantSeriesAndOnePointGetAVisibleAxisAndMarker() {
        let constant = LineChart(
            frame: Frame(title: "c", xLabel: "x", yLabel: "y"), series: [Series(name: "c", y: [5, 5, 5])])
        let y = constant.yScale
        XCTAssertLessThan(y.lower, 5)
        XCTAssertGreaterThan(y.upper, 5)
        XCTAssertEqual(y(5)!, (constant.frame.plotTop + constant.frame.plotBottom) / 2, accuracy: 1e-9)
        let one = LineChart(frame: Frame(title: "o", xLabel: "x", yLabel: "y"), series: [Series(name: "o", y: [0.3])])
        let svg = one.svg()
        XCTAssertTrue(svg.contains("<circle"), "a single point is drawn as a dot")
        XCTAssertFalse(svg.contains("NaN"))
        // An empty series draws axes and nothing else.
        XCTAssertTrue(
            LineChart(frame: Frame(title: "e", xLabel: "x", yLabel: "y"), series: [Series(name: "e", y: [])]).svg()
                .hasSuffix("</svg>"))
    }

    @Test func testHundredThousandPointsAreDownsampledToASmallSVG() {
        let n = 100_000
        let y = (0..<n).map { sin(Double($0) / 500) + ($0 == 54_321 ? 10 : 0) }
        let s = Series(name: "big", y: y)
        let chart = LineChart(frame: Frame(title: "big", xLabel: "x", yLabel: "y"), series: [s])
        let points = drawablePoints(s, y: chart.yScale)
        XCTAssertLessThanOrEqual(points.count, 4 * 500 + 500)
        XCTAssertTrue(points.contains { $0?.y == y[54_321] }, "the spike survives downsampling")
        let svg = chart.svg()
        XCTAssertLessThan(svg.utf8.count, 100_000, "a 10^5-point series gives a page under 100 kB")
        // A heatmap of 10^5 cells merges blocks (keeping the maximum), so the spike stays visible.
        var values = [Double](repeating: 0, count: n)
        values[77_777] = 9
        let map = Heatmap(frame: Frame(title: "h", xLabel: "x", yLabel: "y"), rows: 1_000, columns: 100, values: values)
        let g = map.grid
        XCTAssertLessThanOrEqual(g.rows * g.columns, Heatmap.maxCells)
        XCTAssertEqual(g.values.max(), 9)
        XCTAssertLessThan(map.svg().utf8.count, 600_000)
    }

    @Test func testHeatmapMarksTheWorstCellAndTheDivergingRowAndHatchesNaN() {
        let map = Heatmap(
            frame: Frame(title: "diff", xLabel: "x", yLabel: "t"), rows: 3, columns: 2,
            values: [0, 0, 0, .nan, 1, 2], mark: (2, 1), markRow: (1, "first diverging step: 1"))
        let svg = map.svg()
        XCTAssertTrue(svg.contains("class=\"worst\""))
        XCTAssertTrue(svg.contains("class=\"divergence\""))
        XCTAssertTrue(svg.contains("url(#hatch)"))
        XCTAssertTrue(svg.contains("1 NaN or infinite cells hatched grey"))
    }

    @Test func testHistogramBarsSpanTheirBinsAndStandOnZero() {
        let h = Histogram(
            frame: Frame(title: "h", xLabel: "g", yLabel: "count"), edges: [0, 0.5, 1], counts: [3, 1],
            markers: [(0.05, "low"), (0.95, "high")])
        let svg = h.svg()
        XCTAssertEqual(svg.components(separatedBy: "fill=\"#0072B2\"").count - 1, 2)
        XCTAssertTrue(svg.contains(">low<") && svg.contains(">high<"))
    }

    @Test func testScatterMarksPointsOutsideTheBand() {
        let chart = ScatterChart(
            frame: Frame(title: "g", xLabel: "numeric", yLabel: "analytic"),
            points: [(1, 1), (2, 2.5), (.nan, 1)], bandAbs: 1e-7, bandRel: 1e-5, outside: [1])
        let svg = chart.svg()
        XCTAssertTrue(svg.contains("fill=\"#D55E00\""))
        XCTAssertTrue(svg.contains("1 NaN or infinite not drawn"))
        XCTAssertTrue(svg.contains("class=\"band\""))
        // Extreme values and an infinite band draw a page, not a crash.
        let extreme = ScatterChart(
            frame: Frame(title: "x", xLabel: "n", yLabel: "a"), points: [(1e308, -1e308), (0, 0)],
            bandAbs: .infinity, bandRel: 1
        ).svg()
        XCTAssertTrue(extreme.hasSuffix("</svg>"))
        XCTAssertFalse(extreme.contains("nan") || extreme.contains("inf"))
    }

    @Test func testCoordinatesAreShortAndFinite() {
        XCTAssertEqual(coordinate(12), "12")
        XCTAssertEqual(coordinate(-0.001), "0")
        XCTAssertEqual(coordinate(3.14159), "3.14")
        XCTAssertEqual(coordinate(-2.5), "-2.5")
        XCTAssertEqual(coordinate(0.05), "0.05")
        XCTAssertEqual(coordinate(.nan), "0")
        XCTAssertEqual(coordinate(1e300), "1000000000")
    }

    @Test func testTextIsEscapedEverywhere() {
        XCTAssertEqual(escapeMarkup("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;")
        XCTAssertEqual(escapeMarkup("a\u{0}b\u{1B}"), "a\u{FFFD}b\u{FFFD}")
        let svg = LineChart(
            frame: Frame(title: "</title><script>x</script>", xLabel: "<b>", yLabel: "&"),
            series: [Series(name: "<i>", y: [1]), Series(name: "\"q\"", y: [2])]
        ).svg()
        XCTAssertFalse(svg.contains("<script>"))
        XCTAssertFalse(svg.contains("<b>") || svg.contains("<i>"))
        XCTAssertTrue(svg.contains("&lt;/title&gt;&lt;script&gt;"))
    }

    @Test func testChartsHaveTitlesAndAccessibleNames() {
        let svg = LineChart(
            frame: Frame(title: "Gradient norms", xLabel: "t", yLabel: "norm"),
            series: [Series(name: "a", y: [1, 2]), Series(name: "b", y: [2, 1])]
        ).svg()
        XCTAssertTrue(svg.contains("role=\"img\""))
        XCTAssertTrue(svg.contains("<title>Gradient norms</title>"))
        XCTAssertTrue(svg.contains("class=\"legend\""), "two series get a legend")
        XCTAssertFalse(
            LineChart(frame: Frame(title: "one", xLabel: "t", yLabel: "y"), series: [Series(name: "a", y: [1, 2])])
                .svg().contains("class=\"legend\""))
    }
}
