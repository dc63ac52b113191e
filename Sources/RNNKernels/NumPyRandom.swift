// NumPy's random generators, reproduced bit for bit (NumPy 2.x, numpy/random/).
//
// `NumPyGenerator` is `np.random.default_rng(seed)`: a `Generator` over `PCG64` (the XSL-RR
// output function), seeded through `SeedSequence`. `NumPyRandomState` is the legacy
// `np.random.seed(seed)` / `np.random.RandomState(seed)`: MT19937 seeded with `init_genrand`,
// with the legacy polar Box–Muller normal that keeps the second value of each pair for the
// next call. Each method draws exactly the raw numbers the NumPy method of the same name draws,
// in the same order, so a sequence of calls reproduces a notebook's sequence of calls.
//
// The transcendental functions (`log1p`, `exp`, `log`, `sqrt`) come from the platform's C
// library, as NumPy's do; `sqrt` is correctly rounded everywhere, the others are on glibc for
// the arguments met here (see docs/numpy-data.md, "Drawing inputs as NumPy does").

import RNNPlatform

// MARK: - Shared: bounded integers, choice

/// The raw draws bounded-integer generation needs.
@usableFromInline
protocol NumPyBitSource {
    mutating func nextUInt32() -> UInt32
    mutating func nextUInt64() -> UInt64
}
extension NumPyPCG64: NumPyBitSource {}
extension NumPyMT19937: NumPyBitSource {}

/// The smallest all-ones mask covering `max` (`gen_mask`).
@inline(__always)
func numpyMask(_ max: UInt64) -> UInt64 {
    var m = max
    m |= m >> 1; m |= m >> 2; m |= m >> 4; m |= m >> 8; m |= m >> 16; m |= m >> 32
    return m
}

/// `random_bounded_uint64_fill` for one value: off + a number in [0, rng], by masked rejection
/// (legacy `randint`) or Lemire's multiply-and-reject (`Generator.integers`).
func numpyBounded<S: NumPyBitSource>(_ src: inout S, off: UInt64, rng: UInt64, masked: Bool) -> UInt64 {
    if rng == 0 { return off }
    if rng <= 0xffff_ffff {
        if rng == 0xffff_ffff { return off &+ UInt64(src.nextUInt32()) }
        let r32 = UInt32(rng)
        if masked {
            let mask = UInt32(numpyMask(rng))
            while true {
                let v = src.nextUInt32() & mask
                if v <= r32 { return off &+ UInt64(v) }
            }
        }
        let excl = r32 &+ 1
        var m = UInt64(src.nextUInt32()) &* UInt64(excl)
        var leftover = UInt32(truncatingIfNeeded: m)
        if leftover < excl {
            let threshold = (UInt32.max &- r32) % excl
            while leftover < threshold {
                m = UInt64(src.nextUInt32()) &* UInt64(excl)
                leftover = UInt32(truncatingIfNeeded: m)
            }
        }
        return off &+ (m >> 32)
    }
    if rng == UInt64.max { return off &+ src.nextUInt64() }
    if masked {
        let mask = numpyMask(rng)
        while true {
            let v = src.nextUInt64() & mask
            if v <= rng { return off &+ v }
        }
    }
    let excl = rng &+ 1
    var m = src.nextUInt64().multipliedFullWidth(by: excl)
    if m.low < excl {
        let threshold = (UInt64.max &- rng) % excl
        while m.low < threshold { m = src.nextUInt64().multipliedFullWidth(by: excl) }
    }
    return off &+ m.high
}

/// Why NumPy refuses the arguments of a draw (its `ValueError` text).
public struct NumPyRandomError: Error, Equatable, CustomStringConvertible, Sendable {
    /// NumPy's message.
    public var description: String
    /// An error with NumPy's message.
    public init(_ d: String) { description = d }
}

