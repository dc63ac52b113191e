// The vectorized e^x, sigmoid and tanh themselves, compiled for the baseline target (the copy every CPU
// can run). RNNKernelsSIMD/VectorMath.c is a C transcription of this file whose functions are compiled for
// AVX2 + FMA on x86-64: the same IEEE operations in the same order, a fused multiply-add exactly where this
// file calls `addingProduct` (Swift does not contract `a * b + c`; the C file turns contraction off), and
// negation as Swift's SIMD types do it (0 − x), so both copies give bit-identical results; the tests compare
// them on every run. A change here needs the same change there. On a CPU without FMA (the only place this
// copy runs on x86-64) `addingProduct` is the C library's correctly rounded `fma` per lane: slower, the
// same bits.
//
// Shape legend: elementwise; x and y are buffers of n elements.
//
// Method (both precisions): e^x = 2^k · e^r with k = round(x / ln 2) and r = x − k·ln 2 (ln 2 split
// in a high and a low part, Cody–Waite, each part subtracted by a fused multiply-add), |r| ≤ ln 2 / 2; e^r by
// its Taylor polynomial in Horner's form, one fused multiply-add a coefficient (degree 7 for Float, 13 for
// Double: truncation below 1e-8 and 1e-17 relative); 2^k built in the exponent bits,
// in two halves so that results down to the subnormals are right. Errors, measured in the tests
// against the C library in higher precision: a few units in the last place.

// Lane masks and selections are integer operations on the bits (all ones or all zeros per lane):
// the standard library's SIMD comparisons, `replace(with:where:)`, `clamped` and float-to-integer
// conversions compile to scalar loops here, ten times slower than the arithmetic around them.

// The Float and Double extensions below are deliberate twins (`duplicates` pairs them): the same method with
// each type's lane count, polynomial degree and constants, kept apart so each reads as its own recipe.
extension Float {
    @inline(__always)
    static func vbits(_ x: SIMD8<Float>) -> SIMD8<UInt32> { unsafeBitCast(x, to: SIMD8<UInt32>.self) }

    /// mask ? a : b, lane by lane.
    @inline(__always)
    static func vselect(_ mask: SIMD8<UInt32>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        unsafeBitCast((vbits(a) & mask) | (vbits(b) & ~mask), to: SIMD8<Float>.self)
    }

    /// All ones where the sign bit of x is set.
    @inline(__always)
    static func vsignMask(_ x: SIMD8<Float>) -> SIMD8<UInt32> { 0 &- (vbits(x) &>> 31) }

    /// All ones where |x| > c, for c ≥ 0 finite (non-negative floats order like their bits); NaN counts as greater.
    @inline(__always)
    static func vmagnitudeAbove(_ x: SIMD8<Float>, _ c: Float) -> SIMD8<UInt32> {
        0 &- ((SIMD8<UInt32>(repeating: c.bitPattern) &- (vbits(x) & 0x7fff_ffff)) &>> 31)
    }

    /// All ones where x is NaN.
    @inline(__always)
    static func vnanMask(_ x: SIMD8<Float>) -> SIMD8<UInt32> { vmagnitudeAbove(x, .infinity) }

    /// |x| for 8 lanes: the sign bit cleared.
    @inline(__always)
    static func vabs(_ x: SIMD8<Float>) -> SIMD8<Float> {
        unsafeBitCast(vbits(x) & 0x7fff_ffff, to: SIMD8<Float>.self)
    }

    /// x clamped to [lo, hi] (lo < 0 < hi) for every x but NaN, where the lane is unspecified: exactly
    /// `pointwiseMax(pointwiseMin(x, hi), lo)`, which the compiler leaves as a scalar loop per lane.
    @inline(__always)
    static func vclamp(_ x: SIMD8<Float>, _ hi: Float, _ lo: Float) -> SIMD8<Float> {
        let negative = vsignMask(x)
        let above = ~negative & vmagnitudeAbove(x, hi), below = negative & vmagnitudeAbove(x, -lo)
        return vselect(above, SIMD8(repeating: hi), vselect(below, SIMD8(repeating: lo), x))
    }

    /// c + a · b with one rounding (a fused multiply-add per lane).
    @inline(__always)
    static func vfma(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: Float) -> SIMD8<Float> {
        SIMD8(repeating: c).addingProduct(a, b)
    }

