import Foundation
import RNNPlatform
import TestAssertions
import Testing

@testable import RNNKernels

/// The vectorized exp, sigmoid and tanh against the C library in higher precision (Double for
/// Float; Float80 for Double where the platform has it), measured in units in the last place; and the
/// AVX2 copy (RNNKernelsSIMD, C) against the baseline copy (RNNKernels, Swift), bit for bit.
@Suite final class VectorMathTests {
    /// The copies this CPU can run: the baseline one, and the AVX2 one where `packedGemmAvailable`.
    let paths = packedGemmAvailable ? [false, true] : [false]

    /// y = f(x) on the AVX2 copy (`simd`) or the baseline copy.
    func apply<T: KernelScalar>(_ f: VectorFunction, _ xs: [T], simd: Bool) -> [T] {
        var ys = [T](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            ys.withUnsafeMutableBufferPointer { y in
                if let x = x as? UnsafeBufferPointer<Float>, let y = y as? UnsafeMutableBufferPointer<Float> {
                    Float.vectorApply(f, x, into: y, simd: simd)
                } else if let x = x as? UnsafeBufferPointer<Double>, let y = y as? UnsafeMutableBufferPointer<Double> {
                    Double.vectorApply(f, x, into: y, simd: simd)
                } else {
                    XCTFail("no vectorApply for \(T.self)")
                }
            }
        }
        return ys
    }

    /// Worst error in ulps of T over `xs`, and where (on each copy this CPU can run).
    func worstULP<T: KernelScalar>(_ f: VectorFunction, _ xs: [T], reference: (T) -> Double) -> (ulps: Double, at: T) {
        var worst = (ulps: 0.0, at: T(0))
        for simd in paths {
            let w = worstULP(f, xs, apply(f, xs, simd: simd), reference: reference)
            if w.ulps > worst.ulps { worst = w }
        }
        return worst
    }

    func worstULP<T: KernelScalar>(_ f: VectorFunction, _ xs: [T], _ ys: [T], reference: (T) -> Double) -> (
        ulps: Double, at: T
    ) {
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
        for (lo, hi, n) in [
            (-1.0, 1.0, 20000), (-0.2, 0.2, 20000), (-30.0, 30.0, 20000), (-800.0, 800.0, 20000), (-1e-6, 1e-6, 2000),
        ] {
            xs += (0...n).map { T(lo + (hi - lo) * Double($0) / Double(n)) }
        }
        return xs
    }

