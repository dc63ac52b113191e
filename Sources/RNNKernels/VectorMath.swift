// Vectorized e^x, sigmoid and tanh over buffers: the gate activations of the cell core, where a
// sequence evaluates millions of them and the C library's scalar calls would dominate the time.
//
// Shape legend: elementwise; x and y are buffers of the same length n.
//
// The functions themselves are in VectorMathCore.swift (the method and its errors are described there),
// a file compiled both here, for the baseline target, and in RNNKernelsSIMD, for AVX2 on x86-64.
// `vectorApply` runs the AVX2 copy where the CPU has AVX2 and FMA (`packedGemmAvailable`) and this
// module's copy elsewhere; the two give bit-identical results, so no result depends on the CPU.

import RNNKernelsSIMD

/// The elementwise function a buffer call evaluates.
public enum VectorFunction: Sendable, CaseIterable {
    case exp, sigmoid, tanh

    /// The function's number in the core's entry points.
    var code: Int {
        switch self {
        case .exp: 0
        case .sigmoid: 1
        case .tanh: 2
        }
    }
}

extension Float {
    /// y = f(x) elementwise, 8 lanes at a time.
    public static func vectorApply(_ f: VectorFunction, _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        vectorApply(f, x, into: y, simd: packedGemmAvailable)
    }

    /// `vectorApply` on the AVX2 copy (`simd` true; only where `packedGemmAvailable`) or the baseline copy.
    static func vectorApply(_ f: VectorFunction, _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>, simd: Bool) {
        precondition(x.count == y.count, "vector function: \(x.count) inputs for \(y.count) outputs")
        guard x.count > 0, let src = x.baseAddress, let dst = y.baseAddress else { return }
        if simd {
            simdVectorApply(f.code, src, dst, x.count)
        } else {
            vectorMathApply(f.code, src, dst, x.count)
        }
    }
}

extension Double {
    /// y = f(x) elementwise, 4 lanes at a time.
    public static func vectorApply(_ f: VectorFunction, _ x: UnsafeBufferPointer<Double>, into y: UnsafeMutableBufferPointer<Double>) {
        vectorApply(f, x, into: y, simd: packedGemmAvailable)
    }

    /// `vectorApply` on the AVX2 copy (`simd` true; only where `packedGemmAvailable`) or the baseline copy.
    static func vectorApply(_ f: VectorFunction, _ x: UnsafeBufferPointer<Double>, into y: UnsafeMutableBufferPointer<Double>, simd: Bool) {
        precondition(x.count == y.count, "vector function: \(x.count) inputs for \(y.count) outputs")
        guard x.count > 0, let src = x.baseAddress, let dst = y.baseAddress else { return }
        if simd {
            simdVectorApply(f.code, src, dst, x.count)
        } else {
            vectorMathApply(f.code, src, dst, x.count)
        }
    }
}
