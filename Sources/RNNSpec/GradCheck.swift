import Foundation
import RNNKernels

/// A case's request to check a kernel's analytic gradients against finite differences.
public struct GradCheckRequest: Sendable {
    /// The inputs to differentiate with respect to.
    public var wrt: [String]
    /// The step of the central difference.
    public var eps: Double
    /// How close the analytic gradient must be to the finite differences.
    public var tolerance: Tolerance
    /// The kernel's scalar output that is differentiated.
    public var loss: String
    /// Full (element by element) or fast (random directions).
    public var mode: GradCheckMode = GradCheck.defaultMode
    /// The number of random directions of a fast check.
    public var directions: Int = GradCheck.defaultDirections
    /// The seed of the directions.
    public var seed: UInt64 = GradCheck.defaultSeed
    /// Where `gradcheck:` is written in the case file.
    public var location: SourceLocation

    /// What the worker computes.
    public var plan: GradCheckPlan {
        GradCheckPlan(
            wrt: wrt, eps: eps, loss: loss, mode: mode, directions: directions, seed: seed, tolerance: tolerance)
    }
}

/// Gradient checks: the finite differences are computed where the kernel runs
/// (`Execution.gradients`); this compares them with the analytic gradients.
///
/// **Full mode** compares every element g_i of the analytic gradient with its central difference
/// fd_i under the `allclose` rule |g_i − fd_i| ≤ abs + rel·|fd_i|, at the cost of two kernel runs per
/// element.
///
/// **Fast mode** (as `torch.autograd.gradcheck(fast_mode=True)`) draws k directions z_j with
/// independent standard-normal entries over all N elements of the `wrt` inputs together (the inputs
/// in `wrt` order, each row-major; `SeededStream(seed)`, direction after direction), scales each to a
/// unit vector u_j = z_j/‖z_j‖, and compares the analytic projection a_j = g·u_j with the central
/// difference along u_j, fd_j = (L(x + eps·u_j) − L(x − eps·u_j)) / (2·eps): 1 + 2k runs whatever N is.
/// Direction j passes when
///
///     |a_j − fd_j| ≤ τ_j = Σ_i |u_ji| · w_i,    w_i = abs + rel·|g_i|
///
/// and the check passes when every direction does. Why this allowance: if every element is within
/// full mode's allowance, |g_i − fd_i| ≤ w_i (with |g_i| for |fd_i|, which it approximates), then by
/// the triangle inequality |Σ_i u_ji (g_i − fd_i)| ≤ τ_j; so a gradient that full mode passes is not
/// failed by fast mode, up to the error of the one directional difference, which is that of a
/// single element's difference (u_j has unit length, so the step is eps as in full mode) and which
/// τ_j ≥ abs·‖u_j‖₁ ≥ abs covers as full mode's abs does. A fast check that fails is run again in
/// full, whose element-by-element comparison is the verdict and names the worst element.
///
/// **The probability that fast mode misses a wrong gradient.** Let b = g − ∇L be the analytic
/// gradient's error (any shape of bug: one wrong element, a wrong sign, a transposed block, a
/// missing time step). Along u_j the check sees a_j − fd_j = b·u_j − η_j with |η_j| ≤ abs (the
/// difference's own error, as above), and the rule is unchanged by scaling u_j, so take z_j
/// itself. A miss needs |b·z| ≤ Σ|z_i|w_i + abs·‖z‖₂ ≤ 2·Σ|z_i|w_i. Write z = ζ·b̂ + z⊥ with
/// b̂ = b/‖b‖₂: ζ is standard normal and independent of z⊥ (z is Gaussian), and Σ|z_i|w_i ≤
/// |ζ|·Σ|b̂_i|w_i + Σ|z⊥_i|w_i, so a miss needs |ζ|·(‖b‖₂ − 2·Σ|b̂_i|w_i) ≤ 2·Σ|z⊥_i|w_i. Given z⊥,
/// P(|ζ| ≤ s) ≤ s·√(2/π), and E|z⊥_i| ≤ √(2/π); hence, per direction,
///
///     P(miss) ≤ (4/π) · ‖w‖₁ / (‖b‖₂ − 2·Σ_i |b̂_i|·w_i)
///
/// (whenever the denominator is positive), and for k independent directions the k-th power of it
/// (`missBound`). For a single wrong element, b = δ·e_m, this is (4/π)·‖w‖₁/(|δ| − 2·w_m).
public enum GradCheck {
    /// The mode of a `gradcheck:` that does not say.
    public static let defaultMode = GradCheckMode.fast
    /// Directions of a fast check.
    public static let defaultDirections = 4
    /// The seed of a fast check's directions.
    public static let defaultSeed: UInt64 = 0
    /// The largest `directions:` a case may ask for.
    public static let maxDirections = 64
    /// The tolerance of a `gradcheck:` that gives none: abs 1e-7, rel 1e-5.
    public static let defaultTolerance = Tolerance(abs: 1e-7, rel: 1e-5)

