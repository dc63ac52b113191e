// Temporary: GFLOP/s of the packed kernel on the shapes rnnspec's cells use.
import RNNKernels
import RNNKernelsSIMD
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }

struct Shape { var name: String; var m, n, k: Int; var ta, tb: Bool }
let shapes = [
    Shape(name: "[32,384]·[1024,384]ᵀ", m: 32, n: 1024, k: 384, ta: false, tb: true),
    Shape(name: "[32,384]·[384,1024]", m: 32, n: 1024, k: 384, ta: false, tb: false),
    Shape(name: "[4096,128]·[1024,128]ᵀ", m: 4096, n: 1024, k: 128, ta: false, tb: true),
    Shape(name: "[1024,32]ᵀ·[32,256]", m: 1024, n: 256, k: 32, ta: true, tb: false),
    Shape(name: "[32,1024]·[1024,256]", m: 32, n: 256, k: 1024, ta: false, tb: false),
    Shape(name: "512³", m: 512, n: 512, k: 512, ta: false, tb: false),
    Shape(name: "2048²", m: 2048, n: 2048, k: 2048, ta: false, tb: false),
]
let args = CommandLine.arguments
func run<T: KernelScalar>(_: T.Type, _ packed: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Shape, Int) -> Void) {
    for s in shapes {
        if args.count > 1 && !s.name.contains(args[1]) { continue }
        let a = (0..<(s.m * s.k)).map { T(Double(($0 * 7) % 13) / 13 - 0.5) }
        let b = (0..<(s.k * s.n)).map { T(Double(($0 * 5) % 11) / 11 - 0.5) }
        var c = [T](repeating: 0, count: s.m * s.n)
        let flop = 2.0 * Double(s.m * s.n * s.k)
        let reps = max(3, Int(2e9 / flop))
        var line = pad("\(T.dtypeName) \(s.name)", 34)
        for threads in [0, 1, 2] {
            var times: [Double] = []
            for _ in 0..<5 {
                let t0 = now()
                for _ in 0..<reps {
                    if threads == 0 {
                        gemm(a, b, into: &c, m: s.m, n: s.n, k: s.k, transposeA: s.ta, transposeB: s.tb)
                    } else {
                        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                            packed(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, s, threads) } } }
                    }
                }
                times.append((now() - t0) / Double(reps))
            }
            times.sort()
            let label = threads == 0 ? "gemm" : "\(threads)T"
            line += "  \(label) \(String(format0(flop / times[2] / 1e9)))"
        }
        print(line)
    }
}
func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
func format0(_ x: Double) -> String { pad("\((x * 10).rounded() / 10)", 6) }
run(Float.self) { a, b, c, s, t in packedGemm(a, b, c, m: s.m, n: s.n, k: s.k, transposeA: s.ta, transposeB: s.tb, accumulate: false, threads: t) }
run(Double.self) { a, b, c, s, t in packedGemm(a, b, c, m: s.m, n: s.n, k: s.k, transposeA: s.ta, transposeB: s.tb, accumulate: false, threads: t) }
