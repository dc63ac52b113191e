import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

@Suite final class ComparisonTests {
    func real(_ xs: [Double], shape: [Int]? = nil) -> Value {
        .real(RealTensor(Tensor(shape: shape ?? [xs.count], scalars: xs)))
    }

    func compare(_ a: Value, _ e: Value, abs: Double = 0, rel: Double = 0) -> Mismatch? {
        Comparison.compare(
            actual: a, expected: e, tolerance: Tolerance(abs: abs, rel: rel), output: "h", reference: .golden)
    }

    @Test func testAllcloseRuleIsAbsPlusRelTimesExpected() {
        // |a − e| ≤ abs + rel·|e|: 1.1 vs 1.0 needs 0.1 ≤ abs + rel·1.
        XCTAssertNil(compare(real([1.1]), real([1.0]), abs: 0.05, rel: 0.05 + 1e-12))
        XCTAssertNotNil(compare(real([1.1]), real([1.0]), abs: 0.05, rel: 0.04))
        // The rule is asymmetric: rel scales the expected value, not the actual one.
        XCTAssertNil(compare(real([1.0]), real([2.0]), rel: 0.5))
        XCTAssertNotNil(compare(real([2.0]), real([1.0]), rel: 0.5))
        // Exactly at the bound passes.
        XCTAssertNil(compare(real([1.5]), real([1.0]), abs: 0.5))
    }

    @Test func testNaNOnlyWhereExpectedIsNaNAndInfinitiesExactly() {
        XCTAssertNil(compare(real([.nan, 1]), real([.nan, 1])))
        XCTAssertNotNil(compare(real([.nan]), real([1]), abs: 1e9))
        XCTAssertNotNil(compare(real([1]), real([.nan]), abs: 1e9))
        XCTAssertNil(compare(real([.infinity]), real([.infinity])))
        XCTAssertNotNil(compare(real([-.infinity]), real([.infinity]), abs: 1e300))
        XCTAssertNotNil(compare(real([1e308]), real([.infinity]), abs: 1e300, rel: 1))
    }

    @Test func testShapesMustBeEqual() {
        let m = compare(real([1, 2, 3, 4], shape: [2, 2]), real([1, 2, 3, 4], shape: [4]), abs: 1)
        XCTAssertEqual(m?.problem, "shape [2, 2], golden has shape [4]")
    }

    @Test func testReportNamesWorstElementsWithTheirLimits() throws {
        let m = try XCTUnwrap(
            compare(real([1, 2, 3, 4.5], shape: [2, 2]), real([1, 2.001, 3, 4], shape: [2, 2]), abs: 1e-6))
        XCTAssertEqual(m.failing, 2)
        XCTAssertEqual(m.total, 4)
        XCTAssertEqual(m.shape, [2, 2])
        XCTAssertEqual(m.dtype, "float64")
        // The largest absolute difference is at [1, 1], the largest relative one at... [1, 1] too (0.125 > 0.0005).
        XCTAssertEqual(m.worstAbs?.index, [1, 1])
        XCTAssertEqual(m.worstAbs?.absDiff, 0.5)
        XCTAssertEqual(m.worstAbs?.allowed, 1e-6)
        XCTAssertEqual(m.worstRel?.index, [1, 1])
        XCTAssertEqual(m.elements.map(\.index), [[0, 1], [1, 1]], "the first differing elements, row-major")
        XCTAssertEqual(m.elements[0].actual, "2.0")
        XCTAssertEqual(m.elements[0].expected, "2.001")
        XCTAssertEqual(
            m.lines,
            [
                "shape [2, 2] float64: 2 of 4 elements differ from the golden beyond abs 1e-06, rel 0.0",
                "worst at [1, 1]: actual 4.5, expected 4.0, abs diff 0.5, rel diff 0.125 (allowed 1e-06)",
                "differing elements:",
                "  index   actual  expected  abs diff  allowed",
                "  [0, 1]  2.0     2.001     0.001     1e-06",
                "  [1, 1]  4.5     4.0       0.5       1e-06",
            ])
    }