    /// k unit directions of `length` elements: standard normals from `SeededStream(seed)`, direction
    /// after direction, each divided by its Euclidean norm.
    public static func directions(seed: UInt64, count: Int, length: Int) -> [[Double]] {
        var stream = SeededStream(seed: seed)
        return (0..<count).map { _ in
            let z = (0..<length).map { _ in stream.nextNormal() }
            let norm = z.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? z.map { $0 / norm } : z
        }
    }

    /// One direction of a fast check: the analytic projection a = g·u, the central difference fd
    /// along u, and the allowance τ = Σ|u_i|·(abs + rel·|g_i|).
    public struct Direction: Sendable, Equatable {
        /// g·u, the analytic gradient projected on the direction.
        public var analytic: Double
        /// The central finite difference along the direction.
        public var numeric: Double
        /// Σ|u_i|·(abs + rel·|g_i|), the difference allowed along the direction.
        public var allowed: Double
        /// Whether |g·u − fd| is within the allowance.
        public var passed: Bool { (analytic - numeric).magnitude <= allowed }
    }

    /// A fast check's directions and whether all of them passed.
    public struct FastVerdict: Sendable, Equatable {
        /// Each direction's projection, difference and allowance.
        public var directions: [Direction]
        /// Whether every direction passed (false when there were none).
        public var passed: Bool { !directions.isEmpty && directions.allSatisfy(\.passed) }
    }

    /// Judges a fast check: the gradients are the analytic `d<input>` tensors in `wrt` order, `numeric`
    /// the directional differences along `directions` (each as long as all the gradients' elements).
    public static func fastVerdict(
        _ gradients: [RealTensor], _ numeric: [Double], directions: [[Double]],
        tolerance: Tolerance
    ) -> FastVerdict {
        let g = gradients.flatMap(\.tensor.scalars)
        let weight = g.map { tolerance.abs + tolerance.rel * $0.magnitude }
        var out: [Direction] = []
        for (u, fd) in zip(directions, numeric) where u.count == g.count {
            var a = 0.0, allowed = 0.0
            for i in g.indices {
                a += g[i] * u[i]
                allowed += u[i].magnitude * weight[i]
            }
            out.append(Direction(analytic: a, numeric: fd, allowed: allowed))
        }
        if out.count != numeric.count || numeric.count != directions.count {
            out.append(Direction(analytic: 0, numeric: .nan, allowed: 0))
        }
        return FastVerdict(directions: out)
    }

    /// The bound above on the probability that a fast check with `directions` directions misses an
    /// analytic gradient whose error is `error` (b, flattened like the directions), where `weights`
    /// are the allowances w_i = abs + rel·|g_i|; 1 where the bound says nothing.
    public static func missBound(error b: [Double], weights w: [Double], directions k: Int) -> Double {
        let norm = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0, b.count == w.count else { return 1 }
        let along = zip(b, w).reduce(0) { $0 + $1.0.magnitude / norm * $1.1 }
        let denominator = norm - 2 * along
        guard denominator > 0 else { return 1 }
        let perDirection = min(1, 4 / Double.pi * w.reduce(0, +) / denominator)
        return pow(perDirection, Double(k))
    }

