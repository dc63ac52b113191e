// GFLOP/s of `gemm` on the shapes rnnspec's cells use: `swift run -c release gemm-bench [FILTER | M N K tA tB]`;
// `gemm-bench prepacked [M N K STEPS]` times products with a packed operand (see `sequence`).
// `gemm-bench vector-math-all` checks the vector functions' copies on every Float and on 2^28 Doubles (see
// `vectorMathAll`).
// Columns: `gemm` (the public function, its own choice of path and threads), `1T` and `2T` (the packed
// kernels on one and two threads). Best of 7 rounds; the variants run round-robin so that other load hits
// them alike; "cpu" divides by process CPU time instead of wall time (per core when one thread runs).
import Dispatch
import RNNKernels
import RNNKernelsSIMD
import RNNPlatform

func clock(_ id: clockid_t) -> Double {
    var t = timespec(); clock_gettime(id, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
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
func run<T: KernelScalar>(
    _: T.Type, _ shapes: [Shape], _ variants: [(String, () -> Void, Int)],
    _ packed: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Shape, Int) -> Void
) {
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
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                c.withUnsafeMutableBufferPointer { pc in
                                    packed(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, s, threads)
                                }
                            }
                        }
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

/// A sequence's recurrent products: `steps` products A [m, k] · B with the same B, as `gemm` (B [N, K] with
/// transposeB, or [K, N]) and as `gemm` on `packOperand(B)` (packed once, outside the timing), and the
/// packed kernel pinned to 1 and 2 threads. Median of 11 rounds, round-robin; milliseconds per `steps` products,
/// and the fastest single product seen (what an idle machine gives; the median shows the load).
/// `gemm-bench prepacked` runs the LSTM's shapes at H = 256, B = 32 and 1; `gemm-bench prepacked M N K STEPS` one shape.
func sequence<T: KernelScalar>(_: T.Type, m: Int, n: Int, k: Int, transposed: Bool, steps: Int) {
    let a = (0..<(m * k)).map { T(Double(($0 * 7) % 13) / 13 - 0.5) }
    let b = (0..<(k * n)).map { T(Double(($0 * 5) % 11) / 11 - 0.5) }
    var c = [T](repeating: 0, count: m * n)
    let t0 = now()
    let packed = packOperand(b, k: k, n: n, transposed: transposed)
    let packTime = now() - t0
    let panels = (0..<T.packedPanelElements(k: k, n: n)).map { _ in T(0) }
    var pinned = panels
    b.withUnsafeBufferPointer { pb in
        pinned.withUnsafeMutableBufferPointer { pp in
            T.packPanels(pb.baseAddress!, k: k, n: n, transposed: transposed, into: pp.baseAddress!)
        }
    }
    func kernel(_ threads: Int) {
        a.withUnsafeBufferPointer { pa in
            pinned.withUnsafeBufferPointer { pp in
                c.withUnsafeMutableBufferPointer { pc in
                    T.prepackedGemm(
                        pa.baseAddress!, pp.baseAddress!, pc.baseAddress!, m: m, n: n, k: k, transposeA: false,
                        accumulate: false, threads: threads)
                }
            }
        }
    }
    let variants: [(String, () -> Void)] = [
        ("gemm", { gemm(a, b, into: &c, m: m, n: n, k: k, transposeB: transposed) }),
        ("packed", { gemm(a, packed, into: &c, m: m) }),
        ("1T", { kernel(1) }),
        ("2T", { kernel(2) }),
    ]
    var times = [[Double]](repeating: [], count: variants.count)
    var best = [Double](repeating: .infinity, count: variants.count)
    for _ in 0..<11 {
        for (v, (_, f)) in variants.enumerated() {
            let t0 = now()
            var last = t0
            for _ in 0..<steps {
                f()
                let t = now(); best[v] = min(best[v], t - last); last = t
            }
            times[v].append(now() - t0)
        }
    }
    let flop = 2.0 * Double(m * n * k * steps)
    let shape = transposed ? "[\(m),\(k)]·[\(n),\(k)]ᵀ" : "[\(m),\(k)]·[\(k),\(n)]"
    var line = pad("\(T.dtypeName) \(steps) × \(shape)", 38)
    for (v, (label, _)) in variants.enumerated() {
        let med = times[v].sorted()[times[v].count / 2]
        let unit = steps == 1 ? "\((med * 1e7).rounded() / 10) µs" : "\((med * 1e4).rounded() / 10) ms"
        line +=
            "  \(label) \(unit) (\(format0(flop / med / 1e9)) GFLOP/s, best call \((best[v] * 1e7).rounded() / 10) µs)"
    }
    print(line + "  pack \((packTime * 1e7).rounded() / 10) µs")
}

