import Foundation
import RNNKernels
import RNNPlatform
import RNNSpec

/// The sizes of one kernel benchmark: T steps, B batch, I input, H hidden.
package struct BenchShape: Sendable, Equatable, Codable {
    package var t: Int, b: Int, i: Int, h: Int
    package init(t: Int, b: Int, i: Int, h: Int) { self.t = t; self.b = b; self.i = i; self.h = h }

    /// A realistic layer: T 128, B 32, I 128, H 256.
    package static let large = BenchShape(t: 128, b: 32, i: 128, h: 256)
    /// The notebooks' size.
    package static let notebook = BenchShape(t: 64, b: 1, i: 8, h: 16)

    package var label: String { "T=\(t) B=\(b) I=\(i) H=\(h)" }
    /// A short name for file names and JSON keys.
    package var key: String { "T\(t)_B\(b)_I\(i)_H\(h)" }
}

/// What a kernel row times.
package enum BenchPass: String, Sendable, Codable, CaseIterable {
    /// `runSequence(keepCaches: false)`: h_t, c_t for every step, no step caches (a forward pass alone).
    case forward
    /// `cellSequenceForward` with an upstream gradient dy for every step, then `cellSequenceBackward` (full BPTT).
    case forwardBPTT = "forward+bptt"
}

/// The floating-point work of the matrix products, the count GFLOP/s is computed from.
///
///     forward, per step:   2·B·(I+H)·G·H      (W x_t and R h_{t−1} for G gate blocks of H rows)
///     backward, per step:  2 · 2·B·(I+H)·G·H  (dW, dR from the gate gradients, and d[x_t, h_{t−1}])
///     forward+bptt:        T · 3 · 2·B·(I+H)·G·H
///
/// G = 4 for the LSTM, 3 for the GRU. The elementwise gate math is not counted, and there is no
/// output head (the loss is Σ dy·h, whose gradient dy is given).
package func benchFLOPs(kind: CellKind, shape s: BenchShape, pass: BenchPass) -> Double {
    let perStep = 2.0 * Double(s.b) * Double(s.i + s.h) * Double(kind.gateCount) * Double(s.h)
    return Double(s.t) * perStep * (pass == .forward ? 1 : 3)
}

/// 2·N³ for an N×N by N×N product.
package func gemmFLOPs(_ n: Int) -> Double { 2 * Double(n) * Double(n) * Double(n) }

/// How many times to time a body.
package struct Repetitions: Sendable, Codable {
    /// Timed runs after the warm-up (at most).
    package var count: Int
    /// Stop early once this much time has been spent on timed runs (at least `minimum` are made).
    package var budgetSeconds: Double
    package var minimum: Int
    /// Run once untimed first. A warm-up that alone takes more than the budget is used as the
    /// one measurement, so a slow kernel never holds the bench for minutes.
    package var warmUp: Bool
    /// With `warmUp`, keep running untimed until the warm-up has taken this long. On this shared 2-core VM a
    /// burst of work that follows another process, or a pause, runs up to twice as slow for its first
    /// 100–200 ms (the LSTM forward at the large size: 20–34 ms for its first runs, then 16.5–18), so one
    /// warm-up run left the first row of a round, rnnspec's large float32 LSTM, timed in that ramp in some
    /// rounds (medians of 25 and 31 ms where the other rounds read 17.8) while the reference's rows,
    /// timed after its other rows, never were.
    package var warmUpSeconds: Double
    /// A body whose first run (the warm-up, or the first timed run) takes less than `shortBelowSeconds`
    /// is timed up to `shortCount` times instead of `count` (within the same budget): seven runs of a
    /// 30 µs kernel are too few for a median that one busy millisecond does not move.
    package var shortCount: Int
    package var shortBelowSeconds: Double

    package init(
        count: Int, budgetSeconds: Double, minimum: Int, warmUp: Bool, warmUpSeconds: Double = 0,
        shortCount: Int? = nil, shortBelowSeconds: Double = 0.001
    ) {
        self.count = count
        self.budgetSeconds = budgetSeconds
        self.minimum = minimum
        self.warmUp = warmUp
        self.warmUpSeconds = warmUpSeconds
        self.shortCount = shortCount ?? count
        self.shortBelowSeconds = shortBelowSeconds
    }

    package static let standard = Repetitions(
        count: 7, budgetSeconds: 3, minimum: 3, warmUp: true, warmUpSeconds: 0.3, shortCount: 201)
    package static let quick = Repetitions(count: 1, budgetSeconds: 0, minimum: 1, warmUp: false)

    /// How many timed runs a body gets whose first run took `first` seconds.
    func limit(first: Double) -> Int { first < shortBelowSeconds ? max(count, shortCount) : count }
}

