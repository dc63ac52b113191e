// GFLOP/s of `gemm` on the shapes rnnspec's cells use: `swift run -c release gemm-bench [FILTER | M N K tA tB]`.
// Columns: `gemm` (the public function, its own choice of path and threads), `1T` and `2T` (the packed
// kernels on one and two threads). Best of 7 rounds; the variants run round-robin so that other load hits
// them alike; "cpu" divides by process CPU time instead of wall time (per core when one thread runs).
import RNNKernels
import RNNKernelsSIMD
#if canImport(Glibc)
import Glibc
#endif

func clock(_ id: clockid_t) -> Double { var t = timespec(); clock_gettime(id, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }
func now() -> Double { clock(CLOCK_MONOTONIC) }
func cpu() -> Double { clock(CLOCK_PROCESS_CPUTIME_ID) }
func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
func format0(_ x: Double) -> String { pad("\((x * 10).rounded() / 10)", 6) }

struct Shape { var name: String; var m, n, k: Int; var ta, tb: Bool }
let standard = [
    Shape(name: "[32,384]·[1024,384]ᵀ", m: 32, n: 1024, k: 384, ta: false, tb: true),
    Shape(name: "[32,384]·[384,1024]", m: 32, n: 1024, k: 384, ta: false, tb: false),
    Shape(name: "[4096,128]·[1024,128]ᵀ", m: 4096, n: 1024, k: 128, ta: false, tb: true),
    Shape(name: "[1024,32]ᵀ·[32,256]", m: 1024, n: 256, k: 32, ta: true, tb: false),
    Shape(name: "[32,1024]·[1024,256]", m: 32, n: 256, k: 1024, ta: false, tb: false),
    Shape(name: "512³", m: 512, n: 512, k: 512, ta: false, tb: false),
    Shape(name: "2048²", m: 2048, n: 2048, k: 2048, ta: false, tb: false),
]

/// Variants measured interleaved (round-robin) so that load from other processes hits them alike.
/// Variant: (label, setup, threads: 0 = public gemm).
func run<T: KernelScalar>(_: T.Type, _ shapes: [Shape], _ variants: [(String, () -> Void, Int)],
                          _ packed: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Shape, Int) -> Void) {
    for s in shapes {
        let a = (0..<(s.m * s.k)).map { T(Double(($0 * 7) % 13) / 13 - 0.5) }
        let b = (0..<(s.k * s.n)).map { T(Double(($0 * 5) % 11) / 11 - 0.5) }
        var c = [T](repeating: 0, count: s.m * s.n)
        let flop = 2.0 * Double(s.m * s.n * s.k)
        let reps = max(3, min(100000, Int(3e8 / flop)))
        var best = [Double](repeating: .infinity, count: variants.count), bestCPU = best
        for _ in 0..<7 {
            for (v, (_, setup, threads)) in variants.enumerated() {
                setup()
                let t0 = now(), c0 = cpu()
                for _ in 0..<reps {
                    if threads == 0 {
                        gemm(a, b, into: &c, m: s.m, n: s.n, k: s.k, transposeA: s.ta, transposeB: s.tb)
                    } else {
                        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                            packed(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, s, threads) } } }
                    }
                }
                best[v] = min(best[v], (now() - t0) / Double(reps))
                bestCPU[v] = min(bestCPU[v], (cpu() - c0) / Double(reps))
            }
        }
        var line = pad("\(T.dtypeName) \(s.name)", 34)
        for (v, (label, _, _)) in variants.enumerated() {
            line += "  \(label) \(format0(flop / best[v] / 1e9)) (cpu \(format0(flop / bestCPU[v] / 1e9)))"
        }
        print(line)
    }
}

func main() {
    let args = Array(CommandLine.arguments.dropFirst())
    var shapes = standard
    let variants: [(String, () -> Void, Int)] = [("gemm", {}, 0), ("1T", {}, 1), ("2T", {}, 2)]
    if args.count == 5 {
        shapes = [Shape(name: "\(args[0])×\(args[1])×\(args[2]) \(args[3])\(args[4])", m: Int(args[0])!, n: Int(args[1])!,
                        k: Int(args[2])!, ta: args[3] == "t", tb: args[4] == "t")]
    } else if let f = args.first {
        shapes = shapes.filter { $0.name.contains(f) }
    }
    run(Float.self, shapes, variants) { a, b, c, s, t in packedGemm(a, b, c, m: s.m, n: s.n, k: s.k, transposeA: s.ta, transposeB: s.tb, accumulate: false, threads: t) }
    run(Double.self, shapes, variants) { a, b, c, s, t in packedGemm(a, b, c, m: s.m, n: s.n, k: s.k, transposeA: s.ta, transposeB: s.tb, accumulate: false, threads: t) }
}
main()