func loadAverage() -> String {
    guard let f = fopen("/proc/loadavg", "r") else { return "?" }
    defer { fclose(f) }
    var buf = [UInt8](repeating: 0, count: 128)
    let n = fread(&buf, 1, 127, f)
    return String(decoding: buf[0..<n], as: UTF8.self).split(separator: " ").prefix(3).joined(separator: " ")
}

/// `gemm-bench sequence lstm|gru [REPS [T B I H]] [bptt]`: the forward pass (no caches), or forward + BPTT, of
/// a float32 layer (default the bench's large T=128 B=32 I=128 H=256) run REPS times, median and best ms: a
/// target for `perf record`.
func sequenceRun(kind: CellKind, reps: Int, size: [Int], backward: Bool) {
    let (t, b, i, h) = size.count == 4 ? (size[0], size[1], size[2], size[3]) : (128, 32, 128, 256)
    let g = kind.gateCount
    func values(_ n: Int, _ seed: Int) -> [Float] { (0..<n).map { Float(Double(($0 * seed) % 97) / 97 - 0.5) * 0.1 } }
    let cell = RecurrentCell(
        conventions: CellConventions(kind: kind),
        parameters: CellParameters(
            w: Tensor(shape: [g * h, i], scalars: values(g * h * i, 7)),
            r: Tensor(shape: [g * h, h], scalars: values(g * h * h, 11)),
            bw: Tensor(shape: [g * h], scalars: values(g * h, 13)),
            br: Tensor(shape: [g * h], scalars: values(g * h, 17))))
    let x = Tensor(shape: [t, b, i], scalars: values(t * b * i, 5))
    let head = SequenceLossHead<Float>.upstream(dy: Tensor(shape: [t, b, h], scalars: values(t * b * h, 3)))
    var times: [Double] = []
    for _ in 0..<reps {
        let t0 = now()
        if backward {
            let cache = cellSequenceForward(cell, x: x, head: head)
            var grads = CellSequenceGradients(zerosLike: cell, head: head, steps: t, batch: b)
            cellSequenceBackward(cell, cache: cache, head: head, into: &grads)
            precondition(grads.cell.r.scalars[0].isFinite)
        } else {
            let run = runSequence(cell, x: x, keepCaches: false)
            precondition(run.hLast.scalars[0].isFinite)
        }
        times.append(now() - t0)
    }
    times.sort()
    let pass = backward ? "forward+bptt" : "forward"
    print(
        "\(kind) \(pass) float32 T=\(t) B=\(b) I=\(i) H=\(h): median \(times[times.count / 2] * 1000) ms, "
            + "best \(times[0] * 1000) ms")
}

/// Counts of differing results, one slot per thread and comparison, each written by its thread alone (the
/// all-values checks below).
final class Counts: @unchecked Sendable {
    let slots: UnsafeMutablePointer<Int>
    init(_ n: Int) { slots = .allocate(capacity: n); slots.initialize(repeating: 0, count: n) }
    deinit { slots.deallocate() }
}

