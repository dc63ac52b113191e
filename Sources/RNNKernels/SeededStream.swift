// A deterministic random stream for kernels that draw numbers (initialisation, sampling).
//
// Shape legend: none (scalars).

/// Deterministic random numbers, the same on every machine: the stream behind the case files'
/// `random` generator and the kernels that draw numbers (initialisation, sampling).
///
/// - Uniform: SplitMix64 (Steele, Lea, Flood 2014); the top 53 bits of each output divided by
///   2^53 give a double in [0, 1).
/// - Normal: Marsaglia's polar method on pairs of uniforms mapped to (−1, 1); both normals of an
///   accepted pair are used, first then second.
/// - Only integer operations and exactly rounded IEEE-754 arithmetic (`+ − × ÷ √`) are used, with
///   a logarithm written out from them, so no C library function is involved.
public struct SeededStream: Sendable {
    @usableFromInline var state: UInt64
    @usableFromInline var spare: Double?

    @inlinable
    public init(seed: UInt64) {
        state = seed
        spare = nil
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func nextBits() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), a multiple of 2^−53.
    @inlinable
    public mutating func nextUniform() -> Double {
        Double(nextBits() >> 11) * 0x1p-53
    }

    /// Standard normal.
    @inlinable
    public mutating func nextNormal() -> Double {
        if let s = spare { spare = nil; return s }
        while true {
            let u = 2 * nextUniform() - 1, v = 2 * nextUniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * SeededStream.log(s) / s).squareRoot()
                spare = v * f
                return u * f
            }
        }
    }

    /// Natural logarithm of a positive finite x from basic arithmetic alone:
    /// x = m·2^e with m in [√½, √2), ln m = 2 atanh((m−1)/(m+1)) by its series.
    /// Accurate to about one unit in the last place.
    @inlinable
    public static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite)
        var e = Int(x.exponent)
        var m = x.significand  // [1, 2)
        if m > 1.4142135623730951 { m /= 2; e += 1 }
        let s = (m - 1) / (m + 1), s2 = s * s
        var series = 0.0
        var k = 29.0
        while k >= 3 { series = s2 * (1 / k + series); k -= 2 }
        let lnM = 2 * s * (1 + series)
        return lnM + Double(e) * 0.6931471805599453
    }
}

extension SeededStream: RandomNumberGenerator {
    /// The next 64 random bits (`nextBits()`), so the stream can drive the standard library's
    /// `random(in:using:)`.
    @inlinable
    public mutating func next() -> UInt64 { nextBits() }
}
