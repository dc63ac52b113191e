import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// `gemm` with a `PackedOperand`: the automatic choice, the packed kernel pinned to 1 and 2 threads, and the
/// fallback (B as given, the plain loop), against a naive reference in Double, for B packed from [K, N] and
/// from [N, K], A as given and transposed, with and without accumulate.
@Suite final class PackedOperandTests {
    enum Path: CustomStringConvertible {
        case automatic, threads(Int), fallback
        var description: String {
            switch self {
            case .automatic: "automatic";
            case .threads(let t): "\(t)T";
            case .fallback: "fallback"
            }
        }
    }

    /// One shape on every path and layout against the Double reference Σ a·b; the tolerance is GemmTests':
    /// 2(k + 1) ulps of Σ |a·b| + |C₀|.
    func check<T: KernelScalar>(
        _: T.Type, m: Int, n: Int, k: Int, a: [Double], b: [Double], c0: [Double],
        paths: [Path] = [.automatic, .threads(1), .threads(2), .fallback],
        only combination: Int? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let aT = a.map { Double(T($0)) }, bT = b.map { Double(T($0)) }, cT = c0.map { Double(T($0)) }
        let reference = ProductReference(a: aT, b: bT, m: m, n: n, k: k)
        for tb in [false, true] where combination.map({ ($0 & 1 == 1) == tb }) ?? true {
            let argB = productLayout(bT, rows: k, cols: n, transposed: tb).map { T($0) }
            let packed = packOperand(argB, k: k, n: n, transposed: tb)
            let plain = packOperand(argB, k: k, n: n, transposed: tb, panels: false)
            XCTAssertFalse(plain.isPacked)
            XCTAssertEqual(packed.isPacked, packedGemmAvailable && k > 0 && n > 0)
            XCTAssertEqual(packed.k, k); XCTAssertEqual(packed.n, n)
            for ta in [false, true] where combination.map({ ($0 & 2 == 2) == ta }) ?? true {
                let argA = productLayout(aT, rows: m, cols: k, transposed: ta).map { T($0) }
                for accumulate in [false, true] where combination.map({ ($0 & 4 == 4) == accumulate }) ?? true {
                    for path in paths {
                        var c = accumulate ? cT.map { T($0) } : [T](repeating: .nan, count: m * n)
                        switch path {
                        case .automatic: gemm(argA, packed, into: &c, m: m, transposeA: ta, accumulate: accumulate)
                        case .threads(let t):
                            gemm(argA, packed, into: &c, m: m, transposeA: ta, accumulate: accumulate, threads: t)
                        case .fallback: gemm(argA, plain, into: &c, m: m, transposeA: ta, accumulate: accumulate)
                        }
                        reference.check(
                            c, accumulate: accumulate, c0: cT, "tA \(ta) tB \(tb) acc \(accumulate) \(path)",
                            file: file, line: line)
                    }
                }
            }
        }
    }