/// The cumulative distribution `choice` searches: `p.cumsum()` (sequential sums) divided by its
/// last element, after NumPy's checks (finite, non-negative, summing to 1 within `atol`, Kahan-summed).
/// NumPy's `atol` is √ε of float64, or √ε of p's dtype when that is larger (float32 p: √ε computed in float32).
public func numpyChoiceCDF(_ p: [Double], atol: Double = 1.4901161193847656e-08) throws -> [Double] {
    if p.isEmpty { throw NumPyRandomError("'a' cannot be empty unless no samples are taken") }
    // kahan_sum, as NumPy checks the total.
    var sum = p[0], c = 0.0
    for x in p.dropFirst() {
        let y = x - c
        let t = sum + y
        c = (t - sum) - y
        sum = t
    }
    if p.contains(where: { !$0.isFinite }) { throw NumPyRandomError("probabilities contain NaN") }
    if p.contains(where: { $0 < 0 }) { throw NumPyRandomError("probabilities are not non-negative") }
    if abs(sum - 1.0) > atol { throw NumPyRandomError("probabilities do not sum to 1") }
    var cdf = [Double]()
    cdf.reserveCapacity(p.count)
    var acc = 0.0
    for x in p { acc += x; cdf.append(acc) }
    let last = cdf[cdf.count - 1]
    for i in cdf.indices { cdf[i] /= last }
    return cdf
}

/// `cdf.searchsorted(u, side='right')`: the number of elements ≤ u.
public func numpySearchSortedRight(_ cdf: [Double], _ u: Double) -> Int {
    var lo = 0, hi = cdf.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if u < cdf[mid] { hi = mid } else { lo = mid + 1 }
    }
    return lo
}

// MARK: - Generator (default_rng)

/// Counts of the ziggurat's slow paths, for tests that must see them happen.
public struct ZigguratPathCounts: Sendable, Equatable {
    /// Draws that took the tail and the wedge.
    public var tail = 0, wedge = 0
}

/// `np.random.default_rng(seed)`: `Generator(PCG64(SeedSequence(seed)))`.
public struct NumPyGenerator: Sendable {
    /// The PCG64 stream the draws come from.
    public var bitGenerator: NumPyPCG64
    /// How often the normal ziggurat took its tail (|x| > r) and wedge paths.
    public var zigguratPaths = ZigguratPathCounts()

    /// `np.random.default_rng(seed)`.
    public init(seed: UInt64) { bitGenerator = NumPyPCG64(seed: seed) }

    /// `random()`: a double in [0, 1).
    public mutating func random() -> Double { bitGenerator.nextDouble() }

    /// `standard_normal()`: NumPy's 256-layer ziggurat (`random_standard_normal`).
    public mutating func standardNormal() -> Double {
        while true {
            var r = bitGenerator.nextUInt64()
            let idx = Int(r & 0xff)
            r >>= 8
            let sign = r & 1
            let rabs = (r >> 1) & 0x000f_ffff_ffff_ffff
            var x = Double(rabs) * NumPyZiggurat.wi[idx]
            if sign & 1 != 0 { x = -x }
            if rabs < NumPyZiggurat.ki[idx] { return x }
            if idx == 0 {
                zigguratPaths.tail += 1
                while true {
                    // 1 − U avoids log(0) (NumPy gh-13361).
                    let xx = -NumPyZiggurat.invR * log1p(-bitGenerator.nextDouble())
                    let yy = -log1p(-bitGenerator.nextDouble())
                    if yy + yy > xx * xx {
                        return (rabs >> 8) & 1 != 0 ? -(NumPyZiggurat.r + xx) : NumPyZiggurat.r + xx
                    }
                }
            } else {
                zigguratPaths.wedge += 1
                if (NumPyZiggurat.fi[idx - 1] - NumPyZiggurat.fi[idx]) * bitGenerator.nextDouble()
                    + NumPyZiggurat.fi[idx]
                    < exp(-0.5 * x * x)
                {
                    return x
                }
            }
        }
    }

    // normal, uniform, integers and choice mirror NumPyRandomState's normal, uniform, randint and
    // choice on purpose, as numpy/random/_generator.pyx mirrors mtrand.pyx: the formulas agree,
    // the raw draws differ (Lemire's bounded integers here, masked rejection there).

    /// `normal(loc, scale)` = loc + scale · standard_normal.
    public mutating func normal(loc: Double = 0, scale: Double = 1) -> Double { loc + scale * standardNormal() }

