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
// the arguments met here (see README, "NumPy's generators").

import RNNPlatform

// MARK: - SeedSequence

/// NumPy's `SeedSequence` (numpy/random/bit_generator.pyx), for a non-negative integer entropy
/// and no spawn key: the pool it mixes and the words `generate_state` draws from it.
public struct NumPySeedSequence: Sendable, Equatable {
    static let initA: UInt32 = 0x43b0_d7e5, multA: UInt32 = 0x931e_8875
    static let initB: UInt32 = 0x8b51_f9dd, multB: UInt32 = 0x58f3_8ded
    static let mixMultL: UInt32 = 0xca01_f9dd, mixMultR: UInt32 = 0x4973_f715
    /// The four mixed 32-bit words.
    public private(set) var pool: [UInt32]

    /// `SeedSequence(entropy)` for an integer entropy given as 32-bit words, least significant first
    /// (an entropy below 2^32 is one word; 0 is `[0]`).
    public init(entropyWords: [UInt32]) {
        var hashConst = Self.initA
        func hashmix(_ v: UInt32) -> UInt32 {
            var value = v ^ hashConst
            hashConst = hashConst &* Self.multA
            value = value &* hashConst
            value ^= value >> 16
            return value
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            var r = (Self.mixMultL &* x) &- (Self.mixMultR &* y)
            r ^= r >> 16
            return r
        }
        var mixer = [UInt32](repeating: 0, count: 4)
        for i in 0..<4 { mixer[i] = hashmix(i < entropyWords.count ? entropyWords[i] : 0) }
        for src in 0..<4 { for dst in 0..<4 where src != dst { mixer[dst] = mix(mixer[dst], hashmix(mixer[src])) } }
        if entropyWords.count > 4 {
            for src in 4..<entropyWords.count { for dst in 0..<4 { mixer[dst] = mix(mixer[dst], hashmix(entropyWords[src])) } }
        }
        pool = mixer
    }

    /// `SeedSequence(seed)` for a seed 0 ≤ seed < 2^64.
    public init(seed: UInt64) {
        let lo = UInt32(truncatingIfNeeded: seed), hi = UInt32(truncatingIfNeeded: seed >> 32)
        self.init(entropyWords: hi == 0 ? [lo] : [lo, hi])
    }

    /// `generate_state(n, np.uint32)`.
    public func generateState32(_ n: Int) -> [UInt32] {
        var hashConst = Self.initB
        var out = [UInt32]()
        out.reserveCapacity(n)
        for i in 0..<n {
            var v = pool[i % pool.count] ^ hashConst
            hashConst = hashConst &* Self.multB
            v = v &* hashConst
            v ^= v >> 16
            out.append(v)
        }
        return out
    }

    /// `generate_state(n, np.uint64)`: pairs of 32-bit words, the first the low half.
    public func generateState64(_ n: Int) -> [UInt64] {
        let w = generateState32(2 * n)
        return (0..<n).map { UInt64(w[2 * $0]) | (UInt64(w[2 * $0 + 1]) << 32) }
    }
}

// MARK: - PCG64

/// NumPy's `PCG64` bit generator: a 128-bit LCG with the XSL-RR output, and the 32-bit buffer
/// (`has_uint32`) that `next_uint32` keeps the high half of a 64-bit draw in.
public struct NumPyPCG64: Sendable, Equatable {
    static let multHi: UInt64 = 2_549_297_995_355_413_924, multLo: UInt64 = 4_865_540_595_714_422_341
    public private(set) var stateHi: UInt64 = 0, stateLo: UInt64 = 0
    public private(set) var incHi: UInt64 = 0, incLo: UInt64 = 0
    var hasUInt32 = false
    var uinteger: UInt32 = 0

    /// `PCG64(seed)`: state and increment from `SeedSequence(seed).generate_state(4, np.uint64)`.
    public init(seed: UInt64) {
        let s = NumPySeedSequence(seed: seed).generateState64(4)
        // pcg64_set_seed: initstate = (s[0] << 64) | s[1], initseq = (s[2] << 64) | s[3].
        let initSeqHi = s[2], initSeqLo = s[3]
        incHi = (initSeqHi << 1) | (initSeqLo >> 63)
        incLo = (initSeqLo << 1) | 1
        step()
        let (lo, c) = stateLo.addingReportingOverflow(s[1])
        stateLo = lo
        stateHi = stateHi &+ s[0] &+ (c ? 1 : 0)
        step()
    }

    @inline(__always)
    mutating func step() {
        // state = state * mult + inc (mod 2^128)
        let p = stateLo.multipliedFullWidth(by: Self.multLo)
        var hi = p.high &+ stateLo &* Self.multHi &+ stateHi &* Self.multLo
        let (lo, c) = p.low.addingReportingOverflow(incLo)
        hi = hi &+ incHi &+ (c ? 1 : 0)
        stateHi = hi
        stateLo = lo
    }

