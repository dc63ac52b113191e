import RNNPlatform

/// A floating-point type the kernels compute in: `Float` or `Double`.
///
/// The elementary functions come from the platform's C library (`expf`/`exp`, ...), so a
/// `Float` kernel computes in single precision throughout, as a framework's float32 kernel does.
public protocol KernelScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable, CustomStringConvertible
where Self.RawSignificand: FixedWidthInteger {
    /// e^x.
    static func exp(_ x: Self) -> Self
    /// Natural logarithm.
    static func log(_ x: Self) -> Self
    /// Hyperbolic tangent.
    static func tanh(_ x: Self) -> Self
    /// x^y.
    static func pow(_ x: Self, _ y: Self) -> Self
    /// log(1 + x), accurate for small x.
    static func log1p(_ x: Self) -> Self
    /// e^x − 1, accurate for small x.
    static func expm1(_ x: Self) -> Self
    /// The name of the precision: `float32` or `float64`.
    static var dtypeName: String { get }

    // The SIMD kernels of RNNKernelsSIMD for this type (GemmDispatch.swift). Call the packed ones only where
    // `packedGemmAvailable`; `gemm`, `packOperand` and `vectorApply` check it.

    /// C = op(A) · op(B) (+ C when `accumulate`) by the packed kernel on `threads` threads.
    static func packedGemm(
        _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>,
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, threads: Int)
    /// C = row + op(A) · op(B) in every row of C (`row` [n]) by the packed kernel on `threads` threads: the
    /// bits of C filled with `row` and then accumulated into, without the pass that fills it.
    static func packedGemm(
        _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>,
        addingRow row: UnsafePointer<Self>, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
        threads: Int)
    /// Elements of the panels `packPanels` writes for a [k, n] operand.
    static func packedPanelElements(k: Int, n: Int) -> Int
    /// Packs B ([k, n], or [n, k] when `transposed`) into panels at `dst`.
    static func packPanels(
        _ b: UnsafePointer<Self>, k: Int, n: Int, transposed: Bool, into dst: UnsafeMutablePointer<Self>)
    /// C = op(A) · B (+ C when `accumulate`) with B in panels, on `threads` threads.
    static func prepackedGemm(
        _ a: UnsafePointer<Self>, _ panels: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>,
        m: Int, n: Int, k: Int, transposeA: Bool, accumulate: Bool, threads: Int)
    /// y = f(x) over n elements by the AVX2 copy of the vector functions (`simd`) or the baseline copy.
    static func vectorApply(
        _ f: VectorFunction, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count n: Int, simd: Bool)
}

extension Float: KernelScalar {
    @inlinable public static func exp(_ x: Float) -> Float { expf(x) }
    @inlinable public static func log(_ x: Float) -> Float { logf(x) }
    @inlinable public static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inlinable public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inlinable public static func log1p(_ x: Float) -> Float { log1pf(x) }
    @inlinable public static func expm1(_ x: Float) -> Float { expm1f(x) }
    public static var dtypeName: String { "float32" }
}

extension Double: KernelScalar {
    @inlinable public static func exp(_ x: Double) -> Double { RNNPlatform.exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { RNNPlatform.log(x) }
    @inlinable public static func tanh(_ x: Double) -> Double { RNNPlatform.tanh(x) }
    @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { RNNPlatform.pow(x, y) }
    @inlinable public static func log1p(_ x: Double) -> Double { RNNPlatform.log1p(x) }
    @inlinable public static func expm1(_ x: Double) -> Double { RNNPlatform.expm1(x) }
    public static var dtypeName: String { "float64" }
}
