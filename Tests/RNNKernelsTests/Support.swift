import XCTest
import RNNKernels

/// Asserts |actual − expected| ≤ abs + rel·|expected| elementwise, comparing a kernel's
/// result in precision T with a reference computed in Double.
func assertClose<T: KernelScalar>(_ actual: [T], _ expected: [Double], abs: Double? = nil, rel: Double? = nil,
                                  _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    // Float results get a few float ulps; Double results a few double ulps.
    let a = abs ?? (T.self == Float.self ? 1e-6 : 1e-14)
    let r = rel ?? (T.self == Float.self ? 1e-6 : 1e-14)
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    var worst = 0.0
    for (x, e) in zip(actual, expected) {
        let d = Swift.abs(Double(x) - e)
        if e.isNaN { XCTAssertTrue(Double(x).isNaN, "\(message): expected NaN, got \(x)", file: file, line: line); continue }
        XCTAssertLessThanOrEqual(d, a + r * Swift.abs(e), "\(message): \(x) vs \(e)", file: file, line: line)
        worst = max(worst, d)
    }
}

func tensor<T: KernelScalar>(_ shape: [Int], _ xs: [Double]) -> Tensor<T> {
    Tensor(shape: shape, scalars: xs.map { T($0) })
}
