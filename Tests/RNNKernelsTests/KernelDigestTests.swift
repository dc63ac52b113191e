import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// The C kernels give the same bits as the Swift kernels they replaced (Swift compiled with `-Ounchecked
/// -target-cpu haswell`, commit bd9ce47): for each precision and shape, a digest (FNV-1a) of the results of
/// every packed path (`gemm` pinned to the packed kernel and `gemm` on a `PackedOperand`, on one and two
/// threads, every combination of transposes and accumulate), recorded from those Swift kernels. The shapes
/// take every path: the 1-row kernel, the dot-product kernel (A · Bᵀ up to 96 rows of at least 4·m), B read in
/// place (up to 40 rows) and packed, edge tiles, a second depth block (k > 256) and a second row block (m > 144 / 72).
/// Inputs are seeded values in [−1, 1]. The C kernels keep the Swift kernels' blocking, per-lane summation
/// order and fused multiply-adds, so a difference here means a changed summation order or a lost FMA,
/// which would move goldens. The recording script: tools/kernel-digests/main.swift.
@Suite final class KernelDigestTests {
    static let shapes: [(Int, Int, Int)] = [
        (1, 37, 300), (2, 33, 13), (6, 16, 256), (7, 17, 257), (13, 70, 65), (32, 1024, 40), (41, 50, 300),
        (97, 40, 20), (150, 130, 513), (200, 90, 7),
    ]

    /// Digests recorded from the Swift kernels of commit bd9ce47 on x86-64 with AVX2 + FMA, their dispatch given
    /// today's rule for the dot-product kernel (`simdGemmRunsDot`; the script's patch step): the rule moved
    /// 32x1024x40 from the dot-product kernel to the blocked one, and the others stayed where they were.
    static let recorded: [String: UInt64] = [
        "float32 1x37x300": 0x5216061fd44e83d9,
        "float32 2x33x13": 0x4db939fb07ba51d9,
        "float32 6x16x256": 0x9b5c21b96d360f0d,
        "float32 7x17x257": 0x43a3fff7aa4e77c1,
        "float32 13x70x65": 0xb20674e582458239,
        "float32 32x1024x40": 0x32b08c59acaf73c5,
        "float32 41x50x300": 0xf3c9f349581acbdd,
        "float32 97x40x20": 0x698c25fa0c7e0165,
        "float32 150x130x513": 0x6de53c32b54fc1f5,
        "float32 200x90x7": 0x8ab1cf5de3bc125d,
        "float64 1x37x300": 0xd12a0e629ae7c5bd,
        "float64 2x33x13": 0x9f15867e13431995,
        "float64 6x16x256": 0x790c4cd95263a149,
        "float64 7x17x257": 0x48a77d785968cd3d,
        "float64 13x70x65": 0x68fab3d8b1425945,
        "float64 32x1024x40": 0xbb6bc3977c2065b5,
        "float64 41x50x300": 0x3f1047e928c4426d,
        "float64 97x40x20": 0x2182c6a76238c315,
        "float64 150x130x513": 0x9e4d3f20d6d31905,
        "float64 200x90x7": 0x497b81b8d4ae6d6d,
    ]

    func values<T: KernelScalar>(_ count: Int, _ seed: UInt64) -> [T] {
        var g = SplitMix64(state: seed)
        return (0..<count).map { _ in T(Double(Int64(bitPattern: g.next() >> 11) % 2_000_001) / 1e6 - 1) }
    }

    func fnv(_ h: inout UInt64, _ bits: UInt64) { h = (h ^ bits) &* 0x100_0000_01b3 }

    /// Folds the bit patterns of xs into h.
    func digest<T: KernelScalar>(_ xs: [T], into h: inout UInt64) {
        for x in xs { fnv(&h, T.self == Float.self ? UInt64((x as! Float).bitPattern) : (x as! Double).bitPattern) }
    }

    /// One digest per shape: per combination, the results of every path folded in order; then the
    /// combinations' digests folded in loop order.
    func shapeDigest<T: KernelScalar>(_: T.Type, m: Int, n: Int, k: Int) -> UInt64 {
        let a: [T] = values(m * k, 1), b: [T] = values(k * n, 2), c0: [T] = values(m * n, 3)
        var total: UInt64 = 0xcbf2_9ce4_8422_2325
        for ta in [false, true] {
            for tb in [false, true] {
                for acc in [false, true] {
                    var h: UInt64 = 0xcbf2_9ce4_8422_2325
                    for t in [1, 2] {
                        var c = c0
                        gemm(
                            a, b, into: &c, m: m, n: n, k: k, transposeA: ta, transposeB: tb, accumulate: acc,
                            path: .packed(threads: t))
                        digest(c, into: &h)
                        let packed = packOperand(b, k: k, n: n, transposed: tb)
                        c = c0
                        gemm(a, packed, into: &c, m: m, transposeA: ta, accumulate: acc, threads: t)
                        digest(c, into: &h)
                    }
                    fnv(&total, h)
                }
            }
        }
        return total
    }

    func check<T: KernelScalar>(_ type: T.Type) throws {
        try XCTSkipUnless(
            packedGemmAvailable, "no packed kernels on this CPU: nothing to compare with the recorded digests")
        for (m, n, k) in Self.shapes {
            let key = "\(T.dtypeName) \(m)x\(n)x\(k)"
            let d = shapeDigest(type, m: m, n: n, k: k)
            XCTAssertEqual(
                d, Self.recorded[key], "\(key): the packed kernels' results differ from the Swift kernels' bits")
        }
    }

    @Test func testFloatBitsMatchTheSwiftKernels() throws { try check(Float.self) }
    @Test func testDoubleBitsMatchTheSwiftKernels() throws { try check(Double.self) }
}
