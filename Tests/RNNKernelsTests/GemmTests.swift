import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// `gemm` on every path (plain loop, packed SIMD kernel on 1 and 2 threads), every combination of
/// transposes and accumulate, sizes around the micro-tile (6 × 16 / 6 × 8), the depth block (256), the row
/// block (288 / 72) and the column block (4096 / 2048), against a naive reference in Double.
@Suite final class GemmTests {
    /// (m, n, k): odd sizes, tile edges, and sizes crossing the blocks and the thread split.
    let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (2, 3, 5), (7, 13, 17), (5, 33, 31), (13, 17, 65), (31, 65, 7), (33, 127, 13),
        (127, 31, 33), (6, 16, 256), (7, 17, 257), (12, 32, 513), (150, 40, 20), (290, 17, 9), (80, 9, 11),
        (7, 4100, 3),
        (1, 70, 40), (70, 1, 40),
    ]
    let paths: [GemmPath] = [.simple, .packed(threads: 1), .packed(threads: 2), .automatic]

    /// Runs one shape on every path and combination, comparing with the Double reference Σ a·b; the
    /// tolerance is 2k ulps of Σ |a·b| (the reference itself rounds in Double).
    func check<T: KernelScalar>(
        _: T.Type, m: Int, n: Int, k: Int, a: [Double], b: [Double], c0: [Double],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let aT = a.map { Double(T($0)) }, bT = b.map { Double(T($0)) }, cT = c0.map { Double(T($0)) }
        let reference = ProductReference(a: aT, b: bT, m: m, n: n, k: k)
        for ta in [false, true] {
            for tb in [false, true] {
                let argA = productLayout(aT, rows: m, cols: k, transposed: ta).map { T($0) }
                let argB = productLayout(bT, rows: k, cols: n, transposed: tb).map { T($0) }
                for accumulate in [false, true] {
                    for path in paths {
                        var c = accumulate ? cT.map { T($0) } : [T](repeating: .nan, count: m * n)
                        gemm(
                            argA, argB, into: &c, m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                            accumulate: accumulate, path: path)
                        reference.check(
                            c, accumulate: accumulate, c0: cT, "tA \(ta) tB \(tb) acc \(accumulate) \(path)",
                            file: file, line: line)
                    }
                }
            }
        }
    }

    func checkShapes<T: KernelScalar>(_ type: T.Type) {
        for (m, n, k) in shapes {
            check(
                type, m: m, n: n, k: k, a: productTestValues(m * k, 1), b: productTestValues(k * n, 2),
                c0: productTestValues(m * n, 3))
        }
    }

    @Test func testFloat() { checkShapes(Float.self) }
    @Test func testDouble() { checkShapes(Double.self) }

    /// No term is skipped: 0 · ∞ and 0 · NaN are NaN, a NaN in A poisons its row, ∞ survives.
    func nonFinite<T: KernelScalar>(_ type: T.Type) {
        for (m, n, k) in [(3, 4, 5), (13, 37, 300)] {
            var a = productTestValues(m * k, 4), b = productTestValues(k * n, 5)
            a[1 * k + 2] = 0; b[2 * n + 3] = .infinity  // C[1, 3] = NaN (0 · ∞), C[i≠1, 3] = ±∞
            a[2 * k + 4] = .nan  // row 2 all NaN
            b[(k - 1) * n + 1] = -.infinity; a[0 * k + (k - 1)] = 0  // C[0, 1] NaN, the rest of column 1 ±∞
            check(type, m: m, n: n, k: k, a: a, b: b, c0: productTestValues(m * n, 6))
        }
    }

    @Test func testNonFiniteFloat() { nonFinite(Float.self) }
    @Test func testNonFiniteDouble() { nonFinite(Double.self) }

    /// k = 0: C = 0, or C unchanged with accumulate; empty outputs are fine.
    @Test func testEmpty() {
        var c: [Float] = [1, 2, 3, 4]
        gemm([], [], into: &c, m: 2, n: 2, k: 0, accumulate: true)
        XCTAssertEqual(c, [1, 2, 3, 4])
        gemm([], [], into: &c, m: 2, n: 2, k: 0)
        XCTAssertEqual(c, [0, 0, 0, 0])
        var e: [Double] = []
        gemm([1, 2], [], into: &e, m: 2, n: 0, k: 1)
        XCTAssertEqual(e, [])
    }

    /// Where the CPU has AVX2 + FMA (or is arm64) the packed kernel must be in use, and large products
    /// get it. The C probe (CPUID) must agree with the kernel's own account of the CPU (/proc/cpuinfo), so
    /// that on this machine the tests above run the packed kernels and not a silent fallback.
    /// `gemm(addingRow:)` gives the bits of C filled with the row and accumulated into, on whichever path the
    /// product takes: the plain loop, the dot-product kernel, the blocked kernel on one and two threads (split
    /// by rows and by columns) and past one depth block.
    func addingRow<T: KernelScalar>(_: T.Type) {
        let shapes = [
            (2, 3, 5), (7, 13, 17), (60, 40, 20), (150, 40, 20), (40, 700, 300), (130, 300, 257), (7, 4100, 3),
        ]
        for (m, n, k) in shapes {
            let a = productTestValues(m * k, 6).map { T($0) }, b = productTestValues(k * n, 7).map { T($0) }
            let row = productTestValues(n, 8).map { T($0) * 10 }
            for ta in [false, true] {
                for tb in [false, true] {
                    var want = [T]()
                    for _ in 0..<m { want += row }
                    gemm(a, b, into: &want, m: m, n: n, k: k, transposeA: ta, transposeB: tb, accumulate: true)
                    let got = gemm(a, b, addingRow: row, m: m, n: n, k: k, transposeA: ta, transposeB: tb)
                    XCTAssertEqual(
                        got.map { Double($0).bitPattern }, want.map { Double($0).bitPattern },
                        "\(T.self) [\(m), \(n), \(k)] tA \(ta) tB \(tb)")
                }
            }
        }
    }

    /// Rows computed by the 4-row tiles (m = 6q + 4, 6q + 2) have the bits the 6-row tiles give them: the same
    /// rows inside a product whose row count the 6-row tile divides.
    func tileIndependence<T: KernelScalar>(_: T.Type) {
        for (m, n, k) in [(32, 40, 300), (28, 17, 9), (8, 33, 64), (10, 16, 5)] {
            let padded = (m + 5) / 6 * 6
            let a = productTestValues(padded * k, 9).map { T($0) }, b = productTestValues(k * n, 10).map { T($0) }
            var whole = [T](repeating: 0, count: padded * n), part = [T](repeating: 0, count: m * n)
            gemm(
                a, b, into: &whole, m: padded, n: n, k: k, transposeA: false, transposeB: false, accumulate: false,
                path: .packed(threads: 1))
            gemm(
                Array(a[0..<(m * k)]), b, into: &part, m: m, n: n, k: k, transposeA: false, transposeB: false,
                accumulate: false, path: .packed(threads: 1))
            XCTAssertEqual(
                part.map { Double($0).bitPattern }, whole[0..<(m * n)].map { Double($0).bitPattern },
                "\(T.self) [\(m), \(n), \(k)]")
        }
    }

    @Test func testTileIndependenceFloat() { tileIndependence(Float.self) }
    @Test func testTileIndependenceDouble() { tileIndependence(Double.self) }

    @Test func testAddingRowFloat() { addingRow(Float.self) }
    @Test func testAddingRowDouble() { addingRow(Double.self) }

    @Test func testDispatch() throws {
        #if arch(x86_64) && os(Linux)
        let flags = cpuFlags()
        XCTAssertEqual(packedGemmAvailable, flags.contains("avx2") && flags.contains("fma"))
        #elseif arch(arm64)
        XCTAssertTrue(packedGemmAvailable)
        #endif
        try XCTSkipUnless(packedGemmAvailable, "no packed kernel on this CPU")
        XCTAssertEqual(gemmPackedThreads(m: 2, n: 24, k: 64, transposeA: false, transposeB: false), 0)
        XCTAssertEqual(gemmPackedThreads(m: 1, n: 64, k: 24, transposeA: false, transposeB: true), 1)
        XCTAssertEqual(gemmPackedThreads(m: 32, n: 32, k: 32, transposeA: true, transposeB: false), 1)
        XCTAssertGreaterThanOrEqual(gemmPackedThreads(m: 32, n: 1024, k: 384, transposeA: false, transposeB: true), 1)
        // The dot-product kernel: A · Bᵀ, up to 96 rows of at least one vector, at least 4·m long from 4 rows.
        for (m, k, dot) in [
            (4, 16, true), (4, 15, false), (3, 8, true), (3, 7, false), (1, 8, true), (96, 384, true),
            (96, 383, false), (97, 1000, false), (32, 128, true), (32, 127, false),
        ] {
            XCTAssertEqual(simdGemmRunsDot(m: m, k: k, transposeA: false, transposeB: true), dot, "m \(m) k \(k)")
        }
        XCTAssertFalse(simdGemmRunsDot(m: 4, k: 64, transposeA: false, transposeB: false))
        XCTAssertFalse(simdGemmRunsDot(m: 4, k: 64, transposeA: true, transposeB: true))
        // Short rows that are not the dot kernel's: blocked from 16³ multiply-adds (the notebooks' input
        // projection), the plain loop below.
        XCTAssertEqual(gemmPackedThreads(m: 64, n: 64, k: 8, transposeA: false, transposeB: true), 1)
        XCTAssertTrue(gemmRunsBlockedKernel(m: 64, n: 64, k: 8, transposeA: false, transposeB: true))
        XCTAssertEqual(gemmPackedThreads(m: 8, n: 8, k: 8, transposeA: false, transposeB: true), 0)
        XCTAssertFalse(gemmRunsBlockedKernel(m: 8, n: 1024, k: 64, transposeA: false, transposeB: true))
    }
}
