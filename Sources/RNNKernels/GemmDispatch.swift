// Run-time choices for `gemm`: whether this CPU can run the packed SIMD kernels of RNNKernelsSIMD,
// and how many threads a product of a given size gets.
//
// Shapes: A [M, K], B [K, N], C [M, N].

import RNNPlatform
import RNNKernelsSIMD

/// Whether the packed kernels (and the SIMD copy of the vector functions) can run here, asked once of
/// RNNKernelsSIMD (`simdKernelsSupported`: AVX2 and FMA on x86-64, always on arm64).
@usableFromInline
let packedGemmAvailable: Bool = simdKernelsSupported()

/// Online processors, read once.
let onlineProcessors: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

/// Threads for the packed kernels on an [m, k] · [k, n] product; 0 means the plain loop.
///
/// A · Bᵀ with few rows (the recurrent products of a batch) runs the dot-product kernel, which packs
/// nothing, whenever a row is at least one vector long. Otherwise the plain loop wins below 16³
/// multiply-adds and with fewer than 4 rows or columns (packing B costs as much as such a product).
/// The second thread pays from a few million multiply-adds.
@usableFromInline
func gemmPackedThreads(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> Int {
    guard packedGemmAvailable else { return 0 }
    let work = m * n * k
    let dot = transposeB && !transposeA && m <= dotProductMaxRows && k >= 8
    if !dot && (work < 16 * 16 * 16 || m < 4 || n < 4) { return 0 }
    return work >= 4_000_000 ? min(2, onlineProcessors) : 1
}

// The packed kernels per scalar type: the `KernelScalar` requirements that reach RNNKernelsSIMD. Not
// inlinable, so RNNKernelsSIMD's code never reaches callers compiled for the baseline CPU. Float and Double
// are deliberate twins: each names its own overload of the SIMD entry points.

extension Float {
    public static func packedGemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                                  m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, threads: Int) {
        RNNKernelsSIMD.packedGemm(a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                  accumulate: accumulate, threads: threads)
    }

    public static func packedPanelElements(k: Int, n: Int) -> Int { RNNKernelsSIMD.packedPanelElements(Float.self, k: k, n: n) }

    public static func packPanels(_ b: UnsafePointer<Float>, k: Int, n: Int, transposed: Bool, into dst: UnsafeMutablePointer<Float>) {
        RNNKernelsSIMD.packPanels(b, k: k, n: n, transposed: transposed, into: dst)
    }

    public static func prepackedGemm(_ a: UnsafePointer<Float>, _ panels: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                                     m: Int, n: Int, k: Int, transposeA: Bool, accumulate: Bool, threads: Int) {
        RNNKernelsSIMD.prepackedGemm(a, panels, c, m: m, n: n, k: k, transposeA: transposeA, accumulate: accumulate, threads: threads)
    }

    public static func vectorApply(_ f: VectorFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int,
                                   simd: Bool) {
        if simd { simdVectorApply(f, x, y, n) } else { vectorMathApply(f, x, y, n) }
    }
}

extension Double {
    public static func packedGemm(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                                  m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, threads: Int) {
        RNNKernelsSIMD.packedGemm(a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                  accumulate: accumulate, threads: threads)
    }

    public static func packedPanelElements(k: Int, n: Int) -> Int { RNNKernelsSIMD.packedPanelElements(Double.self, k: k, n: n) }

    public static func packPanels(_ b: UnsafePointer<Double>, k: Int, n: Int, transposed: Bool, into dst: UnsafeMutablePointer<Double>) {
        RNNKernelsSIMD.packPanels(b, k: k, n: n, transposed: transposed, into: dst)
    }

    public static func prepackedGemm(_ a: UnsafePointer<Double>, _ panels: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                                     m: Int, n: Int, k: Int, transposeA: Bool, accumulate: Bool, threads: Int) {
        RNNKernelsSIMD.prepackedGemm(a, panels, c, m: m, n: n, k: k, transposeA: transposeA, accumulate: accumulate, threads: threads)
    }

    public static func vectorApply(_ f: VectorFunction, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count n: Int,
                                   simd: Bool) {
        if simd { simdVectorApply(f, x, y, n) } else { vectorMathApply(f, x, y, n) }
    }
}