    /// `next_uint64`.
    @inline(__always)
    public mutating func nextUInt64() -> UInt64 {
        step()
        let x = stateHi ^ stateLo
        let rot = UInt32(truncatingIfNeeded: stateHi >> 58)
        return (x >> UInt64(rot)) | (x << UInt64((64 &- rot) & 63))
    }

    /// `next_uint32`: the low half of a fresh 64-bit draw, then its high half.
    @inline(__always)
    public mutating func nextUInt32() -> UInt32 {
        if hasUInt32 {
            hasUInt32 = false
            return uinteger
        }
        let n = nextUInt64()
        hasUInt32 = true
        uinteger = UInt32(truncatingIfNeeded: n >> 32)
        return UInt32(truncatingIfNeeded: n)
    }

    /// `next_double`: the top 53 bits of a 64-bit draw over 2^53.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(nextUInt64() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}

// MARK: - MT19937

/// NumPy's legacy `MT19937` (randomkit), seeded by `init_genrand` as `np.random.seed(int)` does.
public struct NumPyMT19937: Sendable, Equatable {
    static let n = 624, m = 397
    var key = [UInt32](repeating: 0, count: 624)
    var pos = 624

    /// `mt19937_seed(seed)` (`init_genrand`), what `np.random.seed(s)` does for 0 ≤ s < 2^32.
    public init(seed: UInt32) {
        var s = seed
        for i in 0..<Self.n {
            key[i] = s
            s = 1_812_433_253 &* (s ^ (s >> 30)) &+ UInt32(i + 1)
        }
        pos = Self.n
    }

    /// `init_by_array(key)`, what `np.random.seed([k0, k1, ...])` does for a sequence of words.
    public init(keyArray: [UInt32]) {
        self.init(seed: 19_650_218)
        var i = 1, j = 0
        let n = Self.n
        for _ in 0..<Swift.max(n, keyArray.count) {
            key[i] = (key[i] ^ ((key[i - 1] ^ (key[i - 1] >> 30)) &* 1_664_525)) &+ keyArray[j] &+ UInt32(j)
            i += 1; j += 1
            if i >= n { key[0] = key[n - 1]; i = 1 }
            if j >= keyArray.count { j = 0 }
        }
        for _ in 0..<(n - 1) {
            key[i] = (key[i] ^ ((key[i - 1] ^ (key[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= n { key[0] = key[n - 1]; i = 1 }
        }
        key[0] = 0x8000_0000
        pos = n
    }

    mutating func generate() {
        let n = Self.n, m = Self.m
        let upper: UInt32 = 0x8000_0000, lower: UInt32 = 0x7fff_ffff, matrixA: UInt32 = 0x9908_b0df
        for i in 0..<n {
            let y = (key[i] & upper) | (key[(i + 1) % n] & lower)
            key[i] = key[(i + m) % n] ^ (y >> 1) ^ ((y & 1) != 0 ? matrixA : 0)
        }
        pos = 0
    }

    /// `mt19937_next32`.
    @inline(__always)
    public mutating func nextUInt32() -> UInt32 {
        if pos == Self.n { generate() }
        var y = key[pos]
        pos += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// `mt19937_next64`: two 32-bit draws, the first the high half.
    @inline(__always)
    public mutating func nextUInt64() -> UInt64 {
        let hi = UInt64(nextUInt32())
        return (hi << 32) | UInt64(nextUInt32())
    }

    /// `mt19937_next_double`: (a·2^26 + b) / 2^53 with a = 27 and b = 26 bits of two draws.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        let a = Int32(nextUInt32() >> 5), b = Int32(nextUInt32() >> 6)
        return (Double(a) * 67_108_864.0 + Double(b)) / 9_007_199_254_740_992.0
    }
}

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
    public var description: String
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
    public var tail = 0, wedge = 0
}

/// `np.random.default_rng(seed)`: `Generator(PCG64(SeedSequence(seed)))`.
public struct NumPyGenerator: Sendable {
    public var bitGenerator: NumPyPCG64
    /// How often the normal ziggurat took its tail (|x| > r) and wedge paths.
    public var zigguratPaths = ZigguratPathCounts()

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
                if (NumPyZiggurat.fi[idx - 1] - NumPyZiggurat.fi[idx]) * bitGenerator.nextDouble() + NumPyZiggurat.fi[idx]
                    < exp(-0.5 * x * x) {
                    return x
                }
            }
        }
    }

    /// `normal(loc, scale)` = loc + scale · standard_normal.
    public mutating func normal(loc: Double = 0, scale: Double = 1) -> Double { loc + scale * standardNormal() }

    /// `uniform(low, high)` = low + (high − low) · random.
    public mutating func uniform(low: Double = 0, high: Double = 1) -> Double { low + (high - low) * bitGenerator.nextDouble() }

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

    /// `normal(loc, scale)` = loc + scale · standard_normal.
    public mutating func normal(loc: Double = 0, scale: Double = 1) -> Double { loc + scale * standardNormal() }

    /// `uniform(low, high)` = low + (high − low) · random_sample.
    public mutating func uniform(low: Double = 0, high: Double = 1) -> Double { low + (high - low) * bitGenerator.nextDouble() }

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