/// Every Float (all 2^32 bit patterns) through each copy of e^x, sigmoid and tanh against the baseline one,
/// on two threads: the AVX2 + FMA copy, and where the CPU has AVX-512 the 16-lane copy of sigmoid and tanh
/// (VectorMathWide.c; e^x has none). Prints the number of results whose bits differ (NaNs compared as NaN) per
/// copy and function, and returns false when any does. `VectorMathTests` samples about 112,000 values, which
/// a change moving only rare results would pass (one low-order step of e^r unfused moves 839 of the
/// 3 · 2^32); CI runs this.
func vectorMathAll() -> Bool {
    guard packedGemmAvailable else {
        print("vector-math-all: this CPU runs only the baseline copy; nothing to compare")
        return true
    }
    let wide = rnn_simd_wide_for_testing(1) != 0
    // (label, function, AVX-512 paths on) for every comparison with the baseline.
    let copies: [(String, VectorFunction, Bool)] =
        VectorFunction.allCases.map { ("AVX2 copy", $0, false) }
        + (wide ? [VectorFunction.sigmoid, .tanh].map { ("AVX-512 copy", $0, true) } : [])
    let chunk = 1 << 16, parts = 2
    let counts = Counts(parts * copies.count)
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        var x = [Float](repeating: 0, count: chunk), simd = x
        var baseline = [VectorFunction: [Float]]()
        let per = (1 << 32) / parts
        for start in stride(from: part * per, to: (part + 1) * per, by: chunk) {
            for i in 0..<chunk { x[i] = Float(bitPattern: UInt32(truncatingIfNeeded: start + i)) }
            for f in VectorFunction.allCases {
                var ys = [Float](repeating: 0, count: chunk)
                x.withUnsafeBufferPointer { xs in
                    ys.withUnsafeMutableBufferPointer { Float.vectorApply(f, xs, into: $0, simd: false) }
                }
                baseline[f] = ys
            }
            for (index, (_, f, wideOn)) in copies.enumerated() {
                // This thread's setting (the vector functions run on the calling thread).
                _ = rnn_simd_wide_for_testing(wideOn ? 1 : 0)
                x.withUnsafeBufferPointer { xs in
                    simd.withUnsafeMutableBufferPointer { Float.vectorApply(f, xs, into: $0, simd: true) }
                }
                let base = baseline[f]!
                for i in 0..<chunk
                where simd[i].bitPattern != base[i].bitPattern && !(simd[i].isNaN && base[i].isNaN) {
                    counts.slots[part * copies.count + index] += 1
                }
            }
            _ = rnn_simd_wide_for_testing(1)
        }
    }
    var same = true
    for (index, (label, f, _)) in copies.enumerated() {
        let count = (0..<parts).reduce(0) { $0 + counts.slots[$1 * copies.count + index] }
        print("vector-math-all: \(f) on all 2^32 Floats, \(label) against baseline copy: \(count) results differ")
        same = same && count == 0
    }
    if !wide { print("vector-math-all: this CPU has no AVX-512 copy to compare") }
    return vectorMathDoubles(wide: wide) && same
}

/// Doubles cannot all be tried: 2^28 seeded ones per function (a quarter each any bit pattern, uniform in
/// [−800, 800] (past e^x's clamp at −746), uniform in [−0.35, 0.35] (around tanh's switch of polynomial at
/// 0.1733), and ±2^e for e uniform in [−60, 20]) through sigmoid and tanh's AVX2 copy and, where the CPU has
/// it, AVX-512 copy, against the baseline copy. Prints the differing counts; false when any differs.
func vectorMathDoubles(wide: Bool) -> Bool {
    let chunk = 1 << 16, parts = 2, perPart = (1 << 28) / parts
    let settings = wide ? [false, true] : [false]
    let functions: [VectorFunction] = [.sigmoid, .tanh]
    let slotsPerPart = functions.count * settings.count, counts = Counts(parts * slotsPerPart)
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        var state = UInt64(0x9E37_79B9 &* (part + 1))
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        func unit(_ r: UInt64) -> Double { Double(r >> 11) / 9_007_199_254_740_992 }
        var x = [Double](repeating: 0, count: chunk), base = x, simd = x
        for round in 0..<(perPart / chunk) {
            for i in 0..<chunk {
                let r = next()
                switch round % 4 {
                case 0: x[i] = Double(bitPattern: r)
                case 1: x[i] = unit(r) * 1600 - 800
                case 2: x[i] = unit(r) * 0.7 - 0.35
                default: x[i] = (r & 1 == 0 ? 1 : -1) * exp2(unit(r) * 80 - 60)
                }
            }
            for (fi, f) in functions.enumerated() {
                x.withUnsafeBufferPointer { xs in
                    base.withUnsafeMutableBufferPointer { Double.vectorApply(f, xs, into: $0, simd: false) }
                }
                for (si, on) in settings.enumerated() {
                    _ = rnn_simd_wide_for_testing(on ? 1 : 0)
                    x.withUnsafeBufferPointer { xs in
                        simd.withUnsafeMutableBufferPointer { Double.vectorApply(f, xs, into: $0, simd: true) }
                    }
                    for i in 0..<chunk
                    where simd[i].bitPattern != base[i].bitPattern && !(simd[i].isNaN && base[i].isNaN) {
                        counts.slots[part * slotsPerPart + fi * settings.count + si] += 1
                    }
                }
                _ = rnn_simd_wide_for_testing(1)
            }
        }
    }
    var same = true
    for (fi, f) in functions.enumerated() {
        for (si, on) in settings.enumerated() {
            let count = (0..<parts).reduce(0) { $0 + counts.slots[$1 * slotsPerPart + fi * settings.count + si] }
            print(
                "vector-math-all: \(f) on 2^28 seeded Doubles, \(on ? "AVX-512" : "AVX2") copy against baseline copy: "
                    + "\(count) results differ")
            same = same && count == 0
        }
    }
    return same
}