    /// e^x for 8 lanes.
    @inline(__always)
    static func vexp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let xc = vclamp(x, 89, -104)
        // k = round(x / ln 2) by the shifter trick: adding 1.5·2^23 leaves k in the low bits.
        let shifter = SIMD8<Float>(repeating: 12_582_912)
        let shifted = shifter.addingProduct(xc, 1.442_695_04)
        let kf = shifted - shifter
        let r = xc.addingProduct(kf, -0.693_145_751_953_125).addingProduct(kf, -1.428_606_765_330_187e-06)
        var p = SIMD8<Float>(repeating: 1.0 / 5040)
        p = vfma(p, r, 1.0 / 720)
        p = vfma(p, r, 1.0 / 120)
        p = vfma(p, r, 1.0 / 24)
        p = vfma(p, r, 1.0 / 6)
        p = vfma(p, r, 0.5)
        p = vfma(p, r, 1)
        p = vfma(p, r, 1)
        // 2^k = 2^(k/2) · 2^(k − k/2): each half stays a normal number for k ≥ −252.
        let k = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let k1 = k &>> 1, k2 = k &- k1
        let s1 = unsafeBitCast((k1 &+ 127) &<< 23, to: SIMD8<Float>.self)
        let s2 = unsafeBitCast((k2 &+ 127) &<< 23, to: SIMD8<Float>.self)
        return vselect(vnanMask(x), x, p * s1 * s2)  // NaN in, NaN out
    }

    /// e^x − 1 for |x| ≤ ln 2 / 2, without cancellation: the Taylor polynomial with no constant term.
    @inline(__always)
    static func vexpm1Small(_ x: SIMD8<Float>) -> SIMD8<Float> {
        var p = SIMD8<Float>(repeating: 1.0 / 40320)
        p = vfma(p, x, 1.0 / 5040)
        p = vfma(p, x, 1.0 / 720)
        p = vfma(p, x, 1.0 / 120)
        p = vfma(p, x, 1.0 / 24)
        p = vfma(p, x, 1.0 / 6)
        p = vfma(p, x, 0.5)
        return x.addingProduct(p * x, x)
    }

    @inline(__always)
    static func vsigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // e = e^−|x|; 1/(1 + e) for x ≥ 0, e/(1 + e) for x < 0 (as the scalar `sigmoid`).
        let e = vexp(-vabs(x))
        let d = 1 + e
        return vselect(vnanMask(x), x, vselect(vsignMask(x), e / d, 1 / d))
    }

    @inline(__always)
    static func vtanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // tanh|x| = −m / (2 + m) with m = e^(−2|x|) − 1; m from the polynomial where 2|x| ≤ ln 2 / 2.
        let a = vabs(x)
        let e = vexp(-2 * a)
        let m = vselect(vmagnitudeAbove(a, 0.173_286_8), e - 1, vexpm1Small(-2 * a))
        let y = -m / (2 + m)
        return vselect(vnanMask(x), x, vselect(vsignMask(x), -y, y))
    }
}

// The twin of the Float extension above (deliberate): Double's lanes, polynomial and constants.
extension Double {
    @inline(__always)
    static func vbits(_ x: SIMD4<Double>) -> SIMD4<UInt64> { unsafeBitCast(x, to: SIMD4<UInt64>.self) }

    @inline(__always)
    static func vselect(_ mask: SIMD4<UInt64>, _ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
        unsafeBitCast((vbits(a) & mask) | (vbits(b) & ~mask), to: SIMD4<Double>.self)
    }

    @inline(__always)
    static func vsignMask(_ x: SIMD4<Double>) -> SIMD4<UInt64> { 0 &- (vbits(x) &>> 63) }

    @inline(__always)
    static func vmagnitudeAbove(_ x: SIMD4<Double>, _ c: Double) -> SIMD4<UInt64> {
        0 &- ((SIMD4<UInt64>(repeating: c.bitPattern) &- (vbits(x) & 0x7fff_ffff_ffff_ffff)) &>> 63)
    }

    @inline(__always)
    static func vnanMask(_ x: SIMD4<Double>) -> SIMD4<UInt64> { vmagnitudeAbove(x, .infinity) }

    @inline(__always)
    static func vabs(_ x: SIMD4<Double>) -> SIMD4<Double> {
        unsafeBitCast(vbits(x) & 0x7fff_ffff_ffff_ffff, to: SIMD4<Double>.self)
    }

    @inline(__always)
    static func vclamp(_ x: SIMD4<Double>, _ hi: Double, _ lo: Double) -> SIMD4<Double> {
        let negative = vsignMask(x)
        let above = ~negative & vmagnitudeAbove(x, hi), below = negative & vmagnitudeAbove(x, -lo)
        return vselect(above, SIMD4(repeating: hi), vselect(below, SIMD4(repeating: lo), x))
    }

    @inline(__always)
    static func vfma(_ a: SIMD4<Double>, _ b: SIMD4<Double>, _ c: Double) -> SIMD4<Double> {
        SIMD4(repeating: c).addingProduct(a, b)
    }

