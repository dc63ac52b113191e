// The activation functions of recurrent cells and their derivatives, evaluated at points.
//
// Shape legend: N points.

/// sigmoid, tanh, relu and softmax with their derivatives at the same points.
public struct ActivationValues<T: KernelScalar>: Sendable {
    /// σ(x) = 1 / (1 + e^−x), [N].
    public var sigmoid: Tensor<T>
    /// σ'(x) = σ(x)(1 − σ(x)), [N]; at most ¼, at x = 0.
    public var sigmoidGrad: Tensor<T>
    /// tanh(x), [N].
    public var tanh: Tensor<T>
    /// tanh'(x) = 1 − tanh²(x), [N]; at most 1, at x = 0.
    public var tanhGrad: Tensor<T>
    /// max(0, x), [N].
    public var relu: Tensor<T>
    /// [x > 0], [N] (0 at x = 0, PyTorch's convention).
    public var reluGrad: Tensor<T>
    /// softmax of the whole vector x, stable, [N].
    public var softmax: Tensor<T>
    /// ∂softmax_i/∂x_j = p_i (δ_ij − p_j), [N, N].
    public var softmaxJacobian: Tensor<T>

    /// Creates the result from its parts.
    @inlinable
    public init(
        sigmoid: Tensor<T>, sigmoidGrad: Tensor<T>, tanh: Tensor<T>, tanhGrad: Tensor<T>, relu: Tensor<T>,
        reluGrad: Tensor<T>, softmax: Tensor<T>, softmaxJacobian: Tensor<T>
    ) {
        self.sigmoid = sigmoid
        self.sigmoidGrad = sigmoidGrad
        self.tanh = tanh
        self.tanhGrad = tanhGrad
        self.relu = relu
        self.reluGrad = reluGrad
        self.softmax = softmax
        self.softmaxJacobian = softmaxJacobian
    }
}

/// Evaluates every activation of the seeds, and its derivative, at the points x.
///
///     σ(x), σ(1 − σ);   tanh x, 1 − tanh² x;   max(0, x), [x > 0];   p = softmax(x), diag(p) − p pᵀ
///
/// - Parameter x: [N].
/// - Note: σ is evaluated without overflow (e^x/(1+e^x) for x < 0), and softmax subtracts the
///   maximum first, so x = ±1000 gives finite values (σ = 0 or 1, softmax one-hot).
@inlinable
public func evaluateActivations<T: KernelScalar>(_ x: [T]) -> ActivationValues<T> {
    let s = x.map { CellActivation.sigmoid.apply($0) }
    let t = x.map { CellActivation.tanh.apply($0) }
    let r = x.map { CellActivation.relu.apply($0) }
    let p = RNNKernels.softmax(x)
    let n = x.count
    var jac = [T](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { jac[i * n + j] = (i == j ? p[i] : 0) - p[i] * p[j] } }
    return ActivationValues(
        sigmoid: Tensor(s), sigmoidGrad: Tensor(zip(x, s).map { CellActivation.sigmoid.derivative($0, output: $1) }),
        tanh: Tensor(t), tanhGrad: Tensor(zip(x, t).map { CellActivation.tanh.derivative($0, output: $1) }),
        relu: Tensor(r), reluGrad: Tensor(x.map { $0 > 0 ? 1 : 0 }),
        softmax: Tensor(p), softmaxJacobian: Tensor(shape: [n, n], scalars: jac))
}
