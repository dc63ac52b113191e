#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// y = f(x) elementwise over a buffer, several lanes at a time (VectorMath.swift).
    static func vectorApply(_ f: VectorFunction, _ x: UnsafeBufferPointer<Self>, into y: UnsafeMutableBufferPointer<Self>)
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
    @inlinable public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { Glibc.log(x) }
    @inlinable public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
    @inlinable public static func log1p(_ x: Double) -> Double { Glibc.log1p(x) }
    @inlinable public static func expm1(_ x: Double) -> Double { Glibc.expm1(x) }
    public static var dtypeName: String { "float64" }
}
