import Foundation
import TestAssertions
import Testing

@testable import RNNKernels
@testable import RNNSpec

/// One recorded NumPy stream (see tools/reference/numpy_draws.py and NumPyDrawsData.swift).
struct NumPyDrawStream {
    struct Call {
        var method: String
        var size: Int
        var args: [Double]
        var intArgs: [Int64]
        init(_ method: String, _ size: Int, _ args: [NumPyArg]) {
            self.method = method
            self.size = size
            self.args = args.map(\.double)
            self.intArgs = args.map(\.int)
        }
    }
    var kind: String
    var seed: UInt64
    var calls: [Call]
    var repeats: Int
    var count: Int
    var sha256: String
    var mix64: UInt64
    var head: [UInt64]
    var last: [UInt64]
}

/// A literal argument: an integer (kept exact up to 64 bits) or a float.
struct NumPyArg: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    var double: Double
    var int: Int64
    init(integerLiteral v: Int64) { double = Double(v); int = v }
    init(floatLiteral v: Double) { double = v; int = Int64(v) }
}

@Suite final class NumPyRandomTests {
    /// Runs a recorded stream's calls through our generators, returning every value's bit pattern.
    private func replay(_ s: NumPyDrawStream) throws -> [UInt64] {
        var out = [UInt64]()
        out.reserveCapacity(s.count)
        if s.kind == "default_rng" {
            var g = NumPyGenerator(seed: s.seed)
            for _ in 0..<s.repeats {
                for c in s.calls {
                    switch c.method {
                    case "random": for _ in 0..<c.size { out.append(g.random().bitPattern) }
                    case "standard_normal": for _ in 0..<c.size { out.append(g.standardNormal().bitPattern) }
                    case "normal":
                        for _ in 0..<c.size { out.append(g.normal(loc: c.args[0], scale: c.args[1]).bitPattern) }
                    case "uniform":
                        for _ in 0..<c.size { out.append(g.uniform(low: c.args[0], high: c.args[1]).bitPattern) }
                    case "integers":
                        for _ in 0..<c.size {
                            out.append(UInt64(bitPattern: try g.integers(low: c.intArgs[0], high: c.intArgs[1])))
                        }
                    case "choice":
                        out += try g.choice(Int(c.intArgs[0]), p: Array(c.args.dropFirst()), size: c.size).map {
                            UInt64($0)
                        }
                    default: XCTFail("unknown method \(c.method)")
                    }
                }
            }
        } else {
            var g = NumPyRandomState(seed: UInt32(s.seed))
            for _ in 0..<s.repeats {
                for c in s.calls {
                    switch c.method {
                    case "seed": g = NumPyRandomState(seed: UInt32(c.intArgs[0]))
                    case "random_sample": for _ in 0..<c.size { out.append(g.randomSample().bitPattern) }
                    case "randn", "standard_normal": for _ in 0..<c.size { out.append(g.standardNormal().bitPattern) }
                    case "normal":
                        for _ in 0..<c.size { out.append(g.normal(loc: c.args[0], scale: c.args[1]).bitPattern) }
                    case "uniform":
                        for _ in 0..<c.size { out.append(g.uniform(low: c.args[0], high: c.args[1]).bitPattern) }
                    case "randint":
                        for _ in 0..<c.size {
                            out.append(UInt64(bitPattern: try g.randint(low: c.intArgs[0], high: c.intArgs[1])))
                        }
                    case "choice":
                        out += try g.choice(Int(c.intArgs[0]), p: Array(c.args.dropFirst()), size: c.size).map {
                            UInt64($0)
                        }
                    default: XCTFail("unknown method \(c.method)")
                    }
                }
            }
        }
        return out
    }

