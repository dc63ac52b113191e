import Foundation
import RNNKernels
import RNNKernelsSIMD
import RNNPlatform
import TestAssertions
import Testing

/// The words of the first `flags` line of /proc/cpuinfo (empty if it cannot be read): the kernel's account
/// of the CPU, to check the CPUID probe of RNNKernelsSIMD against.
func cpuFlags() -> Set<String> {
    guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0 {
        guard let line else { break }
        let text = String(cString: line)
        if text.hasPrefix("flags") {
            return Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
        }
    }
    return []
}

/// Asserts |actual − expected| ≤ abs + rel·|expected| elementwise, comparing a kernel's
/// result in precision T with a reference computed in Double.
func assertClose<T: KernelScalar>(
    _ actual: [T], _ expected: [Double], abs: Double? = nil, rel: Double? = nil,
    _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    // Float results get a few float ulps; Double results a few double ulps.
    let a = abs ?? (T.self == Float.self ? 1e-6 : 1e-14)
    let r = rel ?? (T.self == Float.self ? 1e-6 : 1e-14)
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    var worst = 0.0
    for (x, e) in zip(actual, expected) {
        let d = Swift.abs(Double(x) - e)
        if e.isNaN {
            XCTAssertTrue(Double(x).isNaN, "\(message): expected NaN, got \(x)", file: file, line: line); continue
        }
        XCTAssertLessThanOrEqual(d, a + r * Swift.abs(e), "\(message): \(x) vs \(e)", file: file, line: line)
        worst = max(worst, d)
    }
}

func tensor<T: KernelScalar>(_ shape: [Int], _ xs: [Double]) -> Tensor<T> {
    Tensor(shape: shape, scalars: xs.map { T($0) })
}

// MARK: matrix-product tests (GemmTests, PackedOperandTests)

/// Deterministic values in [−1, 1] for the matrix-product tests.
func productTestValues(_ count: Int, _ seed: Int) -> [Double] {
    (0..<count).map { Double(($0 * 7919 + seed * 104729) % 2003) / 1001.0 - 1.0 }
}

/// The logical matrix X [rows, cols] laid out as a product's argument: transposed means stored [cols, rows].
func productLayout(_ x: [Double], rows: Int, cols: Int, transposed: Bool) -> [Double] {
    guard transposed else { return x }
    var t = [Double](repeating: 0, count: x.count)
    for i in 0..<rows { for j in 0..<cols { t[j * rows + i] = x[i * cols + j] } }
    return t
}

/// The reference A · B in Double for A [m, k] and B [k, n] (their values already rounded to the precision
/// under test), and Σ|a·b| for every element, which scales the tolerance.
struct ProductReference {
    let m: Int, n: Int, k: Int
    var product: [Double], magnitude: [Double]

    init(a: [Double], b: [Double], m: Int, n: Int, k: Int) {
        self.m = m; self.n = n; self.k = k
        product = [Double](repeating: 0, count: m * n)
        magnitude = product
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0, t = 0.0
                for p in 0..<k { let x = a[i * k + p] * b[p * n + j]; s += x; t += Swift.abs(x) }
                product[i * n + j] = s; magnitude[i * n + j] = t
            }
        }
    }

    /// Fails (at most three messages) where C differs from the reference (+ C₀ when accumulating) by more
    /// than 2(k + 1) ulps of Σ|a·b| + |C₀|; NaN and infinities must match exactly.
    func check<T: KernelScalar>(
        _ c: [T], accumulate: Bool, c0: [Double], _ label: String,
        file: StaticString, line: UInt
    ) {
        let eps = Double(T.ulpOfOne)
        var bad = 0
        for x in 0..<(m * n) {
            let expect = product[x] + (accumulate ? c0[x] : 0)
            let got = Double(c[x])
            let ok =
                expect.isNaN
                ? got.isNaN
                : expect.isInfinite
                    ? got == expect
                    : Swift.abs(got - expect) <= 2 * Double(k + 1) * eps * (magnitude[x] + Swift.abs(c0[x]))
                        + Double(T.leastNormalMagnitude)
            if !ok {
                bad += 1
                if bad <= 3 {
                    XCTFail(
                        "\(T.self) \(m)×\(n)×\(k) \(label) at \(x / n),\(x % n): \(got) vs \(expect)", file: file,
                        line: line)
                }
            }
        }
    }
}

/// RNNSPEC_FULL_TESTS=1: the long forms of tests that are shortened or sampled by default (CI runs
/// `swift test` both ways).
let fullTests = ProcessInfo.processInfo.environment["RNNSPEC_FULL_TESTS"] == "1"

/// The settings of the AVX-512 paths this CPU can run: off, and on where it has them.
let wideSettings: [Bool] = rnn_simd_wide_for_testing(1) != 0 ? [false, true] : [false]

/// Runs `body` with the kernels' AVX-512 paths (the prepacked product's 8-row tiles, sigmoid and tanh 16 floats
/// or 8 doubles at a time) on or off on this thread and the fused passes' threads it starts, then turns them back on.
func withWidePaths<R>(_ on: Bool, _ body: () throws -> R) rethrows -> R {
    _ = rnn_simd_wide_for_testing(on ? 1 : 0)
    defer { _ = rnn_simd_wide_for_testing(1) }
    return try body()
}
