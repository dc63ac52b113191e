// Run-time choices for `gemm`: whether this CPU can run the packed SIMD kernels of RNNKernelsSIMD,
// and how many threads a product of a given size gets.
//
// Shapes: A [M, K], B [K, N], C [M, N].

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import RNNKernelsSIMD

/// Whether the packed kernels can run here: on x86-64 the CPU must have AVX2 and FMA (RNNKernelsSIMD is
/// compiled for them); read once from /proc/cpuinfo on Linux. On arm64 the kernels are plain NEON.
/// Elsewhere (x86-64 without /proc) the plain loop is used.
@usableFromInline
let packedGemmAvailable: Bool = {
    #if arch(arm64)
    return true
    #elseif arch(x86_64) && os(Linux)
    return cpuFlags().isSuperset(of: ["avx2", "fma"])
    #else
    return false
    #endif
}()

/// The words of the first `flags` line of /proc/cpuinfo (empty if it cannot be read).
func cpuFlags() -> Set<Substring> {
    guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0 {
        guard let line else { break }
        let text = String(cString: line)
        if text.hasPrefix("flags") {
            return Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }))
        }
    }
    return []
}

/// Online processors, read once.
let onlineProcessors: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

/// Threads for the packed kernels on an [m, k] · [k, n] product; 0 means the plain loop.
///
/// A · Bᵀ with few rows (the recurrent products of a batch) runs the dot-product kernel, which packs
/// nothing, whenever a row is at least one vector long. Otherwise the plain loop wins below 16³
/// multiply-adds and with fewer than 4 rows or columns (packing B costs as much as such a product).
/// The second thread pays from a few million multiply-adds (about 100 µs on one core).
@usableFromInline
func gemmPackedThreads(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> Int {
    guard packedGemmAvailable else { return 0 }
    let work = m * n * k
    let dot = transposeB && !transposeA && m <= dotProductMaxRows && k >= 8
    if !dot && (work < 16 * 16 * 16 || m < 4 || n < 4) { return 0 }
    return work >= 4_000_000 ? min(2, onlineProcessors) : 1
}

/// The packed kernels on Float (`double` false) or Double arrays. Not inlinable: RNNKernelsSIMD's code
/// never reaches callers compiled for the baseline CPU.
@usableFromInline
func gemmPacked(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ c: UnsafeMutableRawPointer, double: Bool,
                m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, threads: Int) {
    if double {
        packedGemm(a.assumingMemoryBound(to: Double.self), b.assumingMemoryBound(to: Double.self),
                   c.assumingMemoryBound(to: Double.self), m: m, n: n, k: k, transposeA: transposeA,
                   transposeB: transposeB, accumulate: accumulate, threads: threads)
    } else {
        packedGemm(a.assumingMemoryBound(to: Float.self), b.assumingMemoryBound(to: Float.self),
                   c.assumingMemoryBound(to: Float.self), m: m, n: n, k: k, transposeA: transposeA,
                   transposeB: transposeB, accumulate: accumulate, threads: threads)
    }
}
