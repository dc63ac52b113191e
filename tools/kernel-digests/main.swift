// Records the digests of KernelDigestTests from the Swift SIMD kernels of commit bd9ce47 (before RNNKernelsSIMD
// became C). Run from the repository root:
//
//   d=$(mktemp -d); for f in CPUSupport PackedGemm PrepackedGemm VectorMathCore VectorMathEntry; do
//     git show bd9ce47:Sources/RNNKernelsSIMD/$f.swift > $d/$f.swift; done
//   # today's rule for the dot-product kernel (RNNKernels' simdGemmRunsDot), in place of bd9ce47's `m <= 96`:
//   sed -i 's/m <= dotProductMaxRows {/m <= dotProductMaxRows \&\& k >= 8 \&\& (m < 4 || k >= 4 * m) {/' $d/PackedGemm.swift
//   cp tools/kernel-digests/main.swift $d/ && swiftc -Ounchecked -target-cpu haswell -module-name OldSIMD $d/*.swift -o $d/old
//   $d/old > digests.txt && python3 tools/kernel-digests/fold.py digests.txt
//
// It prints one digest per (dtype, shape, transposes, accumulate), the same inputs and paths as the test;
// fold.py folds them per (dtype, shape) into the values KernelDigestTests.recorded holds.
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
protocol K: BinaryFloatingPoint {
    static var dtypeName: String { get }
    var bits64: UInt64 { get }
    static func pg(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>, m: Int, n: Int, k: Int, ta: Bool, tb: Bool, acc: Bool, t: Int)
    static func panelsCount(k: Int, n: Int) -> Int
    static func pack(_ b: UnsafePointer<Self>, k: Int, n: Int, tr: Bool, _ d: UnsafeMutablePointer<Self>)
    static func ppg(_ a: UnsafePointer<Self>, _ p: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>, m: Int, n: Int, k: Int, ta: Bool, acc: Bool, t: Int)
}
extension Float: K {
    static var dtypeName: String { "float32" }
    var bits64: UInt64 { UInt64(bitPattern) }
    static func pg(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, ta: Bool, tb: Bool, acc: Bool, t: Int) { packedGemm(a, b, c, m: m, n: n, k: k, transposeA: ta, transposeB: tb, accumulate: acc, threads: t) }
    static func panelsCount(k: Int, n: Int) -> Int { packedPanelElements(Float.self, k: k, n: n) }
    static func pack(_ b: UnsafePointer<Float>, k: Int, n: Int, tr: Bool, _ d: UnsafeMutablePointer<Float>) { packPanels(b, k: k, n: n, transposed: tr, into: d) }
    static func ppg(_ a: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, ta: Bool, acc: Bool, t: Int) { prepackedGemm(a, p, c, m: m, n: n, k: k, transposeA: ta, accumulate: acc, threads: t) }
}
extension Double: K {
    static var dtypeName: String { "float64" }
    var bits64: UInt64 { bitPattern }
    static func pg(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>, m: Int, n: Int, k: Int, ta: Bool, tb: Bool, acc: Bool, t: Int) { packedGemm(a, b, c, m: m, n: n, k: k, transposeA: ta, transposeB: tb, accumulate: acc, threads: t) }
    static func panelsCount(k: Int, n: Int) -> Int { packedPanelElements(Double.self, k: k, n: n) }
    static func pack(_ b: UnsafePointer<Double>, k: Int, n: Int, tr: Bool, _ d: UnsafeMutablePointer<Double>) { packPanels(b, k: k, n: n, transposed: tr, into: d) }
    static func ppg(_ a: UnsafePointer<Double>, _ p: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>, m: Int, n: Int, k: Int, ta: Bool, acc: Bool, t: Int) { prepackedGemm(a, p, c, m: m, n: n, k: k, transposeA: ta, accumulate: acc, threads: t) }
}
func values<T: K>(_ count: Int, _ seed: UInt64) -> [T] {
    var g = SplitMix64(state: seed)
    return (0..<count).map { _ in T(Double(Int64(bitPattern: g.next() >> 11) % 2_000_001) / 1e6 - 1) }
}
let shapes: [(Int, Int, Int)] = [
    (1, 37, 300), (2, 33, 13), (6, 16, 256), (7, 17, 257), (13, 70, 65), (32, 1024, 40), (41, 50, 300),
    (97, 40, 20), (150, 130, 513), (200, 90, 7),
]
func run<T: K>(_: T.Type) {
    for (m, n, k) in shapes {
        let a: [T] = values(m * k, 1), b: [T] = values(k * n, 2), c0: [T] = values(m * n, 3)
        for ta in [false, true] { for tb in [false, true] { for acc in [false, true] {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for t in [1, 2] {
                var c = c0
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    T.pg(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, m: m, n: n, k: k, ta: ta, tb: tb, acc: acc, t: t) } } }
                for x in c { h = (h ^ x.bits64) &* 0x100_0000_01b3 }
                var panels = [T](repeating: 0, count: T.panelsCount(k: k, n: n))
                b.withUnsafeBufferPointer { pb in panels.withUnsafeMutableBufferPointer { pp in T.pack(pb.baseAddress!, k: k, n: n, tr: tb, pp.baseAddress!) } }
                c = c0
                a.withUnsafeBufferPointer { pa in panels.withUnsafeBufferPointer { pp in c.withUnsafeMutableBufferPointer { pc in
                    T.ppg(pa.baseAddress!, pp.baseAddress!, pc.baseAddress!, m: m, n: n, k: k, ta: ta, acc: acc, t: max(1, t)) } } }
                for x in c { h = (h ^ x.bits64) &* 0x100_0000_01b3 }
            }
            print("DIGEST \(T.dtypeName) \(m)x\(n)x\(k) \(ta ? "t" : "n")\(tb ? "t" : "n")\(acc ? " acc" : "") \(h)")
        } } }
    }
}
run(Float.self); run(Double.self)