    /// e^x for 4 lanes.
    @inline(__always)
    static func vexp(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let xc = vclamp(x, 710, -746)
        let shifter = SIMD4<Double>(repeating: 6_755_399_441_055_744)  // 1.5 · 2^52
        let shifted = shifter.addingProduct(xc, 1.442_695_040_888_963_4)
        let kf = shifted - shifter
        let r = xc.addingProduct(kf, -0.693_147_180_369_123_816_49).addingProduct(kf, -1.908_214_929_270_587_7e-10)
        var p = SIMD4<Double>(repeating: 1.0 / 6_227_020_800)
        p = vfma(p, r, 1.0 / 479_001_600)
        p = vfma(p, r, 1.0 / 39_916_800)
        p = vfma(p, r, 1.0 / 3_628_800)
        p = vfma(p, r, 1.0 / 362_880)
        p = vfma(p, r, 1.0 / 40320)
        p = vfma(p, r, 1.0 / 5040)
        p = vfma(p, r, 1.0 / 720)
        p = vfma(p, r, 1.0 / 120)
        p = vfma(p, r, 1.0 / 24)
        p = vfma(p, r, 1.0 / 6)
        p = vfma(p, r, 0.5)
        p = vfma(p, r, 1)
        p = vfma(p, r, 1)
        // The low bits of `shifted` hold k + 2^51; k is small, so halving by a logical shift of
        // k + 2^51 and subtracting 2^50 is an exact floor(k / 2).
        let biased = vbits(shifted) & 0x000f_ffff_ffff_ffff  // k + 2^51
        let k1 = (biased &>> 1) &- (1 << 50)
        let k2 = (biased &- (1 << 51)) &- k1
        let s1 = unsafeBitCast((k1 &+ 1023) &<< 52, to: SIMD4<Double>.self)
        let s2 = unsafeBitCast((k2 &+ 1023) &<< 52, to: SIMD4<Double>.self)
        return vselect(vnanMask(x), x, p * s1 * s2)
    }

    @inline(__always)
    static func vexpm1Small(_ x: SIMD4<Double>) -> SIMD4<Double> {
        var p = SIMD4<Double>(repeating: 1.0 / 20_922_789_888_000)
        p = vfma(p, x, 1.0 / 1_307_674_368_000)
        p = vfma(p, x, 1.0 / 87_178_291_200)
        p = vfma(p, x, 1.0 / 6_227_020_800)
        p = vfma(p, x, 1.0 / 479_001_600)
        p = vfma(p, x, 1.0 / 39_916_800)
        p = vfma(p, x, 1.0 / 3_628_800)
        p = vfma(p, x, 1.0 / 362_880)
        p = vfma(p, x, 1.0 / 40320)
        p = vfma(p, x, 1.0 / 5040)
        p = vfma(p, x, 1.0 / 720)
        p = vfma(p, x, 1.0 / 120)
        p = vfma(p, x, 1.0 / 24)
        p = vfma(p, x, 1.0 / 6)
        p = vfma(p, x, 0.5)
        return x.addingProduct(p * x, x)
    }

    @inline(__always)
    static func vsigmoid(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let e = vexp(-vabs(x))
        let d = 1 + e
        return vselect(vnanMask(x), x, vselect(vsignMask(x), e / d, 1 / d))
    }

    @inline(__always)
    static func vtanh(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let a = vabs(x)
        let e = vexp(-2 * a)
        let m = vselect(vmagnitudeAbove(a, 0.173_286_795_139_986_3), e - 1, vexpm1Small(-2 * a))
        let y = -m / (2 + m)
        return vselect(vnanMask(x), x, vselect(vsignMask(x), -y, y))
    }
}

/// y = f(x) elementwise over n Floats, 8 lanes at a time.
func vectorMathApply(_ f: VectorFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    switch f {
    case .exp: vectorMathLoop(x, y, n) { Float.vexp($0) }
    case .sigmoid: vectorMathLoop(x, y, n) { Float.vsigmoid($0) }
    case .tanh: vectorMathLoop(x, y, n) { Float.vtanh($0) }
    }
}

/// y = f(x) elementwise over n Doubles, 4 lanes at a time.
func vectorMathApply(_ f: VectorFunction, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
    switch f {
    case .exp: vectorMathLoop(x, y, n) { Double.vexp($0) }
    case .sigmoid: vectorMathLoop(x, y, n) { Double.vsigmoid($0) }
    case .tanh: vectorMathLoop(x, y, n) { Double.vtanh($0) }
    }
}

@inline(__always)
func vectorMathLoop(
    _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
    _ f: (SIMD8<Float>) -> SIMD8<Float>
) {
    var i = 0
    while i + 8 <= n {
        UnsafeMutableRawPointer(dst + i).storeBytes(
            of: f(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)),
            as: SIMD8<Float>.self)
        i += 8
    }
    if i < n {
        var v = SIMD8<Float>()
        for k in 0..<(n - i) { v[k] = src[i + k] }
        let r = f(v)
        for k in 0..<(n - i) { dst[i + k] = r[k] }
    }
}

@inline(__always)
func vectorMathLoop(
    _ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, _ n: Int,
    _ f: (SIMD4<Double>) -> SIMD4<Double>
) {
    var i = 0
    while i + 4 <= n {
        UnsafeMutableRawPointer(dst + i).storeBytes(
            of: f(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD4<Double>.self)),
            as: SIMD4<Double>.self)
        i += 4
    }
    if i < n {
        var v = SIMD4<Double>()
        for k in 0..<(n - i) { v[k] = src[i + k] }
        let r = f(v)
        for k in 0..<(n - i) { dst[i + k] = r[k] }
    }
}