/// A median time in milliseconds over timed runs.
package struct Timing: Sendable {
    package var milliseconds: Double
    package var runs: Int
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

package func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty)
    let v = values.sorted()
    return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
}

/// Times `body` by `reps`, returning the median and the last run's result.
func measure<R>(_ reps: Repetitions, _ body: () -> R) -> (Timing, R) {
    var times: [Double] = []
    var result: R
    let first: Double
    if reps.warmUp {
        let t0 = now()
        result = body()
        first = now() - t0
        if first > reps.budgetSeconds { return (Timing(milliseconds: first * 1000, runs: 1), result) }
        while now() - t0 < reps.warmUpSeconds { result = body() }
    } else {
        let t0 = now()
        result = body()
        first = now() - t0
        times.append(first)
    }
    let limit = reps.limit(first: first)
    var spent = times.reduce(0, +)
    while times.count < limit && (times.count < reps.minimum || spent < reps.budgetSeconds) {
        let t0 = now()
        result = body()
        let dt = now() - t0
        times.append(dt)
        spent += dt
    }
    return (Timing(milliseconds: median(times) * 1000, runs: times.count), result)
}

/// The inputs of one kernel benchmark, in double precision: PyTorch-layout weights drawn uniform
/// in ±1/√H (PyTorch's initialisation), inputs x and upstream gradients dy standard normal, all
/// from the seeded stream. The same numbers go to the NumPy reference through files.
package struct BenchInputs: Sendable {
    package var kind: CellKind
    package var shape: BenchShape
    /// [T, B, I], [G·H, I], [G·H, H], [G·H], [G·H], [T, B, H].
    package var x: [Double], w: [Double], r: [Double], bw: [Double], br: [Double], dy: [Double]

    package init(kind: CellKind, shape s: BenchShape) {
        self.kind = kind
        self.shape = s
        var stream = SeededStream(seed: kind == .lstm ? 0x15D7 : 0x62E5)
        let g = kind.gateCount, k = 1 / Double(s.h).squareRoot()
        func uniform(_ n: Int) -> [Double] { (0..<n).map { _ in (2 * stream.nextUniform() - 1) * k } }
        func normal(_ n: Int) -> [Double] { (0..<n).map { _ in stream.nextNormal() } }
        w = uniform(g * s.h * s.i)
        r = uniform(g * s.h * s.h)
        bw = uniform(g * s.h)
        br = uniform(g * s.h)
        x = normal(s.t * s.b * s.i)
        dy = normal(s.t * s.b * s.h)
    }

    /// The arrays by the names the NumPy script reads (`<name>.f64`, little-endian float64).
    package var files: [(name: String, values: [Double], shape: [Int])] {
        let g = kind.gateCount
        return [
            ("x", x, [shape.t, shape.b, shape.i]), ("W_ih", w, [g * shape.h, shape.i]),
            ("W_hh", r, [g * shape.h, shape.h]),
            ("b_ih", bw, [g * shape.h]), ("b_hh", br, [g * shape.h]), ("dy", dy, [shape.t, shape.b, shape.h]),
        ]
    }

    /// The cell in PyTorch's conventions (LSTM gates [i, f, g, o]; GRU [r, z, n], reset after
    /// the matmul, h = z ⊙ h_prev + (1 − z) ⊙ n).
    package func cell<T: KernelScalar>(_: T.Type) -> RecurrentCell<T> {
        let g = kind.gateCount
        func t(_ v: [Double], _ shape: [Int]) -> Tensor<T> { Tensor(shape: shape, scalars: v.map { T($0) }) }
        return RecurrentCell(
            conventions: CellConventions(kind: kind),
            parameters: CellParameters(
                w: t(w, [g * shape.h, shape.i]), r: t(r, [g * shape.h, shape.h]),
                bw: t(bw, [g * shape.h]), br: t(br, [g * shape.h])))
    }

    package func tensor<T: KernelScalar>(_ v: [Double], _ shape: [Int], as _: T.Type) -> Tensor<T> {
        Tensor(shape: shape, scalars: v.map { T($0) })
    }
}

