import Foundation

extension NumberText {
    /// The powers of ten that are exact doubles, 10⁰ ... 10²².
    static let exactPowersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { p, _ in p * 10 } }

    /// A decimal literal, `[+-]digits[.digits][(e|E)[+-]digits]` (at least one digit before the
    /// exponent), read exactly without `strtod` when it is easy: its significant digits (leading zeros
    /// dropped) form an integer m ≤ 2⁵³ and its value is m · 10ᵉ with |e| ≤ 22. Then m and 10^|e| are
    /// exact doubles, and the one correctly rounded multiplication or division IEEE 754 does gives the
    /// nearest double to the literal, which is what `strtod` returns (Clinger's fast path, as Go's,
    /// Rust's and fast_float's readers take it). Nil for anything else, which `strtod` then reads: more
    /// than 19 significant digits, m > 2⁵³, a larger exponent, or text that is not such a literal.
    ///
    /// Shortest round-trip numbers (what rnnspec writes) of ordinary magnitude (a decimal exponent within
    /// ±22 once the digits are an integer) take this path for every float32 value (at most 9 digits) and
    /// for the float64 values of 16 or fewer significant digits below 2⁵³, about half of them; `strtod`
    /// took most of the time of reading a golden.
    static func fastDecimal(_ u: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = u.count
        var i = 0
        var negative = false
        if i < n && (u[i] == 0x2D || u[i] == 0x2B) {
            negative = u[i] == 0x2D
            i += 1
        }
        var mantissa: UInt64 = 0, digits = 0, exponent = 0, sawDigit = false
        /// One digit of the significand; false when there are too many.
        func take(_ d: UInt8, fraction: Bool) -> Bool {
            sawDigit = true
            if fraction { exponent -= 1 }
            if mantissa == 0 && d == 0 { return true }  // a leading zero
            guard digits < 19 else { return false }
            mantissa = mantissa &* 10 &+ UInt64(d)
            digits += 1
            return true
        }
        while i < n, u[i] &- 0x30 < 10 {
            guard take(u[i] &- 0x30, fraction: false) else { return nil }
            i += 1
        }
        if i < n && u[i] == 0x2E {
            i += 1
            while i < n, u[i] &- 0x30 < 10 {
                guard take(u[i] &- 0x30, fraction: true) else { return nil }
                i += 1
            }
        }
        guard sawDigit else { return nil }
        if i < n && (u[i] == 0x65 || u[i] == 0x45) {
            i += 1
            var exponentNegative = false
            if i < n && (u[i] == 0x2D || u[i] == 0x2B) {
                exponentNegative = u[i] == 0x2D
                i += 1
            }
            var e = 0, exponentDigits = 0
            while i < n, u[i] &- 0x30 < 10 {
                guard exponentDigits < 4 else { return nil }
                e = e * 10 + Int(u[i] &- 0x30)
                exponentDigits += 1
                i += 1
            }
            guard exponentDigits > 0 else { return nil }
            exponent += exponentNegative ? -e : e
        }
        guard i == n, mantissa <= 1 << 53 else { return nil }
        var v = Double(mantissa)
        if mantissa != 0 {
            guard exponent >= -22 && exponent <= 22 else { return nil }
            v = exponent < 0 ? v / exactPowersOfTen[-exponent] : v * exactPowersOfTen[exponent]
        }
        return negative ? -v : v
    }

    /// `fastDecimal` of a string's bytes.
    static func fastDecimal(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { fastDecimal($0) }
    }
}