    /// One mismatch per input whose analytic gradient (`d<input>`) disagrees with its central
    /// finite differences under the request's tolerance: element by element where every input came
    /// back with them (full mode, or a fast check that fell back to full), otherwise by the fast rule.
    /// `layout` gives a gradient output's declared time axis and gate blocks.
    public static func compare(
        _ pairs: [GradientPair], directional: [Double] = [], _ request: GradCheckRequest,
        options: ComparisonOptions = ComparisonOptions(),
        layout: (String, [Int]) -> OutputLayout = { _, _ in OutputLayout() }
    ) -> [Mismatch] {
        if !pairs.isEmpty, pairs.allSatisfy({ $0.numeric != nil }) {
            let fast = directional.isEmpty ? nil : verdict(pairs, directional, request)
            return pairs.compactMap { pair in
                guard let numeric = pair.numeric,
                    var m = Comparison.compare(
                        actual: .real(pair.analytic), expected: .real(numeric),
                        tolerance: request.tolerance, output: pair.name, reference: .gradcheck,
                        structure: layout(pair.name, pair.analytic.shape), options: options)
                else { return nil }
                m.location = request.location
                if let fast, !fast.passed {
                    m.note = describe(fast, request) + "\n(the full check above names the worst element)"
                }
                return m
            }
        }
        let fast = verdict(pairs, directional, request)
        guard !fast.passed else { return [] }
        let failing = fast.directions.filter { !$0.passed }.count
        let text = describe(fast, request).split(separator: "\n", maxSplits: 1).map(String.init)
        var m = Mismatch(
            output: pairs.map(\.name).joined(separator: ", "), reference: .gradcheck, problem: text[0],
            failing: failing, total: fast.directions.count)
        m.note = text.count > 1 ? text[1].trimmingCharacters(in: .whitespaces) : nil
        m.location = request.location
        return [m]
    }

    static func verdict(_ pairs: [GradientPair], _ directional: [Double], _ request: GradCheckRequest) -> FastVerdict {
        let length = pairs.reduce(0) { $0 + $1.analytic.tensor.count }
        let directions = directions(seed: request.seed, count: request.directions, length: length)
        return fastVerdict(pairs.map(\.analytic), directional, directions: directions, tolerance: request.tolerance)
    }

    /// "fast check: 2 of 4 random directions (seed 0) differ ...: direction 1: analytic ..., ...".
    static func describe(_ v: FastVerdict, _ request: GradCheckRequest) -> String {
        let failing = v.directions.enumerated().filter { !$0.element.passed }
        var text =
            "fast check: \(failing.count) of \(request.directions) random directions (seed \(request.seed)) differ from the finite differences beyond Σ|u_i|·(abs \(short(request.tolerance.abs)) + rel \(short(request.tolerance.rel))·|g_i|)"
        if let (j, d) = failing.max(by: {
            ($0.element.analytic - $0.element.numeric).magnitude < ($1.element.analytic - $1.element.numeric).magnitude
        }) {
            text +=
                "\n    worst direction \(j + 1): analytic g·u \(short(d.analytic)), finite difference \(short(d.numeric)), diff \(short((d.analytic - d.numeric).magnitude)), allowed \(short(d.allowed))"
        }
        return text
    }

    static func short(_ x: Double) -> String { String(format: "%.6g", x) }

    /// The real tensors of an input that a gradcheck perturbs: the tensor itself, or each tensor of a
    /// list of them (Keras's `initial_state`), whose gradient the kernel reports stacked.
    static func perturbable(_ value: Value) -> [RealTensor]? {
        switch value {
        case .real(let x): return [x]
        case .list(let items):
            let parts = items.compactMap { item -> RealTensor? in
                if case .real(let r) = item { return r } else { return nil }
            }
            return parts.isEmpty || parts.count != items.count ? nil : parts
        default: return nil
        }
    }

    /// `original` with its tensors replaced by `parts`.
    static func rebuilt(_ original: Value, _ parts: [RealTensor]) -> Value {
        if case .list = original { return .list(parts.map { .real($0) }) }
        return .real(parts[0])
    }
}