/// A few numbers that pin a kernel's results, compared between rnnspec and NumPy.
///
/// forward: `h_last_norm` ‖h_{T−1}‖ and `h_last_0`, its first element; forward+bptt: `loss`
/// Σ dy·h, `dW_ih_norm`, `dW_hh_norm` and `db_norm` (‖db_ih‖, equal to ‖db_hh‖ for the LSTM).
package typealias BenchChecks = [String: Double]

/// Times one kernel row in precision T.
package func benchKernel<T: KernelScalar>(
    _ inputs: BenchInputs, pass: BenchPass, as _: T.Type,
    repetitions: Repetitions
) -> (Timing, BenchChecks) {
    let s = inputs.shape
    let cell = inputs.cell(T.self)
    let x = inputs.tensor(inputs.x, [s.t, s.b, s.i], as: T.self)
    switch pass {
    case .forward:
        let (timing, run) = measure(repetitions) { runSequence(cell, x: x, keepCaches: false) }
        return (timing, ["h_last_norm": Double(globalNorm([run.hLast])), "h_last_0": Double(run.hLast.scalars[0])])
    case .forwardBPTT:
        let head = SequenceLossHead<T>.upstream(dy: inputs.tensor(inputs.dy, [s.t, s.b, s.h], as: T.self))
        let (timing, result) = measure(repetitions) { () -> (T, CellSequenceGradients<T>) in
            let cache = cellSequenceForward(cell, x: x, head: head)
            var g = CellSequenceGradients(zerosLike: cell, head: head, steps: s.t, batch: s.b)
            cellSequenceBackward(cell, cache: cache, head: head, into: &g)
            return (cache.loss, g)
        }
        let g = result.1.cell
        return (
            timing,
            [
                "loss": Double(result.0), "dW_ih_norm": Double(globalNorm([g.w])),
                "dW_hh_norm": Double(globalNorm([g.r])),
                "db_norm": Double(globalNorm([g.bw])),
            ]
        )
    }
}

/// Times rnnspec's `gemm` on N×N matrices (uniform in [−1, 1)).
package func benchGEMM<T: KernelScalar>(n: Int, as _: T.Type, repetitions: Repetitions) -> Timing {
    var stream = SeededStream(seed: 2048)
    let a = (0..<(n * n)).map { _ in T(2 * stream.nextUniform() - 1) }
    let b = (0..<(n * n)).map { _ in T(2 * stream.nextUniform() - 1) }
    var c = [T](repeating: 0, count: n * n)
    let (timing, _) = measure(repetitions) { gemm(a, b, into: &c, m: n, n: n, k: n) }
    return timing
}

/// Whether two check sets agree: every name both have, within a relative tolerance (1e-8 in
/// float64, 2e-3 in float32; the loss, a sum of signed terms, against the size of its terms).
package func checksAgree(_ a: BenchChecks, _ b: BenchChecks, dtype: String) -> Bool {
    let rel = dtype == "float32" ? 2e-3 : 1e-8
    let shared = Set(a.keys).intersection(b.keys)
    guard !shared.isEmpty else { return false }
    for key in shared {
        let x = a[key]!, y = b[key]!
        guard x.isFinite && y.isFinite else { return false }
        let scale = max(abs(x), abs(y), key == "h_last_0" || key == "loss" ? 1 : 0)
        if abs(x - y) > rel * scale { return false }
    }
    return true
}