    /// `uniform(low, high)` = low + (high − low) · random.
    public mutating func uniform(low: Double = 0, high: Double = 1) -> Double {
        low + (high - low) * bitGenerator.nextDouble()
    }

    /// `integers(low, high)` (int64, high exclusive): Lemire's bounded generation.
    public mutating func integers(low: Int64, high: Int64) throws -> Int64 {
        guard low < high else { throw NumPyRandomError("low >= high") }
        let rng = UInt64(bitPattern: high &- 1 &- low)
        return Int64(bitPattern: numpyBounded(&bitGenerator, off: UInt64(bitPattern: low), rng: rng, masked: false))
    }

    /// `choice(n, p=p, size=k)` with replacement: cdf of p, k uniforms, searchsorted right.
    public mutating func choice(_ n: Int, p: [Double], size: Int) throws -> [Int] {
        guard p.count == n else { throw NumPyRandomError("'a' and 'p' must have same size") }
        let cdf = try numpyChoiceCDF(p)
        return (0..<size).map { _ in numpySearchSortedRight(cdf, random()) }
    }
}

// MARK: - RandomState (legacy)

/// `np.random.seed(seed)` / `RandomState(seed)`: MT19937 and the legacy distributions, with the
/// cached second value of the polar method kept across calls.
public struct NumPyRandomState: Sendable {
    /// The MT19937 stream the draws come from.
    public var bitGenerator: NumPyMT19937
    var hasGauss = false
    var gauss = 0.0

    /// `np.random.seed(seed)`, 0 ≤ seed < 2^32.
    public init(seed: UInt32) { bitGenerator = NumPyMT19937(seed: seed) }

    /// `random_sample()` / `rand()`.
    public mutating func randomSample() -> Double { bitGenerator.nextDouble() }

    /// `standard_normal()` / `randn()`: `legacy_gauss`, the polar method; the second value of an
    /// accepted pair is returned by the next call, whichever method it is.
    public mutating func standardNormal() -> Double {
        if hasGauss {
            hasGauss = false
            let t = gauss
            gauss = 0
            return t
        }
        var x1 = 0.0, x2 = 0.0, r2 = 0.0
        repeat {
            x1 = 2.0 * bitGenerator.nextDouble() - 1.0
            x2 = 2.0 * bitGenerator.nextDouble() - 1.0
            r2 = x1 * x1 + x2 * x2
        } while r2 >= 1.0 || r2 == 0.0
        let f = (-2.0 * log(r2) / r2).squareRoot()
        gauss = f * x1
        hasGauss = true
        return f * x2
    }

    // normal, uniform, randint and choice mirror NumPyGenerator's on purpose (see there).

    /// `normal(loc, scale)` = loc + scale · standard_normal.
    public mutating func normal(loc: Double = 0, scale: Double = 1) -> Double { loc + scale * standardNormal() }

    /// `uniform(low, high)` = low + (high − low) · random_sample.
    public mutating func uniform(low: Double = 0, high: Double = 1) -> Double {
        low + (high - low) * bitGenerator.nextDouble()
    }

    /// `randint(low, high)` (int64, high exclusive): masked rejection.
    public mutating func randint(low: Int64, high: Int64) throws -> Int64 {
        guard low < high else { throw NumPyRandomError("low >= high") }
        let rng = UInt64(bitPattern: high &- 1 &- low)
        return Int64(bitPattern: numpyBounded(&bitGenerator, off: UInt64(bitPattern: low), rng: rng, masked: true))
    }

    /// `choice(n, p=p, size=k)` (or `choice(range(n), p=p)`) with replacement: the legacy cdf,
    /// k `random_sample` values, searchsorted right.
    public mutating func choice(_ n: Int, p: [Double], size: Int) throws -> [Int] {
        guard p.count == n else { throw NumPyRandomError("'a' and 'p' must have same size") }
        let cdf = try numpyChoiceCDF(p)
        return (0..<size).map { _ in numpySearchSortedRight(cdf, randomSample()) }
    }
}