    /// Odd sizes, panel edges (16 Floats / 8 Doubles), depth blocks (256), row blocks (144 / 72), column
    /// blocks (4096 / 2048 columns), and the recurrent shapes scaled down.
    let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (2, 3, 5), (7, 13, 17), (1, 17, 257), (5, 33, 31), (13, 17, 65), (31, 65, 7), (6, 16, 256),
        (7, 17, 257), (12, 32, 513), (1, 40, 600), (150, 40, 20), (80, 9, 11), (7, 4100, 3), (2, 2050, 5),
        (32, 128, 64), (32, 64, 300), (3, 1, 40),
    ]

    func checkShapes<T: KernelScalar>(_ type: T.Type) {
        for (m, n, k) in shapes {
            check(
                type, m: m, n: n, k: k, a: productTestValues(m * k, 1), b: productTestValues(k * n, 2),
                c0: productTestValues(m * n, 3))
        }
    }

    @Test func testFloat() { checkShapes(Float.self) }
    @Test func testDouble() { checkShapes(Double.self) }

    /// Every m from 1 to 100 with one B (two and a fraction panels): the row tiles (6), the 1-row kernel,
    /// the thread split by rows; each m takes one of the 8 combinations of transposes and accumulate.
    func rows<T: KernelScalar>(_ type: T.Type) {
        let n = 37, k = 29
        for m in 1...100 {
            check(
                type, m: m, n: n, k: k, a: productTestValues(m * k, m), b: productTestValues(k * n, 2),
                c0: productTestValues(m * n, 3),
                paths: [.automatic, .threads(2)], only: m % 8)
        }
    }

    @Test func testRowsFloat() { rows(Float.self) }
    @Test func testRowsDouble() { rows(Double.self) }

    /// No term is skipped: 0 · ∞ and 0 · NaN are NaN, a NaN in A poisons its row, ∞ survives; m = 1 takes
    /// the 1-row kernel.
    func nonFinite<T: KernelScalar>(_ type: T.Type) {
        for (m, n, k) in [(3, 4, 5), (13, 37, 300), (1, 37, 300)] {
            var a = productTestValues(m * k, 4), b = productTestValues(k * n, 5)
            b[2 * n + 3] = .infinity  // column 3 ±∞ ...
            a[0 * k + 2] = 0  // ... but C[0, 3] = NaN (0 · ∞)
            if m > 2 { a[2 * k + 4] = .nan }  // row 2 all NaN
            b[(k - 1) * n + 1] = -.infinity
            if m > 1 { a[1 * k + (k - 1)] = 0 }  // C[1, 1] NaN, the rest of column 1 ±∞
            check(type, m: m, n: n, k: k, a: a, b: b, c0: productTestValues(m * n, 6))
        }
    }

    @Test func testNonFiniteFloat() { nonFinite(Float.self) }
    @Test func testNonFiniteDouble() { nonFinite(Double.self) }

    /// The fallback is exactly `gemm`'s plain loop; small products `gemm` runs as a plain loop give the
    /// same bits through a packed operand.
    @Test func testFallbackMatchesGemm() {
        for (m, n, k, tb) in [(5, 33, 31, true), (32, 64, 300, false), (2, 3, 5, false), (3, 12, 12, false)] {
            let a = productTestValues(m * k, 7).map { Float($0) }, b = productTestValues(k * n, 8).map { Float($0) }
            var expect = [Float](repeating: 0, count: m * n), got = expect
            gemm(
                a, b, into: &expect, m: m, n: n, k: k, transposeA: false, transposeB: tb, accumulate: false,
                path: .simple)
            gemm(a, packOperand(b, k: k, n: n, transposed: tb, panels: false), into: &got, m: m)
            XCTAssertEqual(got, expect)
            if gemmPackedThreads(m: m, n: n, k: k, transposeA: false, transposeB: tb) == 0 {
                gemm(a, packOperand(b, k: k, n: n, transposed: tb), into: &got, m: m)
                XCTAssertEqual(got, expect, "\(m)×\(n)×\(k)")
            }
        }
    }

    /// k = 0: C = 0, or unchanged with accumulate; empty outputs are fine.
    @Test func testEmpty() {
        let p = packOperand([Float](), k: 0, n: 2, transposed: false)
        var c: [Float] = [1, 2, 3, 4]
        gemm([], p, into: &c, m: 2, accumulate: true)
        XCTAssertEqual(c, [1, 2, 3, 4])
        gemm([], p, into: &c, m: 2)
        XCTAssertEqual(c, [0, 0, 0, 0])
        var e: [Double] = []
        gemm([1, 2], packOperand([Double](), k: 1, n: 0, transposed: true), into: &e, m: 2)
        XCTAssertEqual(e, [])
        gemm([], packOperand([Double](repeating: 1, count: 6), k: 2, n: 3, transposed: false), into: &e, m: 0)
        XCTAssertEqual(e, [])
    }

    /// The recurrent products split between two threads on a 2-core machine.
    @Test func testThreads() {
        XCTAssertEqual(prepackedThreads(m: 32, n: 1024, k: 256), min(2, onlineProcessors))
        XCTAssertEqual(prepackedThreads(m: 1, n: 64, k: 16), 1)
    }
}
