import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import RNNKernels

/// The vectorized exp, sigmoid and tanh against the C library in higher precision (Double for
/// Float; Float80 for Double where the platform has it), measured in units in the last place.
final class VectorMathTests: XCTestCase {
    /// Worst error in ulps of T over `xs`, and where.
    func worstULP<T: KernelScalar>(_ f: VectorFunction, _ xs: [T], reference: (T) -> Double) -> (ulps: Double, at: T) {
        var ys = [T](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in ys.withUnsafeMutableBufferPointer { T.vectorApply(f, x, into: $0) } }
        var worst = (ulps: 0.0, at: T(0))
        for (x, y) in zip(xs, ys) {
            let r = reference(x)
            if r.isNaN { XCTAssertTrue(y.isNaN, "\(f)(\(x)) = \(y), expected NaN"); continue }
            if r.isInfinite || T(r).isInfinite { XCTAssertEqual(Double(y), Double(T(r)), "\(f)(\(x))"); continue }
            // The spacing of T at the reference, at least the smallest subnormal.
            let ulp = Swift.max(Double(T(r).ulp), Double(T.leastNonzeroMagnitude))
            let e = Swift.abs(Double(y) - r) / ulp
            if e > worst.ulps { worst = (e, x) }
        }
        return worst
    }

    /// Points spread over the ranges that matter: tiny, the polynomial boundary, saturation, under- and overflow.
    func samples<T: KernelScalar>(_: T.Type) -> [T] {
        var xs: [T] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNormalMagnitude]
        for (lo, hi, n) in [(-1.0, 1.0, 20000), (-0.2, 0.2, 20000), (-30.0, 30.0, 20000), (-800.0, 800.0, 20000), (-1e-6, 1e-6, 2000)] {
            xs += (0...n).map { T(lo + (hi - lo) * Double($0) / Double(n)) }
        }
        return xs
    }

    func sigmoidReference(_ x: Double) -> Double { x >= 0 ? 1 / (1 + Glibc.exp(-x)) : Glibc.exp(x) / (1 + Glibc.exp(x)) }

    func testFloatAgainstDoubleLibm() {
        let xs = samples(Float.self)
        let cases: [(VectorFunction, (Double) -> Double, Double)] = [
            (.exp, Glibc.exp, 2), (.sigmoid, sigmoidReference, 3), (.tanh, Glibc.tanh, 3),
        ]
        for (f, ref, bound) in cases {
            let w = worstULP(f, xs) { ref(Double($0)) }
            XCTAssertLessThanOrEqual(w.ulps, bound, "Float \(f): \(w.ulps) ulp at \(w.at)")
        }
    }

    func testDoubleAgainstHigherPrecision() {
        let xs = samples(Double.self)
        #if arch(x86_64) && canImport(Glibc)
        let exp80: (Double) -> Double = { Double(Glibc.expl(Float80($0))) }
        let tanh80: (Double) -> Double = { Double(Glibc.tanhl(Float80($0))) }
        let sig80: (Double) -> Double = { x in
            let e = Glibc.expl(-Float80(Swift.abs(x)))
            return Double(x >= 0 ? 1 / (1 + e) : e / (1 + e))
        }
        #else
        let exp80: (Double) -> Double = Glibc.exp, tanh80: (Double) -> Double = Glibc.tanh, sig80 = sigmoidReference
        #endif
        for (f, ref, bound) in [(VectorFunction.exp, exp80, 2.0), (.sigmoid, sig80, 3), (.tanh, tanh80, 5)] {
            let w = worstULP(f, xs, reference: ref)
            XCTAssertLessThanOrEqual(w.ulps, bound, "Double \(f): \(w.ulps) ulp at \(w.at)")
        }
    }

    /// Every length, so that the partial last vector is covered, and lanes are independent of position.
    func testTailsAndPositionIndependence() {
        for n in 0...19 {
            let xs = (0..<n).map { Double($0) * 0.37 - 3 }
            var ys = [Double](repeating: .nan, count: n)
            xs.withUnsafeBufferPointer { x in ys.withUnsafeMutableBufferPointer { Double.vectorApply(.tanh, x, into: $0) } }
            for (k, x) in xs.enumerated() {
                var one = [Double.nan]
                [x].withUnsafeBufferPointer { xb in one.withUnsafeMutableBufferPointer { Double.vectorApply(.tanh, xb, into: $0) } }
                XCTAssertEqual(ys[k], one[0], "n \(n), lane \(k)")
                XCTAssertEqual(ys[k], Glibc.tanh(x), accuracy: 4 * Glibc.tanh(x).ulp)
            }
        }
    }

    func testSpecialValues() {
        func apply(_ f: VectorFunction, _ x: Float) -> Float {
            var y: [Float] = [0]
            [x].withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { Float.vectorApply(f, xb, into: $0) } }
            return y[0]
        }
        XCTAssertEqual(apply(.exp, .infinity), .infinity)
        XCTAssertEqual(apply(.exp, -.infinity), 0)
        XCTAssertEqual(apply(.exp, 0), 1)
        XCTAssertEqual(apply(.sigmoid, 1000), 1)
        XCTAssertEqual(apply(.sigmoid, -1000), 0)
        XCTAssertEqual(apply(.sigmoid, 0), 0.5)
        XCTAssertEqual(apply(.tanh, .infinity), 1)
        XCTAssertEqual(apply(.tanh, -.infinity), -1)
        XCTAssertEqual(apply(.tanh, 1e-30), 1e-30)
        XCTAssertTrue(apply(.tanh, .nan).isNaN && apply(.sigmoid, .nan).isNaN && apply(.exp, .nan).isNaN)
    }
}
