import XCTest
import RNNKernels
@testable import RNNSpec

final class ComparisonTests: XCTestCase {
    func real(_ xs: [Double], shape: [Int]? = nil) -> Value {
        .real(RealTensor(Tensor(shape: shape ?? [xs.count], scalars: xs)))
    }

    func compare(_ a: Value, _ e: Value, abs: Double = 0, rel: Double = 0) -> Mismatch? {
        Comparison.compare(actual: a, expected: e, tolerance: Tolerance(abs: abs, rel: rel), output: "h", reference: .golden)
    }

    func testAllcloseRuleIsAbsPlusRelTimesExpected() {
        // |a − e| ≤ abs + rel·|e|: 1.1 vs 1.0 needs 0.1 ≤ abs + rel·1.
        XCTAssertNil(compare(real([1.1]), real([1.0]), abs: 0.05, rel: 0.05 + 1e-12))
        XCTAssertNotNil(compare(real([1.1]), real([1.0]), abs: 0.05, rel: 0.04))
        // The rule is asymmetric: rel scales the expected value, not the actual one.
        XCTAssertNil(compare(real([1.0]), real([2.0]), rel: 0.5))
        XCTAssertNotNil(compare(real([2.0]), real([1.0]), rel: 0.5))
        // Exactly at the bound passes.
        XCTAssertNil(compare(real([1.5]), real([1.0]), abs: 0.5))
    }

    func testNaNOnlyWhereExpectedIsNaNAndInfinitiesExactly() {
        XCTAssertNil(compare(real([.nan, 1]), real([.nan, 1])))
        XCTAssertNotNil(compare(real([.nan]), real([1]), abs: 1e9))
        XCTAssertNotNil(compare(real([1]), real([.nan]), abs: 1e9))
        XCTAssertNil(compare(real([.infinity]), real([.infinity])))
        XCTAssertNotNil(compare(real([-.infinity]), real([.infinity]), abs: 1e300))
        XCTAssertNotNil(compare(real([1e308]), real([.infinity]), abs: 1e300, rel: 1))
    }

    func testShapesMustBeEqual() {
        let m = compare(real([1, 2, 3, 4], shape: [2, 2]), real([1, 2, 3, 4], shape: [4]), abs: 1)
        XCTAssertEqual(m?.detail, "shape [2, 2], golden has shape [4]")
    }

    func testReportNamesWorstElementWithDifferences() throws {
        let m = try XCTUnwrap(compare(real([1, 2, 3, 4.5], shape: [2, 2]), real([1, 2.001, 3, 4], shape: [2, 2]), abs: 1e-6))
        XCTAssertEqual(m.failing, 2)
        XCTAssertEqual(m.total, 4)
        XCTAssertEqual(m.detail, """
            shape [2, 2]: 2 of 4 elements differ from the golden beyond abs 1e-06, rel 0.0
            worst at [1, 1]: actual 4.5, expected 4.0, abs diff 0.5, rel diff 0.125
            """)
    }

    func testIntegersStringsAndBooleansCompareExactly() {
        XCTAssertNil(compare(.integers([1, 2]), .integers([1, 2]), abs: 10))
        XCTAssertEqual(compare(.integers([1, 2]), .integers([1, 3]), abs: 10)?.detail,
                       "shape [2]: 1 of 2 elements differ from the golden\nfirst at [1]: actual 2, expected 3")
        XCTAssertNotNil(compare(.string(Tensor(["a"])), .string(Tensor(["b"]))))
        XCTAssertNil(compare(.boolean(Tensor([true])), .boolean(Tensor([true]))))
        XCTAssertEqual(compare(.integers([1]), real([1]))?.detail, "integer values, golden holds real values")
    }

    func testListsCompareItemByItem() {
        let a = Value.list([real([1, 2]), real([3])]), e = Value.list([real([1, 2]), real([3.5])])
        XCTAssertEqual(compare(a, e, abs: 0.1)?.detail.hasPrefix("item 1: shape [1]"), true)
        XCTAssertEqual(compare(a, .list([real([1, 2])]))?.detail, "a list of 2 tensors, golden has 1")
    }

    func testDriftReportsLargestChange() throws {
        let d = try XCTUnwrap(Comparison.drift(from: real([1, 2]), to: real([1.5, 2])))
        XCTAssertEqual(d.abs, 0.5)
        XCTAssertEqual(d.rel, 0.5)
        XCTAssertNil(Comparison.drift(from: real([1]), to: real([1, 2])))
    }
}