    @Test func testWorstAbsoluteAndWorstRelativeAreSeparateElements() throws {
        // [0]: abs 1, rel 0.001; [1]: abs 0.5, rel 0.5. The limit at each element is abs + rel·|e|.
        let m = try XCTUnwrap(compare(real([1001, 1.5]), real([1000, 1]), abs: 0.1, rel: 1e-4))
        XCTAssertEqual(m.worstAbs?.index, [0])
        XCTAssertEqual(m.worstAbs?.allowed ?? 0, 0.2, accuracy: 1e-12)
        XCTAssertEqual(m.worstRel?.index, [1])
        XCTAssertEqual(m.worstRel?.allowed ?? 0, 0.1001, accuracy: 1e-12)
        XCTAssertTrue(
            m.lines.contains { $0.hasPrefix("worst abs at [0]: actual 1001.0, expected 1000.0, abs diff 1") },
            "\(m.lines)")
        XCTAssertTrue(
            m.lines.contains { $0.hasPrefix("worst rel at [1]: actual 1.5, expected 1.0, abs diff 0.5, rel diff 0.5") },
            "\(m.lines)")
    }

    @Test func testMaxShownLimitsTheListedElementsButNotTheCount() throws {
        let a = real((0..<100).map(Double.init)), e = real((0..<100).map { Double($0) + 1 })
        let ten = try XCTUnwrap(compare(a, e))
        XCTAssertEqual(ten.failing, 100)
        XCTAssertEqual(ten.elements.count, 10, "the default is 10")
        let three = try XCTUnwrap(
            Comparison.compare(
                actual: a, expected: e, tolerance: Tolerance(abs: 0, rel: 0), output: "h",
                reference: .golden, options: ComparisonOptions(maxShown: 3)))
        XCTAssertEqual(three.elements.map(\.index), [[0], [1], [2]])
        XCTAssertTrue(three.lines.contains("first 3 of 100 differing elements:"), "\(three.lines)")
    }

    @Test func testFloat32ValuesPrintInFloat32sShortestForm() throws {
        let a = Value.real(
            RealTensor(Tensor(shape: [2], scalars: [Double(Float(0.1)), Double(Float(0.7))]), dtype: .float32))
        let e = Value.real(
            RealTensor(Tensor(shape: [2], scalars: [Double(Float(0.1)), Double(Float(0.5))]), dtype: .float32))
        let m = try XCTUnwrap(compare(a, e))
        XCTAssertEqual(m.dtype, "float32")
        XCTAssertEqual(m.worstAbs?.actual, "0.7", "not 0.699999988079071")
        XCTAssertEqual(m.worstAbs?.expected, "0.5")
        XCTAssertEqual(m.worstAbs?.actualValue, 0.7)
    }

    @Test func testTimeAxisGivesTheFirstDivergingStep() throws {
        // [T = 6, H = 2]; steps 0–2 match, 3 and 5 differ.
        var xs = [Double](repeating: 0, count: 12), es = xs
        es[7] = 1; es[10] = 1
        xs[0] = 0
        let m = try XCTUnwrap(
            Comparison.compare(
                actual: real(xs, shape: [6, 2]), expected: real(es, shape: [6, 2]),
                tolerance: Tolerance(abs: 1e-9, rel: 0), output: "h", reference: .golden,
                structure: OutputLayout(timeAxis: 0)))
        XCTAssertEqual(m.time, TimeDivergence(axis: 0, firstStep: 3, steps: 6, differingSteps: 2))
        XCTAssertEqual(m.elements.map(\.step), [3, 5])
        XCTAssertTrue(
            m.lines.contains("first differs at t = 3 of 6 (axis 0); steps 0–2 match; 2 steps differ"), "\(m.lines)")
        XCTAssertTrue(m.headline.contains("first differs at t = 3 of 6"), m.headline)
    }

    @Test func testGateBlocksNameTheGateAndUnit() throws {
        // A [4*H = 8, 1] weight gradient in PyTorch's order i, f, g, o (H = 2): row 3 is f's unit 1, row 6 is o's unit 0.
        var xs = [Double](repeating: 0, count: 8)
        xs[3] = 1; xs[6] = 2
        let names = GateBlocks.names([.i, .f, .g, .o])
        let m = try XCTUnwrap(
            Comparison.compare(
                actual: real(xs, shape: [8, 1]), expected: real([Double](repeating: 0, count: 8), shape: [8, 1]),
                tolerance: Tolerance(abs: 1e-9, rel: 0), output: "dweight_ih_l0", reference: .golden,
                structure: OutputLayout(gateAxis: 0, gateNames: names)))
        XCTAssertEqual(m.gates.map(\.gate), ["f (forget)", "o (output)"])
        XCTAssertEqual(m.gates.map(\.firstUnit), [1, 0])
        XCTAssertEqual(m.worstAbs?.gate, "o (output)")
        XCTAssertEqual(m.worstAbs?.unit, 0)
        // Both differ infinitely in relative terms (expected 0): the worst relative one is the first.
        XCTAssertTrue(
            m.lines.contains(
                "worst abs at [6, 0] (gate o (output), unit 0): actual 2.0, expected 0.0, abs diff 2, rel diff .inf (allowed 1e-09)"
            ), "\(m.lines)")
        XCTAssertEqual(m.worstRel?.index, [3, 0])
        XCTAssertTrue(
            m.lines.contains(
                "gate blocks that differ: f (forget) (1 of 2 units, first unit 1), o (output) (1 of 2 units, first unit 0)"
            ), "\(m.lines)")
    }

