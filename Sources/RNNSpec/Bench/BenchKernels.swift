import Foundation
import RNNKernels

/// The sizes of one kernel benchmark: T steps, B batch, I input, H hidden.
public struct BenchShape: Sendable, Equatable, Codable {
    public var t: Int, b: Int, i: Int, h: Int
    public init(t: Int, b: Int, i: Int, h: Int) { self.t = t; self.b = b; self.i = i; self.h = h }

    /// A realistic layer: T 128, B 32, I 128, H 256.
    public static let large = BenchShape(t: 128, b: 32, i: 128, h: 256)
    /// The notebooks' size.
    public static let notebook = BenchShape(t: 64, b: 1, i: 8, h: 16)

    public var label: String { "T=\(t) B=\(b) I=\(i) H=\(h)" }
    /// A short name for file names and JSON keys.
    public var key: String { "T\(t)_B\(b)_I\(i)_H\(h)" }
}

/// What a kernel row times.
public enum BenchPass: String, Sendable, Codable, CaseIterable {
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
public func benchFLOPs(kind: CellKind, shape s: BenchShape, pass: BenchPass) -> Double {
    let perStep = 2.0 * Double(s.b) * Double(s.i + s.h) * Double(kind.gateCount) * Double(s.h)
    return Double(s.t) * perStep * (pass == .forward ? 1 : 3)
}

/// 2·N³ for an N×N by N×N product.
public func gemmFLOPs(_ n: Int) -> Double { 2 * Double(n) * Double(n) * Double(n) }

/// How many times to time a body.
public struct Repetitions: Sendable, Codable {
    /// Timed runs after the warm-up (at most).
    public var count: Int
    /// Stop early once this much time has been spent on timed runs (at least `minimum` are made).
    public var budgetSeconds: Double
    public var minimum: Int
    /// Run once untimed first. A warm-up that alone takes more than the budget is used as the
    /// one measurement, so a slow kernel never holds the bench for minutes.
    public var warmUp: Bool

    public init(count: Int, budgetSeconds: Double, minimum: Int, warmUp: Bool) {
        self.count = count
        self.budgetSeconds = budgetSeconds
        self.minimum = minimum
        self.warmUp = warmUp
    }

    public static let standard = Repetitions(count: 7, budgetSeconds: 3, minimum: 3, warmUp: true)
    public static let quick = Repetitions(count: 1, budgetSeconds: 0, minimum: 1, warmUp: false)
}

/// A median time in milliseconds over timed runs.
public struct Timing: Sendable {
    public var milliseconds: Double
    public var runs: Int
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

public func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty)
    let v = values.sorted()
    return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
}

/// Times `body` by `reps`, returning the median and the last run's result.
func measure<R>(_ reps: Repetitions, _ body: () -> R) -> (Timing, R) {
    var times: [Double] = []
    var result: R
    if reps.warmUp {
        let t0 = now()
        result = body()
        let warm = now() - t0
        if warm > reps.budgetSeconds { return (Timing(milliseconds: warm * 1000, runs: 1), result) }
    } else {
        let t0 = now()
        result = body()
        times.append(now() - t0)
    }
    var spent = times.reduce(0, +)
    while times.count < reps.count && (times.count < reps.minimum || spent < reps.budgetSeconds) {
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
public struct BenchInputs: Sendable {
    public var kind: CellKind
    public var shape: BenchShape
    /// [T, B, I], [G·H, I], [G·H, H], [G·H], [G·H], [T, B, H].
    public var x: [Double], w: [Double], r: [Double], bw: [Double], br: [Double], dy: [Double]

    public init(kind: CellKind, shape s: BenchShape) {
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
    public var files: [(name: String, values: [Double], shape: [Int])] {
        let g = kind.gateCount
        return [("x", x, [shape.t, shape.b, shape.i]), ("W_ih", w, [g * shape.h, shape.i]), ("W_hh", r, [g * shape.h, shape.h]),
                ("b_ih", bw, [g * shape.h]), ("b_hh", br, [g * shape.h]), ("dy", dy, [shape.t, shape.b, shape.h])]
    }

    /// The cell in PyTorch's conventions (LSTM gates [i, f, g, o]; GRU [r, z, n], reset after
    /// the matmul, h = z ⊙ h_prev + (1 − z) ⊙ n).
    public func cell<T: KernelScalar>(_: T.Type) -> RecurrentCell<T> {
        let g = kind.gateCount
        func t(_ v: [Double], _ shape: [Int]) -> Tensor<T> { Tensor(shape: shape, scalars: v.map { T($0) }) }
        return RecurrentCell(conventions: CellConventions(kind: kind),
                             parameters: CellParameters(w: t(w, [g * shape.h, shape.i]), r: t(r, [g * shape.h, shape.h]),
                                                        bw: t(bw, [g * shape.h]), br: t(br, [g * shape.h])))
    }

    public func tensor<T: KernelScalar>(_ v: [Double], _ shape: [Int], as _: T.Type) -> Tensor<T> {
        Tensor(shape: shape, scalars: v.map { T($0) })
    }
}

/// A few numbers that pin a kernel's results, compared between rnnspec and NumPy.
///
/// forward: `h_last_norm` ‖h_{T−1}‖ and `h_last_0`, its first element; forward+bptt: `loss`
/// Σ dy·h, `dW_ih_norm`, `dW_hh_norm` and `db_norm` (‖db_ih‖, equal to ‖db_hh‖ for the LSTM).
public typealias BenchChecks = [String: Double]

/// Times one kernel row in precision T.
public func benchKernel<T: KernelScalar>(_ inputs: BenchInputs, pass: BenchPass, as _: T.Type,
                                         repetitions: Repetitions) -> (Timing, BenchChecks) {
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
        return (timing, ["loss": Double(result.0), "dW_ih_norm": Double(globalNorm([g.w])), "dW_hh_norm": Double(globalNorm([g.r])),
                         "db_norm": Double(globalNorm([g.bw]))])
    }
}

/// Times rnnspec's `gemm` on N×N matrices (uniform in [−1, 1)).
public func benchGEMM<T: KernelScalar>(n: Int, as _: T.Type, repetitions: Repetitions) -> Timing {
    var stream = SeededStream(seed: 2048)
    let a = (0..<(n * n)).map { _ in T(2 * stream.nextUniform() - 1) }
    let b = (0..<(n * n)).map { _ in T(2 * stream.nextUniform() - 1) }
    var c = [T](repeating: 0, count: n * n)
    let (timing, _) = measure(repetitions) { gemm(a, b, into: &c, m: n, n: n, k: n) }
    return timing
}

/// Whether two check sets agree: every name both have, within a relative tolerance (1e-8 in
/// float64, 2e-3 in float32; the loss, a sum of signed terms, against the size of its terms).
public func checksAgree(_ a: BenchChecks, _ b: BenchChecks, dtype: String) -> Bool {
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