func main() {
    let args = Array(CommandLine.arguments.dropFirst())
    if args.first == "vector-math-all" {
        if !vectorMathAll() { exit(1) }
        return
    }
    if args.first == "sequence" {
        let kind: CellKind = args.dropFirst().first == "gru" ? .gru : .lstm
        let numbers = args.dropFirst(3).compactMap { Int($0) }
        sequenceRun(
            kind: kind, reps: args.count > 2 ? Int(args[2]) ?? 20 : 20, size: numbers, backward: args.contains("bptt"))
        return
    }
    if args.first == "prepacked" {
        print("load average \(loadAverage())")
        let rest = args.dropFirst().compactMap { Int($0) }
        if rest.count == 4 {
            sequence(Float.self, m: rest[0], n: rest[1], k: rest[2], transposed: true, steps: rest[3])
            sequence(Double.self, m: rest[0], n: rest[1], k: rest[2], transposed: true, steps: rest[3])
            sequence(Float.self, m: rest[0], n: rest[1], k: rest[2], transposed: false, steps: rest[3])
            sequence(Double.self, m: rest[0], n: rest[1], k: rest[2], transposed: false, steps: rest[3])
        } else {
            for t in [Float.self, Double.self] as [any KernelScalar.Type] {
                func go<T: KernelScalar>(_ t: T.Type) {
                    sequence(t, m: 32, n: 1024, k: 256, transposed: true, steps: 128)
                    sequence(t, m: 32, n: 256, k: 1024, transposed: false, steps: 128)
                    sequence(t, m: 1, n: 1024, k: 256, transposed: true, steps: 128)
                    sequence(t, m: 1, n: 64, k: 16, transposed: true, steps: 1)
                    sequence(t, m: 1, n: 64, k: 16, transposed: true, steps: 1000)
                }
                go(t)
            }
        }
        print("load average \(loadAverage())")
        return
    }
    var shapes = standard
    let variants: [(String, () -> Void, Int)] = [("gemm", {}, 0), ("1T", {}, 1), ("2T", {}, 2)]
    if args.count == 5 {
        shapes = [
            Shape(
                name: "\(args[0])×\(args[1])×\(args[2]) \(args[3])\(args[4])", m: Int(args[0])!, n: Int(args[1])!,
                k: Int(args[2])!, ta: args[3] == "t", tb: args[4] == "t")
        ]
    } else if let f = args.first {
        shapes = shapes.filter { $0.name.contains(f) }
    }
    run(Float.self, shapes, variants) { a, b, c, s, t in
        Float.packedGemm(
            a, b, c, m: s.m, n: s.n, k: s.k, transposeA: s.ta, transposeB: s.tb, accumulate: false, threads: t)
    }
    run(Double.self, shapes, variants) { a, b, c, s, t in
        Double.packedGemm(
            a, b, c, m: s.m, n: s.n, k: s.k, transposeA: s.ta, transposeB: s.tb, accumulate: false, threads: t)
    }
}
main()