    @Test func testIntegersStringsAndBooleansCompareExactly() throws {
        XCTAssertNil(compare(.integers([1, 2]), .integers([1, 2]), abs: 10))
        let m = try XCTUnwrap(compare(.integers([1, 2]), .integers([1, 3]), abs: 10))
        XCTAssertEqual(m.failing, 1)
        XCTAssertEqual(m.elements, [ElementDifference(index: [1], actual: "2", expected: "3")])
        XCTAssertEqual(
            m.lines,
            [
                "shape [2] integer: 1 of 2 elements differ from the golden", "differing elements:",
                "  index  actual  expected", "  [1]    2       3",
            ])
        XCTAssertNotNil(compare(.string(Tensor(["a"])), .string(Tensor(["b"]))))
        XCTAssertNil(compare(.boolean(Tensor([true])), .boolean(Tensor([true]))))
        XCTAssertEqual(compare(.integers([1]), real([1]))?.problem, "integer values, golden holds real values")
    }

    @Test func testListsCompareItemByItem() {
        let a = Value.list([real([1, 2]), real([3])]), e = Value.list([real([1, 2]), real([3.5])])
        XCTAssertEqual(compare(a, e, abs: 0.1)?.item, 1)
        XCTAssertEqual(
            compare(a, e, abs: 0.1)?.lines.first?.hasPrefix("shape [1] float64: item 1: 1 of 1 element differs"), true)
        XCTAssertEqual(compare(a, .list([real([1, 2])]))?.problem, "a list of 2 tensors, golden has 1")
    }

    @Test func testDriftReportsLargestChange() throws {
        let d = try XCTUnwrap(Comparison.drift(from: real([1, 2]), to: real([1.5, 2])))
        XCTAssertEqual(d.abs, 0.5)
        XCTAssertEqual(d.rel, 0.5)
        XCTAssertNil(Comparison.drift(from: real([1]), to: real([1, 2])))
    }

    /// The recording notes' drift is `OutputDrift`'s maxima: one computation for `run --record`
    /// and `review`.
    @Test func testDriftIsOutputDriftsMaxima() throws {
        let old = Value.list([real([1, 2]), real([0, 4])]), new = Value.list([real([1, 2.5]), real([-0.0, 3])])
        let drifts = OutputDrift.compare(old: [("h", old)], new: [("h", new)])
        XCTAssertEqual(drifts.map(\.name), ["h[0]", "h[1]"])
        let d = try XCTUnwrap(Comparison.drift(from: old, to: new))
        XCTAssertEqual(d.abs, drifts.compactMap { $0.maxAbs?.value }.max())
        XCTAssertEqual(d.rel, drifts.compactMap { $0.maxRel?.value }.max())
        XCTAssertEqual(d.abs, 1)
        XCTAssertEqual(d.rel, 0.25)
        // A zero that only changes sign is a changed element (the golden's text changes) that moved by 0.
        let zero = try XCTUnwrap(OutputDrift.compare(old: [("z", real([0]))], new: [("z", real([-0.0]))]).first)
        XCTAssertEqual(zero.kind, .changed)
        XCTAssertEqual(zero.maxAbs?.value, 0)
        XCTAssertEqual(zero.maxRel?.value, 0)
        XCTAssertEqual(Comparison.drift(from: real([0]), to: real([-0.0]))?.abs, 0)
        // Integers move by numbers too; another type or changed booleans are not comparable.
        XCTAssertEqual(Comparison.drift(from: .integer(Tensor([1, 2])), to: .integer(Tensor([1, 4])))?.abs, 2)
        XCTAssertNil(Comparison.drift(from: real([1]), to: .integer(Tensor([1]))))
        XCTAssertNil(Comparison.drift(from: .boolean(Tensor([true])), to: .boolean(Tensor([false]))))
        XCTAssertEqual(Comparison.drift(from: .boolean(Tensor([true])), to: .boolean(Tensor([true])))?.abs, 0)
    }
}
