import Foundation

/// Escapes text for SVG and HTML element content and double-quoted attribute values: `&`, `<`,
/// `>`, `"` and `'` become entities, and control characters other than tab and line feed (which
/// XML 1.0 forbids or HTML would render invisibly) become U+FFFD. Every string that reaches a
/// page through this module passes here.
public func escapeMarkup(_ text: String) -> String {
    // The same loop as RNNSpec's `XMLText.escape` and `YAMLText.quoted`, kept apart on purpose:
    // this module depends on nothing, and each format escapes a different set differently.
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for u in text.unicodeScalars {
        switch u {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n": out.unicodeScalars.append(u)
        default:
            if u.value < 0x20 || (0x7F...0x9F).contains(u.value) || u.value == 0xFFFE || u.value == 0xFFFF {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out
}

/// A number as an SVG coordinate: at most two decimals, no exponent, `-0` as `0`.
func coordinate(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    // Far outside any page: clamp (a coordinate is pixels, and Int must not overflow).
    let i = Int((min(max(x, -1e9), 1e9) * 100).rounded())
    if i % 100 == 0 { return String(i / 100) }
    let a = abs(i), frac = a % 100
    let digits = frac % 10 == 0 ? String(frac / 10) : (frac < 10 ? "0" + String(frac) : String(frac))
    return (i < 0 ? "-" : "") + String(a / 100) + "." + digits
}

/// A tick label: short, without trailing zeros (`0.25`, `1e-06`, `1000`).
public func tickLabel(_ x: Double) -> String {
    if x.isNaN { return "NaN" }
    if x.isInfinite { return x < 0 ? "−∞" : "∞" }
    if x == 0 { return "0" }
    let a = abs(x)
    if a >= 1e5 || a < 1e-3 {
        let e = Int(log10(a).rounded(.down))
        let m = x / pow(10, Double(e))
        if abs(m - m.rounded()) < 1e-9 {
            let mi = Int(m.rounded())
            return mi == 1 ? "1e\(e)" : (mi == -1 ? "-1e\(e)" : "\(mi)e\(e)")
        }
        return String(format: "%.2g", x)
    }
    var s = String(format: "%.6f", x)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}

/// A map from data values to pixels, linear or logarithmic.
public struct Scale: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case linear, log }
    public var kind: Kind
    /// The data interval; `lower < upper` always (a degenerate one is widened).
    public private(set) var lower: Double
    public private(set) var upper: Double
    /// The pixel interval the data interval maps to (may be decreasing, as a y axis is).
    public var rangeStart: Double
    public var rangeEnd: Double

    /// A linear scale over the finite values given (NaN and infinities are ignored); an empty or
    /// constant domain is widened (a constant c to c ± max(|c|·0.1, 1)), then rounded outwards
    /// to tick steps.
    public static func linear(covering values: [Double], range: (Double, Double), includeZero: Bool = false) -> Scale {
        var lo = Double.infinity, hi = -Double.infinity
        for v in values where v.isFinite { lo = min(lo, v); hi = max(hi, v) }
        if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
        if lo > hi { lo = 0; hi = 1 }
        if lo == hi { let pad = max(abs(lo) * 0.1, 1); lo -= pad; hi += pad }
        // A span beyond the largest double (values near ±1.8e308) cannot be divided into steps.
        guard (hi - lo).isFinite else {
            return Scale(kind: .linear, lower: lo, upper: hi, rangeStart: range.0, rangeEnd: range.1)
        }
        let step = niceStep((hi - lo) / 5)
        let nlo = (lo / step).rounded(.down) * step, nhi = (hi / step).rounded(.up) * step
        return Scale(
            kind: .linear, lower: nlo, upper: nhi > nlo ? nhi : nlo + step, rangeStart: range.0, rangeEnd: range.1)
    }

    /// A log₁₀ scale over the positive finite values given (zeros, negatives, NaN and infinities
    /// cannot be placed and are ignored), widened outwards to powers of ten; no positive value
    /// gives 1…10.
    public static func log(covering values: [Double], range: (Double, Double)) -> Scale {
        var lo = Double.infinity, hi = -Double.infinity
        for v in values where v.isFinite && v > 0 { lo = min(lo, v); hi = max(hi, v) }
        if lo > hi { lo = 1; hi = 10 }
        var elo = Foundation.log10(lo).rounded(.down), ehi = Foundation.log10(hi).rounded(.up)
        if ehi <= elo { ehi = elo + 1 }
        // Below the smallest double's exponent the powers underflow; keep the axis representable.
        elo = max(elo, -300); ehi = min(max(ehi, elo + 1), 300)
        return Scale(kind: .log, lower: pow(10, elo), upper: pow(10, ehi), rangeStart: range.0, rangeEnd: range.1)
    }

    /// A linear scale over exactly this interval (widened when degenerate).
    public static func linear(domain: (Double, Double), range: (Double, Double)) -> Scale {
        var (lo, hi) = domain
        if !(lo < hi) { lo -= 0.5; hi = lo + 1 }
        return Scale(kind: .linear, lower: lo, upper: hi, rangeStart: range.0, rangeEnd: range.1)
    }

    /// The pixel of a value, or nil when the value cannot be placed (not finite; ≤ 0 on a log scale).
    public func callAsFunction(_ x: Double) -> Double? {
        guard x.isFinite else { return nil }
        let t: Double
        switch kind {
        case .linear: t = (x - lower) / (upper - lower)
        case .log:
            guard x > 0 else { return nil }
            t = (Foundation.log10(x) - Foundation.log10(lower)) / (Foundation.log10(upper) - Foundation.log10(lower))
        }
        return rangeStart + t * (rangeEnd - rangeStart)
    }

    /// Tick values inside the domain: 1, 2 or 5 × 10^k steps (about `count` of them) on a linear
    /// scale; powers of ten on a log scale (every k-th when there are more than `count`).
    public func ticks(count: Int = 5) -> [Double] {
        switch kind {
        case .linear:
            let step = niceStep((upper - lower) / Double(max(count, 1)))
            // Steps too small to move a bound of this size (or an unsplittable span): the bounds only.
            guard (upper - lower).isFinite, lower + step != lower, upper - step != upper else { return [lower, upper] }
            var out: [Double] = []
            // A bounded count of steps (k + 1 can equal k for |k| beyond 2^53, so no open-ended loop).
            let k = (lower / step).rounded(.up)
            let n = ((upper + step * 1e-9) / step - k).rounded(.down)
            guard n.isFinite, n >= 0 else { return [lower, upper] }
            for i in 0...Int(min(n, 100)) {
                let v = (k + Double(i)) * step
                if out.last != v { out.append(abs(v) < step * 1e-9 ? 0 : v) }
            }
            return out
        case .log:
            let elo = Int(Foundation.log10(lower).rounded()), ehi = Int(Foundation.log10(upper).rounded())
            let every = max(1, Int((Double(ehi - elo) / Double(max(count, 1))).rounded(.up)))
            // Multiples of `every` (so 1 = 10^0 is a tick whenever it is inside).
            var first = elo
            while first % every != 0 { first += 1 }
            return stride(from: first, through: ehi, by: every).map { pow(10, Double($0)) }
        }
    }
}

/// The step among 1, 2, 5 × 10^k nearest above `raw`.
func niceStep(_ raw: Double) -> Double {
    guard raw.isFinite, raw > 0 else { return 1 }
    let e = Foundation.log10(raw).rounded(.down)
    let base = pow(10, e)
    let m = raw / base
    let nice: Double = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10
    return nice * base
}