/// The peak memory of one forward+BPTT at a size, next to the least the values it keeps for the
/// backward pass can take.
package struct MemoryRow: Sendable, Codable {
    package var kind: String
    package var dtype: String
    package var shape: BenchShape
    /// How far the process's peak resident memory rose above its resident memory before the run
    /// (`VmHWM` after resetting it through `/proc/self/clear_refs`, minus `VmRSS`); nil where the
    /// peak cannot be reset (not Linux).
    package var peakBytes: Int?
    /// `minimumCacheBytes`.
    package var minimumBytes: Int

    /// Peak over minimum.
    package var ratio: Double? { peakBytes.map { Double($0) / Double(minimumBytes) } }
}

/// The least memory a forward+BPTT needs beyond its inputs: what the backward pass reads from the
/// forward pass and cannot recompute without redoing the matrix products, stored once — per step
/// the G gate activations, h_t, and the LSTM's c_t (the GRU's recurrent candidate term R_n·h + b_Rn)
/// — and the weight gradients:
///
///     size · ( T·B·(G + 2)·H  +  G·H·(I + H + 2) )
package func minimumCacheBytes(kind: CellKind, shape s: BenchShape, scalarBytes: Int) -> Int {
    let g = kind.gateCount
    return scalarBytes * (s.t * s.b * (g + 2) * s.h + g * s.h * (s.i + s.h + 2))
}

/// A line of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`), nil where there is none.
func procStatusBytes(_ key: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
        let digits = line.dropFirst(key.count + 1).filter(\.isNumber)
        return Int(digits).map { $0 * 1024 }
    }
    return nil
}

/// glibc's `malloc_trim(0)` (looked up at run time: Swift's Glibc module does not import it), so that
/// memory freed by earlier runs is not counted as resident before the measured one.
func returnFreedHeapMemory() {
    #if os(Linux)
    typealias Trim = @convention(c) (Int) -> Int32
    if let symbol = dlsym(nil, "malloc_trim") { _ = unsafeBitCast(symbol, to: Trim.self)(0) }
    #endif
}

/// Resets the process's peak resident memory to its current size (Linux ≥ 4.0); false where it cannot.
func resetPeakResident() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
    return true
}

/// Measures the peak memory of one forward+BPTT (after one untimed run, so that lazily made
/// tables and thread pools are there before): the rise of the peak resident memory over the
/// resident memory just before, with freed heap memory returned to the system first.
package func benchMemory<T: KernelScalar>(_ inputs: BenchInputs, as _: T.Type) -> MemoryRow {
    let s = inputs.shape
    let cell = inputs.cell(T.self)
    let x = inputs.tensor(inputs.x, [s.t, s.b, s.i], as: T.self)
    let head = SequenceLossHead<T>.upstream(dy: inputs.tensor(inputs.dy, [s.t, s.b, s.h], as: T.self))
    func run() -> T {
        let cache = cellSequenceForward(cell, x: x, head: head)
        var g = CellSequenceGradients(zerosLike: cell, head: head, steps: s.t, batch: s.b)
        cellSequenceBackward(cell, cache: cache, head: head, into: &g)
        return cache.loss + g.cell.w.scalars[0]
    }
    _ = run()
    var peak: Int? = nil
    #if os(Linux)
    returnFreedHeapMemory()
    if let before = procStatusBytes("VmRSS"), resetPeakResident() {
        let sink = run()
        if let high = procStatusBytes("VmHWM") { peak = max(0, high - before) }
        withExtendedLifetime(sink) {}
    }
    #endif
    return MemoryRow(
        kind: inputs.kind.rawValue, dtype: T.self == Float.self ? "float32" : "float64", shape: s,
        peakBytes: peak, minimumBytes: minimumCacheBytes(kind: inputs.kind, shape: s, scalarBytes: MemoryLayout<T>.size)
    )
}