    /// Every value of every recorded stream, bit for bit: the mix64 checksum of all 64-bit patterns
    /// equals NumPy's (with RNNSPEC_FULL_TESTS=1 their SHA-256 too, which takes about a minute in a
    /// debug build), and the first and last values are shown where they differ.
    @Test func testEveryRecordedDrawMatchesNumPyBitForBit() throws {
        var perMethod: [String: Int] = [:]
        for s in numpyDrawStreams {
            let bits = try replay(s)
            let name =
                "\(s.kind)(\(s.seed)) \(s.calls.map { "\($0.method)(\($0.size))" }.joined(separator: ", ")) ×\(s.repeats)"
            XCTAssertEqual(bits.count, s.count, name)
            XCTAssertEqual(Array(bits.prefix(s.head.count)).map(hex), s.head.map(hex), "first values of \(name)")
            XCTAssertEqual(Array(bits.suffix(s.last.count)).map(hex), s.last.map(hex), "last values of \(name)")
            XCTAssertEqual(hex(Self.mix64(bits)), hex(s.mix64), "mix64 of every value of \(name)")
            if fullTests {
                let bytes = bits.withUnsafeBufferPointer { words in
                    words.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } }
                }
                XCTAssertEqual(SHA256.hex(bytes), s.sha256, "SHA-256 of every value of \(name)")
            }
            for c in s.calls where c.method != "seed" {
                perMethod["\(s.kind).\(c.method)", default: 0] += c.size * s.repeats
            }
        }
        // At least 10^5 draws of each method across seeds (the mixed streams add the rest).
        for (m, n) in perMethod where !m.hasSuffix("standard_normal") || m.hasPrefix("default_rng") {
            if [
                "default_rng.random", "default_rng.standard_normal", "default_rng.integers", "default_rng.choice",
                "legacy.random_sample", "legacy.randn", "legacy.randint", "legacy.choice", "legacy.uniform",
            ].contains(m) {
                XCTAssertGreaterThanOrEqual(n, 100_000, m)
            }
        }
    }

    /// The recorded normal streams take the ziggurat's tail (|x| > r) and wedge paths many times.
    @Test func testZigguratTailAndWedgePathsAreExercised() {
        var paths = ZigguratPathCounts()
        for s in numpyDrawStreams
        where s.kind == "default_rng" && s.calls.count == 1 && s.calls[0].method == "standard_normal" {
            var g = NumPyGenerator(seed: s.seed)
            var tailValues = 0
            for _ in 0..<s.calls[0].size where abs(g.standardNormal()) > NumPyZiggurat.r { tailValues += 1 }
            paths.tail += g.zigguratPaths.tail
            paths.wedge += g.zigguratPaths.wedge
            XCTAssertGreaterThan(tailValues, 0)
        }
        // numpy_draws.py's replay of the same streams: tail 358, wedge 18318.
        XCTAssertEqual(paths, ZigguratPathCounts(tail: 358, wedge: 18318))
    }

    /// ki, wi and fi follow their definitions: x_i = wi[i]·2^52 are the layer edges, fi[i] =
    /// exp(−x_i²/2), ki[i] = ⌊2^52 · x_{i−1}/x_i⌋ (to a unit), and the tail edge is r.
    @Test func testZigguratTablesFollowTheirDefinitions() {
        let two52 = 4_503_599_627_370_496.0
        XCTAssertEqual(NumPyZiggurat.wi[255] * two52, NumPyZiggurat.r, accuracy: 1e-12)
        XCTAssertEqual(NumPyZiggurat.fi[0], 1)
        XCTAssertEqual(NumPyZiggurat.invR, 1 / NumPyZiggurat.r, accuracy: 1e-16)
        for i in 1..<256 {
            let x = NumPyZiggurat.wi[i] * two52
            XCTAssertEqual(
                NumPyZiggurat.fi[i], exp(-0.5 * x * x), accuracy: 1e-14 * max(1, NumPyZiggurat.fi[i]), "fi[\(i)]")
            if i >= 2 {
                let xPrev = NumPyZiggurat.wi[i - 1] * two52
                XCTAssertEqual(Double(NumPyZiggurat.ki[i]), (xPrev / x) * two52, accuracy: 2, "ki[\(i)]")
            }
            if i >= 2 && i < 255 { XCTAssertLessThan(NumPyZiggurat.wi[i], NumPyZiggurat.wi[i + 1], "wi increases") }
        }
        XCTAssertEqual(NumPyZiggurat.ki[1], 0)
    }

    /// SeedSequence(1).generate_state(4) and PCG64's first raw outputs, as NumPy 2.4.6 gives them.
    @Test func testSeedSequenceAndPCG64FirstWords() {
        XCTAssertEqual(NumPySeedSequence(seed: 1).generateState32(4), seedSequence1State)
        var pcg = NumPyPCG64(seed: 1)
        XCTAssertEqual((0..<3).map { _ in pcg.nextUInt64() }, pcg64Seed1Raw)
    }

    /// Σ fmix64(wᵢ ⊕ (i + 1)·0x9E3779B97F4A7C15) mod 2^64 over the words (fmix64: MurmurHash3's finalizer),
    /// as tools/reference/numpy_draws.py computes it. Each term is a bijection of its word, so one changed
    /// value always changes the sum.
    static func mix64(_ words: [UInt64]) -> UInt64 {
        words.withUnsafeBufferPointer { w in
            var sum: UInt64 = 0, position: UInt64 = 0
            for word in w {
                position &+= 0x9E37_79B9_7F4A_7C15
                var k = word ^ position
                k ^= k >> 33; k &*= 0xFF51_AFD7_ED55_8CCD
                k ^= k >> 33; k &*= 0xC4CE_B9FE_1A85_EC53
                sum &+= k ^ (k >> 33)
            }
            return sum
        }
    }

    /// The checksum sees a single flipped bit anywhere, and the order of the values.
    @Test func testMix64SeesEveryChangedBitAndTheOrder() {
        let words: [UInt64] = (0..<64).map { UInt64($0) &* 0x0123_4567_89AB_CDEF }
        let sum = Self.mix64(words)
        for i in [0, 1, 31, 63] {
            for bit in [0, 1, 32, 63] {
                var changed = words
                changed[i] ^= 1 << UInt64(bit)
                XCTAssertNotEqual(Self.mix64(changed), sum, "word \(i) bit \(bit)")
            }
        }
        XCTAssertNotEqual(Self.mix64(words.reversed()), sum)
        XCTAssertEqual(Self.mix64([]), 0)
    }

    private func hex(_ v: UInt64) -> String { String(v, radix: 16) }
}

/// `np.random.SeedSequence(1).generate_state(4)` (NumPy 2.4.6).
private let seedSequence1State: [UInt32] = [1_835_504_127, 1_731_038_949, 1_320_224_556, 2_330_041_505]
/// `np.random.PCG64(1).random_raw()` three times (NumPy 2.4.6).
private let pcg64Seed1Raw: [UInt64] = [
    9_441_442_522_235_856_127, 17_532_960_557_476_522_086, 2_659_275_481_604_167_885,
]
