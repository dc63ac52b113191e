// Vectorized e^x, sigmoid and tanh over buffers: the gate activations of the cell core, where a
// sequence evaluates millions of them and the C library's scalar calls would dominate the time.
//
// Shape legend: elementwise; x and y are buffers of the same length n.
//
// The functions themselves are in VectorMathCore.swift (the method and its errors are described there),
// compiled here for the baseline target; RNNKernelsSIMD/VectorMath.c is a C transcription of it whose
// functions are compiled for AVX2 + FMA on x86-64. `vectorApply` runs the C copy where the CPU has AVX2 and
// FMA (`packedGemmAvailable`) and this module's copy elsewhere; the two give bit-identical results, so no
// result depends on the CPU. Each scalar type reaches its copies through
// `KernelScalar.vectorApply(_:_:_:count:simd:)` (GemmDispatch.swift).

/// The elementwise function a buffer call evaluates.
public enum VectorFunction: Sendable, CaseIterable {
    case exp, sigmoid, tanh
}

extension KernelScalar {
    /// y = f(x) elementwise, one SIMD vector (8 Floats, 4 Doubles) at a time. x and y may be the same buffer.
    @inlinable
    public static func vectorApply(
        _ f: VectorFunction, _ x: UnsafeBufferPointer<Self>, into y: UnsafeMutableBufferPointer<Self>
    ) {
        vectorApply(f, x, into: y, simd: packedGemmAvailable)
    }

    /// `vectorApply` on the AVX2 copy (`simd` true; only where `packedGemmAvailable`) or the baseline copy
    /// (package access: `gemm-bench vector-math-all` compares the two on every Float).
    @inlinable
    package static func vectorApply(
        _ f: VectorFunction, _ x: UnsafeBufferPointer<Self>, into y: UnsafeMutableBufferPointer<Self>, simd: Bool
    ) {
        precondition(x.count == y.count, "vector function: \(x.count) inputs for \(y.count) outputs")
        guard x.count > 0, let src = x.baseAddress, let dst = y.baseAddress else { return }
        vectorApply(f, src, dst, count: x.count, simd: simd)
    }
}
