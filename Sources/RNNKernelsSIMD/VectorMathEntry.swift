// The AVX2 entry points of the vectorized e^x, sigmoid and tanh (VectorMathCore.swift, compiled in this
// target for `-target-cpu haswell` on x86-64). RNNKernels calls them only after checking the CPU, as for
// the matrix products; they give the same bits as its own baseline copy of the same code.
//
// Shape legend: elementwise; x and y are buffers of n elements.

/// The elementwise function a buffer call evaluates.
public enum VectorFunction: Sendable, CaseIterable {
    case exp, sigmoid, tanh
}

/// y = f(x) elementwise over n Floats. x and y may be the same buffer.
public func simdVectorApply(_ f: VectorFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    vectorMathApply(f, x, y, n)
}

/// y = f(x) elementwise over n Doubles. x and y may be the same buffer.
public func simdVectorApply(_ f: VectorFunction, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
    vectorMathApply(f, x, y, n)
}