    func sigmoidReference(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + RNNPlatform.exp(-x)) : RNNPlatform.exp(x) / (1 + RNNPlatform.exp(x))
    }

    @Test func testFloatAgainstDoubleLibm() {
        let xs = samples(Float.self)
        let cases: [(VectorFunction, (Double) -> Double, Double)] = [
            (.exp, RNNPlatform.exp, 2), (.sigmoid, sigmoidReference, 3), (.tanh, RNNPlatform.tanh, 3),
        ]
        for (f, ref, bound) in cases {
            let w = worstULP(f, xs) { ref(Double($0)) }
            XCTAssertLessThanOrEqual(w.ulps, bound, "Float \(f): \(w.ulps) ulp at \(w.at)")
        }
    }

    @Test func testDoubleAgainstHigherPrecision() {
        let xs = samples(Double.self)
        #if arch(x86_64) && canImport(Glibc)
        let exp80: (Double) -> Double = { Double(RNNPlatform.expl(Float80($0))) }
        let tanh80: (Double) -> Double = { Double(RNNPlatform.tanhl(Float80($0))) }
        let sig80: (Double) -> Double = { x in
            let e = RNNPlatform.expl(-Float80(Swift.abs(x)))
            return Double(x >= 0 ? 1 / (1 + e) : e / (1 + e))
        }
        #else
        let exp80: (Double) -> Double = RNNPlatform.exp, tanh80: (Double) -> Double = RNNPlatform.tanh,
            sig80 = sigmoidReference
        #endif
        for (f, ref, bound) in [(VectorFunction.exp, exp80, 2.0), (.sigmoid, sig80, 3), (.tanh, tanh80, 5)] {
            let w = worstULP(f, xs, reference: ref)
            XCTAssertLessThanOrEqual(w.ulps, bound, "Double \(f): \(w.ulps) ulp at \(w.at)")
        }
    }

    /// Every length, so that the partial last vector is covered, and lanes are independent of position.
    @Test func testTailsAndPositionIndependence() {
        for n in 0...19 {
            let xs = (0..<n).map { Double($0) * 0.37 - 3 }
            var ys = [Double](repeating: .nan, count: n)
            xs.withUnsafeBufferPointer { x in
                ys.withUnsafeMutableBufferPointer { Double.vectorApply(.tanh, x, into: $0) }
            }
            for (k, x) in xs.enumerated() {
                var one = [Double.nan]
                [x].withUnsafeBufferPointer { xb in
                    one.withUnsafeMutableBufferPointer { Double.vectorApply(.tanh, xb, into: $0) }
                }
                XCTAssertEqual(ys[k], one[0], "n \(n), lane \(k)")
                XCTAssertEqual(ys[k], RNNPlatform.tanh(x), accuracy: 4 * RNNPlatform.tanh(x).ulp)
            }
        }
    }

    @Test func testSpecialValues() {
        func apply(_ f: VectorFunction, _ x: Float) -> Float {
            var y: [Float] = [0]
            [x].withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { Float.vectorApply(f, xb, into: $0) }
            }
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

    /// Inputs for the bit-for-bit comparison: the accuracy samples, random values over the ranges the
    /// cells meet and beyond, and random bit patterns (subnormals, infinities, NaNs with payloads).
    func identitySamples<T: KernelScalar>(_: T.Type, bits: (UInt64) -> T) -> [T] {
        var g = SplitMix64(state: 0x5EED_0F_AB2)
        var xs = samples(T.self)
        // A quarter of the random values by default (the baseline copy is slow in a debug build).
        let count = fullTests ? 20000 : 5000
        for scale in [1.0, 10, 100, 1000] {
            xs += (0..<count).map { _ in T(Double.random(in: -scale...scale, using: &g)) }
        }
        xs += (0..<(2 * count)).map { _ in bits(g.next()) }
        xs.shuffle(using: &g)
        return xs
    }

    /// Bits of a Float or Double, for exact comparison (NaN payloads included).
    func bitPattern<T: KernelScalar>(_ y: T) -> UInt64 {
        if let y = y as? Float { return UInt64(y.bitPattern) }
        return (y as! Double).bitPattern
    }

    /// Each SIMD copy this CPU can run (the AVX2 one, and with `wideSettings` the AVX-512 one of
    /// sigmoid and tanh) against the baseline copy, computed once.
    func assertCopiesIdentical<T: KernelScalar>(_ xs: [T]) {
        for f in VectorFunction.allCases {
            let base = apply(f, xs, simd: false)
            for n in 0...40 {
                XCTAssertEqual(
                    apply(f, Array(xs[..<n]), simd: false).map(bitPattern), base[..<n].map(bitPattern),
                    "\(T.self) \(f), baseline, n \(n)")
            }
            for wide in wideSettings {
                withWidePaths(wide) { assertSIMDCopyIdentical(f, xs, base, "\(T.self) \(f), wide \(wide)") }
            }
        }
    }

    func assertSIMDCopyIdentical<T: KernelScalar>(_ f: VectorFunction, _ xs: [T], _ base: [T], _ label: String) {
        let simd = apply(f, xs, simd: true)
        var mismatches = 0
        for k in xs.indices where bitPattern(base[k]) != bitPattern(simd[k]) {
            if mismatches < 5 { XCTFail("\(label) (\(xs[k])): baseline \(base[k]), SIMD \(simd[k])") }
            mismatches += 1
        }
        XCTAssertEqual(mismatches, 0, "\(label): \(mismatches) of \(xs.count) differ")
        // Every length up to a few vectors (the partial last vector), and in place.
        for n in 0...40 {
            XCTAssertEqual(
                apply(f, Array(xs[..<n]), simd: true).map(bitPattern), base[..<n].map(bitPattern), "\(label), n \(n)")
        }
        for simd in paths {
            var inPlace = Array(xs[..<1000])
            inPlace.withUnsafeMutableBufferPointer { y in
                if T.self == Float.self {
                    let y = UnsafeMutableRawBufferPointer(y).bindMemory(to: Float.self)
                    Float.vectorApply(f, UnsafeBufferPointer(y), into: y, simd: simd)
                } else {
                    let y = UnsafeMutableRawBufferPointer(y).bindMemory(to: Double.self)
                    Double.vectorApply(f, UnsafeBufferPointer(y), into: y, simd: simd)
                }
            }
            XCTAssertEqual(inPlace.map(bitPattern), base[..<1000].map(bitPattern), "\(label) in place, simd \(simd)")
        }
    }

    /// The AVX2 copy gives the same bits as the baseline copy, so no result depends on the CPU (and the
    /// goldens stay byte-stable): the same operations in the same order, fused multiply-adds in the same places.
    /// On a CPU with AVX-512, sigmoid and tanh have a third copy (VectorMathWide.c, 16 floats or 8 doubles at a
    /// time), compared here too, and the AVX2 copy with it turned off (`withWidePaths`).
    @Test func testAVX2CopyBitIdenticalToBaseline() throws {
        try XCTSkipUnless(packedGemmAvailable, "this CPU runs only the baseline copy")
        assertCopiesIdentical(identitySamples(Float.self) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) })
        assertCopiesIdentical(identitySamples(Double.self) { Double(bitPattern: $0) })
    }

    /// The public entry point runs the AVX2 copy exactly where the CPU check allows it.
    @Test func testDispatchFollowsCPUCheck() {
        let xs: [Float] = (0..<37).map { Float($0) * 0.7 - 12 }
        var ys = [Float](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in ys.withUnsafeMutableBufferPointer { Float.vectorApply(.tanh, x, into: $0) } }
        XCTAssertEqual(ys, apply(.tanh, xs, simd: packedGemmAvailable))
    }
}

/// A small seeded generator, so that a failure of the comparison reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
