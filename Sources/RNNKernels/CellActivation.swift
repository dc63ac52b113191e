// Activations of the recurrent cells, with the ONNX operators' alpha/beta parameters.
//
// Shape legend: elementwise; x and y are scalars.

/// An elementwise nonlinearity of a recurrent cell, with its alpha and beta.
///
///     relu: max(x, 0)                      tanh, sigmoid
///     affine: αx + β                       leakyrelu: x ≥ 0 ? x : αx
///     thresholdedrelu: x > α ? x : 0       scaledtanh: α tanh(βx)
///     hardsigmoid: max(0, min(1, αx + β))  elu: x ≥ 0 ? x : α(eˣ − 1)
///     softsign: x / (1 + |x|)              softplus: log(1 + eˣ)
///
/// These are the activations the ONNX RNN, LSTM and GRU operators list, with the meaning
/// ONNX Runtime gives alpha and beta. `affine` with α = 1, β = 0 is the identity (Keras `linear`),
/// `hardsigmoid` with α = 1/6, β = 0.5 is Keras 3's `hard_sigmoid`.
public struct CellActivation: Sendable, Equatable, CustomStringConvertible {
    /// The function, by its lower-case ONNX name.
    public enum Kind: String, Sendable, CaseIterable {
        case relu, tanh, sigmoid, affine, leakyrelu, thresholdedrelu, scaledtanh, hardsigmoid, elu, softsign, softplus
    }

    /// The function.
    public var kind: Kind
    /// Its α (ONNX `activation_alpha`), for the functions that take one (0 otherwise).
    public var alpha: Double
    /// Its β (ONNX `activation_beta`), for the functions that take one (0 otherwise).
    public var beta: Double

    /// The activation `kind` with its α and β.
    @inlinable
    public init(_ kind: Kind, alpha: Double = 0, beta: Double = 0) {
        self.kind = kind
        self.alpha = alpha
        self.beta = beta
    }

    /// σ(x) = 1 / (1 + e^−x).
    public static let sigmoid = CellActivation(.sigmoid)
    /// tanh(x).
    public static let tanh = CellActivation(.tanh)
    /// max(0, x).
    public static let relu = CellActivation(.relu)
    /// αx + β with α = 1, β = 0.
    public static let identity = CellActivation(.affine, alpha: 1, beta: 0)

    /// The names the seeds (and PyTorch's `nonlinearity`, for the first two) give an Elman RNN's
    /// nonlinearity, in the order `rnnspec kernels` lists them.
    public static let elmanNames = ["tanh", "sigmoid", "relu", "identity"]

    /// The activation an Elman RNN names `tanh`, `sigmoid`, `relu` or `identity` (αx + β with α = 1, β = 0);
    /// nil for any other name.
    public init?(elmanName name: String) {
        switch name {
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        case "relu": self = .relu
        case "identity": self = .identity
        default: return nil
        }
    }

    /// The number of alphas and betas the function consumes from ONNX's `activation_alpha` and
    /// `activation_beta` lists, and its defaults when a list runs out (0 where ONNX Runtime has none).
    public static func onnxUsage(_ kind: Kind) -> (alpha: Bool, beta: Bool, defaultAlpha: Double, defaultBeta: Double) {
        switch kind {
        case .affine, .scaledtanh: return (true, true, 0, 0)
        case .hardsigmoid: return (true, true, Double(Float(0.2)), 0.5)
        case .leakyrelu: return (true, false, Double(Float(0.01)), 0)
        case .thresholdedrelu: return (true, false, 0, 0)
        case .elu: return (true, false, 1, 0)
        case .relu, .tanh, .sigmoid, .softsign, .softplus: return (false, false, 0, 0)
        }
    }

    /// The kind, with α and β for the functions that take them: `leakyrelu(α=0.01)`.
    public var description: String {
        switch kind {
        case .affine, .scaledtanh, .hardsigmoid: return "\(kind.rawValue)(α=\(alpha), β=\(beta))"
        case .leakyrelu, .thresholdedrelu, .elu: return "\(kind.rawValue)(α=\(alpha))"
        default: return kind.rawValue
        }
    }

    /// act(x).
    @inlinable
    public func apply<T: KernelScalar>(_ x: T) -> T {
        let a = T(alpha), b = T(beta)
        switch kind {
        case .relu: return x > 0 ? x : 0
        case .tanh: return T.tanh(x)
        case .sigmoid: return RNNKernels.sigmoid(x)
        case .affine: return a * x + b
        case .leakyrelu: return x >= 0 ? x : a * x
        case .thresholdedrelu: return x > a ? x : 0
        case .scaledtanh: return a * T.tanh(b * x)
        case .hardsigmoid: return Swift.max(0, Swift.min(1, a * x + b))
        case .elu: return x >= 0 ? x : a * T.expm1(x)
        case .softsign: return x / (1 + Swift.abs(x))
        case .softplus: return x > 0 ? x + T.log1p(T.exp(-x)) : T.log1p(T.exp(x))
        }
    }

    /// act'(x), at the pre-activation x (one-sided choices at kinks: relu'(0) = 0, leakyrelu'(0) = 1,
    /// hardsigmoid' = α on the open interval where 0 < αx + β < 1).
    @inlinable
    public func derivative<T: KernelScalar>(_ x: T) -> T {
        let a = T(alpha), b = T(beta)
        switch kind {
        case .relu: return x > 0 ? 1 : 0
        case .tanh: let y = T.tanh(x); return 1 - y * y
        case .sigmoid: let y = RNNKernels.sigmoid(x); return y * (1 - y)
        case .affine: return a
        case .leakyrelu: return x >= 0 ? 1 : a
        case .thresholdedrelu: return x > a ? 1 : 0
        case .scaledtanh: let y = T.tanh(b * x); return a * b * (1 - y * y)
        case .hardsigmoid: let y = a * x + b; return (y > 0 && y < 1) ? a : 0
        case .elu: return x >= 0 ? 1 : a * T.exp(x)
        case .softsign: let d = 1 + Swift.abs(x); return 1 / (d * d)
        case .softplus: return RNNKernels.sigmoid(x)
        }
    }

    /// act'(x) when y = act(x) is already known: y (1 − y) for the sigmoid and 1 − y² for tanh,
    /// the values `derivative(x)` computes, without evaluating the function again.
    @inlinable
    public func derivative<T: KernelScalar>(_ x: T, output y: T) -> T {
        switch kind {
        case .sigmoid: return y * (1 - y)
        case .tanh: return 1 - y * y
        default: return derivative(x)
        }
    }

    /// y = act(x) over a buffer: the sigmoid and tanh vectorized (`vectorApply`), the others
    /// element by element.
    @inlinable
    public func apply<T: KernelScalar>(_ x: UnsafeBufferPointer<T>, into y: UnsafeMutableBufferPointer<T>) {
        switch kind {
        case .sigmoid: T.vectorApply(.sigmoid, x, into: y)
        case .tanh: T.vectorApply(.tanh, x, into: y)
        default: for k in x.indices { y[k] = apply(x[k]) }
        }
    }
}
